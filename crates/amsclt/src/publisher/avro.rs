//! Avro binary encoding of one datum, without a container (what ams-publisher publishes):
//! a schema read from its JSON (`.avsc`), and a JSON value written against it as Python's
//! `avro.io.DatumWriter` writes it — a record field the value lacks is written as null (the
//! writer does not use defaults), a union takes its first branch the value fits.
//!
//! Written here rather than taken from a crate: the messages use four types (record, string,
//! a union with null, a map), and the full Avro libraries bring compression codecs, big
//! decimals and schema resolution this never uses. The tests check the output with Python's
//! own `avro` library.

use std::collections::HashMap;

use serde_json::Value;

/// A schema, its named types resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Schema {
    /// `null`
    Null,
    /// `boolean`
    Boolean,
    /// `int` or `long` (zig-zag varints both).
    Long,
    /// `float`
    Float,
    /// `double`
    Double,
    /// `bytes` (from a string's UTF-8)
    Bytes,
    /// `string`
    String,
    /// A record: its name and fields in order.
    Record(String, Vec<(String, Schema)>),
    /// An enum: its symbols.
    Enum(Vec<String>),
    /// An array of items.
    Array(Box<Schema>),
    /// A map of values (keys are strings).
    Map(Box<Schema>),
    /// A union: the branches.
    Union(Vec<Schema>),
    /// A fixed-size byte string.
    Fixed(usize),
}

/// Reads a schema from its JSON text; an error says what part is not a schema.
pub fn parse(text: &str) -> Result<Schema, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    Parser::default().schema(&v, "")
}

#[derive(Default)]
struct Parser {
    named: HashMap<String, Schema>,
}

impl Parser {
    fn schema(&mut self, v: &Value, namespace: &str) -> Result<Schema, String> {
        match v {
            Value::String(name) => self.primitive_or_named(name, namespace),
            Value::Array(branches) => Ok(Schema::Union(
                branches
                    .iter()
                    .map(|b| self.schema(b, namespace))
                    .collect::<Result<_, _>>()?,
            )),
            Value::Object(o) => {
                let ty = o.get("type").ok_or_else(|| format!("{v}: no \"type\""))?;
                let ns = o
                    .get("namespace")
                    .and_then(Value::as_str)
                    .unwrap_or(namespace)
                    .to_string();
                let kind = match ty {
                    Value::String(t) => t.as_str(),
                    other => return self.schema(other, &ns),
                };
                let s = match kind {
                    "record" | "error" => self.record(o, &ns)?,
                    "enum" => Schema::Enum(
                        o.get("symbols")
                            .and_then(Value::as_array)
                            .ok_or_else(|| "an enum without symbols".to_string())?
                            .iter()
                            .map(|s| s.as_str().unwrap_or_default().to_string())
                            .collect(),
                    ),
                    "array" => Schema::Array(Box::new(self.schema(field(o, "items")?, &ns)?)),
                    "map" => Schema::Map(Box::new(self.schema(field(o, "values")?, &ns)?)),
                    "fixed" => Schema::Fixed(
                        o.get("size")
                            .and_then(Value::as_u64)
                            .ok_or_else(|| "a fixed without size".to_string())?
                            as usize,
                    ),
                    other => self.primitive_or_named(other, &ns)?,
                };
                if let (Some(name), "enum" | "fixed") =
                    (o.get("name").and_then(Value::as_str), kind)
                {
                    self.name(name, &ns, &s);
                }
                Ok(s)
            }
            other => Err(format!("{other} is not a schema")),
        }
    }

    fn record(&mut self, o: &serde_json::Map<String, Value>, ns: &str) -> Result<Schema, String> {
        let name = o
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| "a record without name".to_string())?
            .to_string();
        let mut fields = Vec::new();
        for f in field(o, "fields")?
            .as_array()
            .ok_or_else(|| format!("record {name}: fields is not a list"))?
        {
            let fname = f
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("record {name}: a field without name"))?;
            let ty = f
                .get("type")
                .ok_or_else(|| format!("record {name}: field {fname} has no type"))?;
            fields.push((fname.to_string(), self.schema(ty, ns)?));
        }
        let s = Schema::Record(name.clone(), fields);
        self.name(&name, ns, &s);
        Ok(s)
    }

    fn name(&mut self, name: &str, ns: &str, s: &Schema) {
        self.named.insert(name.to_string(), s.clone());
        if !ns.is_empty() && !name.contains('.') {
            self.named.insert(format!("{ns}.{name}"), s.clone());
        }
    }

    fn primitive_or_named(&self, name: &str, ns: &str) -> Result<Schema, String> {
        Ok(match name {
            "null" => Schema::Null,
            "boolean" => Schema::Boolean,
            "int" | "long" => Schema::Long,
            "float" => Schema::Float,
            "double" => Schema::Double,
            "bytes" => Schema::Bytes,
            "string" => Schema::String,
            _ => self
                .named
                .get(name)
                .or_else(|| self.named.get(&format!("{ns}.{name}")))
                .cloned()
                .ok_or_else(|| format!("unknown type {name:?}"))?,
        })
    }
}

fn field<'a>(o: &'a serde_json::Map<String, Value>, k: &str) -> Result<&'a Value, String> {
    o.get(k)
        .ok_or_else(|| format!("no {k:?} in {}", Value::Object(o.clone())))
}

