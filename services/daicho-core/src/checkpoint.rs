//! Checkpoints: the C2SP `tlog-checkpoint` body signed as a C2SP
//! `signed-note` (FORMAT.md §7).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _};

use crate::keys::check_name;

use crate::hash::Digest;
use crate::keys::{NoteSigner, NoteVerifier};

/// Why a signed checkpoint was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The note is not a body, a blank line and signature lines.
    #[error("malformed signed note: {0}")]
    MalformedNote(&'static str),
    /// The body is not origin, size and root lines.
    #[error("malformed checkpoint body: {0}")]
    MalformedBody(&'static str),
    /// No signature line from the expected key.
    #[error("no signature by key {0}")]
    NotSignedByKey(String),
    /// A signature line from the expected key that does not verify.
    #[error("the signature by key {0} does not verify")]
    BadSignature(String),
    /// The checkpoint names another log.
    #[error("origin {found:?} is not the ledger's origin {expected:?}")]
    WrongOrigin {
        /// The ledger's.
        expected: String,
        /// The checkpoint's.
        found: String,
    },
}

/// What opens a ledger's signed checkpoints: one key, or the key registry,
/// which knows which ledger key signs a checkpoint of each size (§8.5).
pub trait CheckpointKeys {
    /// Opens `note` as [`Checkpoint::open`] does, under the right key.
    fn open_checkpoint(&self, note: &str) -> Result<Checkpoint, CheckpointError>;
}

impl CheckpointKeys for NoteVerifier {
    fn open_checkpoint(&self, note: &str) -> Result<Checkpoint, CheckpointError> {
        Checkpoint::open(note, self)
    }
}

/// The body of a checkpoint (C2SP tlog-checkpoint): which log, how many
/// entries, and the RFC 9162 root over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line.
    pub origin: String,
    /// Number of entries covered.
    pub size: u64,
    /// Merkle tree hash of the first `size` entries.
    pub root: Digest,
}

impl Checkpoint {
    /// The note body: `origin\nsize\nbase64(root)\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        )
    }

    /// Parses a body. Extension lines are refused: daicho writes none, and a
    /// line nobody checks is a line an attacker could use.
    pub fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let lines: Vec<&str> = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::MalformedBody(
                "body must end with a newline",
            ))?
            .split('\n')
            .collect();
        let [origin, size, root] = lines[..] else {
            return Err(CheckpointError::MalformedBody(
                "expected exactly three lines: origin, size, root",
            ));
        };
        if origin.is_empty() {
            return Err(CheckpointError::MalformedBody("empty origin"));
        }
        // Decimal without leading zeros, as C2SP tlog-checkpoint requires.
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(CheckpointError::MalformedBody(
                "size is not a decimal number",
            ));
        }
        let size = size
            .parse()
            .map_err(|_| CheckpointError::MalformedBody("size out of range"))?;
        let root = Digest::from_base64(root)
            .filter(|d| d.to_base64() == root)
            .ok_or(CheckpointError::MalformedBody(
                "root is not base64 of 32 bytes",
            ))?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// Signs the body as a signed note with one signature line.
    pub fn sign(&self, signer: &NoteSigner) -> String {
        self.sign_all(&[signer])
    }

    /// Signs the body as a signed note with one signature line per signer,
    /// in the order given: during a rotation's overlap (FORMAT.md §8.5)
    /// the current ledger key and the one before it.
    pub fn sign_all(&self, signers: &[&NoteSigner]) -> String {
        assert!(
            !signers.is_empty(),
            "a checkpoint is signed by at least one key"
        );
        let body = self.body();
        let mut note = format!("{body}\n");
        for signer in signers {
            let sig = signer.signing_key().sign(body.as_bytes());
            let mut raw = signer.verifier().note_id().to_vec();
            raw.extend_from_slice(&sig.to_bytes());
            note.push_str(&format!(
                "\u{2014} {} {}\n",
                signer.verifier().name(),
                B64.encode(raw)
            ));
        }
        note
    }

    /// The size a note's body claims, read without checking any signature:
    /// only to choose the key the note must be opened under (§8.5).
    pub fn claimed_size(note: &str) -> Result<u64, CheckpointError> {
        let (body, _) = split_note(note)?;
        Ok(Checkpoint::parse_body(body)?.size)
    }

    /// Opens a signed note (FORMAT.md §7.2): every signature line must be
    /// well formed; lines of other keys are ignored, as C2SP signed-note
    /// requires, so that witnesses' cosignatures may follow; every line of
    /// `verifier` must verify by the rule of §5.3 and at least one must be
    /// there. Then the body is parsed, and its origin must be the key's name.
    pub fn open(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, CheckpointError> {
        let (body, sigs) = split_note(note)?;
        let mut found = false;
        for line in sigs.split_terminator('\n') {
            let (name, raw) = parse_signature_line(line)?;
            if name != verifier.name() || raw[..4] != verifier.note_id() {
                continue;
            }
            found = true;
            // One line of the trusted key that fails refuses the note even
            // when another verifies: a verifier that looked for any good
            // line would accept notes that others refuse.
            let sig: [u8; 64] = raw[4..]
                .try_into()
                .map_err(|_| CheckpointError::BadSignature(verifier.to_string()))?;
            if !verifier
                .public_key()
                .verify(body.as_bytes(), &Signature::from_bytes(&sig))
            {
                return Err(CheckpointError::BadSignature(verifier.to_string()));
            }
        }
        if !found {
            return Err(CheckpointError::NotSignedByKey(verifier.to_string()));
        }
        let cp = Checkpoint::parse_body(body)?;
        if cp.origin != verifier.name() {
            return Err(CheckpointError::WrongOrigin {
                expected: verifier.name().to_owned(),
                found: cp.origin,
            });
        }
        Ok(cp)
    }
}

