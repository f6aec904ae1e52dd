//! The ledger service's side of witnessing: after each checkpoint, ask
//! every configured witness to cosign it, attach the cosignatures that
//! verify, and serve the cosigned note (FORMAT.md §14).
//!
//! It runs as a task of its own, off the append path: a witness that is
//! down or slow delays nothing but its own cosignature, and `/readyz` and
//! `/metrics` say which witness is behind.

use std::sync::RwLock;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use bytes::Bytes;
use daicho_core::cosignature::{cosignatures, WitnessVerifier};
use hyper::{Method, StatusCode};

use super::protocol::{AddCheckpoint, ADD_CHECKPOINT};
use crate::app::AppState;
use crate::client::Client;
use crate::sequencer::Snapshot;

/// One witness as the service is configured with it.
#[derive(Debug, Clone)]
pub struct WitnessEndpoint {
    /// Its base URL, `http://HOST:PORT`.
    pub url: String,
    /// Its cosignature/v1 verifier key.
    pub key: WitnessVerifier,
}

impl WitnessEndpoint {
    /// Parses `URL=KEY`, where KEY is a witness verifier key or a file
    /// holding one.
    pub fn parse(arg: &str) -> anyhow::Result<WitnessEndpoint> {
        let (url, key) = arg
            .split_once('=')
            .ok_or_else(|| anyhow!("--witness {arg:?}: expected URL=KEY"))?;
        let key = match WitnessVerifier::parse(key) {
            Ok(k) => k,
            Err(_) => {
                let text = std::fs::read_to_string(key).with_context(|| {
                    format!("--witness {arg:?}: {key} is neither a witness key nor a readable file")
                })?;
                WitnessVerifier::parse(&text)
                    .with_context(|| format!("{key} does not hold a witness verifier key"))?
            }
        };
        Client::new(url).with_context(|| format!("--witness {arg:?}"))?;
        Ok(WitnessEndpoint {
            url: url.trim_end_matches('/').to_owned(),
            key,
        })
    }
}

/// What the service knows of one witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessStatus {
    /// The witness's key name.
    pub name: String,
    /// Whether its last exchange gave a valid cosignature.
    pub up: bool,
    /// The size of the last checkpoint it cosigned for this service.
    pub cosigned_size: u64,
    /// Why its last exchange failed, if it did.
    pub last_error: Option<String>,
}

/// The shared state: each witness's status and the newest cosigned note.
#[derive(Debug, Default)]
pub struct Cosigner {
    statuses: RwLock<Vec<WitnessStatus>>,
    cosigned: RwLock<Option<(u64, String)>>,
}

impl Cosigner {
    /// The checkpoint of `size` with the cosignatures gathered for it, if
    /// any witness cosigned that size.
    pub fn cosigned_note(&self, size: u64) -> Option<String> {
        let guard = self.cosigned.read().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .filter(|(s, _)| *s == size)
            .map(|(_, note)| note.clone())
    }