/// Whether `v` is an example of `s` (the union branch choice).
fn fits(s: &Schema, v: &Value) -> bool {
    match (s, v) {
        (Schema::Null, Value::Null) | (Schema::Boolean, Value::Bool(_)) => true,
        (Schema::Long, Value::Number(n)) => n.is_i64(),
        (Schema::Float | Schema::Double, Value::Number(_)) => true,
        (Schema::String | Schema::Bytes, Value::String(_)) => true,
        (Schema::Enum(symbols), Value::String(s)) => symbols.contains(s),
        (Schema::Fixed(n), Value::String(s)) => s.len() == *n,
        (Schema::Array(item), Value::Array(a)) => a.iter().all(|x| fits(item, x)),
        (Schema::Map(val), Value::Object(o)) => o.values().all(|x| fits(val, x)),
        (Schema::Record(_, fields), Value::Object(o)) => fields
            .iter()
            .all(|(k, f)| fits(f, o.get(k).unwrap_or(&Value::Null))),
        (Schema::Union(b), v) => b.iter().any(|x| fits(x, v)),
        _ => false,
    }
}

fn varint(out: &mut Vec<u8>, n: i64) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    varint(out, b.len() as i64);
    out.extend_from_slice(b);
}

/// Writes `v` as the binary datum of `s`; `at` names the place for an error ("field tags").
pub fn encode(s: &Schema, v: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    write(&mut out, s, v, "the datum")?;
    Ok(out)
}

fn write(out: &mut Vec<u8>, s: &Schema, v: &Value, at: &str) -> Result<(), String> {
    let wrong = || {
        let shown = match v {
            Value::Null => "null (missing)".to_string(),
            other => other.to_string(),
        };
        Err(format!("{at}: {shown} is not {}", describe(s)))
    };
    match (s, v) {
        (Schema::Null, Value::Null) => {}
        (Schema::Boolean, Value::Bool(b)) => out.push(u8::from(*b)),
        (Schema::Long, Value::Number(n)) if n.is_i64() => varint(out, n.as_i64().unwrap_or(0)),
        (Schema::Float, Value::Number(n)) => {
            out.extend_from_slice(&(n.as_f64().unwrap_or(0.0) as f32).to_le_bytes());
        }
        (Schema::Double, Value::Number(n)) => {
            out.extend_from_slice(&n.as_f64().unwrap_or(0.0).to_le_bytes());
        }
        (Schema::String | Schema::Bytes, Value::String(t)) => bytes(out, t.as_bytes()),
        (Schema::Fixed(n), Value::String(t)) if t.len() == *n => {
            out.extend_from_slice(t.as_bytes())
        }
        (Schema::Enum(symbols), Value::String(t)) => match symbols.iter().position(|x| x == t) {
            Some(i) => varint(out, i as i64),
            None => return wrong(),
        },
        (Schema::Array(item), Value::Array(a)) => {
            if !a.is_empty() {
                varint(out, a.len() as i64);
                for x in a {
                    write(out, item, x, at)?;
                }
            }
            out.push(0);
        }
        (Schema::Map(val), Value::Object(o)) => {
            if !o.is_empty() {
                varint(out, o.len() as i64);
                for (k, x) in o {
                    bytes(out, k.as_bytes());
                    write(out, val, x, &format!("{at}[{k:?}]"))?;
                }
            }
            out.push(0);
        }
        (Schema::Record(_, fields), Value::Object(o)) => {
            for (k, f) in fields {
                write(
                    out,
                    f,
                    o.get(k).unwrap_or(&Value::Null),
                    &format!("field {k}"),
                )?;
            }
        }
        (Schema::Union(branches), v) => match branches.iter().position(|b| fits(b, v)) {
            Some(i) => {
                varint(out, i as i64);
                write(out, &branches[i], v, at)?;
            }
            None => return wrong(),
        },
        _ => return wrong(),
    }
    Ok(())
}

fn describe(s: &Schema) -> String {
    match s {
        Schema::Null => "null".into(),
        Schema::Boolean => "a boolean".into(),
        Schema::Long => "an integer".into(),
        Schema::Float | Schema::Double => "a number".into(),
        Schema::Bytes | Schema::String => "a string".into(),
        Schema::Record(n, _) => format!("a record {n}"),
        Schema::Enum(_) => "one of the enum's symbols".into(),
        Schema::Array(_) => "an array".into(),
        Schema::Map(_) => "a map".into(),
        Schema::Fixed(n) => format!("{n} bytes"),
        Schema::Union(b) => b.iter().map(describe).collect::<Vec<_>>().join(" or "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const METRIC_DATA: &str = r#"{"namespace": "argo.avro", "type": "record", "name": "metric_data",
      "fields": [{"name": "timestamp", "type": "string"},
                 {"name": "monitoring_host", "type": ["null", "string"]},
                 {"name": "tags", "type": ["null", {"name": "Tags", "type": "map",
                                                    "values": ["null", "string"]}]}]}"#;

    #[test]
    fn writes_as_the_spec_says() {
        let s = parse(METRIC_DATA).unwrap();
        let b = encode(&s, &json!({"timestamp": "ab", "tags": {"k": "v"}})).unwrap();
        // "ab"; null branch 0; branch 1, map of 1: "k", branch 1 "v", end
        assert_eq!(b, [4, b'a', b'b', 0, 2, 2, 2, b'k', 2, 2, b'v', 0]);
        assert_eq!(
            encode(&s, &json!({"monitoring_host": "h"})).unwrap_err(),
            "field timestamp: null (missing) is not a string"
        );
        let mut v = Vec::new();
        varint(&mut v, -65);
        assert_eq!(v, [0x81, 0x01]);
    }

    #[test]
    fn names_what_is_not_a_schema() {
        assert_eq!(
            parse("{\"type\": \"nope\"}").unwrap_err(),
            "unknown type \"nope\""
        );
        assert!(parse("[").unwrap_err().starts_with("not JSON"));
    }
}
