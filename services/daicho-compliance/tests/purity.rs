//! Architecture Invariant: the compliance crate is pure like the core and
//! the catalogue, checked by the same mechanism over its real dependency
//! tree.

#[path = "../../daicho-core/tests/support/dependency_tree.rs"]
mod dependency_tree;

#[test]
fn the_crate_stays_pure() {
    let dependencies = dependency_tree::normal_dependencies("daicho-compliance");
    assert!(
        dependencies.contains_key("daicho-catalogue"),
        "the tree was read: {dependencies:?}"
    );
    dependency_tree::assert_pure(
        "daicho-compliance",
        &dependencies,
        &[(
            "getrandom",
            "it arrives with the catalogue's JSON Schema library (see the catalogue's purity \
             test); this crate draws no randomness",
        )],
    );
}
