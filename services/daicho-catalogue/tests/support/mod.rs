//! Helpers shared by the catalogue tests.

pub mod articles_file;
pub mod regulation_text;

/// The dependency-tree reader the core's purity test uses, so that both
/// crates' purity is enforced the same way.
#[path = "../../../daicho-core/tests/support/dependency_tree.rs"]
pub mod dependency_tree;

/// The comparison of the repository's copies with their originals in
/// `../shared`, shared with the core's tests.
#[path = "../../../daicho-core/tests/support/shared_material.rs"]
pub mod shared_material;
