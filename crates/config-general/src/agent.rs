//! The mapping the transfer agents apply to a parsed file: option names are the
//! command-line names, and blocks are dashed prefixes.

use crate::{Block, Location, Node};

/// One option from a config file, named as on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flat {
    /// The dashed option name, e.g. `outgoing-broker-uri`.
    pub name: String,
    /// Its value.
    pub value: FlatValue,
    /// Where it was set.
    pub at: Location,
}

/// A flattened option value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlatValue {
    /// `name = value`.
    Scalar(String),
    /// A block kept whole (one `<subscribe>`): its keys, nested blocks joined with dashes.
    Map(Vec<(String, String)>),
}

fn flatten_map(b: &Block, prefix: &str, out: &mut Vec<(String, String)>) {
    for e in &b.entries {
        let key = format!("{prefix}{}", e.key);
        match &e.node {
            Node::Scalar(s) => out.push((key, s.value.clone())),
            Node::Block(inner) => {
                let key = match &inner.name {
                    Some(n) => format!("{key}-{n}"),
                    None => key,
                };
                flatten_map(inner, &format!("{key}-"), out);
            }
        }
    }
}

fn flatten(b: &Block, prefix: &str, maps: &[&str], out: &mut Vec<Flat>) {
    for e in &b.entries {
        let name = format!("{prefix}{}", e.key);
        match &e.node {
            Node::Scalar(s) => out.push(Flat {
                name,
                value: FlatValue::Scalar(s.value.clone()),
                at: s.at.clone(),
            }),
            Node::Block(inner) => {
                let name = match &inner.name {
                    Some(n) => format!("{name}-{n}"),
                    None => name,
                };
                if maps.contains(&name.as_str()) {
                    let mut m = Vec::new();
                    flatten_map(inner, "", &mut m);
                    out.push(Flat {
                        name,
                        value: FlatValue::Map(m),
                        at: inner.at.clone(),
                    });
                } else {
                    flatten(inner, &format!("{name}-"), maps, out);
                }
            }
        }
    }
}

/// Flattens an agent's config file into command-line options, in file order:
/// `<outgoing-broker> uri = … </outgoing-broker>` and `<outgoing><broker> uri …` both give
/// `outgoing-broker-uri`; blocks named in `maps` (`subscribe`) are kept whole, one
/// [`FlatValue::Map`] each, so repeated ones build a list; a `<wrapper>` block (`stompclt`,
/// `amqpclt`) is unwrapped in place.
pub fn agent_options(root: &Block, wrapper: &str, maps: &[&str]) -> Vec<Flat> {
    let mut out = Vec::new();
    for e in &root.entries {
        match &e.node {
            Node::Block(b) if e.key == wrapper && b.name.is_none() => {
                flatten(b, "", maps, &mut out)
            }
            _ => flatten(
                &Block {
                    name: None,
                    entries: vec![e.clone()],
                    at: root.at.clone(),
                },
                "",
                maps,
                &mut out,
            ),
        }
    }
    out
}
