//! Architecture Invariant: only `daicho-store` speaks SQL. This test fails
//! if another crate of the workspace has sqlx among its normal
//! dependencies, or if a `.rs` file outside this crate holds a string
//! literal that is an SQL statement. Comments and doc comments may name
//! statements freely; only code is read.
//!
//! The dev-only `daicho-testkit` is the one exception: it creates and drops
//! the scratch PostgreSQL schemas the tests run in, which is housekeeping of
//! the test database and not the ledger's storage.

use std::path::{Path, PathBuf};

use daicho_testkit::workspace::{self, cargo};

/// The crates that may speak SQL.
const ALLOWED: &[&str] = &["daicho-store", "daicho-testkit"];

/// The first words of SQL statements. A string literal whose first word
/// (after white space) is one of these is taken for SQL.
const STATEMENT_WORDS: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "WITH",
    "PRAGMA",
    "TRUNCATE",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "VACUUM",
];

#[test]
fn no_other_crate_depends_on_sqlx() {
    let out = cargo(&["metadata", "--format-version", "1", "--no-deps"]);
    let metadata: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let packages = metadata["packages"].as_array().expect("packages");
    let mut with_sqlx = Vec::new();
    for package in packages {
        let name = package["name"].as_str().expect("a name");
        let normal_sqlx = package["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            // A normal dependency has no `kind` ("dev" and "build" do).
            .any(|d| d["name"] == "sqlx" && d["kind"].is_null());
        if normal_sqlx {
            with_sqlx.push(name.to_owned());
        }
    }
    assert!(
        with_sqlx.iter().any(|n| n == "daicho-store"),
        "the store's own sqlx dependency was seen: {with_sqlx:?}"
    );
    let others: Vec<&String> = with_sqlx
        .iter()
        .filter(|n| !ALLOWED.contains(&n.as_str()))
        .collect();
    assert!(
        others.is_empty(),
        "only daicho-store speaks SQL, but {others:?} depend on sqlx"
    );
}

#[test]
fn no_sql_statements_outside_the_store() {
    let root = workspace::root();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let allowed: Vec<PathBuf> = ALLOWED
        .iter()
        .map(|c| root.join("services").join(c))
        .collect();
    let mut found = Vec::new();
    let mut read = 0;
    for file in files {
        if allowed.iter().any(|dir| file.starts_with(dir)) {
            continue;
        }
        read += 1;
        let text = std::fs::read_to_string(&file).expect("a UTF-8 source file");
        for literal in sql_literals(&text) {
            found.push(format!("{}: {literal:?}", file.display()));
        }
    }
    assert!(
        read > 50,
        "the workspace's sources were read ({read} files)"
    );
    assert!(
        found.is_empty(),
        "only daicho-store speaks SQL, but these literals are SQL:\n{}",
        found.join("\n")
    );
}

/// The scanner finds statements in literals of every form and nothing in
/// comments, prose or character literals.
#[test]
fn the_scanner_tells_code_from_comments() {
    let source = r####"
        //! Rows go in with INSERT INTO entries.
        /// "SELECT * FROM entries" in a doc comment.
        /* "DELETE FROM entries" in a block comment */
        fn f<'a>(x: &'a str) -> char {
            let _ = "Select a backend";
            let _ = format!("the \"SELECT\" keyword");
            let _ = sqlx::query("\n  SELECT seq FROM entries");
            let _ = r#"INSERT INTO entries VALUES ("x")"#;
            let _ = '"';
            let _ = b"DROP TABLE entries";
            '\''
        }
    "####;
    assert_eq!(
        sql_literals(source),
        [
            "\\n  SELECT seq FROM entries",
            "INSERT INTO entries VALUES (\"x\")",
            "DROP TABLE entries"
        ]
    );
}

/// Every `.rs` file below `dir`, but for build output and hidden folders.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable folder") {
        let path = entry.expect("a folder entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

/// The string literals of Rust source `text` (outside comments) whose
/// first word is a statement word, with escapes left as written.
fn sql_literals(text: &str) -> Vec<String> {
    string_literals(text)
        .into_iter()
        .filter(|l| {
            // Written escapes of white space (`\n`, `\t`, a `\` line
            // continuation) count as white space.
            let mut body = l.as_str();
            loop {
                let trimmed = body.trim_start();
                let trimmed = ["\\n", "\\r", "\\t", "\\"]
                    .iter()
                    .find_map(|e| trimmed.strip_prefix(e))
                    .unwrap_or(trimmed);
                if trimmed.len() == body.len() {
                    break;
                }
                body = trimmed;
            }
            let word: String = body
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            STATEMENT_WORDS.contains(&word.as_str())
        })
        .collect()
}

/// The contents of the string literals (plain, byte and raw) of Rust
/// source, skipping comments and character literals.
fn string_literals(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r'
            && (i == 0 || !ident(chars[i - 1]) || chars[i - 1] == 'b')
            && matches!(next, Some('#') | Some('"'))
        {
            // A raw string: r"…", r#"…"#, with any number of hashes.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                i = j;
                continue;
            }
            let start = j + 1;
            let mut k = start;
            loop {
                if k >= chars.len() {
                    break;
                }
                if chars[k] == '"' && (1..=hashes).all(|h| chars.get(k + h) == Some(&'#')) {
                    break;
                }
                k += 1;
            }
            out.push(chars[start..k.min(chars.len())].iter().collect());
            i = k + 1 + hashes;
        } else if c == '"' {
            let start = i + 1;
            let mut k = start;
            while k < chars.len() && chars[k] != '"' {
                if chars[k] == '\\' {
                    k += 1;
                }
                k += 1;
            }
            out.push(chars[start..k.min(chars.len())].iter().collect());
            i = k + 1;
        } else if c == '\'' {
            // A character literal ('x', '\'', '\u{..}'), or else a
            // lifetime, which has no closing quote.
            if next == Some('\\') {
                let mut k = i + 2;
                while k < chars.len() && chars[k] != '\'' {
                    k += 1;
                }
                i = k + 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}
