//! The YAML document as a plain tree of maps, lists and scalars, every key
//! and value with its place. The model keeps places only where later checks
//! need them; when a problem concerns something else (a probe parameter, a
//! map that lacks a field), this tree finds the exact spot. It is built only
//! on the way to reporting a problem, so valid playbooks never pay for it.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::diagnostic::Pos;
use super::model::Spanned;

/// A value and where it starts.
#[derive(Debug, Clone)]
pub struct Node {
    pub at: Pos,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub enum Value {
    /// Keys in file order, each with its place.
    Map(Vec<Entry>),
    List(Vec<Node>),
    /// Any scalar, as text (`null` for an empty value).
    Scalar(String),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub key_at: Pos,
    pub value: Node,
}

/// Parses `source`; `None` when it is not valid YAML.
pub fn parse(source: &str) -> Option<Node> {
    serde_saphyr::from_str::<Spanned<Value>>(source).ok().map(node)
}

fn node(spanned: Spanned<Value>) -> Node {
    Node { at: spanned.referenced.into(), value: spanned.value }
}

impl Node {
    /// The value under `key`, if this is a map that has it.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The `index`th item, if this is a list that long.
    pub fn item(&self, index: usize) -> Option<&Node> {
        match &self.value {
            Value::List(items) => items.get(index),
            _ => None,
        }
    }

    /// Every node below this one (this one first), depth first in file order.
    pub fn walk(&self) -> Vec<&Node> {
        let mut out = vec![self];
        let mut index = 0;
        while index < out.len() {
            let children: Vec<&Node> = match &out[index].value {
                Value::Map(entries) => entries.iter().map(|e| &e.value).collect(),
                Value::List(items) => items.iter().collect(),
                Value::Scalar(_) => Vec::new(),
            };
            out.extend(children);
            index += 1;
        }
        out.sort_by_key(|n| (n.at.line, n.at.column));
        out
    }

    /// Every map entry below this node, in file order.
    pub fn entries(&self) -> Vec<&Entry> {
        let mut out: Vec<&Entry> = self
            .walk()
            .into_iter()
            .filter_map(|n| match &n.value {
                Value::Map(entries) => Some(entries.iter()),
                _ => None,
            })
            .flatten()
            .collect();
        out.sort_by_key(|e| (e.key_at.line, e.key_at.column));
        out
    }

    /// The scalar text, if this is a scalar.
    pub fn scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Scalar(v.to_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Scalar("null".to_owned()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Scalar("null".to_owned()))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Value>>()? {
            items.push(node(item));
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Value>>()? {
            let value = node(map.next_value::<Spanned<Value>>()?);
            let text = match key.value {
                Value::Scalar(s) => s,
                _ => String::new(),
            };
            entries.push(Entry { key: text, key_at: key.referenced.into(), value });
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_keep_their_places() {
        let tree = parse("a: 1\nb:\n  - x\n  - { c: d }\n").unwrap();
        let b = tree.get("b").unwrap();
        assert_eq!(b.key_at, Pos { line: 2, column: 1 });
        let c = b.value.item(1).unwrap().get("c").unwrap();
        assert_eq!((c.key_at, c.value.at), (Pos { line: 4, column: 7 }, Pos { line: 4, column: 10 }));
        assert_eq!(c.value.scalar(), Some("d"));
        assert_eq!(tree.entries().iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
    }

    #[test]
    fn broken_yaml_has_no_tree() {
        assert!(parse("a: [1,\n").is_none());
    }
}
