//! Metric families and their text and JSON forms.

use std::fmt::Write as _;

/// The metric types used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (names end in `_total`).
    Counter,
    /// Goes up and down.
    Gauge,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        }
    }
}

/// One metric family: a name, its help, its type and its samples (label pairs and value).
#[derive(Debug, Clone)]
pub struct Family {
    /// The full metric name, e.g. `stompclt_messages_received_total`.
    pub name: String,
    /// One line of help.
    pub help: String,
    /// Counter or gauge.
    pub kind: Kind,
    /// Each sample's labels and value.
    pub samples: Vec<(Vec<(String, String)>, f64)>,
}

impl Family {
    /// Adds a sample with these labels.
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) -> &mut Self {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples.push((labels, value));
        self
    }
}

/// The families of one scrape, in the order they were added.
#[derive(Debug, Clone, Default)]
pub struct Exposition {
    families: Vec<Family>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

impl Exposition {
    /// An empty exposition.
    pub fn new() -> Self {
        Self::default()
    }

    fn family(&mut self, name: &str, help: &str, kind: Kind) -> &mut Family {
        self.families.push(Family {
            name: name.to_string(),
            help: help.to_string(),
            kind,
            samples: Vec::new(),
        });
        let last = self.families.len() - 1;
        &mut self.families[last]
    }

    /// Adds a counter family (its name should end in `_total`).
    pub fn counter(&mut self, name: &str, help: &str) -> &mut Family {
        self.family(name, help, Kind::Counter)
    }

    /// Adds a gauge family.
    pub fn gauge(&mut self, name: &str, help: &str) -> &mut Family {
        self.family(name, help, Kind::Gauge)
    }

    /// The families added so far.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// The Prometheus text format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.families {
            let help = f.help.replace('\\', "\\\\").replace('\n', "\\n");
            let _ = writeln!(out, "# HELP {} {help}", f.name);
            let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.name());
            for (labels, value) in &f.samples {
                out.push_str(&f.name);
                if !labels.is_empty() {
                    let l: Vec<String> = labels
                        .iter()
                        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                        .collect();
                    let _ = write!(out, "{{{}}}", l.join(","));
                }
                let _ = writeln!(out, " {}", number(*value));
            }
        }
        out
    }

    /// The same figures as JSON (whole numbers as integers): each family's name maps to its value when it has one
    /// unlabelled sample, else to a list of `{label: value, …, "value": N}` objects.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{Map, Value};
        let json = |v: &f64| -> Value {
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                Value::from(*v as i64)
            } else {
                Value::from(*v)
            }
        };
        let mut m = Map::new();
        for f in &self.families {
            let v = match f.samples.as_slice() {
                [(labels, v)] if labels.is_empty() => json(v),
                samples => Value::Array(
                    samples
                        .iter()
                        .map(|(labels, v)| {
                            let mut o: Map<String, Value> = labels
                                .iter()
                                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                                .collect();
                            o.insert("value".into(), json(v));
                            Value::Object(o)
                        })
                        .collect(),
                ),
            };
            m.insert(f.name.clone(), v);
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format() {
        let mut e = Exposition::new();
        e.counter("x_messages_total", "Messages.").sample(&[], 3.0);
        e.gauge("x_up", "Up (1) or not.")
            .sample(&[("broker", "a\"b\\c\nd")], 1.0)
            .sample(&[("broker", "e")], 0.5);
        assert_eq!(
            e.render(),
            "# HELP x_messages_total Messages.\n# TYPE x_messages_total counter\n\
             x_messages_total 3\n# HELP x_up Up (1) or not.\n# TYPE x_up gauge\n\
             x_up{broker=\"a\\\"b\\\\c\\nd\"} 1\nx_up{broker=\"e\"} 0.5\n"
        );
        let j = e.to_json();
        assert_eq!(j["x_messages_total"], 3);
        assert_eq!(j["x_up"][1]["broker"], "e");
        assert_eq!(j["x_up"][1]["value"], 0.5);
    }
}
