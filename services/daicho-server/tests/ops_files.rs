//! The deployment files under `ops/` name only what the service has: every
//! `daicho_*` series in the Prometheus rules is one `/metrics` exports, and
//! every `DAICHO_*` variable in the unit, the image and the compose file is
//! one the command line reads. (Their syntax is checked by
//! `ops/check-deployment`, which `ops/test` runs.)

use std::collections::BTreeSet;
use std::path::PathBuf;

use daicho_server::metrics::{Gauges, Metrics, PoolUsage};
use daicho_server::sequencer::WriterHealth;
use daicho_server::witness::cosigner::WitnessStatus;

fn ops_file(path: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../ops")
        .join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The identifiers in `text` that begin with `prefix`.
fn names(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().next_back();
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        // A bare prefix (`daicho_*` in a comment) names no series.
        if end > prefix.len() && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.insert(tail[..end].to_owned());
        }
        rest = &tail[end..];
    }
    out
}

#[test]
fn alert_rules_use_only_exported_series() {
    // One witness, so that its labelled series have a sample.
    let witnesses = [WitnessStatus {
        name: "w".into(),
        up: true,
        cosigned_size: 1,
        last_error: None,
    }];
    let exported: BTreeSet<String> = Metrics::default()
        .render(Gauges {
            tree_size: 1,
            checkpoint_age_seconds: 0.0,
            writer: &WriterHealth::Ok,
            pool: PoolUsage {
                in_use: 0,
                idle: 1,
                max: 8,
            },
            witnesses: &witnesses,
        })
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .map(str::to_owned)
        .collect();
    let used = names(&ops_file("prometheus/daicho-rules.yml"), "daicho_");
    assert!(used.len() >= 4, "{used:?}");
    let unknown: Vec<_> = used.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "the rules use series the service does not export: {unknown:?}; exported: {exported:?}"
    );
}

#[test]
fn deployment_files_set_only_variables_the_command_reads() {
    use clap::CommandFactory as _;
    let mut known = BTreeSet::new();
    fn walk(cmd: &clap::Command, known: &mut BTreeSet<String>) {
        for a in cmd.get_arguments() {
            if let Some(env) = a.get_env() {
                known.insert(env.to_string_lossy().into_owned());
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, known);
        }
    }
    walk(&daicho_server::cli::Cli::command(), &mut known);
    for file in [
        "systemd/daicho.service",
        "container/Containerfile",
        "container/compose.yaml",
    ] {
        let used = names(&ops_file(file), "DAICHO_");
        let unknown: Vec<_> = used.difference(&known).collect();
        assert!(unknown.is_empty(), "{file}: unknown variables {unknown:?}");
    }
}
