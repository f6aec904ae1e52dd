//! Payload values as the state holds them.
//!
//! The state keeps every fact's payload for the rules and the report to
//! read. Held as `serde_json::Value`, each object is a B-tree whose nodes are
//! sized for eleven members, and every member name and string a heap block
//! of its own: a state of 10⁶ entries took about 3.5 GiB, and folding was
//! mostly allocation. A [`Payload`] is two blocks whatever its shape: its
//! values as fixed-size nodes, each container's members side by side and
//! sorted by name (so a member is found by binary search), and one text
//! that holds every member name, string and number. It is written here
//! because the JSON crates with compact values (simd-json's tape,
//! json-value, …) neither offer lookups by name without a walk nor keep
//! serde_json's reading of pointers, which the rules' data is written
//! against.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use rustc_hash::FxHashSet;
use serde_json::{Map, Number, Value};

/// What a node holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    False,
    True,
    /// `a..a + b` of the text: the number as JSON.
    Number,
    /// `a..a + b` of the text.
    String,
    /// `b` items, the nodes from `a`.
    Array,
    /// `b` members sorted by name, the nodes from `a`.
    Object,
}

/// One value, and the member name it has in its object (empty in an
/// array): `name..name + name_len` of the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    name: u32,
    name_len: u32,
    a: u32,
    b: u32,
    kind: Kind,
}

const EMPTY: Node = Node {
    name: 0,
    name_len: 0,
    a: 0,
    b: 0,
    kind: Kind::Null,
};

/// A JSON object held compactly; read it through [`Payload::root`].
#[derive(Clone, PartialEq)]
pub struct Payload {
    /// The root object first.
    nodes: Box<[Node]>,
    text: Box<str>,
}

impl Default for Payload {
    fn default() -> Payload {
        Payload::from_map(&Map::new())
    }
}

impl std::fmt::Debug for Payload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.root().to_value().fmt(f)
    }
}

/// Offsets and lengths are 32 bits: a payload is an event's, which is far
/// below 4 GiB.
fn u32_of(n: usize) -> u32 {
    u32::try_from(n).expect("a payload is smaller than 4 GiB")
}

/// Fills a payload's nodes and text.
struct Builder {
    nodes: Vec<Node>,
    text: String,
}

impl Builder {
    fn push_text(&mut self, s: &str) -> (u32, u32) {
        let at = u32_of(self.text.len());
        self.text.push_str(s);
        (at, u32_of(s.len()))
    }

    /// Reserves `len` nodes side by side; returns the first.
    fn block(&mut self, len: usize) -> usize {
        let first = self.nodes.len();
        self.nodes.resize(first + len, EMPTY);
        first
    }

    fn object(&mut self, map: &Map<String, Value>) -> Node {
        let first = self.block(map.len());
        for (i, (k, v)) in map.iter().enumerate() {
            let mut node = self.value(v);
            (node.name, node.name_len) = self.push_text(k);
            self.nodes[first + i] = node;
        }
        // serde_json's map iterates in name order, unless `preserve_order`
        // is on somewhere in the build; the lookups need name order.
        let (nodes, text) = (
            &mut self.nodes[first..first + map.len()],
            self.text.as_str(),
        );
        let name = |n: &Node| &text[n.name as usize..(n.name + n.name_len) as usize];
        if !nodes.is_sorted_by(|x, y| name(x) <= name(y)) {
            nodes.sort_by(|x, y| name(x).cmp(name(y)));
        }
        Node {
            a: u32_of(first),
            b: u32_of(map.len()),
            kind: Kind::Object,
            ..EMPTY
        }
    }

    fn value(&mut self, v: &Value) -> Node {
        match v {
            Value::Null => EMPTY,
            Value::Bool(false) => Node {
                kind: Kind::False,
                ..EMPTY
            },
            Value::Bool(true) => Node {
                kind: Kind::True,
                ..EMPTY
            },
            Value::Number(n) => {
                let at = self.text.len();
                write!(self.text, "{n}").expect("writing to a string");
                Node {
                    a: u32_of(at),
                    b: u32_of(self.text.len() - at),
                    kind: Kind::Number,
                    ..EMPTY
                }
            }
            Value::String(s) => {
                let (a, b) = self.push_text(s);
                Node {
                    a,
                    b,
                    kind: Kind::String,
                    ..EMPTY
                }
            }
            Value::Array(items) => {
                let first = self.block(items.len());
                for (i, item) in items.iter().enumerate() {
                    self.nodes[first + i] = self.value(item);
                }
                Node {
                    a: u32_of(first),
                    b: u32_of(items.len()),
                    kind: Kind::Array,
                    ..EMPTY
                }
            }
            Value::Object(map) => self.object(map),
        }
    }
}

/// The nodes and text bytes a value takes, numbers counted at 24 bytes.
fn size(v: &Value, nodes: &mut usize, text: &mut usize) {
    *nodes += 1;
    match v {
        Value::Number(_) => *text += 24,
        Value::String(s) => *text += s.len(),
        Value::Array(items) => items.iter().for_each(|i| size(i, nodes, text)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            *text += k.len();
            size(v, nodes, text);
        }),
        Value::Null | Value::Bool(_) => {}
    }
}

