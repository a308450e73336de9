//! The fast path's own JSON scanner: fills a [`Parsed`] from a line, keeping
//! what a [`Projection`] names, without going through `serde`.
//!
//! It accepts a subset of what a `serde_json::Value` parse accepts and
//! answers [`Unsure`] for everything else: malformed lines, but also valid
//! ones it leaves to `serde_json` (exponents, numbers of more than 308
//! digits, surrogate escapes, nesting past [`MAX_DEPTH`]). The caller then
//! parses the line with `serde_json` ([`Parsed::parse`] does), so a line is
//! still refused exactly when a `Value` parse refuses it, with the same
//! message, and what the scanner keeps is what that parse would keep: its
//! tests compare the two on every kind of line.
//!
//! Strings are scanned sixteen bytes at a time: the bytes that end a run of
//! plain text (`"`, `\` and control characters) are compared as a vector
//! with `wide`'s safe SIMD types (SSE2, part of every x86-64 CPU; portable
//! code elsewhere), so the scanner itself needs no `unsafe`. The last
//! bytes of a line, fewer than sixteen, go eight at a time with integer
//! arithmetic on a `u64` (SWAR). From a string's first escape on, it goes
//! sixty-four bytes at a time, its escapes found all at once from the
//! backslashes' bits (simdjson's method): an AKS audit log is a kilobyte
//! with a hundred escapes.
//!
//! Kept string values with escapes are checked, not decoded: they are
//! decoded when something reads them. A JSON document written in such a
//! string (AKS's `properties.log`) is parsed from the line as written, in
//! the scanner's escaped dialect (`scan_escaped`), where the document's
//! strings open and close with `\"`: reading the log once instead of
//! decoding it, then parsing the copy.

use wide::u8x16;

use crate::node::Number;
use crate::projection::{Kept, Parsed, Payload, Projection, Text};

/// The scanner left the line to `serde_json` (invalid, or valid in a way it
/// does not decide).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsure;

/// Arrays and objects nested deeper than this go to `serde_json` (whose own
/// limit is 128).
pub const MAX_DEPTH: u32 = 100;

