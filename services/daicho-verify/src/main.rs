//! The `daicho-verify` command: a thin layer over the library that reads
//! files, prints reports and maps outcomes to exit codes.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, Context as _};
use clap::{Parser, Subcommand, ValueEnum};
use daicho_core::cosignature::WitnessVerifier;
use daicho_core::keys::NoteVerifier;
use daicho_core::receipt::ReceiptError;
use daicho_verify::proof::{check_proof, ProofKind};
use daicho_verify::signature::{Mode, DEFAULT_BATCH};
use daicho_verify::{receipt, verify_reader, Class, Options, SavedCheckpoint};

const LONG_ABOUT: &str = "\
Verify a daicho ledger export offline, trusting only the ledger's public key.

daicho is a tamper-evident audit ledger. An export bundle is one JSONL file: a
header line, one line per ledger entry in seq order (the signed event with the
entry's seq, recorded_at, event_hash and prev_hash), then the ledger's signed
checkpoints. docs/FORMAT.md specifies every byte.

WHAT IS CHECKED
  Format      line 1 is the header; every line is strict JSON in RFC 8785
              canonical form with no unknown fields; entries come before
              checkpoints; no empty line, no duplicate line, no byte after the
              last newline, a final newline, at least one checkpoint.
  Chain       seq runs 0, 1, 2, ... without gaps or repeats; each event_hash
              is recomputed from the event's bytes (a stored hash is never
              trusted); each prev_hash is the hash of the entry before it;
              recorded_at never goes backwards; no event_id appears twice.
  Registry    the genesis entry names the ledger key you trust and is signed
              by it; the key registry is rebuilt entry by entry, and every
              event must be signed by a key registered before it, not yet
              revoked, allowed to sign that event type, for its own source.
              A rotation of the ledger key is signed by the key it retires.
  Signature   every event signature verifies (Ed25519 by the rule of
              FORMAT.md §5.3: canonical encodings, no small-order R or key,
              the cofactored equation of RFC 8032 §5.1.7), checked in
              batches that accept exactly what one-by-one checks accept.
  Checkpoint  every checkpoint is signed by the ledger key for its size (the
              trusted key, or the key the log last rotated to before it) and its
              root is the Merkle root (RFC 9162) of the first `size` entries;
              the last entries are covered by a checkpoint; and the bundle
              extends every checkpoint you saved earlier (--since), so a
              history rewritten and re-signed since then is caught. With
              --witness-key, the newest checkpoint must carry valid
              cosignatures (C2SP cosignature/v1) of --witnesses of them:
              witnesses cosign only a history consistent with what they
              saw before, so a ledger key cannot show you a fork.

WHAT TO TRUST
  Only the ledger's verifier key (--ledger-key), and optionally the hash of
  its genesis entry (--genesis), obtained from the ledger's
  operator by a channel you trust, and the checkpoints you saved yourself.
  The key in the bundle's header is compared with it, never used instead.
  Keep the newest checkpoint you verified: pass it with --since next time.

OUTPUT AND EXIT CODES
  Every finding is printed with its seq (or line), its class (signature,
  chain, merkle, registry, checkpoint, format), what was expected and what
  was found; --format json prints {ok, entries, checkpoints, findings}.
  Findings come in line order and, within a line, in the order FORMAT.md
  §12.2 applies the checks, so any verifier written from FORMAT.md reports
  the same first finding.
    0  every check holds
    1  at least one finding (or a receipt or proof that does not verify)
    2  usage error, or an input that cannot be read

EXAMPLES
  daicho-verify export.jsonl --ledger-key ledger.vkey
  daicho-verify export.jsonl --ledger-key ledger.vkey --since 2026-03.checkpoint
  daicho-verify export.jsonl --ledger-key ledger.vkey --genesis 5d1c...e0
  daicho-verify export.jsonl --ledger-key ledger.vkey --witness-key w1.vkey --witness-key w2.vkey --witnesses 2
  daicho-verify export.jsonl --ledger-key 'kameoka.example/daicho+1a2b3c4d+AU...' --format json
  daicho-verify receipt receipt.json --ledger-key ledger.vkey --event event.json
  daicho-verify report daicho-R08-Q1.json export.jsonl --ledger-key ledger.vkey
  daicho-verify proof inclusion proof1.json proof2.json
  daicho-verify proof consistency consistency.json";

/// The auditor's verifier for daicho ledgers.
#[derive(Parser, Debug)]
#[command(
    name = "daicho-verify",
    version,
    about = "Verify a daicho ledger export bundle, a receipt or a Merkle proof offline.",
    long_about = LONG_ABOUT,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
