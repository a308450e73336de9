//! A reference stage, not a floor: the first stage of simdjson's parse on
//! each line. It finds the structural characters (`{}[]:,`) outside strings
//! and the quotes that are not escaped, sixty-four bytes at a time with
//! vector compares and bit arithmetic, and validates nothing. A scanner
//! walking such an index token by token would still have to validate
//! strings, numbers and the grammar, so this bounds from above what that
//! way could reach on these events.

use wide::u8x16;

/// The structural characters outside strings plus the unescaped quotes of
/// `line`: the number of entries simdjson's index would hold for it.
pub fn structural_count(line: &[u8]) -> u32 {
    let mut state = BlockState::default();
    let mut blocks = line.chunks_exact(64);
    let mut count = 0;
    for block in blocks.by_ref().filter_map(<[u8]>::first_chunk::<64>) {
        count += state.count(block);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut padded = [b' '; 64];
        padded[..tail.len()].copy_from_slice(tail);
        count += state.count(&padded);
    }
    count
}

/// What carries from one block to the next.
#[derive(Default)]
struct BlockState {
    /// 1 when the block ended with an odd run of backslashes, escaping the
    /// next block's first byte.
    escaped: u64,
    /// All ones when the block ended inside a string.
    in_string: u64,
}

impl BlockState {
    /// The index entries of one block.
    fn count(&mut self, block: &[u8; 64]) -> u32 {
        let (quote, backslash, structural) = classify(block);
        let quote = quote & !self.escaped_bytes(backslash);
        let in_string = prefix_xor(quote) ^ self.in_string;
        // The top bit says whether the block ends inside a string.
        self.in_string = 0u64.wrapping_sub(in_string >> 63);
        (structural & !in_string).count_ones() + quote.count_ones()
    }

    /// The bytes a backslash escapes (simdjson's `find_escaped_branchless`):
    /// a run of backslashes escapes every other byte after its start.
    fn escaped_bytes(&mut self, backslash: u64) -> u64 {
        const EVEN: u64 = 0x5555_5555_5555_5555;
        let backslash = backslash & !self.escaped;
        let follows_escape = backslash << 1 | self.escaped;
        let odd_starts = backslash & !EVEN & !follows_escape;
        let (even_runs, overflow) = odd_starts.overflowing_add(backslash);
        self.escaped = u64::from(overflow);
        (EVEN ^ (even_runs << 1)) & follows_escape
    }
}

/// A bit per byte of `block`: quotes, backslashes, structural characters.
fn classify(block: &[u8; 64]) -> (u64, u64, u64) {
    let (mut quote, mut backslash, mut structural) = (0u64, 0u64, 0u64);
    let chunks = block.chunks_exact(16).filter_map(<[u8]>::first_chunk::<16>);
    for (index, chunk) in chunks.enumerate() {
        let bytes = u8x16::from(*chunk);
        let is = |byte: u8| bytes.simd_eq(u8x16::splat(byte));
        let shift = 16 * index;
        quote |= u64::from(is(b'"').to_bitmask()) << shift;
        backslash |= u64::from(is(b'\\').to_bitmask()) << shift;
        let ops = is(b'{') | is(b'}') | is(b'[') | is(b']') | is(b':') | is(b',');
        structural |= u64::from(ops.to_bitmask()) << shift;
    }
    (quote, backslash, structural)
}

/// Bit `i` of the result is the parity of bits `0..=i` of `bits`: set
/// between an opening quote and its closing one.
fn prefix_xor(bits: u64) -> u64 {
    let mut x = bits;
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same count, a byte at a time.
    fn count_bytewise(line: &[u8]) -> u32 {
        let (mut in_string, mut escaped, mut count) = (false, false, 0);
        for &byte in line {
            if escaped {
                escaped = false;
            } else if byte == b'\\' {
                escaped = true;
            } else if byte == b'"' {
                in_string = !in_string;
                count += 1;
            } else if !in_string && b"{}[]:,".contains(&byte) {
                count += 1;
            }
        }
        count
    }

    #[test]
    fn the_block_count_is_the_bytewise_count() {
        let mut lines: Vec<Vec<u8>> = vec![
            br#"{"a":[1,2,{"b":"x,y:z"}],"c":"\"{}\\"}"#.to_vec(),
            br#"{"k":"\\\\\\\"[","l":"\\\\"}"#.to_vec(),
        ];
        // Runs of backslashes and quotes across every block boundary.
        for offset in 0..130 {
            for run in 0..6 {
                let mut line = b"{\"s\":\"".to_vec();
                line.extend(std::iter::repeat_n(b'a', offset));
                line.extend(std::iter::repeat_n(b'\\', run));
                line.extend_from_slice(b"\",[]:{},\"t\":\"\\\\\",\"u\":1}");
                lines.push(line);
            }
        }
        let sample = include_str!("../../examples/k8s_audit_sample.ndjson");
        lines.extend(sample.lines().map(|line| line.as_bytes().to_vec()));
        for line in &lines {
            assert_eq!(
                structural_count(line),
                count_bytewise(line),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn prefix_xor_marks_the_inside_of_quote_pairs() {
        assert_eq!(prefix_xor(0b1001), 0b0111);
        assert_eq!(prefix_xor(1 << 63), 1 << 63);
        assert_eq!(prefix_xor(0), 0);
    }
}
