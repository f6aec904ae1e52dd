//! The C2SP `tlog-witness` add-checkpoint request:
//!
//! ```text
//! old <size the client believes the witness has>\n
//! <base64 consistency proof hash>\n      (zero or more)
//! \n
//! <signed checkpoint note>
//! ```
//!
//! answered with `200` and the witness's cosignature lines, `409` and the
//! witness's own size (`text/x.tlog.size`) when the old size is not its
//! size, `422` when the proof does not hold, `400` for a malformed body or a
//! checkpoint smaller than the old size, `403` when the note is not signed
//! by the log's key, and `404` for a log the witness does not know.

use daicho_core::Digest;

/// The path of the add-checkpoint endpoint.
pub const ADD_CHECKPOINT: &str = "/add-checkpoint";
/// The media type of a 409 response body: the witness's size and a newline.
pub const SIZE_MEDIA_TYPE: &str = "text/x.tlog.size";

/// Consistency proofs longer than this are refused: a tree of 2^63 entries
/// needs fewer than 128 hashes.
pub const MAX_PROOF: usize = 128;

/// One add-checkpoint request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness last cosigned.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Digest>,
    /// The signed checkpoint note.
    pub note: String,
}

impl AddCheckpoint {
    /// The request body.
    pub fn to_body(&self) -> String {
        let mut out = format!("old {}\n", self.old_size);
        for h in &self.proof {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.note);
        out
    }

    /// Parses a request body.
    pub fn parse(body: &str) -> Result<AddCheckpoint, &'static str> {
        let (first, mut rest) = body
            .split_once('\n')
            .ok_or("the body has no old size line")?;
        let old = first
            .strip_prefix("old ")
            .ok_or("the first line is not \"old SIZE\"")?;
        if old.is_empty()
            || !old.bytes().all(|b| b.is_ascii_digit())
            || (old.len() > 1 && old.starts_with('0'))
        {
            return Err("the old size is not a decimal number without leading zeros");
        }
        let old_size = old.parse().map_err(|_| "the old size is out of range")?;
        let mut proof = Vec::new();
        loop {
            let (line, tail) = rest
                .split_once('\n')
                .ok_or("no blank line before the checkpoint")?;
            rest = tail;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF {
                return Err("the consistency proof is too long");
            }
            let hash = Digest::from_base64(line)
                .filter(|d| d.to_base64() == line)
                .ok_or("a proof line is not the base64 of 32 bytes")?;
            proof.push(hash);
        }
        Ok(AddCheckpoint {
            old_size,
            proof,
            note: rest.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_round_trips() {
        let req = AddCheckpoint {
            old_size: 3,
            proof: vec![Digest::of(b"a"), Digest::of(b"b")],
            note: "origin\n5\nroot=\n\n\u{2014} origin sig\n".into(),
        };
        assert_eq!(AddCheckpoint::parse(&req.to_body()), Ok(req));
    }

    #[test]
    fn malformed_bodies_are_refused() {
        for bad in [
            "",
            "old 01\n\nnote",
            "old x\n\nnote",
            "new 1\n\nnote",
            "old 1\nnot base64\n\nnote",
            "old 1\n",
        ] {
            assert!(AddCheckpoint::parse(bad).is_err(), "{bad:?}");
        }
    }
}