/// Integer digits beyond which a number without exponent may not fit an
/// `f64` (10^308 does; `f64::MAX` is about 1.8 × 10^308).
const MAX_SAFE_DIGITS: usize = 308;

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is zero (exact for the lowest
/// such byte, which is the only one read).
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// The high bit of each byte of `word` that ends plain string text: `"`,
/// `\` or a control character (exact for the lowest such byte).
fn string_stops(word: u64) -> u64 {
    let quote = zero_bytes(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_bytes(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    quote | backslash | control
}

/// The bytes of `chunk` that end plain string text (`"`, `\` or a control
/// character) and the bytes that are not ASCII, a bit per byte, compared
/// sixteen at a time (SSE2 on x86-64, through `wide`'s safe vectors).
#[inline(always)]
fn string_stops_16(chunk: &[u8; 16]) -> (u32, u32) {
    let bytes = u8x16::from(*chunk);
    let quote = bytes.simd_eq(u8x16::splat(b'"'));
    let backslash = bytes.simd_eq(u8x16::splat(b'\\'));
    let control = bytes.min(u8x16::splat(0x1f)).simd_eq(bytes);
    (
        (quote | backslash | control).to_bitmask(),
        bytes.to_bitmask(),
    )
}

/// The quotes, backslashes and control characters of `chunk`, a bit per
/// byte each.
#[inline(always)]
fn string_bytes_16(chunk: &[u8; 16]) -> (u64, u64, u64) {
    let bytes = u8x16::from(*chunk);
    let quote = bytes.simd_eq(u8x16::splat(b'"')).to_bitmask();
    let backslash = bytes.simd_eq(u8x16::splat(b'\\')).to_bitmask();
    let control = bytes.min(u8x16::splat(0x1f)).simd_eq(bytes).to_bitmask();
    (u64::from(quote), u64::from(backslash), u64::from(control))
}

/// [`string_bytes_16`] for sixty-four bytes.
#[inline(always)]
fn string_bytes_64(block: &[u8; 64]) -> (u64, u64, u64) {
    let (mut quote, mut backslash, mut control) = (0, 0, 0);
    for (index, chunk) in block.chunks_exact(16).enumerate() {
        let Some(chunk) = chunk.first_chunk::<16>() else {
            continue;
        };
        let (q, b, c) = string_bytes_16(chunk);
        let shift = 16 * index;
        quote |= q << shift;
        backslash |= b << shift;
        control |= c << shift;
    }
    (quote, backslash, control)
}

/// The bytes of a block that backslashes escape, given its backslashes and
/// whether its first byte is escaped by the block before (`escaped_first`,
/// updated for the next block): in a run of backslashes, every second one
/// and the byte after a run of odd length. simdjson's branch-free
/// `find_escaped`: runs starting on odd bits are cleared by an addition
/// whose carry passes each run's end.
#[inline(always)]
fn escaped_bytes(backslash: u64, escaped_first: &mut bool) -> u64 {
    const EVEN_BITS: u64 = 0x5555_5555_5555_5555;
    let carried = u64::from(*escaped_first);
    let backslash = backslash & !carried;
    let follows_backslash = backslash << 1 | carried;
    let odd_starts = backslash & !EVEN_BITS & !follows_backslash;
    let (even_starts, overflow) = odd_starts.overflowing_add(backslash);
    *escaped_first = overflow;
    let invert = even_starts << 1;
    (EVEN_BITS ^ invert) & follows_backslash
}

/// Fills `parsed` from `line` (its buffers already cleared), keeping what
/// `projection` names.
pub(crate) fn scan(parsed: &mut Parsed, line: &str, projection: &Projection) -> Result<(), Unsure> {
    scan_dialect::<false, _>(parsed, line, 0, line.len(), projection, |scanner| {
        scanner.document()
    })
}

/// Fills `parsed` from the JSON document written in the string value
/// between `start` and `end` of `line` (inside its quotes, and checked by
/// the scanner), keeping what `projection` names, without decoding the
/// string first: kept strings without escapes are ranges of `line`.
///
/// In that text the document's strings are delimited by `\"`, and their own
/// escapes are escaped again (`\\\"` for a `"` in them, `\\n` for a newline).
/// It accepts the document only when every escape of the string is one of
/// these and the document is one the scanner decides; anything else (an
/// escaped `/` or `\u` outside the document's strings, whitespace written as
/// `\n`, an escaped key) is [`Unsure`], and the caller decodes the string
/// and parses its text instead. So what it accepts, and keeps, is what
/// that parse of the decoded text gives.
pub(crate) fn scan_escaped(
    parsed: &mut Parsed,
    line: &str,
    start: usize,
    end: usize,
    projection: &Projection,
) -> Result<(), Unsure> {
    if start >= end {
        return Err(Unsure);
    }
    scan_dialect::<true, _>(parsed, line, start, end, projection, |scanner| {
        scanner.document()
    })
}

/// [`scan_escaped`] for a string value whose text starts at `start` (past
/// its opening quote), its end not known yet: the document, then spaces,
/// then the string's closing quote, whose position it returns. What it
/// accepts is a valid string value (its escapes are all `\"` and `\\`
/// followed by an escape, and it holds no control character), so the line
/// scanner takes it as one.
pub(crate) fn scan_escaped_open(
    parsed: &mut Parsed,
    line: &str,
    start: usize,
    projection: &Projection,
) -> Result<usize, Unsure> {
    scan_dialect::<true, _>(parsed, line, start, line.len(), projection, |scanner| {
        scanner.document_in_string()
    })
}

/// The scanner over `line` from `start` to `end`, in either dialect
/// (`ESCAPED` reads a document written inside a string value,
/// [`scan_escaped`]), running `run`.
fn scan_dialect<const ESCAPED: bool, T>(
    parsed: &mut Parsed,
    line: &str,
    start: usize,
    end: usize,
    projection: &Projection,
    run: impl FnOnce(&mut Scanner<'_, ESCAPED>) -> Result<T, Unsure>,
) -> Result<T, Unsure> {
    let key_scratch = std::mem::take(&mut parsed.key_scratch);
    let decoded = std::mem::take(&mut parsed.decoded_scratch);
    let mut scanner = Scanner::<ESCAPED> {
        bytes: line.as_bytes().get(..end).ok_or(Unsure)?,
        line,
        pos: start,
        parsed,
        projection,
        key_scratch,
        decoded,
    };
    let result = run(&mut scanner);
    // The scratch goes back to the buffers, for the next line.
    scanner.parsed.key_scratch = std::mem::take(&mut scanner.key_scratch);
    scanner.parsed.decoded_scratch = std::mem::take(&mut scanner.decoded);
    result
}

/// The scanner. `ESCAPED`: reading a JSON document written inside a string
/// value ([`scan_escaped`]), where its strings open and close with `\"`.
struct Scanner<'a, const ESCAPED: bool> {
    /// The text up to where the document must end.
    bytes: &'a [u8],
    line: &'a str,
    pos: usize,
    parsed: &'a mut Parsed,
    projection: &'a Projection,
    /// Escaped keys, decoded to look them up in the projection (the
    /// buffers' own, reused).
    key_scratch: String,
    /// Escaped strings, decoded before they are appended to a `String`
    /// (the buffers' own, reused).
    decoded: Vec<u8>,
}

/// A string's extent in the line, inside its quotes.
struct Span {
    start: usize,
    end: usize,
    escaped: bool,
    /// Whether the string's bytes are ASCII: known for strings without
    /// escapes only (`false` for the others, whose `\u` escapes may decode
    /// to other characters anyway).
    ascii: bool,
}

impl<const ESCAPED: bool> Scanner<'_, ESCAPED> {
    /// The line: one value, with whitespace around it.
    fn document(&mut self) -> Result<(), Unsure> {
        self.spaced_value()?;
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(Unsure)
        }
    }

    /// A document written inside a string value, from its text's start:
    /// the document, spaces, and the string's closing quote, whose position
    /// it returns.
    fn document_in_string(&mut self) -> Result<usize, Unsure> {
        self.spaced_value()?;
        match self.peek() {
            Some(b'"') => Ok(self.pos),
            _ => Err(Unsure),
        }
    }

    /// A document's value, with the whitespace around it.
    fn spaced_value(&mut self) -> Result<(), Unsure> {
        self.whitespace();
        let rooted = !self.projection.keeps_everything();
        self.capture(0, 0, rooted)?;
        self.whitespace();
        Ok(())
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn whitespace(&mut self) {
        // Compact lines have none: one comparison says so (every JSON
        // whitespace byte is at most a space). In a string value, only
        // spaces: its other whitespace is written as escapes, which the
        // escaped dialect leaves to a decoding.
        while self.peek().is_some_and(|byte| {
            byte <= b' '
                && if ESCAPED {
                    byte == b' '
                } else {
                    matches!(byte, b' ' | b'\n' | b'\t' | b'\r')
                }
        }) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), Unsure> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Unsure)
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Unsure> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Unsure)
        }
    }

    /// Scans a string whose opening quote is at `pos` (a key, or a value
    /// nobody reads), checking its escapes. Inlined into its callers: most
    /// strings are short, and a call's set-up cost as much as their scan
    /// (callgrind: 7% fewer instructions for the seed rule's fast path; wall
    /// clock 0.40 against 0.38 of the floor, three runs each).
    #[inline(always)]
    fn string(&mut self) -> Result<Span, Unsure> {
        if ESCAPED {
            return self.escaped_string();
        }
        self.expect(b'"')?;
        let bytes = self.bytes;
        let start = self.pos;
        let (pos, ascii) = plain_run(bytes, start);
        match bytes.get(pos) {
            Some(b'"') => {
                self.pos = pos + 1;
                Ok(Span {
                    start,
                    end: pos,
                    escaped: false,
                    ascii,
                })
            }
            // The first escape: the rest of the string goes sixty-four
            // bytes at a time.
            Some(b'\\') => {
                let end = escaped_string_end(bytes, pos)?;
                self.pos = end + 1;
                Ok(Span {
                    start,
                    end,
                    escaped: true,
                    ascii: false,
                })
            }
            // A control character, or the end of the line.
            _ => Err(Unsure),
        }
    }

    /// [`Scanner::string`] in the escaped dialect: a string of the document
    /// written inside a string value, from its opening `\"` at `pos`. Its
    /// span is the text as written; `escaped` says it holds escapes of its
    /// own (each written `\\` and the escape). Inlined, as
    /// [`Scanner::string`] is.
    #[inline(always)]
    fn escaped_string(&mut self) -> Result<Span, Unsure> {
        let bytes = self.bytes;
        if bytes.get(self.pos..self.pos + 2) != Some(b"\\\"") {
            return Err(Unsure);
        }
        let start = self.pos + 2;
        let mut pos = start;
        let mut escaped = false;
        let mut ascii = true;
        loop {
            let (stop, run_ascii) = plain_run(bytes, pos);
            ascii &= run_ascii;
            pos = stop;
            // Only a backslash ends a run here: a quote would end the
            // string value the document is written in.
            if bytes.get(pos) != Some(&b'\\') {
                return Err(Unsure);
            }
            match bytes.get(pos + 1) {
                // `\"`: the string's closing quote.
                Some(b'"') => {
                    self.pos = pos + 2;
                    return Ok(Span {
                        start,
                        end: pos,
                        escaped,
                        ascii,
                    });
                }
                // `\\`: a backslash, opening one of the string's escapes.
                Some(b'\\') => {
                    escaped = true;
                    pos += 2 + inner_escape_len(bytes, pos + 2)?;
                }
                // Any other escape of the string value: decode it first.
                _ => return Err(Unsure),
            }
        }
    }

    /// A kept string value whose opening quote is at `pos`: a range of the
    /// line, checked; with escapes, decoded only when something reads it
    /// ([`Parsed::keep_escaped`]). An AKS audit log is a kilobyte with a
    /// hundred escapes, and the rules parse it as a document, from its
    /// escaped text, rather than read it.
    fn kept_string(&mut self) -> Result<Text, Unsure> {
        let span = self.string()?;
        if !span.escaped {
            Ok(Text::Line(span.start as u32, span.end as u32))
        } else if ESCAPED {
            // A string of a document written inside a string, with escapes
            // of its own: decoded twice over, now (rare in audit logs).
            let start = self.parsed.text.len() as u32;
            decode_twice(self.bytes, &span, &mut self.parsed.text)?;
            Ok(Text::Buffer(start, self.parsed.text.len() as u32))
        } else {
            Ok(self.parsed.keep_escaped(span.start, span.end))
        }
    }

    /// A kept string value that opens with `{\"` (AKS's `properties.log`),
    /// with the rules reading JSON documents in strings: its document is
    /// parsed now, in the escaped dialect, in the same pass that finds the
    /// string's end, instead of after a scan of the string and only when a
    /// rule reads it. Its slot, with its document set; `None` when the
    /// string is not written in the plain way that dialect decides (it is
    /// then scanned as any string, its document parsed when read).
    fn document_string(&mut self, documents: &Projection) -> Option<u32> {
        let start = self.pos + 1;
        let mut document = self.parsed.spare_document();
        let Some((end, truthy)) = document.decode_opening_string(self.line, start, documents)
        else {
            self.parsed.give_back_document(document);
            return None;
        };
        self.pos = end + 1;
        let text = self.parsed.keep_escaped(start, end);
        let slot = self.parsed.push(Payload::String(text));
        self.parsed.set_document(slot, document, truthy);
        Some(slot)
    }

    /// Scans a number at `pos`: its extent, and whether it is a plain
    /// integer (no fraction, no exponent).
    fn number(&mut self) -> Result<(usize, bool), Unsure> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                let digits = self.pos;
                self.digits();
                if self.pos - digits > MAX_SAFE_DIGITS {
                    return Err(Unsure);
                }
            }
            _ => return Err(Unsure),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            let fraction = self.pos;
            self.digits();
            if self.pos == fraction {
                return Err(Unsure);
            }
            integer = false;
        }
        match self.peek() {
            // Exponents may overflow: `serde_json` decides.
            Some(b'e' | b'E') => Err(Unsure),
            // `01` is not JSON.
            Some(b'0'..=b'9') => Err(Unsure),
            _ => Ok((start, integer)),
        }
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    /// Validates a value nobody reads, keeping nothing.
    fn skip(&mut self, depth: u32) -> Result<(), Unsure> {
        match self.peek() {
            Some(b'"') if !ESCAPED => self.string().map(drop),
            Some(b'\\') if ESCAPED => self.string().map(drop),
            Some(b'{') => {
                let depth = nest(depth)?;
                let mut more = self.open(b'}');
                while more {
                    self.member_key()?;
                    self.skip(depth)?;
                    more = self.separator(b'}')?;
                }
                Ok(())
            }
            Some(b'[') => {
                let depth = nest(depth)?;
                let mut more = self.open(b']');
                while more {
                    self.skip(depth)?;
                    more = self.separator(b']')?;
                }
                Ok(())
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            _ => Err(Unsure),
        }
    }

    /// Parses a value into a slot, keeping what trie `trie` names below it.
    /// `rooted`: the value is reached from the root through objects, by
    /// keys spelled exactly as the tries spell them, so the paths to the
    /// members it keeps are filled in ([`Parsed::fill_in`]).
    fn capture(&mut self, trie: u32, depth: u32, rooted: bool) -> Result<u32, Unsure> {
        match self.peek() {
            Some(b'"') if !ESCAPED => {
                if let Some(documents) = self.projection.document_projection() {
                    if self.bytes.get(self.pos + 1..self.pos + 3) == Some(b"{\\") {
                        if let Some(slot) = self.document_string(documents) {
                            return Ok(slot);
                        }
                    }
                }
                let text = self.kept_string()?;
                Ok(self.parsed.push(Payload::String(text)))
            }
            Some(b'\\') if ESCAPED => {
                let text = self.kept_string()?;
                Ok(self.parsed.push(Payload::String(text)))
            }
            Some(b'{') => self.object(trie, nest(depth)?, rooted),
            Some(b'[') => self.array(trie, nest(depth)?),
            Some(b't') => {
                self.literal(b"true")?;
                Ok(self.parsed.push(Payload::Bool(true)))
            }
            Some(b'f') => {
                self.literal(b"false")?;
                Ok(self.parsed.push(Payload::Bool(false)))
            }
            Some(b'n') => {
                self.literal(b"null")?;
                Ok(self.parsed.push(Payload::Null))
            }
            Some(b'-' | b'0'..=b'9') => {
                let (start, integer) = self.number()?;
                let token = self.line.get(start..self.pos).ok_or(Unsure)?;
                let number = number_value(token, integer)?;
                Ok(self.parsed.push(Payload::Number(number)))
            }
            _ => Err(Unsure),
        }
    }

    fn array(&mut self, trie: u32, depth: u32) -> Result<u32, Unsure> {
        let array = self.parsed.push(Payload::Array);
        let mut len = 0u32;
        let mut more = self.open(b']');
        while more {
            let element = self.capture(trie, depth, false)?;
            self.parsed.append(array, element);
            len += 1;
            more = self.separator(b']')?;
        }
        self.parsed.set_len(array, len);
        Ok(array)
    }

    fn object(&mut self, trie: u32, depth: u32, rooted: bool) -> Result<u32, Unsure> {
        let object = self.parsed.push(Payload::Object);
        let mut len = 0u32;
        // A bit per kept key (by length and first byte): a key whose bit is
        // clear cannot repeat an earlier one, so it skips the search.
        let mut kept_keys = 0u64;
        let mut more = self.open(b'}');
        while more {
            let key = self.member_key()?;
            len += 1;
            match self.child(trie, &key)? {
                Some(kept) => {
                    let key_text = self.text(&key)?;
                    let name = self.parsed.resolve(self.line, key_text);
                    let bit = key_bit(name);
                    let ascii = if key.escaped {
                        name.is_ascii()
                    } else {
                        key.ascii
                    };
                    if rooted && !kept.spelled {
                        self.parsed.spelled_otherwise();
                    }
                    let reached = rooted && kept.spelled;
                    let child = self.capture(kept.trie, depth, reached && !kept.whole)?;
                    self.parsed.set_key(child, key_text, ascii);
                    let replaced = if kept_keys & bit == 0 {
                        self.parsed.append(object, child);
                        false
                    } else {
                        self.parsed.attach_member(object, child, self.line)
                    };
                    kept_keys |= bit;
                    if reached && !replaced {
                        self.parsed.fill_in(kept.path_ids, child);
                    }
                }
                None => self.skip(depth)?,
            }
            more = self.separator(b'}')?;
        }
        self.parsed.set_len(object, len);
        Ok(object)
    }

    // `open`, `separator` and `member_key` run for every element and member:
    // inlined into the recursive scanners (callgrind: 0.5% fewer
    // instructions on the bench corpus).

    /// Steps into an array or object (its opening bracket at `pos`):
    /// whether an element follows, `false` when it is empty (its closing
    /// bracket `close` passed too).
    #[inline(always)]
    fn open(&mut self, close: u8) -> bool {
        self.pos += 1;
        self.whitespace();
        if self.peek() == Some(close) {
            self.pos += 1;
            false
        } else {
            true
        }
    }

    /// After an element or member: `true` past a comma (another follows),
    /// `false` past the closing bracket `close`.
    #[inline(always)]
    fn separator(&mut self, close: u8) -> Result<bool, Unsure> {
        self.whitespace();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                self.whitespace();
                Ok(true)
            }
            Some(byte) if byte == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => Err(Unsure),
        }
    }

    /// A member's key and its colon, up to the value.
    #[inline(always)]
    fn member_key(&mut self) -> Result<Span, Unsure> {
        let key = self.string()?;
        self.whitespace();
        self.expect(b':')?;
        self.whitespace();
        Ok(key)
    }

    /// What trie to keep a member's value with, if any, and whether the
    /// key is spelled as the trie spells it.
    fn child(&mut self, trie: u32, key: &Span) -> Result<Option<Kept>, Unsure> {
        if !key.escaped {
            let name = self.line.get(key.start..key.end).ok_or(Unsure)?;
            return Ok(self.projection.child_spelled(trie, name, key.ascii));
        }
        if ESCAPED {
            // An escaped key of a document written inside a string: rare.
            return Err(Unsure);
        }
        let mut scratch = std::mem::take(&mut self.key_scratch);
        scratch.clear();
        decode_span(self.bytes, key, &mut scratch, &mut self.decoded)?;
        let child = self
            .projection
            .child_spelled(trie, &scratch, scratch.is_ascii());
        self.key_scratch = scratch;
        Ok(child)
    }

    /// A kept member key, scanned: a range of the line, or of the buffer
    /// when escaped.
    fn text(&mut self, span: &Span) -> Result<Text, Unsure> {
        if !span.escaped {
            return Ok(Text::Line(span.start as u32, span.end as u32));
        }
        let start = self.parsed.text.len() as u32;
        decode_span(self.bytes, span, &mut self.parsed.text, &mut self.decoded)?;
        Ok(Text::Buffer(start, self.parsed.text.len() as u32))
    }
}

