//! Witness cosignatures: C2SP `tlog-cosignature` (`cosignature/v1`) lines
//! on a checkpoint note (FORMAT.md §7.3).
//!
//! A witness cosigns a checkpoint only after checking that it is
//! consistent with the last one it cosigned for the same origin, so a
//! quorum of cosignatures shows that the ledger key did not show this
//! reader a history it hides from others. This module holds the bytes:
//! the witness key encodings, the signed message, and the check of the
//! lines. The protocol that decides whether to cosign lives with the
//! witness service.

use std::fmt;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey};
use sha2::{Digest as _, Sha256};

use crate::checkpoint::{parse_signature_line, CheckpointError};
use crate::keys::{check_name, KeyError, PublicKey};

/// The signature type byte of `cosignature/v1` keys.
pub const COSIGNATURE_V1: u8 = 0x04;

/// A witness's public key: `NAME+HEXID+BASE64(0x04 || public key)`.
#[derive(Clone, PartialEq, Eq)]
pub struct WitnessVerifier {
    name: String,
    id: [u8; 4],
    key: PublicKey,
}

/// The key ID of a `cosignature/v1` key: the first 4 bytes of
/// `SHA-256(name || 0x0A || 0x04 || public key)`.
fn witness_key_id(name: &str, key: &PublicKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', COSIGNATURE_V1]);
    h.update(key.0.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

impl WitnessVerifier {
    /// The verifier for a public key under a name.
    pub fn new(name: &str, key: PublicKey) -> Result<Self, KeyError> {
        check_name(name)?;
        Ok(WitnessVerifier {
            name: name.to_owned(),
            id: witness_key_id(name, &key),
            key,
        })
    }

    /// Parses a witness verifier key string (surrounding white space is
    /// ignored, as in a key file).
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let (name, id, key) = crate::keys::parse_verifier_key(s, COSIGNATURE_V1)?;
        let v = WitnessVerifier::new(name, key)?;
        crate::keys::check_key_id(id, &v.id)?;
        Ok(v)
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key ID its cosignature lines start with.
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.key
    }

    /// Whether `raw` (a decoded signature line by this witness's name and
    /// key ID) is a valid cosignature of `body`; returns its timestamp.
    fn check(&self, body: &str, raw: &[u8]) -> Option<u64> {
        let raw: &[u8; 76] = raw.try_into().ok()?;
        let time = u64::from_be_bytes(raw[4..12].try_into().expect("8 bytes"));
        let sig = Signature::from_bytes(raw[12..].try_into().expect("64 bytes"));
        self.key
            .verify(&signed_message(body, time), &sig)
            .then_some(time)
    }
}

impl fmt::Display for WitnessVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::keys::write_verifier_key(f, &self.name, &self.id, COSIGNATURE_V1, &self.key)
    }
}

impl fmt::Debug for WitnessVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WitnessVerifier({self})")
    }
}

/// A witness's private key:
/// `PRIVATE+KEY+NAME+HEXID+BASE64(0x04 || 32-byte seed)`.
#[derive(Clone)]
pub struct WitnessSigner {
    verifier: WitnessVerifier,
    key: SigningKey,
}

impl WitnessSigner {
    /// A witness key from a 32-byte seed; the caller supplies the randomness.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, KeyError> {
        let key = SigningKey::from_bytes(&seed);
        let verifier =
            WitnessVerifier::new(name, PublicKey::from_bytes(key.verifying_key().as_bytes())?)?;
        Ok(WitnessSigner { verifier, key })
    }

    /// Parses a witness private key string.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        let (name, id, seed) = crate::keys::parse_private_key(s, COSIGNATURE_V1)?;
        let signer = WitnessSigner::from_seed(name, seed)?;
        crate::keys::check_key_id(id, &signer.verifier.id)?;
        Ok(signer)
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> &WitnessVerifier {
        &self.verifier
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.verifier.key
    }

    /// The secret key string. Handle with care: it is the private key.
    pub fn to_secret_string(&self) -> String {
        let mut raw = vec![COSIGNATURE_V1];
        raw.extend_from_slice(&self.key.to_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.verifier.name,
            hex::encode(self.verifier.id),
            B64.encode(raw)
        )
    }

    /// The cosignature line (without its newline) over a checkpoint body at
    /// `time`, seconds since the Unix epoch.
    pub fn cosignature_line(&self, body: &str, time: u64) -> String {
        let sig = self.key.sign(&signed_message(body, time));
        let mut raw = self.verifier.id.to_vec();
        raw.extend_from_slice(&time.to_be_bytes());
        raw.extend_from_slice(&sig.to_bytes());
        format!("\u{2014} {} {}", self.verifier.name, B64.encode(raw))
    }

    /// The note with this witness's cosignature line added at its end. The
    /// note is not opened: the caller has checked it.
    pub fn cosign(&self, note: &str, time: u64) -> String {
        let body = note_body(note).unwrap_or(note);
        format!("{note}{}\n", self.cosignature_line(body, time))
    }
}

impl fmt::Debug for WitnessSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        write!(f, "WitnessSigner({})", self.verifier)
    }
}