impl Payload {
    /// The compact copy of a JSON object.
    pub fn from_map(map: &Map<String, Value>) -> Payload {
        let (mut nodes, mut text) = (1, 0);
        map.iter().for_each(|(k, v)| {
            text += k.len();
            size(v, &mut nodes, &mut text);
        });
        let mut b = Builder {
            nodes: Vec::with_capacity(nodes),
            text: String::with_capacity(text),
        };
        b.nodes.push(EMPTY);
        b.nodes[0] = b.object(map);
        Payload {
            nodes: b.nodes.into_boxed_slice(),
            text: b.text.into_boxed_str(),
        }
    }

    /// The object itself.
    pub fn root(&self) -> Datum<'_> {
        Datum {
            payload: self,
            node: &self.nodes[0],
        }
    }

    /// The value at an RFC 6901 pointer; see [`Datum::pointer`].
    pub fn pointer(&self, pointer: &str) -> Option<Datum<'_>> {
        self.root().pointer(pointer)
    }

    /// The payload as `serde_json::Value` again.
    pub fn to_value(&self) -> Value {
        self.root().to_value()
    }
}

/// One value of a [`Payload`].
#[derive(Clone, Copy)]
pub struct Datum<'a> {
    payload: &'a Payload,
    node: &'a Node,
}

impl std::fmt::Debug for Datum<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_value().fmt(f)
    }
}

impl<'a> Datum<'a> {
    fn slice(&self, at: u32, len: u32) -> &'a str {
        &self.payload.text[at as usize..(at + len) as usize]
    }

    fn name(&self, n: &Node) -> &'a str {
        self.slice(n.name, n.name_len)
    }

    fn children(&self) -> &'a [Node] {
        let n = self.node;
        &self.payload.nodes[n.a as usize..(n.a + n.b) as usize]
    }

    fn at(&self, node: &'a Node) -> Datum<'a> {
        Datum {
            payload: self.payload,
            node,
        }
    }

    /// An object's member.
    pub fn get(&self, name: &str) -> Option<Datum<'a>> {
        if self.node.kind != Kind::Object {
            return None;
        }
        let members = self.children();
        members
            .binary_search_by(|m| self.name(m).cmp(name))
            .ok()
            .map(|i| self.at(&members[i]))
    }

    /// The value at an RFC 6901 pointer, read as `serde_json::Value::pointer`
    /// reads it: `""` is the value itself, array indexes are decimal without
    /// a sign or leading zero.
    pub fn pointer(&self, pointer: &str) -> Option<Datum<'a>> {
        if pointer.is_empty() {
            return Some(*self);
        }
        let rest = pointer.strip_prefix('/')?;
        let mut at = *self;
        for token in rest.split('/') {
            let token: Cow<'_, str> = if token.contains('~') {
                Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(token)
            };
            at = match at.node.kind {
                Kind::Object => at.get(&token)?,
                Kind::Array => at.at(at.children().get(array_index(&token)?)?),
                _ => return None,
            };
        }
        Some(at)
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        self.node.kind == Kind::Null
    }

    /// Whether this is a string.
    pub fn is_string(&self) -> bool {
        self.node.kind == Kind::String
    }

    /// Whether this is a number.
    pub fn is_number(&self) -> bool {
        self.node.kind == Kind::Number
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.node.kind {
            Kind::False => Some(false),
            Kind::True => Some(true),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&'a str> {
        (self.node.kind == Kind::String).then(|| self.slice(self.node.a, self.node.b))
    }

    /// The items, if this is an array.
    pub fn items(&self) -> Option<impl ExactSizeIterator<Item = Datum<'a>> + 'a> {
        let this = *self;
        (self.node.kind == Kind::Array).then(|| this.children().iter().map(move |n| this.at(n)))
    }

    /// The value as text: a string as it is, a number or boolean as JSON.
    pub fn text(&self) -> Option<Cow<'a, str>> {
        match self.node.kind {
            Kind::String | Kind::Number => {
                Some(Cow::Borrowed(self.slice(self.node.a, self.node.b)))
            }
            Kind::False => Some(Cow::Borrowed("false")),
            Kind::True => Some(Cow::Borrowed("true")),
            _ => None,
        }
    }

    fn number(&self) -> Number {
        serde_json::from_str(self.slice(self.node.a, self.node.b))
            .expect("a number is held as serde_json wrote it")
    }

    /// The value as `serde_json::Value` again.
    pub fn to_value(&self) -> Value {
        match self.node.kind {
            Kind::Null => Value::Null,
            Kind::False => Value::Bool(false),
            Kind::True => Value::Bool(true),
            Kind::Number => Value::Number(self.number()),
            Kind::String => Value::String(self.slice(self.node.a, self.node.b).to_owned()),
            Kind::Array => Value::Array(
                self.children()
                    .iter()
                    .map(|n| self.at(n).to_value())
                    .collect(),
            ),
            Kind::Object => Value::Object(
                self.children()
                    .iter()
                    .map(|n| (self.name(n).to_owned(), self.at(n).to_value()))
                    .collect(),
            ),
        }
    }
}

