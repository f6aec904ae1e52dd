//! The last line of defence against signing a fork: a checkpoint is signed
//! (or adopted from another process) only after a consistency proof from
//! the last checkpoint signed to the new tree has been verified.

use daicho_core::checkpoint::Checkpoint;
use daicho_core::merkle::{self, Tree};

use super::error::GroupError;

/// Checks, with a consistency proof from `tree`, that `new` extends `old`.
pub(super) fn check_consistent(
    tree: &Tree,
    old: &Checkpoint,
    new: &Checkpoint,
) -> Result<(), GroupError> {
    let refused = |why: String| {
        GroupError::Refused(format!(
            "refusing to sign: the tree of {} entries is not consistent with the last signed \
             checkpoint of {} entries: {why}",
            new.size, old.size
        ))
    };
    let proof = tree
        .consistency_proof(old.size, new.size)
        .map_err(|e| refused(e.to_string()))?;
    merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof)
        .map_err(|e| refused(e.to_string()))
}

#[cfg(test)]
mod tests {
    use daicho_core::Digest;

    use super::*;

    fn tree(leaves: &[&str]) -> Tree {
        Tree::from_leaves(leaves.iter().map(|l| Digest::of(l.as_bytes())))
    }

    fn checkpoint(tree: &Tree, size: u64) -> Checkpoint {
        Checkpoint {
            origin: "kameoka.example/daicho".into(),
            size,
            root: tree.root_at(size).unwrap(),
        }
    }

    #[test]
    fn a_tree_that_extends_the_last_checkpoint_may_be_signed() {
        let t = tree(&["a", "b", "c", "d", "e"]);
        check_consistent(&t, &checkpoint(&t, 3), &checkpoint(&t, 5)).unwrap();
        check_consistent(&t, &checkpoint(&t, 5), &checkpoint(&t, 5)).unwrap();
    }

    #[test]
    fn a_tree_with_another_history_is_refused() {
        let signed = tree(&["a", "b", "c"]);
        let fork = tree(&["a", "x", "c", "d"]);
        let err =
            check_consistent(&fork, &checkpoint(&signed, 3), &checkpoint(&fork, 4)).unwrap_err();
        assert!(err.to_string().starts_with("refusing to sign"), "{err}");
    }

    #[test]
    fn a_tree_shorter_than_the_last_checkpoint_is_refused() {
        let t = tree(&["a", "b", "c", "d"]);
        assert!(check_consistent(&t, &checkpoint(&t, 4), &checkpoint(&t, 2)).is_err());
    }
}