/// `cosignature/v1\ntime <time>\n` followed by the checkpoint body: what a
/// witness signs.
pub fn signed_message(body: &str, time: u64) -> Vec<u8> {
    let mut m = format!("cosignature/v1\ntime {time}\n").into_bytes();
    m.extend_from_slice(body.as_bytes());
    m
}

/// The body of a note: everything up to and including the newline before
/// the first blank line.
pub fn note_body(note: &str) -> Option<&str> {
    note.find("\n\n").map(|at| &note[..=at])
}

/// A witness's valid cosignature on a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cosignature {
    /// The witness's name.
    pub witness: String,
    /// When it cosigned, in seconds since the Unix epoch.
    pub time: u64,
}

/// Why the cosignatures of a note were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    /// The note is not a note, or has a malformed signature line.
    #[error(transparent)]
    Note(#[from] CheckpointError),
    /// A line of a trusted witness that is not a valid cosignature.
    #[error("the cosignature by witness {0} does not verify")]
    BadCosignature(String),
}

/// The trusted witnesses that cosigned `note`, each once (the earliest
/// valid line of each counts), in the order of `witnesses`. Lines of other
/// keys are ignored; a line of a trusted witness that does not verify
/// refuses the note, as for the ledger's own lines (FORMAT.md §7.3). The
/// note's ledger signature is not checked here: open it with
/// [`crate::checkpoint::Checkpoint::open`].
pub fn cosignatures(
    note: &str,
    witnesses: &[WitnessVerifier],
) -> Result<Vec<Cosignature>, CosignatureError> {
    let body = note_body(note).ok_or(CheckpointError::MalformedNote(
        "no blank line before the signatures",
    ))?;
    let sigs = &note[body.len() + 1..];
    let mut found: Vec<Option<u64>> = vec![None; witnesses.len()];
    for line in sigs.split_terminator('\n') {
        let (name, raw) = parse_signature_line(line)?;
        for (i, w) in witnesses.iter().enumerate() {
            if name != w.name || raw[..4] != w.id {
                continue;
            }
            let time = w
                .check(body, &raw)
                .ok_or_else(|| CosignatureError::BadCosignature(w.to_string()))?;
            found[i].get_or_insert(time);
        }
    }
    Ok(witnesses
        .iter()
        .zip(found)
        .filter_map(|(w, t)| {
            t.map(|time| Cosignature {
                witness: w.name.clone(),
                time,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use crate::keys::NoteSigner;
    use crate::Digest;

    fn witness(n: u8) -> WitnessSigner {
        WitnessSigner::from_seed(&format!("witness.example/w{n}"), [n; 32]).unwrap()
    }

    fn note() -> (NoteSigner, String) {
        let ledger = NoteSigner::from_seed("kameoka.example/daicho", [7; 32]).unwrap();
        let cp = Checkpoint {
            origin: "kameoka.example/daicho".into(),
            size: 5,
            root: Digest::of(b"root"),
        };
        let note = cp.sign(&ledger);
        (ledger, note)
    }

    #[test]
    fn key_strings_round_trip_and_use_type_4() {
        let w = witness(1);
        let v = WitnessVerifier::parse(&w.verifier().to_string()).unwrap();
        assert_eq!(&v, w.verifier());
        assert_eq!(
            WitnessSigner::parse(&w.to_secret_string())
                .unwrap()
                .verifier(),
            w.verifier()
        );
        // The same key as a type 0x01 key string is not a witness key.
        let as_note = crate::keys::NoteVerifier::new(v.name(), v.public_key()).unwrap();
        assert!(WitnessVerifier::parse(&as_note.to_string()).is_err());
    }

    #[test]
    fn cosignatures_count_each_trusted_witness_once() {
        let (ledger, note) = note();
        let (w1, w2, w3) = (witness(1), witness(2), witness(3));
        let cosigned = w2.cosign(&w1.cosign(&w1.cosign(&note, 100), 101), 102);
        let trusted = [
            w1.verifier().clone(),
            w2.verifier().clone(),
            w3.verifier().clone(),
        ];
        let found = cosignatures(&cosigned, &trusted).unwrap();
        assert_eq!(
            found,
            vec![
                Cosignature {
                    witness: w1.verifier().name().into(),
                    time: 100
                },
                Cosignature {
                    witness: w2.verifier().name().into(),
                    time: 102
                },
            ]
        );
        // The ledger's own check ignores the cosignatures.
        assert!(Checkpoint::open(&cosigned, ledger.verifier()).is_ok());
    }

    #[test]
    fn a_cosignature_over_another_time_or_body_is_refused() {
        let (_, note) = note();
        let w = witness(1);
        let line = w.cosignature_line(note_body(&note).unwrap(), 100);
        // Rewrite the timestamp bytes: the signature no longer covers them.
        let (prefix, b64) = line.rsplit_once(' ').unwrap();
        let mut raw = B64.decode(b64).unwrap();
        raw[11] ^= 1;
        let forged = format!("{note}{prefix} {}\n", B64.encode(raw));
        assert_eq!(
            cosignatures(&forged, &[w.verifier().clone()]),
            Err(CosignatureError::BadCosignature(w.verifier().to_string()))
        );
        let other = note.replace("\n5\n", "\n6\n");
        let moved = format!("{other}{line}\n");
        assert!(cosignatures(&moved, &[w.verifier().clone()]).is_err());
    }
}
