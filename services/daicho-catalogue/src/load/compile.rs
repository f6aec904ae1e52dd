//! Compiling the schemas with references resolved only inside the catalogue,
//! and checking every example against its schema.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::issue::{IssueKind, Issues};
use super::layout::{EventFile, COMMON};
use super::schema_rules::SchemaMeta;
use crate::validation;

/// Resolves `$ref`s to the catalogue's own files and refuses everything
/// else: the ledger runs in a closed network and must never reach out.
#[derive(Clone)]
struct CatalogueRetriever(Arc<HashMap<String, Value>>);

impl jsonschema::Retrieve for CatalogueRetriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        self.0.get(uri.as_str()).cloned().ok_or_else(|| {
            format!("{uri} is not a file of this catalogue; a schema may $ref only the catalogue's own files (nothing is fetched from a network or disk)")
                .into()
        })
    }
}

/// Compiles the shared definitions and every event schema, and validates
/// every example; returns one validator per event file (`None` where it
/// failed or was not attempted).
pub(super) fn compile(
    common: &Value,
    event_files: &[EventFile],
    metas: &[Option<SchemaMeta>],
    issues: &mut Issues,
) -> Vec<Option<jsonschema::Validator>> {
    let mut documents = HashMap::new();
    if let Some(id) = common.get("$id").and_then(Value::as_str) {
        documents.insert(id.to_owned(), common.clone());
    }
    for file in event_files {
        if let Some(id) = file.schema.get("$id").and_then(Value::as_str) {
            documents.insert(id.to_owned(), file.schema.clone());
        }
    }
    let retriever = CatalogueRetriever(Arc::new(documents));
    let build = |schema: &Value| {
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .with_retriever(retriever.clone())
            .build(schema)
    };
    if let Err(error) = build(common) {
        issues.push(COMMON, "", IssueKind::SchemaCompile(error.to_string()));
        // Every event schema leans on the shared definitions; compiling them
        // now would only repeat this problem once per schema.
        return event_files.iter().map(|_| None).collect();
    }
    event_files
        .iter()
        .zip(metas)
        .map(|(file, meta)| {
            let validator = match build(&file.schema) {
                Ok(validator) => validator,
                Err(error) => {
                    issues.push(&file.path, "", IssueKind::SchemaCompile(error.to_string()));
                    return None;
                }
            };
            for (index, example) in meta
                .iter()
                .flat_map(|meta| meta.examples.iter())
                .enumerate()
            {
                let violations = validation::violations(&validator, example);
                if !violations.is_empty() {
                    issues.push(
                        &file.path,
                        format!("/examples/{index}"),
                        IssueKind::InvalidExample(violations),
                    );
                }
            }
            Some(validator)
        })
        .collect()
}
