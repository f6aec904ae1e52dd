//! RFC 6901 JSON pointers, as every refusal names the place at fault: the
//! escaping of one reference token, and the pointer to where a serde
//! deserialisation stopped. The core, the catalogue and the compliance
//! rules all write their pointers with these.

/// Escapes one reference token per RFC 6901 §3: `~` as `~0`, `/` as `~1`.
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The pointer to where `serde_path_to_error` says deserialisation stopped.
pub fn from_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push('/');
                out.push_str(&escape_token(key));
            }
            Segment::Unknown => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_escaped_and_paths_joined() {
        assert_eq!(escape_token("a~b/c"), "a~0b~1c");
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            n: u8,
        }
        let json = r#"{"a/b": [{"n": 1}, {"n": "x"}]}"#;
        let mut de = serde_json::Deserializer::from_str(json);
        let err = serde_path_to_error::deserialize::<
            _,
            std::collections::BTreeMap<String, Vec<Inner>>,
        >(&mut de)
        .unwrap_err();
        assert_eq!(from_path(err.path()), "/a~1b/1/n");
    }
}