/// A key's bit in an object's set of kept keys: equal keys share it.
fn key_bit(key: &str) -> u64 {
    let first = key.bytes().next().map_or(0, usize::from);
    1 << ((key.len() * 7 + first) % 64)
}

/// One level deeper, or [`Unsure`] past [`MAX_DEPTH`].
fn nest(depth: u32) -> Result<u32, Unsure> {
    if depth >= MAX_DEPTH {
        Err(Unsure)
    } else {
        Ok(depth + 1)
    }
}

/// The value of the four hex digits at `at`; [`Unsure`] for a surrogate
/// (whether it pairs is `serde_json`'s to decide).
fn hex_escape(bytes: &[u8], at: usize) -> Result<char, Unsure> {
    let digits = bytes.get(at..at + 4).ok_or(Unsure)?;
    let mut code = 0u32;
    for &digit in digits {
        code = code * 16 + char::from(digit).to_digit(16).ok_or(Unsure)?;
    }
    char::from_u32(code).ok_or(Unsure)
}

/// Where the plain text from `from` ends (at the first `"`, `\\` or control
/// character, or the end of the line), and whether that text is ASCII.
/// Sixteen bytes at a time, then eight, then one.
#[inline(always)]
fn plain_run(bytes: &[u8], mut from: usize) -> (usize, bool) {
    // The high bits of the bytes passed (sixteen at a time), and the bytes
    // passed OR-ed together (eight or one at a time).
    let mut high = 0u32;
    let mut seen = 0u64;
    while let Some(chunk) = bytes.get(from..).and_then(|rest| rest.first_chunk::<16>()) {
        let (stops, chunk_high) = string_stops_16(chunk);
        if stops != 0 {
            let plain = stops.trailing_zeros();
            high |= chunk_high & ((1u32 << plain) - 1);
            return (from + plain as usize, high == 0);
        }
        high |= chunk_high;
        from += 16;
    }
    while let Some(chunk) = bytes.get(from..).and_then(|rest| rest.first_chunk::<8>()) {
        let word = u64::from_le_bytes(*chunk);
        let stops = string_stops(word);
        if stops != 0 {
            let plain = stops.trailing_zeros() / 8;
            seen |= word & ((1u64 << (plain * 8)) - 1);
            return (from + plain as usize, high == 0 && seen & HIGHS == 0);
        }
        seen |= word;
        from += 8;
    }
    while let Some(&byte) = bytes.get(from) {
        if byte < 0x20 || byte == b'"' || byte == b'\\' {
            break;
        }
        seen |= u64::from(byte);
        from += 1;
    }
    (from, high == 0 && seen & HIGHS == 0)
}

