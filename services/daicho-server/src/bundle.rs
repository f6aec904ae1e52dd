//! The export bundle as a stream of bytes (FORMAT.md §10): the header, every
//! entry up to a signed checkpoint, then the stored checkpoints up to it.
//! Shared by `GET /v1/export` and `daicho export --data-dir`, so both write
//! byte-identical bundles.

use bytes::Bytes;
use daicho_core::bundle::{checkpoint_line, entry_line, header_line, Header, BUNDLE_FORMAT};
use daicho_core::keys::NoteVerifier;
use daicho_store::{Store, StoreError};
use futures_util::{stream, Stream, StreamExt as _, TryStreamExt as _};

/// Entries read from the database per chunk: large enough that per-query
/// overhead vanishes, small enough to keep memory flat.
const CHUNK: u32 = 2000;

/// The bundle of the first `size` entries, ending with every stored
/// checkpoint of size at most `size` (the caller picks `size` as that of a
/// stored checkpoint, normally the latest).
pub fn bundle_stream(
    store: Store,
    ledger_key: &NoteVerifier,
    size: u64,
) -> impl Stream<Item = Result<Bytes, StoreError>> + Send + 'static {
    bundle_stream_with(store, ledger_key, size, None)
}

/// [`bundle_stream`], with `newest` (the checkpoint of `size` with the
/// witnesses' cosignatures, FORMAT.md §7.3) written in place of the stored
/// note of that size.
pub fn bundle_stream_with(
    store: Store,
    ledger_key: &NoteVerifier,
    size: u64,
    newest: Option<String>,
) -> impl Stream<Item = Result<Bytes, StoreError>> + Send + 'static {
    let header = header_line(&Header {
        format: BUNDLE_FORMAT.to_owned(),
        origin: ledger_key.name().to_owned(),
        ledger_key: ledger_key.to_string(),
    });
    let entries = store.export_chunks(0, size, CHUNK).map_ok(|chunk| {
        let mut buf = Vec::with_capacity(chunk.len() * 1024);
        for e in &chunk {
            buf.extend_from_slice(&entry_line(&e.entry, &e.event));
        }
        Bytes::from(buf)
    });
    let checkpoints = stream::try_unfold(0u64, move |after| {
        let store = store.clone();
        let newest = newest.clone();
        async move {
            let page = store.checkpoints(after, CHUNK).await?;
            let page: Vec<_> = page.into_iter().filter(|c| c.size <= size).collect();
            let Some(last) = page.last() else {
                return Ok(None);
            };
            let next = last.size;
            let mut buf = Vec::new();
            for c in &page {
                let note = match &newest {
                    Some(n) if c.size == size => n,
                    _ => &c.note,
                };
                buf.extend_from_slice(&checkpoint_line(note));
            }
            Ok(Some((Bytes::from(buf), next)))
        }
    });
    stream::once(async move { Ok(Bytes::from(header)) })
        .chain(entries)
        .chain(checkpoints)
}
