//! Normal elements as JSON objects: string fields as strings, tables as objects of
//! strings, binary fields as base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use dirq::{Element, FieldType, Schema, Value};
use serde_json::{Map, Value as Json};

/// Turns an element into a one-line JSON object.
pub fn to_json(elt: &Element) -> String {
    let mut m = Map::new();
    for (k, v) in elt {
        let j = match v {
            Value::Binary(b) => Json::String(STANDARD.encode(b)),
            Value::String(s) => Json::String(s.clone()),
            Value::Table(t) => Json::Object(
                t.iter()
                    .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                    .collect(),
            ),
        };
        m.insert(k.clone(), j);
    }
    Json::Object(m).to_string()
}

/// Parses one JSON object into an element of `schema`; the error says what is wrong.
pub fn from_json(text: &[u8], schema: &Schema) -> Result<Element, String> {
    let j: Json = serde_json::from_slice(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let Json::Object(m) = j else {
        return Err("expected a JSON object keyed by field".into());
    };
    let mut elt = Element::new();
    for (k, v) in m {
        let f = schema
            .fields()
            .get(&k)
            .ok_or_else(|| format!("field {k:?} is not in the schema {schema}"))?;
        let value = match (f.kind, v) {
            (FieldType::String, Json::String(s)) => Value::String(s),
            (FieldType::Binary, Json::String(s)) => Value::Binary(
                STANDARD
                    .decode(s.as_bytes())
                    .map_err(|e| format!("field {k}: invalid base64: {e}"))?,
            ),
            (FieldType::Table, Json::Object(t)) => {
                let mut table = std::collections::BTreeMap::new();
                for (tk, tv) in t {
                    match tv {
                        Json::String(s) => table.insert(tk, s),
                        other => {
                            return Err(format!(
                                "field {k}: table value for {tk:?} must be a string, not {other}"
                            ));
                        }
                    };
                }
                Value::Table(table)
            }
            (kind, other) => {
                let want = match kind {
                    FieldType::Table => "an object of strings",
                    FieldType::Binary => "a base64 string",
                    FieldType::String => "a string",
                };
                return Err(format!("field {k} ({kind}) must be {want}, not {other}"));
            }
        };
        elt.insert(k, value);
    }
    Ok(elt)
}