/// Appends the text of the string whose contents start at `start` to
/// `out`, checking it as [`Scanner::string`] does; the position of its
/// closing quote.
///
/// The text is decoded first into `decoded` (a reused byte buffer that only
/// grows): plain text is copied sixteen (near the end, eight) bytes at a
/// time, each chunk written whole and the write position advanced past its
/// plain bytes only. An AKS audit log holds about a hundred `\\"` escapes in
/// a kilobyte, so the runs between escapes are short, and a copy per run (a
/// call to `memcpy` each) cost more than the text itself. The decoded bytes
/// then go to `out` in one copy, after a UTF-8 check that always passes
/// (the line is UTF-8, and escapes decode to characters).
fn decode_string(
    bytes: &[u8],
    start: usize,
    out: &mut String,
    decoded: &mut Vec<u8>,
) -> Result<usize, Unsure> {
    let mut from = start;
    let mut to = 0;
    loop {
        // Room for a whole chunk, or an escape's three bytes, at `to`.
        if decoded.len() < to + 16 {
            decoded.resize((to + 16).max(decoded.len() * 2), 0);
        }
        if let Some(chunk) = bytes.get(from..).and_then(|rest| rest.first_chunk::<16>()) {
            decoded
                .get_mut(to..to + 16)
                .ok_or(Unsure)?
                .copy_from_slice(chunk);
            let (stops, _) = string_stops_16(chunk);
            if stops == 0 {
                from += 16;
                to += 16;
                continue;
            }
            let plain = stops.trailing_zeros() as usize;
            from += plain;
            to += plain;
        } else if let Some(word) = bytes.get(from..).and_then(|rest| rest.first_chunk::<8>()) {
            decoded
                .get_mut(to..to + 8)
                .ok_or(Unsure)?
                .copy_from_slice(word);
            let stops = string_stops(u64::from_le_bytes(*word));
            if stops == 0 {
                from += 8;
                to += 8;
                continue;
            }
            let plain = (stops.trailing_zeros() / 8) as usize;
            from += plain;
            to += plain;
        } else {
            let byte = *bytes.get(from).ok_or(Unsure)?;
            if byte >= 0x20 && byte != b'"' && byte != b'\\' {
                *decoded.get_mut(to).ok_or(Unsure)? = byte;
                from += 1;
                to += 1;
                continue;
            }
        }
        // A stop at `from`: the closing quote, an escape, or a control
        // character (the end of the line returned above).
        let (byte, length) = match (bytes.get(from), bytes.get(from + 1)) {
            (Some(b'"'), _) => break,
            (Some(b'\\'), Some(&byte @ (b'"' | b'\\' | b'/'))) => (byte, 2),
            (Some(b'\\'), Some(b'b')) => (0x08, 2),
            (Some(b'\\'), Some(b'f')) => (0x0c, 2),
            (Some(b'\\'), Some(b'n')) => (b'\n', 2),
            (Some(b'\\'), Some(b'r')) => (b'\r', 2),
            (Some(b'\\'), Some(b't')) => (b'\t', 2),
            (Some(b'\\'), Some(b'u')) => {
                let character = hex_escape(bytes, from + 2)?;
                let width = character.len_utf8();
                character.encode_utf8(decoded.get_mut(to..to + width).ok_or(Unsure)?);
                from += 6;
                to += width;
                continue;
            }
            _ => return Err(Unsure),
        };
        *decoded.get_mut(to).ok_or(Unsure)? = byte;
        from += length;
        to += 1;
    }
    let text = decoded.get(..to).ok_or(Unsure)?;
    out.push_str(std::str::from_utf8(text).map_err(|_| Unsure)?);
    Ok(from)
}

