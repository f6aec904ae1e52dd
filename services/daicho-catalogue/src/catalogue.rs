//! The loaded catalogue: read accessors and validation at the door.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::OnceLock;

use serde_json::Value;

use crate::article::{Article, Chapter};
use crate::event_type::{EventTypeDetail, EventTypeSummary};
use crate::form::Form;
use crate::load::{self, CatalogueError};
use crate::regulation::Regulation;
use crate::role::Role;
use crate::validation::{self, ValidationError};

/// A regulation as data: its identity, chapters, articles, roles, forms and
/// versioned event-type schemas, checked for consistency and with every
/// schema compiled.
///
/// A `Catalogue` only exists if it passed every check of
/// [`Catalogue::from_files`], so its accessors never fail and its cross
/// references always resolve.
pub struct Catalogue {
    pub(crate) regulation: Regulation,
    pub(crate) chapters: Vec<Chapter>,
    pub(crate) articles: Vec<Article>,
    pub(crate) roles: Vec<Role>,
    pub(crate) forms: Vec<Form>,
    pub(crate) shared_definitions: Value,
    pub(crate) summaries: Vec<EventTypeSummary>,
    pub(crate) details: BTreeMap<String, EventTypeDetail>,
    /// Compiled once at load, because validation sits on the append hot path.
    pub(crate) validators: HashMap<String, BTreeMap<u32, jsonschema::Validator>>,
    pub(crate) actor_roles: BTreeSet<String>,
}

impl Catalogue {
    /// The catalogue of 亀岡市情報セキュリティ対策基準規程 embedded in the crate
    /// (the workspace's `schemas/` directory at build time), loaded on first use.
    ///
    /// # Panics
    /// If the embedded files do not pass [`Catalogue::from_files`]. The crate's
    /// tests load the embedded catalogue, so such a build never passes CI.
    pub fn embedded() -> &'static Catalogue {
        static EMBEDDED: OnceLock<Catalogue> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            Catalogue::from_files(Catalogue::embedded_files())
                .unwrap_or_else(|error| panic!("the embedded catalogue is invalid: {error}"))
        })
    }

    /// The files of the embedded catalogue, as [`Catalogue::from_files`] takes
    /// them: a municipality can start its own catalogue from a copy, and
    /// tests can load a deliberately altered one.
    #[must_use]
    pub fn embedded_files() -> BTreeMap<String, Vec<u8>> {
        crate::embedded::FILES
            .iter()
            .map(|(path, bytes)| ((*path).to_owned(), bytes.to_vec()))
            .collect()
    }

    /// Loads and checks a catalogue from its files: a map from the path
    /// relative to the catalogue directory, with `/` separators (e.g.
    /// `events/usb.approval.granted/1.json`), to the file's bytes.
    ///
    /// Reading the directory is the caller's job: this crate does no I/O.
    /// Files ending in `.md` are documentation and are ignored.
    ///
    /// # Errors
    /// [`CatalogueError`] lists every problem found, each with its file, a
    /// JSON pointer into it and what is wrong: a missing or unexpected file,
    /// malformed JSON, a dangling article, role, form or event-type
    /// reference, a reserved event type, a schema that breaks the
    /// catalogue's rules or does not compile, or an example that does not
    /// validate.
    pub fn from_files(files: BTreeMap<String, Vec<u8>>) -> Result<Catalogue, CatalogueError> {
        load::load(files)
    }

    /// Which regulation, and which version of it, this catalogue encodes.
    #[must_use]
    pub fn regulation(&self) -> &Regulation {
        &self.regulation
    }

    /// The chapters in order, each with its sections and English titles.
    #[must_use]
    pub fn chapters(&self) -> &[Chapter] {
        &self.chapters
    }

    /// Every article in order, 1 to the last.
    #[must_use]
    pub fn articles(&self) -> &[Article] {
        &self.articles
    }

    /// The article with this number, if the regulation has it.
    #[must_use]
    pub fn article(&self, number: u32) -> Option<&Article> {
        // Articles are checked at load to be numbered 1, 2, 3… in order.
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        self.articles.get(index)
    }

    /// The numbered forms in order.
    #[must_use]
    pub fn forms(&self) -> &[Form] {
        &self.forms
    }

    /// The form with this number, if the regulation has it.
    #[must_use]
    pub fn form(&self, number: u32) -> Option<&Form> {
        self.forms.iter().find(|form| form.number == number)
    }

    /// Every role, including collective terms (see [`Role::is_actor_role`]).
    #[must_use]
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// The role with this id, if the catalogue defines it.
    #[must_use]
    pub fn role(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|role| role.id == id)
    }

    /// One summary per event type, ordered by type name.
    #[must_use]
    pub fn event_types(&self) -> &[EventTypeSummary] {
        &self.summaries
    }

    /// Every version of one event type, with its schema and examples.
    #[must_use]
    pub fn event_type(&self, name: &str) -> Option<&EventTypeDetail> {
        self.details.get(name)
    }

    /// The shared definitions (`events/common.json`) the event schemas
    /// `$ref`; a client that validates payloads itself needs this document
    /// beside the schema.
    #[must_use]
    pub fn shared_definitions(&self) -> &Value {
        &self.shared_definitions
    }

    /// Checks an event at the door: its type and schema version exist, its
    /// actor's role is a known actor role, and its payload satisfies the
    /// schema of that version.
    ///
    /// Whether the regulation empowers that role for that act is not checked
    /// here: such an act happened and is recorded; the rule engine flags it.
    ///
    /// # Errors
    /// [`ValidationError::UnknownType`], [`ValidationError::UnknownVersion`]
    /// (with the known versions), [`ValidationError::UnknownRole`], or
    /// [`ValidationError::InvalidPayload`] listing every violation with its
    /// JSON pointer into the payload.
    pub fn validate(
        &self,
        event_type: &str,
        schema_version: u32,
        actor_role: &str,
        payload: &Value,
    ) -> Result<(), ValidationError> {
        let Some(versions) = self.validators.get(event_type) else {
            return Err(ValidationError::UnknownType {
                event_type: event_type.to_owned(),
            });
        };
        let Some(validator) = versions.get(&schema_version) else {
            return Err(ValidationError::UnknownVersion {
                event_type: event_type.to_owned(),
                version: schema_version,
                known: versions.keys().copied().collect(),
            });
        };
        if !self.actor_roles.contains(actor_role) {
            return Err(ValidationError::UnknownRole {
                role: actor_role.to_owned(),
                known: self.actor_roles.iter().cloned().collect(),
            });
        }
        // Most payloads are valid: `is_valid` answers them without building
        // any error value, and only a refused payload pays for the full list.
        if validator.is_valid(payload) {
            return Ok(());
        }
        Err(ValidationError::InvalidPayload(validation::violations(
            validator, payload,
        )))
    }
}

impl fmt::Debug for Catalogue {
    // The compiled validators are large and say nothing a reader needs, so
    // the catalogue shows what it encodes and how much of it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Catalogue")
            .field("regulation", &self.regulation.id)
            .field("version", &self.regulation.version)
            .field("articles", &self.articles.len())
            .field("roles", &self.roles.len())
            .field("forms", &self.forms.len())
            .field("event_types", &self.summaries.len())
            .finish_non_exhaustive()
    }
}
