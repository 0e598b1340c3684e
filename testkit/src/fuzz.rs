//! What the seeded mutation fuzzers share: a small deterministic PRNG, so a failing round can be
//! replayed, and the round count (`CAVRA_FUZZ_ROUNDS` raises it for a long run by hand).

/// xorshift64*: fast, deterministic, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// One of `items` (which must not be empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The number of rounds to run: `CAVRA_FUZZ_ROUNDS`, else `default`.
pub fn rounds(default: usize) -> usize {
    std::env::var("CAVRA_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `input` with one to four random edits: a flipped bit, an inserted token, a deleted range,
/// a copied range, or a cut.
pub fn mutate(rng: &mut Rng, input: &[u8], tokens: &[&[u8]]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if at < out.len() => out[at] ^= 1 << rng.below(8),
            1 if !tokens.is_empty() => {
                let t = *rng.pick(tokens);
                out.splice(at..at, t.iter().copied());
            }
            2 if at < out.len() => {
                let end = (at + rng.below(16)).min(out.len());
                out.drain(at..end);
            }
            3 if at < out.len() => {
                let end = (at + rng.below(64)).min(out.len());
                let slice = out[at..end].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, slice);
            }
            _ => out.truncate(at),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_mutations() {
        let input = b"{\"a\": [1, 2, 3], \"b\": \"text\"}";
        let a: Vec<Vec<u8>> = {
            let mut rng = Rng(7);
            (0..50)
                .map(|_| mutate(&mut rng, input, &[b"{", b"\""]))
                .collect()
        };
        let mut rng = Rng(7);
        let b: Vec<Vec<u8>> = (0..50)
            .map(|_| mutate(&mut rng, input, &[b"{", b"\""]))
            .collect();
        assert_eq!(a, b);
        assert!(a.iter().any(|m| m.as_slice() != input));
        let mut rng = Rng(1);
        assert!((0..1000).all(|_| rng.below(3) < 3));
        assert_eq!(rng.below(0), 0);
    }
}