/// The position of the closing quote of a string whose first escape is at
/// `from`, checking its escapes, and that it holds no control character.
/// Sixty-four bytes at a time, the escaped bytes found all at once
/// ([`escaped_bytes`]); the line's last bytes sixteen at a time, each escape
/// clearing the bits of the bytes it covers, then one at a time. An AKS
/// audit log holds about 110 escapes per kilobyte, and a plain run scanned
/// from each escape cost more than its text (callgrind: 3.7 M instructions
/// for the seed rule's 2,414 events an escape at a time, 1.5 M now).
fn escaped_string_end(bytes: &[u8], mut from: usize) -> Result<usize, Unsure> {
    // Sixty-four bytes at a time, the escapes found all at once.
    let mut escaped_first = false;
    while let Some(block) = bytes.get(from..).and_then(|rest| rest.first_chunk::<64>()) {
        let (quote, backslash, control) = string_bytes_64(block);
        let escaped = escaped_bytes(backslash, &mut escaped_first);
        let end = quote & !escaped;
        // The bytes before the closing quote (all of them without one).
        let before = if end == 0 {
            u64::MAX
        } else {
            (end & end.wrapping_neg()) - 1
        };
        if control & before != 0 {
            return Err(Unsure);
        }
        // Escaped quotes and backslashes are escapes; any other escaped
        // byte must be one of `/bfnrtu` (and `u` have four hex digits).
        let mut others = escaped & !(quote | backslash) & before;
        while others != 0 {
            let at = from + others.trailing_zeros() as usize;
            escape_len(bytes, at)?;
            others &= others - 1;
        }
        if end != 0 {
            return Ok(from + end.trailing_zeros() as usize);
        }
        from += 64;
    }
    // The byte after the last block's odd run of backslashes is escaped.
    if escaped_first {
        from += escape_len(bytes, from)?;
    }
    while let Some(chunk) = bytes.get(from..).and_then(|rest| rest.first_chunk::<16>()) {
        let (mut stops, _) = string_stops_16(chunk);
        loop {
            if stops == 0 {
                from += 16;
                break;
            }
            let at = stops.trailing_zeros() as usize;
            match chunk.get(at) {
                Some(b'"') => return Ok(from + at),
                Some(b'\\') => {
                    let after = at + 1 + escape_len(bytes, from + at + 1)?;
                    if after >= 16 {
                        from += after;
                        break;
                    }
                    stops &= u32::MAX << after;
                }
                // A control character.
                _ => return Err(Unsure),
            }
        }
    }
    // The last bytes of the line, one at a time.
    while let Some(&byte) = bytes.get(from) {
        match byte {
            b'"' => return Ok(from),
            b'\\' => from += 1 + escape_len(bytes, from + 1)?,
            0..=0x1f => return Err(Unsure),
            _ => from += 1,
        }
    }
    Err(Unsure)
}

