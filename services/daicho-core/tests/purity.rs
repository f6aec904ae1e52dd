//! Architecture Invariant: the core does no I/O, reads no clock and draws
//! no randomness. This test fails if the core's normal dependency tree
//! gains a runtime, database, HTTP, filesystem, network or randomness crate.

#[path = "support/dependency_tree.rs"]
mod dependency_tree;

#[test]
fn core_has_no_io_dependencies() {
    let dependencies = dependency_tree::normal_dependencies("daicho-core");
    assert!(
        dependencies.contains_key("sha2"),
        "the tree was read: {dependencies:?}"
    );
    dependency_tree::assert_pure("daicho-core", &dependencies, &[]);
}
