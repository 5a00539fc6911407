//! Number parameters that may be templated. Parameters are rendered as JSON
//! strings before a probe reads them, so a `port: "{{vars.port}}"` arrives as
//! the text `"5432"`: [`NumberParam`] takes a number, a numeric string or a
//! template, and yields the number once the template is filled in.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::ProbeError;

/// A number, or text that is (or will render to) one.
#[derive(Debug, Clone, PartialEq)]
pub enum NumberParam<T> {
    Number(T),
    Text(String),
}

impl<T: FromStr + Copy + fmt::Display> NumberParam<T> {
    /// The number; `name` is the parameter, which the error names when the text is not one.
    pub fn get(&self, name: &'static str) -> Result<T, ProbeError> {
        match self {
            Self::Number(n) => Ok(*n),
            Self::Text(text) => text.trim().parse().map_err(|_| {
                ProbeError::check(name, format!("`{name}` is `{text}`, which is not a valid number here"))
            }),
        }
    }

    /// Checks the value before templates are filled in: text must be a number or hold a template.
    pub fn check(&self, name: &'static str) -> Result<(), ProbeError> {
        match self {
            Self::Text(text) if text.contains("{{") => Ok(()),
            _ => self.get(name).map(|_| ()),
        }
    }
}

impl<T: fmt::Display> fmt::Display for NumberParam<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => n.fmt(f),
            Self::Text(text) => f.write_str(text),
        }
    }
}

impl<T: Serialize> Serialize for NumberParam<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Number(n) => n.serialize(serializer),
            Self::Text(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de, T: TryFrom<u64> + TryFrom<i64>> Deserialize<'de> for NumberParam<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberVisitor(std::marker::PhantomData))
    }
}

struct NumberVisitor<T>(std::marker::PhantomData<T>);

impl<T: TryFrom<u64> + TryFrom<i64>> Visitor<'_> for NumberVisitor<T> {
    type Value = NumberParam<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number, or a template such as \"{{vars.port}}\"")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        T::try_from(v).map(NumberParam::Number).map_err(|_| E::custom(format!("{v} is out of range")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        T::try_from(v).map(NumberParam::Number).map_err(|_| E::custom(format!("{v} is out of range")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(NumberParam::Text(v.to_owned()))
    }
}

impl<T: JsonSchema> JsonSchema for NumberParam<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("NumberParam_{}", T::schema_name()).into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({
            "anyOf": [generator.subschema_for::<T>(), { "type": "string", "description": "a template, e.g. \"{{vars.port}}\"" }]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::NumberParam;

    #[test]
    fn numbers_numeric_text_and_templates_are_accepted() {
        let n: NumberParam<u16> = serde_json::from_str("5432").unwrap();
        assert_eq!(n.get("port"), Ok(5432));
        let text: NumberParam<u16> = serde_json::from_str("\"6379\"").unwrap();
        assert_eq!(text.get("port"), Ok(6379));
        let template: NumberParam<u16> = serde_json::from_str("\"{{vars.port}}\"").unwrap();
        assert_eq!(template.check("port"), Ok(()));
    }

    #[test]
    fn out_of_range_and_non_numbers_are_refused() {
        assert!(serde_json::from_str::<NumberParam<u16>>("70000").is_err());
        assert!(serde_json::from_str::<NumberParam<u16>>("-1").is_err());
        let word: NumberParam<u16> = serde_json::from_str("\"http\"").unwrap();
        let err = word.check("port").unwrap_err();
        assert_eq!(err.to_string(), "`port` is `http`, which is not a valid number here");
        assert_eq!(err.param(), Some("port"));
    }

    #[test]
    fn serializes_back_as_written() {
        let n: NumberParam<u16> = serde_json::from_str("80").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "80");
        let t: NumberParam<u16> = serde_json::from_str("\"{{vars.p}}\"").unwrap();
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"{{vars.p}}\"");
    }
}
