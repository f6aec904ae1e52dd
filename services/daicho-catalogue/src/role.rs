//! The roles the regulation names (`roles.json`).

use serde::{Deserialize, Serialize};

/// A role named by the regulation.
///
/// A role with `members` is a collective term the text defines for several
/// roles (e.g. 情報資産管理責任者 in 第6条): articles may bind it, but an act is
/// always signed in one of its member roles, so it is not an actor role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// The stable id events and articles use, e.g. `network_admin`.
    pub id: String,
    /// The Japanese name as the regulation writes it.
    pub name_ja: String,
    /// An English name.
    pub name_en: String,
    /// What the role is and does, in English, in one or two sentences.
    pub description_en: String,
    /// The provisions that define the role or first name it.
    pub defined_in: Vec<Provision>,
    /// For a collective term, the ids of the roles it stands for; empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

impl Role {
    /// Whether an event may name this role as its actor's role: every role
    /// except a collective term.
    #[must_use]
    pub fn is_actor_role(&self) -> bool {
        self.members.is_empty()
    }
}

/// A citation of an article, optionally narrowed to a paragraph and an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provision {
    /// The article number.
    pub article: u32,
    /// The paragraph (項), where the citation is narrower than the article.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paragraph: Option<u32>,
    /// The item (号), where the citation is narrower than the paragraph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
}
