//! The list of tools (packaging/tools) as the tests read it: what is built, packaged and
//! benchmarked.

/// One tool of the list.
#[derive(Debug, Clone)]
pub struct Tool {
    /// The program's name.
    pub name: String,
    /// Its crate.
    pub krate: String,
    /// `agent` or `command`.
    pub kind: String,
}

/// Every tool, in the list's order.
pub fn all() -> Vec<Tool> {
    let path = crate::docs::root().join("packaging/tools");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut w = l.split_whitespace();
            let mut next = || {
                w.next()
                    .unwrap_or_else(|| panic!("packaging/tools: {l:?}"))
                    .to_string()
            };
            Tool {
                name: next(),
                krate: next(),
                kind: next(),
            }
        })
        .collect()
}

/// Every tool's name.
pub fn names() -> Vec<String> {
    all().into_iter().map(|t| t.name).collect()
}

/// The transfer agents' names.
pub fn agents() -> Vec<String> {
    all()
        .into_iter()
        .filter(|t| t.kind == "agent")
        .map(|t| t.name)
        .collect()
}