    /// Every configured witness's status, in configuration order.
    pub fn statuses(&self) -> Vec<WitnessStatus> {
        self.statuses
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_statuses(&self, statuses: Vec<WitnessStatus>) {
        *self.statuses.write().unwrap_or_else(|e| e.into_inner()) = statuses;
    }

    fn set_cosigned(&self, size: u64, note: String) {
        *self.cosigned.write().unwrap_or_else(|e| e.into_inner()) = Some((size, note));
    }
}

/// How long one witness may take to answer.
const WITNESS_TIMEOUT: Duration = Duration::from_secs(10);

/// Asks the witnesses for cosignatures of each new checkpoint, every
/// `interval`, until the service stops being ready (shutdown). Witnesses
/// that failed are asked again at the next tick.
pub async fn run(state: AppState, witnesses: Vec<WitnessEndpoint>, interval: Duration) {
    let clients: Vec<Client> = witnesses
        .iter()
        .map(|w| Client::new(&w.url).expect("checked when parsed"))
        .collect();
    let mut statuses: Vec<WitnessStatus> = witnesses
        .iter()
        .map(|w| WitnessStatus {
            name: w.key.name().to_owned(),
            up: false,
            cosigned_size: 0,
            last_error: Some("not asked yet".into()),
        })
        .collect();
    // The size each witness is believed to have cosigned; learned from its
    // 409 answers, so a restarted service resumes where each witness is.
    let mut known: Vec<u64> = vec![0; witnesses.len()];
    let mut lines: Vec<Option<(u64, String)>> = vec![None; witnesses.len()];
    state.witnesses.set_statuses(statuses.clone());
    while state.is_ready() {
        let snapshot = state.sequencer.snapshot();
        let mut changed = false;
        for (i, w) in witnesses.iter().enumerate() {
            if lines[i].as_ref().is_some_and(|(s, _)| *s == snapshot.size) {
                continue;
            }
            changed = true;
            let asked = tokio::time::timeout(
                WITNESS_TIMEOUT,
                ask(&clients[i], w, &snapshot, &mut known[i]),
            )
            .await
            .unwrap_or_else(|_| Err(anyhow!("no answer within {WITNESS_TIMEOUT:?}")));
            match asked {
                Ok(line) => {
                    known[i] = snapshot.size;
                    lines[i] = Some((snapshot.size, line));
                    statuses[i].up = true;
                    statuses[i].cosigned_size = snapshot.size;
                    statuses[i].last_error = None;
                }
                Err(e) => {
                    if statuses[i].up || statuses[i].last_error.as_deref() == Some("not asked yet")
                    {
                        tracing::warn!(witness = w.key.name(), url = %w.url, error = format!("{e:#}"), "a witness did not cosign; appends go on");
                    }
                    statuses[i].up = false;
                    statuses[i].last_error = Some(format!("{e:#}"));
                }
            }
        }
        if changed {
            let mut note = snapshot.checkpoint.clone();
            for (size, line) in lines.iter().flatten() {
                if *size == snapshot.size {
                    note.push_str(line);
                    note.push('\n');
                }
            }
            state.witnesses.set_cosigned(snapshot.size, note);
            state.witnesses.set_statuses(statuses.clone());
        }
        tokio::time::sleep(interval).await;
    }
}

/// One add-checkpoint exchange, retried once with the size a 409 names.
/// Returns the witness's cosignature line, checked.
async fn ask(
    client: &Client,
    w: &WitnessEndpoint,
    snapshot: &Snapshot,
    known: &mut u64,
) -> anyhow::Result<String> {
    for _ in 0..2 {
        let old = *known;
        if old > snapshot.size {
            bail!(
                "the witness has cosigned size {old}, beyond this ledger's {}: the ledger was rolled back",
                snapshot.size
            );
        }
        let proof = if old == 0 || old == snapshot.size {
            Vec::new()
        } else {
            snapshot
                .consistency_proof(old, snapshot.size)
                .context("building the consistency proof")?
        };
        let body = AddCheckpoint {
            old_size: old,
            proof,
            note: snapshot.checkpoint.clone(),
        }
        .to_body();
        let res = client
            .exchange(
                Method::POST,
                ADD_CHECKPOINT,
                None,
                Some("text/plain"),
                Bytes::from(body),
            )
            .await?;
        match res.status {
            StatusCode::OK => {
                let text = res.text();
                let mut note = snapshot.checkpoint.clone();
                note.push_str(&text);
                let found = cosignatures(&note, std::slice::from_ref(&w.key))
                    .context("the witness's answer")?;
                if found.is_empty() {
                    bail!("the witness answered without a cosignature by its key");
                }
                let line = text
                    .lines()
                    .find(|l| {
                        let one = format!("{}{l}\n", snapshot.checkpoint);
                        cosignatures(&one, std::slice::from_ref(&w.key))
                            .is_ok_and(|f| !f.is_empty())
                    })
                    .expect("a line verified");
                return Ok(line.to_owned());
            }
            StatusCode::CONFLICT => {
                let size: u64 = res
                    .text()
                    .trim()
                    .parse()
                    .map_err(|_| anyhow!("the witness's 409 does not name a size"))?;
                *known = size;
            }
            status => bail!("the witness answered {status}: {}", res.text().trim()),
        }
    }
    bail!("the witness's size kept changing")
}