/// Shared strings: event types, roles and actors repeat in every entry
/// and are held once.
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

/// serde_json's reading of an array index in a pointer.
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() > 1) {
        return None;
    }
    token.parse().ok()
}

impl PartialEq<Value> for Datum<'_> {
    fn eq(&self, other: &Value) -> bool {
        match (self.node.kind, other) {
            (Kind::Null, Value::Null) => true,
            (Kind::False, Value::Bool(b)) => !b,
            (Kind::True, Value::Bool(b)) => *b,
            (Kind::Number, Value::Number(n)) => self.number() == *n,
            (Kind::String, Value::String(s)) => self.as_str() == Some(s.as_str()),
            (Kind::Array, Value::Array(items)) => {
                let mine = self.children();
                mine.len() == items.len() && mine.iter().zip(items).all(|(n, v)| self.at(n) == *v)
            }
            (Kind::Object, Value::Object(map)) => {
                let mine = self.children();
                mine.len() == map.len()
                    && mine
                        .iter()
                        .all(|n| map.get(self.name(n)).is_some_and(|v| self.at(n) == *v))
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn payload(v: &Value) -> Payload {
        Payload::from_map(v.as_object().expect("an object"))
    }

    /// Every pointer to a value of `v` and below it.
    fn pointers(v: &Value, at: String, out: &mut Vec<String>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => m.iter().for_each(|(k, x)| {
                pointers(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                )
            }),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, x)| pointers(x, format!("{at}/{i}"), out)),
            _ => {}
        }
    }

    /// Every pointer reads what serde_json's `Value::pointer` reads, and the
    /// value converts back unchanged.
    #[test]
    fn pointers_read_as_serde_json_reads_them() {
        let v = json!({
            "a": {"b": [1, {"c~d": "x", "e/f": true}], "z": null},
            "": 2.5,
            "m": "text",
            "0": {"00": 1},
            "n": [-3, 18446744073709551615u64, 1e-7, [], {}],
            "名前": "亀岡"
        });
        let p = payload(&v);
        let d = p.root();
        for ptr in [
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
            "/n/1",
            "/n/2",
            "/n/3/0",
            "/名前",
            "/nope",
            "a",
        ] {
            assert_eq!(
                d.pointer(ptr).map(|x| x.to_value()),
                v.pointer(ptr).cloned(),
                "pointer {ptr:?}"
            );
        }
        assert_eq!(p.to_value(), v);
        assert!(d == v);
        assert!(d != json!({"a": 1}));
        assert!(d.pointer("/a/b").unwrap() != json!([1]));
    }

    #[test]
    fn text_is_a_string_or_a_scalar_as_json() {
        let p = payload(&json!({"s": "a", "n": 12, "f": 1.5, "b": false, "o": {}, "z": null}));
        let text = |ptr: &str| p.pointer(ptr).and_then(|d| d.text()).map(Cow::into_owned);
        assert_eq!(text("/s").as_deref(), Some("a"));
        assert_eq!(text("/n").as_deref(), Some("12"));
        assert_eq!(text("/f").as_deref(), Some("1.5"));
        assert_eq!(text("/b").as_deref(), Some("false"));
        assert_eq!(text("/o"), None);
        assert_eq!(text("/z"), None);
        assert!(p.pointer("/z").unwrap().is_null());
        assert!(p.pointer("/n").unwrap().is_number());
        assert_eq!(p.pointer("/b").unwrap().as_bool(), Some(false));
        assert_eq!(p.pointer("/s").unwrap().as_str(), Some("a"));
        assert_eq!(p.pointer("/n").unwrap().as_str(), None);
    }

    /// A payload is two blocks: one node per value, and one text exactly
    /// as long as its names, strings and numbers.
    #[test]
    fn a_payload_is_one_block_of_nodes_and_one_of_text() {
        let p = payload(&json!({"staff": {"staff_id": "s1", "n": 10}, "l": ["ab", null]}));
        assert_eq!(p.nodes.len(), 7);
        assert_eq!(std::mem::size_of::<Node>(), 20);
        // "staff", "staff_id", "s1", "n", "10", "l", "ab".
        assert_eq!(p.text.len(), 5 + 8 + 2 + 1 + 2 + 1 + 2);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e12f64..1e12).prop_map(Value::from),
            "[a-z~/0-9亀]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z~/0-9亀]{0,4}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any object converts back unchanged, and every pointer into it
        /// reads what serde_json reads.
        #[test]
        fn any_payload_reads_as_serde_json_reads_it(
            members in proptest::collection::btree_map("[a-z~/0-9亀]{0,4}", json_value(), 0..8)
        ) {
            let v = Value::Object(members.into_iter().collect());
            let p = payload(&v);
            prop_assert_eq!(p.to_value(), v.clone());
            prop_assert!(p.root() == v);
            let mut all = Vec::new();
            pointers(&v, String::new(), &mut all);
            for ptr in all {
                prop_assert_eq!(p.pointer(&ptr).map(|d| d.to_value()), v.pointer(&ptr).cloned());
            }
        }
    }
}