struct Cli {
    /// The export bundle (JSONL) to verify.
    #[arg(required = true)]
    bundle: Option<PathBuf>,
    /// The ledger's C2SP verifier key (name+keyid+base64), or a file holding one.
    #[arg(long, value_name = "VKEY", required = true)]
    ledger_key: Option<String>,
    /// A signed checkpoint note you saved earlier; the bundle must extend it.
    /// May be given several times.
    #[arg(long, value_name = "CHECKPOINT")]
    since: Vec<PathBuf>,
    /// The entry hash of the genesis entry (64 hex characters), if you pinned
    /// it: the bundle must start with exactly that entry.
    #[arg(long, value_name = "HASH")]
    genesis: Option<String>,
    /// A witness's cosignature/v1 verifier key (name+keyid+base64 with type
    /// 0x04), or a file holding one. May be given several times.
    #[arg(long, value_name = "VKEY")]
    witness_key: Vec<String>,
    /// How many of the --witness-key witnesses must have cosigned the
    /// bundle's newest checkpoint (default: all of them).
    #[arg(long, value_name = "N")]
    witnesses: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Verify every event signature one by one instead of in batches (about
    /// three times slower). Batches accept exactly the signatures the
    /// one-by-one check accepts (FORMAT.md §5.3); this flag is for auditors
    /// who want to see that for themselves.
    #[arg(long)]
    strict: bool,
    /// Signatures per batch.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_BATCH, hide = true)]
    batch_size: usize,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Verify one receipt offline: its entry hash, its checkpoint under the
    /// ledger key, its inclusion proof and, with --event, that the event is
    /// the one the entry records.
    Receipt {
        /// The receipt (JSON).
        receipt: PathBuf,
        /// The ledger's C2SP verifier key, or a file holding one.
        #[arg(long, value_name = "VKEY")]
        ledger_key: String,
        /// The signed event (JSON) the receipt is for.
        #[arg(long, value_name = "FILE")]
        event: Option<PathBuf>,
        /// Output format: words, or one JSON document
        /// {ok, file, checkpoint, findings: [{class, message}]}.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Verify a quarterly report against an export bundle: the bundle
    /// verifies, the report's checkpoint is signed by the ledger key and
    /// is the bundle's own, and the report recomputed from the bundle's
    /// first tree_size entries is identical byte for byte.
    Report {
        /// The report's JSON (the anchored original).
        report: PathBuf,
        /// The export bundle (JSONL).
        bundle: PathBuf,
        /// The ledger's C2SP verifier key, or a file holding one.
        #[arg(long, value_name = "VKEY")]
        ledger_key: String,
        /// Output format: words, or one JSON document
        /// {ok, report, bundle_ok, difference}.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Verify single Merkle proofs in the transparency-dev/merkle JSON layout.
    Proof {
        #[command(subcommand)]
        kind: ProofCommand,
    },
}

#[derive(Subcommand, Debug)]
enum ProofCommand {
    /// Inclusion proofs: {leafIdx, treeSize, root, leafHash, proof}, hashes in base64.
    Inclusion {
        /// Proof files; each is reported OK or FAIL with the reason.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format: words, or one JSON document
        /// {ok, results: [{file, ok, class, message}]}.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Consistency proofs: {size1, size2, root1, root2, proof}, hashes in base64.
    Consistency {
        /// Proof files; each is reported OK or FAIL with the reason.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Output format: words, or one JSON document
        /// {ok, results: [{file, ok, class, message}]}.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Findings in words.
    Text,
    /// One JSON document: {ok, entries, checkpoints, findings}.
    Json,
}

/// What a run concluded, before it becomes an exit code.
enum Outcome {
    Holds,
    Findings,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Holds) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            eprintln!("daicho-verify: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Some(Command::Receipt {
            receipt,
            ledger_key,
            event,
            format,
        }) => run_receipt(&receipt, &ledger_key, event.as_deref(), format),
        Some(Command::Report {
            report,
            bundle,
            ledger_key,
            format,
        }) => run_report(&report, &bundle, &ledger_key, format),
        Some(Command::Proof { kind }) => run_proofs(kind),
        None => {
            let bundle = cli
                .bundle
                .ok_or_else(|| anyhow!("a bundle file is required"))?;
            let key = cli
                .ledger_key
                .ok_or_else(|| anyhow!("--ledger-key is required"))?;
            let mode = if cli.strict {
                Mode::Strict
            } else {
                Mode::Batch(cli.batch_size.max(1))
            };
            let witnesses = cli
                .witness_key
                .iter()
                .map(|k| witness_key(k))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let quorum = cli.witnesses.unwrap_or(witnesses.len());
            if quorum > witnesses.len() {
                return Err(anyhow!(
                    "--witnesses {quorum} asks for more cosignatures than the {} --witness-key given",
                    witnesses.len()
                ));
            }
            run_bundle(
                &bundle,
                &key,
                &cli.since,
                cli.genesis.as_deref(),
                (witnesses, quorum),
                mode,
                cli.format,
            )
        }
    }
}

/// Reads a verifier key given inline or as a file.
fn ledger_key(arg: &str) -> anyhow::Result<NoteVerifier> {
    match NoteVerifier::parse(arg) {
        Ok(key) => Ok(key),
        Err(inline) => {
            let text = std::fs::read_to_string(arg).map_err(|file| {
                anyhow!("--ledger-key is neither a verifier key ({inline}) nor a readable file ({file})")
            })?;
            NoteVerifier::parse(&text)
                .with_context(|| format!("{arg} does not hold a C2SP verifier key"))
        }
    }
}

/// Reads a witness verifier key given inline or as a file.
fn witness_key(arg: &str) -> anyhow::Result<WitnessVerifier> {
    match WitnessVerifier::parse(arg) {
        Ok(key) => Ok(key),
        Err(inline) => {
            let text = std::fs::read_to_string(arg).map_err(|file| {
                anyhow!("--witness-key {arg} is neither a witness key ({inline}) nor a readable file ({file})")
            })?;
            WitnessVerifier::parse(&text)
                .with_context(|| format!("{arg} does not hold a cosignature/v1 verifier key"))
        }
    }
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

fn run_bundle(
    path: &Path,
    key: &str,
    since: &[PathBuf],
    genesis: Option<&str>,
    (witnesses, quorum): (Vec<WitnessVerifier>, usize),
    mode: Mode,
    format: Format,
) -> anyhow::Result<Outcome> {
    let ledger_key = ledger_key(key)?;
    let genesis_hash = genesis
        .map(|h| {
            daicho_core::Digest::from_hex(h).with_context(|| {
                format!("--genesis {h:?} is not 64 lowercase hexadecimal characters")
            })
        })
        .transpose()?;
    let since = since
        .iter()
        .map(|p| {
            let note = String::from_utf8(read(p)?)
                .with_context(|| format!("{} is not UTF-8 text", p.display()))?;
            Ok(SavedCheckpoint {
                name: p.display().to_string(),
                note,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(len);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} verifying [{bar:40}] {bytes}/{total_bytes} ({eta})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar
    });
    let progress = |done: u64| {
        if let Some(bar) = &bar {
            bar.set_position(done);
        }
    };
    let options = Options {
        ledger_key,
        since,
        mode,
        chunk_lines: daicho_verify::bundle::DEFAULT_CHUNK_LINES,
        progress: Some(&progress),
        genesis_hash,
        witnesses,
        quorum,
    };
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let report = verify_reader(reader, &options)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => writeln!(out, "{}", report.to_json())?,
        Format::Text => write!(out, "{}: {report}", path.display())?,
    }
    Ok(if report.ok {
        Outcome::Holds
    } else {
        Outcome::Findings
    })
}

fn run_report(
    report_path: &Path,
    bundle_path: &Path,
    key: &str,
    format: Format,
) -> anyhow::Result<Outcome> {
    use daicho_verify::quarterly::verify_report;
    let ledger_key = ledger_key(key)?;
    let report = read(report_path)?;
    let bundle = std::fs::File::open(bundle_path)
        .map(|f| std::io::BufReader::with_capacity(1 << 20, f))
        .with_context(|| format!("cannot read {}", bundle_path.display()))?;
    let options = Options::new(ledger_key.clone());
    let checked = verify_report(
        bundle,
        &report,
        &options,
        daicho_catalogue::Catalogue::embedded(),
        daicho_compliance::Rulebook::embedded(),
    )
    .with_context(|| format!("cannot read {}", bundle_path.display()))?;
    let verified = &checked.bundle;
    let outcome = &checked.recomputed;
    let ok = checked.ok();
    match format {
        Format::Json => println!(
            "{:#}",
            serde_json::json!({
                "ok": ok,
                "report": report_path.display().to_string(),
                "bundle_ok": verified.ok,
                "bundle_findings": verified.findings.len(),
                // Only a bundle that verifies says what the report should be.
                "difference": outcome.as_ref().err().filter(|_| verified.ok).map(ToString::to_string),
            })
        ),
        Format::Text if !verified.ok => {
            print!("{}: {verified}", bundle_path.display());
            println!(
                "FAIL {}: the bundle does not verify, so the report cannot be checked against it",
                report_path.display()
            );
        }
        Format::Text => match &outcome {
            Ok(()) => println!(
                "OK {}: recomputed from the first entries of {} byte for byte; its checkpoint is signed by {} and is the bundle's",
                report_path.display(),
                bundle_path.display(),
                ledger_key.name()
            ),
            Err(e) => println!("FAIL {}: {e}", report_path.display()),
        },
    }
    Ok(if ok {
        Outcome::Holds
    } else {
        Outcome::Findings
    })
}

/// The finding class of a receipt that does not verify.
fn receipt_class(e: &ReceiptError) -> Class {
    match e {
        ReceiptError::Format(_) => Class::Format,
        ReceiptError::EntryHash { .. } | ReceiptError::EventHash { .. } => Class::Chain,
        ReceiptError::Checkpoint(_) => Class::Checkpoint,
        ReceiptError::Inclusion(_) => Class::Merkle,
    }
}

fn run_receipt(
    path: &Path,
    key: &str,
    event: Option<&Path>,
    format: Format,
) -> anyhow::Result<Outcome> {
    let ledger_key = ledger_key(key)?;
    let receipt_bytes = read(path)?;
    let event_bytes = event.map(read).transpose()?;
    let outcome = receipt::check_receipt(&receipt_bytes, event_bytes.as_deref(), &ledger_key)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if format == Format::Json {
        let doc = match &outcome {
            Ok(cp) => serde_json::json!({
                "ok": true, "file": path.display().to_string(),
                "checkpoint": {"size": cp.size, "root": cp.root.to_base64()},
                "findings": [],
            }),
            Err(e) => serde_json::json!({
                "ok": false, "file": path.display().to_string(), "checkpoint": null,
                "findings": [{"class": receipt_class(e).to_string(), "message": e.to_string()}],
            }),
        };
        println!("{doc:#}");
    }
    match outcome {
        Ok(cp) => {
            if format == Format::Text {
                println!(
                    "OK {}: the entry is included in the ledger's checkpoint of size {} (root {}), signed by {}",
                    path.display(),
                    cp.size,
                    cp.root.to_base64(),
                    ledger_key.name()
                );
            }
            Ok(Outcome::Holds)
        }
        Err(e) => {
            if format == Format::Text {
                println!("FAIL {}: [{}] {e}", path.display(), receipt_class(&e));
            }
            Ok(Outcome::Findings)
        }
    }
}

fn run_proofs(command: ProofCommand) -> anyhow::Result<Outcome> {
    let (kind, files, format) = match command {
        ProofCommand::Inclusion { files, format } => (ProofKind::Inclusion, files, format),
        ProofCommand::Consistency { files, format } => (ProofKind::Consistency, files, format),
    };
    let mut failed = false;
    let mut unreadable = None;
    let mut results = Vec::new();
    for path in &files {
        let checked = read(path).and_then(|b| check_proof(kind, &b).map_err(anyhow::Error::from));
        let file = path.display().to_string();
        match checked {
            Ok(Ok(())) => {
                results.push(
                    serde_json::json!({"file": file, "ok": true, "class": null, "message": null}),
                );
                if format == Format::Text {
                    println!("OK {}", path.display());
                }
            }
            Ok(Err(reason)) => {
                failed = true;
                results.push(serde_json::json!({
                    "file": file, "ok": false, "class": Class::Merkle.to_string(), "message": reason.to_string(),
                }));
                if format == Format::Text {
                    println!("FAIL {}: {reason}", path.display());
                }
            }
            Err(e) => {
                // Report every file before giving up, so one bad file does
                // not hide the results of the others.
                eprintln!("daicho-verify: {}: {e:#}", path.display());
                unreadable = Some(e);
            }
        }
    }
    if let Some(e) = unreadable {
        return Err(e.context("some proof files could not be read"));
    }
    if format == Format::Json {
        println!(
            "{:#}",
            serde_json::json!({"ok": !failed, "results": results})
        );
    }
    Ok(if failed {
        Outcome::Findings
    } else {
        Outcome::Holds
    })
}
