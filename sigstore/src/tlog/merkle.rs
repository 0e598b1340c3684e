//! RFC 6962 / RFC 9162 Merkle inclusion proofs: recomputing the root from a leaf and its path.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use sigstore_protobuf_specs::dev::sigstore::rekor::v1::InclusionProof;

/// The largest audit path we accept (a tree of 2^64 leaves needs 64 hashes).
const MAX_PATH: usize = 64;

/// SHA-256(0x00 || leaf).
pub(super) fn leaf_hash(leaf: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

/// SHA-256(0x01 || left || right).
pub(super) fn node_hash(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Checks that `body` is leaf `proof.log_index` of the tree of `proof.tree_size` leaves with root
/// `proof.root_hash`.
pub(super) fn verify_inclusion(proof: &InclusionProof, body: &[u8]) -> Result<()> {
    let index = u64::try_from(proof.log_index).map_err(|_| {
        Error::Tlog(format!(
            "negative inclusion proof index {}",
            proof.log_index
        ))
    })?;
    let size = u64::try_from(proof.tree_size).map_err(|_| {
        Error::Tlog(format!(
            "negative inclusion proof tree size {}",
            proof.tree_size
        ))
    })?;
    let root: [u8; 32] = proof.root_hash.as_slice().try_into().map_err(|_| {
        Error::Tlog(format!(
            "inclusion proof root hash has {} bytes, not 32",
            proof.root_hash.len()
        ))
    })?;
    let path = proof
        .hashes
        .iter()
        .map(|h| {
            <[u8; 32]>::try_from(h.as_slice()).map_err(|_| {
                Error::Tlog(format!(
                    "inclusion proof hash has {} bytes, not 32",
                    h.len()
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let computed = root_from_path(index, size, leaf_hash(body), &path)?;
    if computed != root {
        return Err(Error::Tlog(
            "inclusion proof does not lead to its root hash (wrong leaf, path or root)".into(),
        ));
    }
    Ok(())
}

/// The root implied by a leaf hash and its audit path (RFC 9162, section 2.1.3.2).
pub(super) fn root_from_path(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    path: &[[u8; 32]],
) -> Result<[u8; 32]> {
    if index >= size {
        return Err(Error::Tlog(format!(
            "inclusion proof index {index} is not below the tree size {size}"
        )));
    }
    if path.len() > MAX_PATH {
        return Err(Error::Tlog(format!(
            "inclusion proof has {} hashes",
            path.len()
        )));
    }
    let wrong_length = || {
        Error::Tlog(format!(
            "inclusion proof has {} hashes, which is wrong for index {index} in a tree of {size}",
            path.len()
        ))
    };
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf;
    for p in path {
        if sn == 0 {
            return Err(wrong_length());
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(wrong_length());
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 6962 root of `leaves` (MTH), computed the slow, obvious way.
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        match leaves {
            [] => Sha256::digest([]).into(),
            [one] => *one,
            _ => {
                let k = leaves.len().next_power_of_two() / 2;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// The RFC 6962 audit path (PATH) of leaf `m`.
    fn audit_path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
        if leaves.len() <= 1 {
            return vec![];
        }
        let k = leaves.len().next_power_of_two() / 2;
        if m < k {
            let mut p = audit_path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = audit_path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn leaves(n: usize) -> Vec<[u8; 32]> {
        (0..n)
            .map(|i| leaf_hash(format!("leaf {i}").as_bytes()))
            .collect()
    }

    #[test]
    fn every_leaf_of_every_small_tree_proves() {
        for size in 1..=33 {
            let tree = leaves(size);
            let root = mth(&tree);
            for (i, leaf) in tree.iter().enumerate() {
                let path = audit_path(i, &tree);
                let got = root_from_path(i as u64, size as u64, *leaf, &path).unwrap();
                assert_eq!(got, root, "leaf {i} of {size}");
            }
        }
    }

    #[test]
    fn three_leaf_tree_by_hand() {
        let (a, b, c) = (leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c"));
        let root = node_hash(&node_hash(&a, &b), &c);
        assert_eq!(root_from_path(0, 3, a, &[b, c]).unwrap(), root);
        assert_eq!(root_from_path(1, 3, b, &[a, c]).unwrap(), root);
        assert_eq!(root_from_path(2, 3, c, &[node_hash(&a, &b)]).unwrap(), root);
    }

    #[test]
    fn tampering_fails() {
        let tree = leaves(11);
        let root = mth(&tree);
        let path = audit_path(6, &tree);
        // Another leaf, a flipped path hash, the wrong index or size.
        assert_ne!(root_from_path(6, 11, tree[5], &path).unwrap(), root);
        let mut bad = path.clone();
        bad[1][0] ^= 1;
        assert_ne!(root_from_path(6, 11, tree[6], &bad).unwrap(), root);
        assert_ne!(root_from_path(7, 11, tree[6], &path).ok(), Some(root));
        let last = audit_path(10, &tree);
        assert_eq!(root_from_path(10, 11, tree[10], &last).unwrap(), root);
        assert_ne!(root_from_path(10, 12, tree[10], &last).ok(), Some(root));
        // A path too short or too long.
        assert!(root_from_path(6, 11, tree[6], &path[..path.len() - 1]).is_err());
        let mut long = path.clone();
        long.push(root);
        assert!(root_from_path(6, 11, tree[6], &long).is_err());
        // Index outside the tree.
        assert!(root_from_path(11, 11, tree[6], &path).is_err());
        assert!(root_from_path(0, 0, tree[0], &[]).is_err());
    }

    #[test]
    fn single_leaf_tree_has_an_empty_path() {
        let leaf = leaf_hash(b"only");
        assert_eq!(root_from_path(0, 1, leaf, &[]).unwrap(), leaf);
        assert!(root_from_path(0, 1, leaf, &[leaf]).is_err());
    }
}