/// The length of the escape after a backslash, at `at`: one of `"\\/bfnrt`,
/// or `u` and four hex digits (not a surrogate, which is `serde_json`'s to
/// pair).
fn escape_len(bytes: &[u8], at: usize) -> Result<usize, Unsure> {
    match bytes.get(at) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(1),
        Some(b'u') => hex_escape(bytes, at + 1).map(|_| 5),
        _ => Err(Unsure),
    }
}

/// The length of one of a string's own escapes, written inside a string
/// value, after the `\\` that writes its backslash (at `at`): `\"` or
/// `\\` (its quote or backslash, escaped again), a letter of `/bfnrt`, or
/// `u` and four hex digits (not a surrogate, which is `serde_json`'s to
/// pair).
fn inner_escape_len(bytes: &[u8], at: usize) -> Result<usize, Unsure> {
    match bytes.get(at) {
        Some(b'\\') => match bytes.get(at + 1) {
            Some(b'"' | b'\\') => Ok(2),
            _ => Err(Unsure),
        },
        Some(b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(1),
        Some(b'u') => hex_escape(bytes, at + 1).map(|_| 5),
        _ => Err(Unsure),
    }
}

/// Appends the text of a string of a document written inside a string
/// value ([`Scanner::escaped_string`]'s span), its escapes decoded: the
/// string value's, then the string's own.
fn decode_twice(bytes: &[u8], span: &Span, out: &mut String) -> Result<(), Unsure> {
    let text = bytes.get(span.start..span.end).ok_or(Unsure)?;
    let mut at = 0;
    while let Some(&byte) = text.get(at) {
        if byte != b'\\' {
            // A run of plain text, whole (UTF-8 sequences included).
            let run = text[at..]
                .iter()
                .position(|&b| b == b'\\')
                .map_or(text.len(), |len| at + len);
            out.push_str(std::str::from_utf8(&text[at..run]).map_err(|_| Unsure)?);
            at = run;
            continue;
        }
        // `\\` and the escape after it.
        if text.get(at + 1) != Some(&b'\\') {
            return Err(Unsure);
        }
        let escape = at + 2;
        let length = inner_escape_len(text, escape)?;
        let character = match text.get(escape) {
            Some(b'\\') => char::from(*text.get(escape + 1).ok_or(Unsure)?),
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => hex_escape(text, escape + 1)?,
            _ => return Err(Unsure),
        };
        out.push(character);
        at = escape + length;
    }
    Ok(())
}

/// Appends the text of the string between `start` and `end` of `bytes`
/// (inside its quotes), which [`Scanner::string`] checked, to `out`.
pub(crate) fn decode_checked(
    bytes: &[u8],
    start: usize,
    end: usize,
    out: &mut String,
    decoded: &mut Vec<u8>,
) -> Result<(), Unsure> {
    if decode_string(bytes, start, out, decoded)? == end {
        Ok(())
    } else {
        Err(Unsure)
    }
}

/// Appends the text of a scanned string to `out` ([`decode_string`]).
fn decode_span(
    bytes: &[u8],
    span: &Span,
    out: &mut String,
    decoded: &mut Vec<u8>,
) -> Result<(), Unsure> {
    let end = decode_string(bytes, span.start, out, decoded)?;
    if end == span.end {
        Ok(())
    } else {
        Err(Unsure)
    }
}

/// A kept number, as a `serde_json::Value` parse reads it.
fn number_value(token: &str, integer: bool) -> Result<Number, Unsure> {
    // Up to 18 digits always fit an i64: read them here. `-0` is a float
    // for serde_json.
    let digits = token.strip_prefix('-').unwrap_or(token);
    if integer && digits.len() <= 18 && token != "-0" {
        let mut value = 0i64;
        for digit in digits.bytes() {
            value = value * 10 + i64::from(digit - b'0');
        }
        return Ok(Number::Int(if token.starts_with('-') {
            -value
        } else {
            value
        }));
    }
    // Fractions and long integers: serde_json's own reading, bit for bit.
    let number: serde_json::Number = serde_json::from_str(token).map_err(|_| Unsure)?;
    Ok(if let Some(i) = number.as_i64() {
        Number::Int(i)
    } else if let Some(u) = number.as_u64() {
        Number::UInt(u)
    } else {
        Number::Float(number.as_f64().ok_or(Unsure)?)
    })
}