/// Parses one signature line, `— NAME BASE64\n` without its newline, into
/// the key name and the decoded bytes (FORMAT.md §7.2): the name is a C2SP
/// key name, the base64 is canonical and holds a 4-byte key ID and at least
/// one byte more.
pub fn parse_signature_line(line: &str) -> Result<(&str, Vec<u8>), CheckpointError> {
    let rest = line
        .strip_prefix("\u{2014} ")
        .ok_or(CheckpointError::MalformedNote(
            "signature line must start with an em dash and a space",
        ))?;
    let (name, sig) = rest.split_once(' ').ok_or(CheckpointError::MalformedNote(
        "signature line needs a name and a signature",
    ))?;
    check_name(name).map_err(|_| {
        CheckpointError::MalformedNote("signature line's key name is empty or holds '+'")
    })?;
    // The standard engine refuses missing padding and non-zero padding bits.
    let raw = B64
        .decode(sig)
        .map_err(|_| CheckpointError::MalformedNote("signature is not canonical base64"))?;
    if raw.len() < 5 {
        return Err(CheckpointError::MalformedNote("signature too short"));
    }
    Ok((name, raw))
}

/// Splits a note into body (ending in its last newline) and signature block.
fn split_note(note: &str) -> Result<(&str, &str), CheckpointError> {
    // C2SP signed-note: no control character but the newline.
    if note.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(CheckpointError::MalformedNote(
            "a note holds no control character but newlines",
        ));
    }
    if !note.ends_with('\n') {
        return Err(CheckpointError::MalformedNote(
            "note must end with a newline",
        ));
    }
    let at = note.find("\n\n").ok_or(CheckpointError::MalformedNote(
        "no blank line before the signatures",
    ))?;
    let (body, rest) = note.split_at(at + 1);
    let sigs = &rest[1..];
    if sigs.is_empty() {
        return Err(CheckpointError::MalformedNote("no signature lines"));
    }
    Ok((body, sigs))
}
