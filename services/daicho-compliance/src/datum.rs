//! Payload values as the state holds them.
//!
//! The state keeps every fact's payload for the rules and the report to
//! read. Held as `serde_json::Value`, each object is a B-tree whose nodes are
//! sized for eleven members (about 0.6 KB even for two), and every member
//! name is a string of its own: a state of 10⁶ entries took about 3.5 GiB,
//! and folding was mostly allocation. A [`Datum`] object is one boxed slice
//! of its members, sorted by name, with the names shared through the
//! state's interner. It is written here because the JSON crates with
//! compact values (simd-json, json-value, …) neither share member names
//! nor keep serde_json's reading of pointers and numbers, which the rules'
//! data is written against.

use std::borrow::Cow;
use std::sync::Arc;

use rustc_hash::FxHashSet;
use serde_json::{Map, Number, Value};

/// A JSON value held compactly: objects are sorted slices of members.
#[derive(Debug, Clone, PartialEq)]
pub enum Datum {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json read it.
    Number(Number),
    /// A string.
    String(Box<str>),
    /// An array.
    Array(Box<[Datum]>),
    /// An object: its members sorted by name, each name once.
    Object(Box<[(Arc<str>, Datum)]>),
}

/// Shared strings: member names, event types, roles and actors repeat in
/// every entry and are held once.
#[derive(Debug, Clone, Default)]
pub(crate) struct Interner(FxHashSet<Arc<str>>);

impl Interner {
    /// The shared copy of `s`.
    pub(crate) fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.0.insert(a.clone());
        a
    }
}

impl Datum {
    /// The compact copy of a JSON value, its member names interned.
    pub(crate) fn from_value(value: &Value, names: &mut Interner) -> Datum {
        match value {
            Value::Null => Datum::Null,
            Value::Bool(b) => Datum::Bool(*b),
            Value::Number(n) => Datum::Number(n.clone()),
            Value::String(s) => Datum::String(s.as_str().into()),
            Value::Array(items) => {
                Datum::Array(items.iter().map(|v| Datum::from_value(v, names)).collect())
            }
            Value::Object(map) => Datum::from_map(map, names),
        }
    }

    /// The compact copy of a JSON object. serde_json's map iterates in
    /// name order, which [`Datum::get`]'s binary search relies on.
    pub(crate) fn from_map(map: &Map<String, Value>, names: &mut Interner) -> Datum {
        let mut members: Vec<(Arc<str>, Datum)> = map
            .iter()
            .map(|(k, v)| (names.get(k), Datum::from_value(v, names)))
            .collect();
        // serde_json with `preserve_order` keeps insertion order instead.
        members.sort_by(|a, b| a.0.cmp(&b.0));
        Datum::Object(members.into_boxed_slice())
    }

    /// An object's member.
    pub fn get(&self, name: &str) -> Option<&Datum> {
        let Datum::Object(members) = self else {
            return None;
        };
        members
            .binary_search_by(|(k, _)| (**k).cmp(name))
            .ok()
            .map(|i| &members[i].1)
    }

    /// The value at an RFC 6901 pointer, read as `serde_json::Value::pointer`
    /// reads it: `""` is the value itself, array indexes are decimal without
    /// a sign or leading zero.
    pub fn pointer(&self, pointer: &str) -> Option<&Datum> {
        if pointer.is_empty() {
            return Some(self);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut at = self;
        for token in rest.split('/') {
            let token: Cow<'_, str> = if token.contains('~') {
                Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(token)
            };
            at = match at {
                Datum::Object(_) => at.get(&token)?,
                Datum::Array(items) => items.get(array_index(&token)?)?,
                _ => return None,
            };
        }
        Some(at)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Datum::String(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is an array.
    pub fn as_array(&self) -> Option<&[Datum]> {
        match self {
            Datum::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The value as text: a string as it is, a number or boolean as JSON.
    pub fn text(&self) -> Option<Cow<'_, str>> {
        match self {
            Datum::String(s) => Some(Cow::Borrowed(s)),
            Datum::Number(n) => Some(Cow::Owned(n.to_string())),
            Datum::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            _ => None,
        }
    }

    /// The value as `serde_json::Value` again.
    pub fn to_value(&self) -> Value {
        match self {
            Datum::Null => Value::Null,
            Datum::Bool(b) => Value::Bool(*b),
            Datum::Number(n) => Value::Number(n.clone()),
            Datum::String(s) => Value::String(s.to_string()),
            Datum::Array(items) => Value::Array(items.iter().map(Datum::to_value).collect()),
            Datum::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

/// serde_json's reading of an array index in a pointer.
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() > 1) {
        return None;
    }
    token.parse().ok()
}

impl PartialEq<Value> for Datum {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Datum::Null, Value::Null) => true,
            (Datum::Bool(a), Value::Bool(b)) => a == b,
            (Datum::Number(a), Value::Number(b)) => a == b,
            (Datum::String(a), Value::String(b)) => **a == **b,
            (Datum::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
            }
            (Datum::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(&**k).is_some_and(|w| v == w))
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn datum(v: &Value) -> Datum {
        Datum::from_value(v, &mut Interner::default())
    }

    /// Every pointer reads what serde_json's `Value::pointer` reads, and the
    /// value converts back unchanged.
    #[test]
    fn pointers_read_as_serde_json_reads_them() {
        let v = json!({
            "a": {"b": [1, {"c~d": "x", "e/f": true}], "z": null},
            "": 2.5,
            "m": "text",
            "0": {"00": 1}
        });
        let d = datum(&v);
        for p in [
            "",
            "/a",
            "/a/b",
            "/a/b/0",
            "/a/b/1",
            "/a/b/1/c~0d",
            "/a/b/1/e~1f",
            "/a/b/01",
            "/a/b/+1",
            "/a/b/2",
            "/a/z",
            "/",
            "/m",
            "/m/0",
            "/0/00",
            "/nope",
            "a",
        ] {
            assert_eq!(
                d.pointer(p).map(Datum::to_value),
                v.pointer(p).cloned(),
                "pointer {p:?}"
            );
        }
        assert_eq!(d.to_value(), v);
        assert!(d == v);
        assert!(d != json!({"a": 1}));
    }

    #[test]
    fn text_is_a_string_or_a_scalar_as_json() {
        let d = datum(&json!({"s": "a", "n": 12, "f": 1.5, "b": false, "o": {}}));
        let text = |p: &str| d.pointer(p).and_then(Datum::text).map(Cow::into_owned);
        assert_eq!(text("/s").as_deref(), Some("a"));
        assert_eq!(text("/n").as_deref(), Some("12"));
        assert_eq!(text("/f").as_deref(), Some("1.5"));
        assert_eq!(text("/b").as_deref(), Some("false"));
        assert_eq!(text("/o"), None);
    }

    #[test]
    fn member_names_are_shared() {
        let mut names = Interner::default();
        let a = Datum::from_value(&json!({"staff_id": "s1"}), &mut names);
        let b = Datum::from_value(&json!({"staff_id": "s2"}), &mut names);
        let (Datum::Object(a), Datum::Object(b)) = (a, b) else {
            panic!("objects")
        };
        assert!(Arc::ptr_eq(&a[0].0, &b[0].0));
    }
}
