//! A seeded random source with portable draws: every value is derived from
//! ChaCha8's `u64` stream by this module's own arithmetic, so the same seed
//! gives the same events on every platform and with every `rand` release.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The generator's random source.
#[derive(Debug, Clone)]
pub(crate) struct Dice {
    rng: ChaCha8Rng,
}

impl Dice {
    /// A source seeded from `seed`.
    pub(crate) fn new(seed: u64) -> Dice {
        Dice {
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The next raw 64 bits.
    pub(crate) fn bits(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// A uniform integer in `0..n` (`0` when `n` is 0), without modulo bias.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        // Reject the top partial zone so every residue is equally likely.
        let zone = u64::MAX - (u64::MAX % n) - 1;
        loop {
            let x = self.bits();
            if x <= zone {
                return x % n;
            }
        }
    }

    /// A uniform integer in `low..=high` (`low` when `high < low`).
    pub(crate) fn range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        let span = high - low;
        if span == u64::MAX {
            return self.bits();
        }
        low + self.below(span + 1)
    }

    /// A uniform float in `[0, 1)` with 53 random bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.bits() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (clamped to `[0, 1]`).
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        if p.is_nan() || p <= 0.0 {
            return false;
        }
        if p >= 1.0 {
            return true;
        }
        self.unit() < p
    }

    /// A uniformly chosen element of a non-empty slice (the first when it
    /// has one element; callers never pass an empty slice).
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let index = self.below(items.len() as u64) as usize;
        items[index.min(items.len().saturating_sub(1))]
    }

    /// An index chosen by weight: `weights[i] / sum` is the chance of `i`.
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut roll = self.below(total);
        for (index, &weight) in weights.iter().enumerate() {
            let weight = u64::from(weight);
            if roll < weight {
                return index;
            }
            roll -= weight;
        }
        weights.len().saturating_sub(1)
    }

    /// `len` lowercase hexadecimal digits.
    pub(crate) fn hex(&mut self, len: usize) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(len);
        let mut pool = 0u64;
        let mut left = 0;
        for _ in 0..len {
            if left == 0 {
                pool = self.bits();
                left = 16;
            }
            out.push(char::from(DIGITS[(pool & 0xf) as usize]));
            pool >>= 4;
            left -= 1;
        }
        out
    }

    /// `len` characters of lowercase letters and digits (Kubernetes' random
    /// name suffixes, e.g. `x7k2p`).
    pub(crate) fn alnum(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        (0..len)
            .map(|_| char::from(CHARS[self.below(CHARS.len() as u64) as usize]))
            .collect()
    }

    /// A version-4 UUID string drawn from the stream (`8-4-4-4-12` hex).
    pub(crate) fn uuid(&mut self) -> String {
        let high = self.bits();
        let low = self.bits();
        let high = (high & !0xf000) | 0x4000; // version 4
        let low = (low & !(0b11 << 62)) | (0b10 << 62); // RFC 4122 variant
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xffff,
            high & 0xffff,
            low >> 48,
            low & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use super::*;

    #[test]
    fn draws_stay_in_range() {
        let mut dice = Dice::new(7);
        for _ in 0..10_000 {
            let x = dice.range(50, 500);
            assert!((50..=500).contains(&x));
            assert!(dice.below(3) < 3);
            let u = dice.unit();
            assert!((0.0..1.0).contains(&u));
        }
        assert_eq!(dice.range(5, 5), 5);
        assert_eq!(dice.below(0), 0);
    }

    #[test]
    fn uuid_is_well_formed() {
        let mut dice = Dice::new(1);
        let id = dice.uuid();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn weighted_respects_zero_weights() {
        let mut dice = Dice::new(3);
        for _ in 0..1000 {
            assert_ne!(dice.weighted(&[5, 0, 5]), 1);
        }
    }
}
