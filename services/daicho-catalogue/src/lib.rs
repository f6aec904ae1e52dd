//! # daicho-catalogue: the regulation as data
//!
//! A catalogue holds one regulation — by default 亀岡市情報セキュリティ対策基準規程,
//! 87 articles — as data: its identity, chapters and sections, every article
//! with its paragraphs (項) and items (号), the roles it names, its numbered
//! forms (別記様式), and one JSON Schema (draft 2020-12) per event type and
//! version. The ledger validates every payload against its type's schema
//! before anything else touches the ledger ([`Catalogue::validate`]).
//!
//! The default catalogue is the workspace's `schemas/` directory, embedded at
//! build time ([`Catalogue::embedded`]). Another municipality's catalogue is
//! handed over as an in-memory map of files ([`Catalogue::from_files`]), and
//! passes exactly the same checks. `schemas/README.md` documents the layout.
//!
//! ```
//! use daicho_catalogue::{Catalogue, ValidationError};
//! use serde_json::json;
//!
//! let catalogue = Catalogue::embedded();
//! assert_eq!(catalogue.articles().len(), 87);
//! assert_eq!(catalogue.article(37).unwrap().title_ja, "USBメモリの取扱い");
//!
//! let payload = json!({
//!     "device": {"asset_id": "USB-0042", "kind": "usb_memory"},
//!     "kind": "lost",
//!     "noticed_at": "2026-08-03T11:20:00", // no UTC offset
//! });
//! let Err(ValidationError::InvalidPayload(violations)) =
//!     catalogue.validate("usb.lost", 1, "info_manager", &payload)
//! else {
//!     unreachable!()
//! };
//! assert_eq!(violations[0].pointer, "/noticed_at");
//! ```
//!
//! **Architecture Invariant:** this crate does no I/O, no networking, no
//! async and reads no clock. The default data is compiled in; `$ref`s resolve
//! only to the catalogue's own files, and the JSON Schema library is built
//! without its HTTP and file resolvers, so nothing can be fetched even by
//! mistake.
//!
//! **Architecture Invariant:** event types are the core's
//! [`EventType`](daicho_core::event::EventType), and a catalogue defines none
//! of the ledger's own `daicho.*` types: [`definable_event_type`] states the
//! one rule the loader applies.
//!
//! **Architecture Invariant:** the door checks shape, not authority. An act
//! done by a role the regulation does not empower is accepted and recorded;
//! the rule engine flags it. Only an unknown role id is refused.

mod article;
mod catalogue;
mod embedded;
mod event_type;
mod form;
mod load;
mod regulation;
mod role;
mod validation;

pub use article::{Article, Chapter, Evaluation, Heading, Item, Paragraph, Section};
pub use catalogue::Catalogue;
pub use event_type::{
    definable_event_type, EventTypeDetail, EventTypeRuleError, EventTypeSummary, EventTypeVersion,
};
pub use form::{Covers, Deadline, Due, Form, FormKind, Validity, ValidityEnd};
pub use load::{CatalogueError, CatalogueIssue, IssueKind};
pub use regulation::{Regulation, TranscriptionNote};
pub use role::{Provision, Role};
pub use validation::{ValidationError, Violation};
