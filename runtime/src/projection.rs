//! The fast path: each line parsed once, keeping only the fields the rules read.
//!
//! A [`Projection`] is the set of key paths a rule set's matchers read
//! (compiled into each rule as [`crate::RuleMeta`]'s `reads`, and
//! `document_reads` for the JSON documents embedded in strings, such as
//! AKS's `properties.log`). [`Parsed::parse`] scans a line with that set as a
//! guide ([`crate::scan`], rulec's own scanner, falling back to `serde_json`
//! for what the scanner leaves to it): the whole line is validated exactly
//! as a `serde_json::Value` parse would, but members the rules never read
//! are skipped without being kept, strings are borrowed from the line, and
//! what is kept goes into flat buffers reused from one line to the next, so
//! parsing an event allocates nothing once the buffers have grown.
//! [`Projected`] is the [`Node`] over the result: the same generated
//! matchers run on it, monomorphized.
//!
//! Rules about what is kept, so that matchers see what they would see on a
//! full parse:
//! - an object member is kept when its key equals a path's key ignoring case
//!   (Panther's events look keys up exactly, then ignoring case);
//! - arrays are transparent: every element is kept, read with the same paths
//!   as the array itself;
//! - the value at the end of a path is kept whole, with everything below it;
//! - an object's length counts every member, kept or not (a partly kept
//!   object is empty exactly when the full one is);
//! - a repeated key replaces the earlier member's value in place, as
//!   `serde_json::Value` does.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell, RefCell};
use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::field_key::FieldKey;
use crate::key_path::KeyPath;
use crate::node::{eq_ignore_case, Kind, Node, Number};
use crate::val::Val;

const NONE: u32 = u32::MAX;

/// The key paths a rule set reads, as a trie: what to keep of each event.
#[derive(Debug, Clone)]
pub struct Projection {
    tries: Vec<Trie>,
    /// What to keep of JSON documents embedded in kept strings (AKS's
    /// `properties.log`) when decoded: everything when `None`.
    documents: Option<Arc<Projection>>,
    /// The [`KeyPath`] ids of the paths the scanner fills in
    /// ([`Child::path_ids`]): after a scan, such a path it did not fill in
    /// finds nothing, without a walk.
    filled_paths: Arc<FilledPaths>,
}

/// [`KeyPath`] ids, a bit each: those of exact paths, and those of paths
/// ignoring case.
#[derive(Debug, Clone, Default)]
struct FilledPaths {
    exact: Vec<u64>,
    ignoring_case: Vec<u64>,
}

impl FilledPaths {
    fn insert(bits: &mut Vec<u64>, id: u32) {
        let (word, bit) = (id as usize / 64, id % 64);
        if bits.len() <= word {
            bits.resize(word + 1, 0);
        }
        bits[word] |= 1 << bit;
    }

    fn contains(bits: &[u64], id: u32) -> bool {
        bits.get(id as usize / 64)
            .is_some_and(|word| word >> (id % 64) & 1 == 1)
    }
}

#[derive(Debug, Clone, Default)]
struct Trie {
    /// Keep the value and everything below it.
    whole: bool,
    /// Members to keep, by key (compared ignoring case), and what to keep of them.
    children: Vec<Child>,
    /// The children by [`key_slot`], when every child key is ASCII and no
    /// two share a slot. One look-up and one comparison refuse or find an
    /// ASCII key, where a search of the children compared lengths child by
    /// child (and mispredicted where it stopped).
    table: Box<[TableEntry]>,
    /// Whether `table` answers for this trie's ASCII keys.
    hashed: bool,
    /// The table's hash multiplier (one of [`SEEDS`]).
    seed: u64,
    /// The table has `1 << bits` slots.
    bits: u32,
    /// Whether a child key is not ASCII (then lengths settle nothing).
    non_ascii_child: bool,
}

/// A member a [`Trie`] keeps.
#[derive(Debug, Clone)]
struct Child {
    key: Box<str>,
    trie: u32,
    /// Whether its trie keeps it whole (copied from the trie: the scanner
    /// reads it for every member it keeps, next to the key it has loaded).
    whole: bool,
    /// The ids of the [`KeyPath`]s from the root to it, exact and ignoring
    /// case, spelled with the tries' keys. The scanner fills in what they
    /// find when it reaches the member from the root through objects, by
    /// keys spelled exactly so.
    path_ids: (u32, u32),
}

/// A member to keep, as [`Projection::child_spelled`] finds it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kept {
    /// What to keep of it.
    pub(crate) trie: u32,
    /// Whether its key is spelled as the trie spells it (`false` below a
    /// trie kept whole).
    pub(crate) spelled: bool,
    /// Whether it is kept whole.
    pub(crate) whole: bool,
    /// The paths to it from the root ([`Child::path_ids`]).
    pub(crate) path_ids: (u32, u32),
}

impl Trie {
    fn add_child(&mut self, key: &str, child: u32) {
        if !key.is_ascii() {
            self.non_ascii_child = true;
        }
        self.children.push(Child {
            key: Box::from(key),
            trie: child,
            whole: false,
            path_ids: (NONE, NONE),
        });
    }

    fn clear_children(&mut self) {
        self.children.clear();
        self.non_ascii_child = false;
    }

    /// Fills `table` from `children`: the smallest power of two, from four
    /// slots per child up to [`MAX_TABLE`], and the first of [`SEEDS`]
    /// hash multipliers, with which no two keys share a slot. (Keys equal
    /// ignoring case are one child: [`Projection::add`] merges them.) A
    /// trie with a non-ASCII child key, or whose keys share a slot at every
    /// size, is searched instead.
    fn build_table(&mut self) {
        self.hashed = false;
        self.table = Box::default();
        if self.non_ascii_child || self.children.is_empty() {
            return;
        }
        let mut bits = (self.children.len() * 4)
            .next_power_of_two()
            .trailing_zeros();
        while 1 << bits <= MAX_TABLE {
            for seed in SEEDS {
                let mut table = vec![TableEntry::EMPTY; 1 << bits];
                let fits = self.children.iter().enumerate().all(|(index, child)| {
                    let packed = packed_key(child.key.as_bytes());
                    let slot = key_slot(packed, seed, bits);
                    let free = table[slot].child == NONE;
                    table[slot] = TableEntry {
                        packed,
                        child: index as u32,
                    };
                    free
                });
                if fits {
                    self.table = table.into_boxed_slice();
                    self.seed = seed;
                    self.bits = bits;
                    self.hashed = true;
                    return;
                }
            }
            bits += 1;
        }
    }
}

/// A slot of [`Trie::table`].
#[derive(Debug, Clone, Copy)]
struct TableEntry {
    /// The child key's [`packed_key`]: a key whose own differs is refused
    /// without comparing the two.
    packed: u64,
    /// The child's index in [`Trie::children`], or [`NONE`].
    child: u32,
}

impl TableEntry {
    const EMPTY: TableEntry = TableEntry {
        packed: u64::MAX,
        child: NONE,
    };
}

/// The most slots a trie's table may have.
const MAX_TABLE: usize = 1024;

/// Hash multipliers a trie's table may use (odd, from SplitMix64): the
/// first that gives each key a slot of its own.
const SEEDS: [u64; 8] = [
    0x9E37_79B9_7F4A_7C15,
    0xBF58_476D_1CE4_E5B9,
    0x94D0_49BB_1331_11EB,
    0xD6E8_FEB8_6659_FD93,
    0xA076_1D64_78BD_642F,
    0xE703_7ED1_A0B4_28DB,
    0x8EBC_6AF0_9C88_C6E3,
    0x5899_65CC_7537_4CC3,
];

/// A key's length with its first, middle and last bytes, ASCII case folded
/// (keys equal ignoring ASCII case pack alike; the length saturates at 255).
#[inline(always)]
fn packed_key(key: &[u8]) -> u64 {
    let fold = |at: usize| key.get(at).map_or(0, |byte| u64::from(byte | 0x20));
    let len = key.len();
    len.min(255) as u64 | fold(0) << 8 | fold(len / 2) << 16 | fold(len.wrapping_sub(1)) << 24
}

/// A packed key's slot in a table of `1 << bits` slots (`bits` ≥ 1) hashed
/// with `seed`: the high bits of their product.
#[inline(always)]
fn key_slot(packed: u64, seed: u64, bits: u32) -> usize {
    (packed.wrapping_mul(seed) >> (64 - bits)) as usize
}

impl Projection {
    /// A projection keeping every path given (each a list of keys from the
    /// event's root; list indexes are not needed, arrays being transparent),
    /// plus `p_log_type`.
    pub fn new<'p>(paths: impl IntoIterator<Item = &'p [&'p str]>) -> Projection {
        let mut projection = Projection {
            tries: vec![Trie::default()],
            documents: None,
            filled_paths: Arc::default(),
        };
        projection.add(&[crate::engine::P_LOG_TYPE]);
        for path in paths {
            projection.add(path);
        }
        // The key tables, once every child is known.
        for trie in &mut projection.tries {
            trie.build_table();
        }
        projection.assign_path_ids();
        projection
    }

    /// Gives each member kept below the root its [`Child::path_ids`] and
    /// [`Child::whole`], and marks the ids in [`Projection::filled_paths`].
    fn assign_path_ids(&mut self) {
        let mut filled = FilledPaths::default();
        let mut stack: Vec<(u32, Vec<Box<str>>)> = vec![(0, Vec::new())];
        while let Some((at, keys)) = stack.pop() {
            if self.tries[at as usize].whole {
                continue;
            }
            for index in 0..self.tries[at as usize].children.len() {
                let child = &self.tries[at as usize].children[index];
                let (key, trie) = (child.key.clone(), child.trie);
                let mut path = keys.clone();
                path.push(key);
                let spelled: Vec<&str> = path.iter().map(|key| &**key).collect();
                let exact = crate::key_path::id_of(&spelled, false);
                let ignoring_case = crate::key_path::id_of(&spelled, true);
                FilledPaths::insert(&mut filled.exact, exact);
                FilledPaths::insert(&mut filled.ignoring_case, ignoring_case);
                let whole = self.tries[trie as usize].whole;
                let child = &mut self.tries[at as usize].children[index];
                child.whole = whole;
                child.path_ids = (exact, ignoring_case);
                stack.push((trie, path));
            }
        }
        self.filled_paths = Arc::new(filled);
    }

    /// A projection that keeps everything (a full parse into flat buffers).
    pub fn everything() -> Projection {
        Projection {
            tries: vec![Trie {
                whole: true,
                ..Trie::default()
            }],
            documents: None,
            filled_paths: Arc::default(),
        }
    }

    /// This projection, keeping of each embedded JSON document it decodes
    /// only the paths given (from the document's root, as for
    /// [`Projection::new`]) instead of everything.
    pub fn with_documents<'p>(
        mut self,
        paths: impl IntoIterator<Item = &'p [&'p str]>,
    ) -> Projection {
        self.documents = Some(Arc::new(Projection::new(paths)));
        self
    }

    fn add(&mut self, path: &[&str]) {
        let mut at = 0usize;
        for key in path {
            if self.tries[at].whole {
                return;
            }
            let found = self.tries[at]
                .children
                .iter()
                .find(|child| eq_ignore_case(&child.key, key))
                .map(|child| child.trie as usize);
            at = match found {
                Some(child) => child,
                None => {
                    let child = self.tries.len();
                    self.tries.push(Trie::default());
                    self.tries[at].add_child(key, child as u32);
                    child
                }
            };
        }
        // The end of a path: keep it whole (and forget what was below it).
        self.tries[at].whole = true;
        self.tries[at].clear_children();
    }

    /// How many keys the projection names (for diagnostics and tests).
    pub fn key_count(&self) -> usize {
        self.tries.len() - 1
    }

    /// What trie to keep a member with key `key` with, if any (`key_ascii`:
    /// whether `key` is ASCII).
    pub(crate) fn child(&self, trie: u32, key: &str, key_ascii: bool) -> Option<u32> {
        self.child_spelled(trie, key, key_ascii)
            .map(|kept| kept.trie)
    }

    /// What to keep of JSON documents embedded in kept strings, when the
    /// rules read such documents.
    pub(crate) fn document_projection(&self) -> Option<&Projection> {
        self.documents.as_deref()
    }

    /// Whether the projection keeps everything (then the scanner fills in
    /// no path).
    pub(crate) fn keeps_everything(&self) -> bool {
        self.tries.first().is_none_or(|root| root.whole)
    }

    /// [`Projection::child`], with what the scanner needs to fill in paths.
    #[inline(always)]
    pub(crate) fn child_spelled(&self, trie: u32, key: &str, key_ascii: bool) -> Option<Kept> {
        let node = &self.tries[trie as usize];
        if node.whole {
            return Some(Kept {
                trie,
                spelled: false,
                whole: true,
                path_ids: (NONE, NONE),
            });
        }
        let kept = |child: &Child, spelled: bool| Kept {
            trie: child.trie,
            spelled,
            whole: child.whole,
            path_ids: child.path_ids,
        };
        // An ASCII key only equals, ignoring case, an ASCII key of its
        // length and hash; a non-ASCII one may lowercase to anything (the
        // Kelvin sign to `k`).
        // Most keys are spelled as the rules spell them.
        if key_ascii && node.hashed {
            let packed = packed_key(key.as_bytes());
            let entry = node.table.get(key_slot(packed, node.seed, node.bits))?;
            if entry.packed != packed {
                return None;
            }
            let child = node.children.get(entry.child as usize)?;
            if *child.key == *key {
                return Some(kept(child, true));
            }
            return child
                .key
                .eq_ignore_ascii_case(key)
                .then(|| kept(child, false));
        }
        let same_ascii =
            |name: &str| name.len() == key.len() && (name == key || name.eq_ignore_ascii_case(key));
        let found = if key_ascii && !node.non_ascii_child {
            node.children.iter().find(|child| same_ascii(&child.key))
        } else {
            node.children
                .iter()
                .find(|child| eq_ignore_case(&child.key, key))
        };
        found.map(|child| kept(child, *child.key == *key))
    }
}

/// The byte length of a member's key (0 for a slot without one).
fn key_len(slot: &Slot) -> usize {
    match slot.key {
        Some(Text::Line(start, end) | Text::Buffer(start, end)) => {
            end.saturating_sub(start) as usize
        }
        // Keys are decoded as they are scanned, never left escaped.
        Some(Text::Escaped(_)) | None => 0,
    }
}

/// Where a kept string lives.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Text {
    /// A range of the line (strings without escapes).
    Line(u32, u32),
    /// A range of the parse's own buffer (decoded keys, and strings the
    /// `serde_json` fallback decoded).
    Buffer(u32, u32),
    /// A string value with escapes, as the line writes it: decoded on first
    /// read ([`Parsed::escaped`]'s entry of that index).
    Escaped(u32),
}

/// A kept string value with escapes, as the line writes it. It is decoded
/// when something reads it, at most once per line, and an embedded document
/// is parsed from it without decoding it first; a string nobody reads is
/// only checked, never decoded.
#[derive(Debug)]
struct EscapedText {
    /// The range inside its quotes.
    start: u32,
    end: u32,
    /// Its text, once read (a buffer from [`Parsed::spare_strings`]).
    decoded: OnceCell<String>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Payload {
    Null,
    Bool(bool),
    Number(Number),
    String(Text),
    Array,
    Object,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    payload: Payload,
    /// The member's key, for a member of an object.
    key: Option<Text>,
    /// Whether the key is ASCII (then lengths settle case-insensitive
    /// comparisons with ASCII keys).
    key_ascii: bool,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
    /// Elements or members, kept or not.
    len: u32,
}

/// Reusable buffers for one line's kept fields.
#[derive(Debug, Default)]
pub struct Parsed {
    slots: Vec<Slot>,
    pub(crate) text: String,
    /// JSON documents embedded in string slots (AKS's `properties.log`),
    /// decoded on first use and shared by every rule: a cell per slot
    /// (never fewer cells than slots), boxed, so that cells are a few bytes
    /// each; only those a line set are emptied for the next
    /// (`documents_set`).
    documents: Vec<OnceCell<Option<Box<EmbeddedDocument>>>>,
    /// The slots whose `documents` cell is set, in this parse.
    documents_set: RefCell<Vec<u32>>,
    /// Buffers of documents decoded for earlier lines, for reuse (boxed as
    /// the cells hold them: they move between the two, the box alone).
    #[allow(clippy::vec_box)]
    spare: RefCell<Vec<Box<EmbeddedDocument>>>,
    /// What to keep of the documents (the line's projection's): everything
    /// when `None`.
    document_projection: Option<Arc<Projection>>,
    /// The scanner's buffer for escaped keys.
    pub(crate) key_scratch: String,
    /// The scanner's buffer for decoding escaped strings.
    pub(crate) decoded_scratch: Vec<u8>,
    /// Kept string values with escapes, by [`Text::Escaped`] index.
    escaped: Vec<EscapedText>,
    /// Buffers of strings decoded for earlier lines, for reuse.
    spare_strings: RefCell<Vec<String>>,
    /// The buffer for decoding them.
    escaped_scratch: RefCell<Vec<u8>>,
    /// What each [`KeyPath`] found from the root in this parse, by path id:
    /// `generation << 32 | slot` (`NONE` for nothing); entries of another
    /// generation are from earlier parses.
    found: Vec<Cell<u64>>,
    /// What each computed data-model field ([`FieldKey`]) was in this
    /// parse, by field id; entries of another generation are from earlier
    /// parses.
    fields: Vec<Cell<HeldField>>,
    /// Counts parses (never 0 once parsed, so zeroed entries are stale).
    generation: u32,
    /// The [`Projection::filled_paths`] of the projection of this parse.
    filled_paths: Arc<FilledPaths>,
    /// Whether the scanner filled in [`Parsed::found`] for every exact path
    /// of `filled_paths`: such a path not found in this generation finds
    /// nothing. `false` after a parse by `serde_json`, or when a repeated
    /// key replaced a member the scanner had filled in paths below.
    filled: bool,
    /// The same for the paths ignoring case; also `false` when a kept key
    /// was spelled otherwise than the projection spells it (then a path
    /// ignoring case may find it where the exact one finds nothing).
    filled_ignoring_case: bool,
}

/// A computed data-model field's value as a parse remembers it, in the
/// parse's generation.
#[derive(Debug, Clone, Copy, Default)]
struct HeldField {
    generation: u32,
    value: Held,
}

/// A value without its borrows: where in the parse it is. Values that are
/// not in the parse (an owned string, a list, JSON, a node of an embedded
/// document) are not held, and are computed at each read.
#[derive(Debug, Clone, Copy, Default)]
enum Held {
    /// Nothing held.
    #[default]
    Nothing,
    /// [`Val::Missing`].
    Missing,
    /// A node of the parse, by slot.
    Node(u32),
    /// A string borrowed from the line, by range.
    Line(u32, u32),
    /// A string borrowed from the parse's buffer of decoded text, by range.
    Buffer(u32, u32),
    /// The empty string.
    Empty,
}

/// Where `part` lies in `whole`, when it is a slice of it.
fn range_in(whole: &str, part: &str) -> Option<(u32, u32)> {
    let start = (part.as_ptr() as usize).checked_sub(whole.as_ptr() as usize)?;
    let end = start.checked_add(part.len())?;
    if end > whole.len() {
        return None;
    }
    Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
}

/// A JSON document embedded in a string (AKS's `properties.log`), decoded
/// the way the AKS data model's Python does ([`crate::transform::decode_json`])
/// into flat buffers: the text, unescaped, and everything in it.
#[derive(Debug, Default)]
pub struct EmbeddedDocument {
    text: String,
    parsed: Parsed,
    /// Parsed from the line the string is written in, without decoding it
    /// ([`EmbeddedDocument::decode_in_line`]): its kept strings are ranges
    /// of that line, not of `text`.
    in_line: bool,
}

impl EmbeddedDocument {
    /// Decodes `text` (reusing this document's buffers): `false` when it is
    /// empty, not JSON, or a document that is itself falsy, as
    /// [`crate::transform::decode_json`] says. Python's `NaN`, `Infinity`
    /// and `-Infinity` tokens decode as `null`.
    pub fn decode(&mut self, text: &str) -> bool {
        self.decode_with(text, everything())
    }

    /// [`EmbeddedDocument::decode`], keeping what `projection` names (the
    /// document is validated whole all the same, and an object's length
    /// counts every member, so truthiness is the same).
    pub fn decode_with(&mut self, text: &str, projection: &Projection) -> bool {
        self.in_line = false;
        if text.is_empty() {
            return false;
        }
        self.text.clear();
        self.text.push_str(text);
        if self.parsed.parse(&self.text, projection).is_err() {
            let Some(replaced) = crate::transform::replace_non_finite_tokens(text) else {
                return false;
            };
            self.text = replaced;
            if self.parsed.parse(&self.text, projection).is_err() {
                return false;
            }
        }
        crate::val::Val::Node(self.root()).truthy()
    }

    /// [`EmbeddedDocument::decode_with`] for a string value with escapes,
    /// between `start` and `end` of `line` (inside its quotes, checked by the
    /// scanner), parsed from the line as written ([`crate::scan::scan_escaped`]):
    /// `None` when it is not written in the plain way that parse decides,
    /// and the string must be decoded and its text parsed instead.
    fn decode_in_line(
        &mut self,
        line: &str,
        start: usize,
        end: usize,
        projection: &Projection,
    ) -> Option<bool> {
        self.scan_in_line(line, projection, |parsed| {
            crate::scan::scan_escaped(parsed, line, start, end, projection)
        })
        .map(|((), truthy)| truthy)
    }

    /// [`EmbeddedDocument::decode_in_line`] for a string value of `line`
    /// whose text starts at `start` (past its opening quote), its end not
    /// yet known: parsed up to its closing quote, which the document must
    /// be followed by (spaces aside). The quote's position, and whether the
    /// document is truthy; `None` when the string is not written in the
    /// plain way that parse decides (it is then scanned as any string, and
    /// its document parsed when read).
    pub(crate) fn decode_opening_string(
        &mut self,
        line: &str,
        start: usize,
        projection: &Projection,
    ) -> Option<(usize, bool)> {
        self.scan_in_line(line, projection, |parsed| {
            crate::scan::scan_escaped_open(parsed, line, start, projection)
        })
    }

    /// Fills this document's buffers with `scan`, a parse of a document
    /// written in a string of `line` (the buffers reset for `projection`):
    /// what the scan gives, and whether the document is truthy.
    fn scan_in_line<T>(
        &mut self,
        line: &str,
        projection: &Projection,
        scan: impl FnOnce(&mut Parsed) -> Result<T, crate::scan::Unsure>,
    ) -> Option<(T, bool)> {
        self.parsed.reset_for_scan(projection);
        let scanned = scan(&mut self.parsed).ok()?;
        self.parsed.finish();
        self.in_line = true;
        Some((
            scanned,
            crate::val::Val::Node(self.parsed.root(line)).truthy(),
        ))
    }

    /// The decoded document (after a successful [`EmbeddedDocument::decode`]).
    pub fn root(&self) -> Projected<'_> {
        self.parsed.root(&self.text)
    }

    /// The decoded document, of a string of `line`.
    fn root_in<'d>(&'d self, line: &'d str) -> Projected<'d> {
        if self.in_line {
            self.parsed.root(line)
        } else {
            self.root()
        }
    }
}

/// The projection that keeps everything, built once.
pub fn everything() -> &'static Projection {
    static EVERYTHING: std::sync::OnceLock<Projection> = std::sync::OnceLock::new();
    EVERYTHING.get_or_init(Projection::everything)
}

impl Parsed {
    /// Empty buffers.
    pub fn new() -> Parsed {
        Parsed::default()
    }

    /// Parses `line`, keeping what `projection` names; on success the root
    /// is [`Parsed::root`]. A line fails exactly when a full `serde_json`
    /// parse into a `Value` fails, with the same message.
    pub fn parse(&mut self, line: &str, projection: &Projection) -> Result<(), serde_json::Error> {
        if self.parse_with_scanner(line, projection).is_ok() {
            return Ok(());
        }
        // Left to serde_json: invalid, or valid in a way the scanner does
        // not decide.
        self.parse_with_serde(line, projection)
    }

    /// [`Parsed::parse`] through `serde_json` alone, without the scanner:
    /// its fallback, and its reference in tests.
    pub fn parse_with_serde(
        &mut self,
        line: &str,
        projection: &Projection,
    ) -> Result<(), serde_json::Error> {
        self.reset(projection);
        self.serde_capture(line, projection)?;
        self.finish();
        Ok(())
    }

    /// The scanner alone, without falling back to `serde_json`: `Err` when
    /// it leaves the line to `serde_json`. For tests and benchmarks;
    /// [`Parsed::parse`] is what to call.
    pub fn parse_with_scanner(
        &mut self,
        line: &str,
        projection: &Projection,
    ) -> Result<(), crate::scan::Unsure> {
        self.reset_for_scan(projection);
        crate::scan::scan(self, line, projection)?;
        self.finish();
        Ok(())
    }

    /// After a parse: a document cell for each slot.
    fn finish(&mut self) {
        if self.documents.len() < self.slots.len() {
            self.documents.resize_with(self.slots.len(), OnceCell::new);
        }
    }

    /// Empties the buffers for a line parsed with `projection`; the
    /// documents of the previous line give theirs back for reuse.
    fn reset(&mut self, projection: &Projection) {
        let same = match (&self.document_projection, &projection.documents) {
            (Some(ours), Some(theirs)) => Arc::ptr_eq(ours, theirs),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.document_projection = projection.documents.clone();
        }
        if !Arc::ptr_eq(&self.filled_paths, &projection.filled_paths) {
            self.filled_paths = Arc::clone(&projection.filled_paths);
        }
        self.filled = false;
        self.filled_ignoring_case = false;
        self.slots.clear();
        self.text.clear();
        self.forget_paths();
        let spare_strings = self.spare_strings.get_mut();
        spare_strings.extend(
            self.escaped
                .drain(..)
                .filter_map(|escaped| escaped.decoded.into_inner()),
        );
        let spare = self.spare.get_mut();
        for slot in self.documents_set.get_mut().drain(..) {
            let cell = self.documents.get_mut(slot as usize).map(OnceCell::take);
            if let Some(Some(Some(document))) = cell {
                spare.push(document);
            }
        }
    }

    /// [`Parsed::reset`] before the scanner's parse, which fills in the
    /// projection's paths unless it finds a reason not to.
    fn reset_for_scan(&mut self, projection: &Projection) {
        self.reset(projection);
        self.filled = true;
        self.filled_ignoring_case = true;
    }

    fn serde_capture(
        &mut self,
        line: &str,
        projection: &Projection,
    ) -> Result<(), serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_str(line);
        let seed = Capture {
            parsed: self,
            line,
            projection,
            trie: 0,
        };
        seed.deserialize(&mut deserializer)?;
        deserializer.end()
    }

    /// Starts a new generation of [`Parsed::found`] and [`Parsed::fields`],
    /// sized for every path and field with an id so far.
    fn forget_paths(&mut self) {
        self.next_generation();
        let interned = crate::key_path::interned_count() as usize;
        if self.found.len() < interned {
            self.found.resize_with(interned, Cell::default);
        }
        let fields = crate::field_key::interned_count() as usize;
        if self.fields.len() < fields {
            self.fields.resize_with(fields, Cell::default);
        }
    }

    /// A new generation: every entry of [`Parsed::found`] and
    /// [`Parsed::fields`] stale.
    fn next_generation(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.found.iter().for_each(|entry| entry.set(0));
            self.fields
                .iter()
                .for_each(|entry| entry.set(HeldField::default()));
            self.generation = 1;
        }
    }

    /// The scanner reached `slot` from the root by the exact path of
    /// `ids` ([`Kept::path_ids`]): both paths find it.
    #[inline(always)]
    pub(crate) fn fill_in(&mut self, (exact, ignoring_case): (u32, u32), slot: u32) {
        let entry = u64::from(self.generation) << 32 | u64::from(slot);
        if let Some(found) = self.found.get_mut(exact as usize) {
            found.set(entry);
        }
        if let Some(found) = self.found.get_mut(ignoring_case as usize) {
            found.set(entry);
        }
    }

    /// A repeated key replaced a member: what the scanner filled in below
    /// the first is stale, and the paths it did not fill in are walked.
    fn forget_filled_in(&mut self) {
        self.next_generation();
        self.filled = false;
        self.filled_ignoring_case = false;
    }

    /// A kept key spelled otherwise than the projection spells it: a path
    /// ignoring case may find it, so those the scanner did not fill in are
    /// walked. (What it filled in stands: a path ignoring case finds the
    /// exact key where there is one.)
    #[inline(never)]
    pub(crate) fn spelled_otherwise(&mut self) {
        self.filled_ignoring_case = false;
    }

    /// Whether the scanner filled in path `id` in this parse, so that
    /// nothing found in this generation means nothing there.
    #[inline(always)]
    fn filled_in(&self, id: u32) -> bool {
        (self.filled && FilledPaths::contains(&self.filled_paths.exact, id))
            || (self.filled_ignoring_case
                && FilledPaths::contains(&self.filled_paths.ignoring_case, id))
    }

    /// Sets the element or member count of an array or object slot.
    pub(crate) fn set_len(&mut self, slot: u32, len: u32) {
        self.slots[slot as usize].len = len;
    }

    /// Sets the key of a member's slot (`ascii`: whether the key is ASCII).
    pub(crate) fn set_key(&mut self, slot: u32, key: Text, ascii: bool) {
        let slot = &mut self.slots[slot as usize];
        slot.key = Some(key);
        slot.key_ascii = ascii;
    }

    /// The parsed value (call after a successful [`Parsed::parse`] of `line`).
    pub fn root<'d>(&'d self, line: &'d str) -> Projected<'d> {
        Projected {
            parsed: self,
            line,
            slot: 0,
        }
    }

    pub(crate) fn push(&mut self, payload: Payload) -> u32 {
        let index = self.slots.len() as u32;
        self.slots.push(Slot {
            payload,
            key: None,
            key_ascii: true,
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
            len: 0,
        });
        index
    }

    fn buffer(&mut self, text: &str) -> Text {
        let start = self.text.len() as u32;
        self.text.push_str(text);
        Text::Buffer(start, self.text.len() as u32)
    }

    #[inline]
    pub(crate) fn resolve<'d>(&'d self, line: &'d str, text: Text) -> &'d str {
        match text {
            Text::Line(start, end) => line.get(start as usize..end as usize).unwrap_or(""),
            Text::Buffer(start, end) => self.text.get(start as usize..end as usize).unwrap_or(""),
            Text::Escaped(index) => self.escaped_text(line, index),
        }
    }

    /// Keeps a string value with escapes that the scanner checked, between
    /// `start` and `end` of the line, to decode when read.
    pub(crate) fn keep_escaped(&mut self, start: usize, end: usize) -> Text {
        let index = self.escaped.len() as u32;
        self.escaped.push(EscapedText {
            start: start as u32,
            end: end as u32,
            decoded: OnceCell::new(),
        });
        Text::Escaped(index)
    }

    /// Buffers for a document, from those of earlier lines when there are.
    pub(crate) fn spare_document(&self) -> Box<EmbeddedDocument> {
        self.spare.borrow_mut().pop().unwrap_or_default()
    }

    /// Keeps a document's buffers for a later one.
    pub(crate) fn give_back_document(&self, document: Box<EmbeddedDocument>) {
        self.spare.borrow_mut().push(document);
    }

    /// Sets the decoded document of string slot `slot`, parsed as the line
    /// was scanned (none when it is falsy: its buffers go back), as
    /// [`Node::decoded_document`] sets it when first read.
    pub(crate) fn set_document(
        &mut self,
        slot: u32,
        document: Box<EmbeddedDocument>,
        truthy: bool,
    ) {
        let at = slot as usize;
        if self.documents.len() <= at {
            self.documents.resize_with(at + 1, OnceCell::new);
        }
        let spare_documents = self.spare.get_mut();
        let kept = if truthy {
            Some(document)
        } else {
            spare_documents.push(document);
            None
        };
        if let Some(cell) = self.documents.get_mut(at) {
            match cell.set(kept) {
                Ok(()) => self.documents_set.get_mut().push(slot),
                Err(kept) => spare_documents.extend(kept),
            }
        }
    }

    /// The range of the line a [`Text::Escaped`] string is written in.
    fn escaped_range(&self, index: u32) -> Option<(usize, usize)> {
        self.escaped
            .get(index as usize)
            .map(|escaped| (escaped.start as usize, escaped.end as usize))
    }

    /// A [`Text::Escaped`] string's text, decoded on its first read (out of
    /// line: [`Parsed::resolve`] is inlined into every key comparison).
    #[inline(never)]
    fn escaped_text<'d>(&'d self, line: &'d str, index: u32) -> &'d str {
        let Some(escaped) = self.escaped.get(index as usize) else {
            return "";
        };
        escaped.decoded.get_or_init(|| {
            let mut text = self.spare_strings.borrow_mut().pop().unwrap_or_default();
            text.clear();
            // The scanner checked the string, so it decodes (and if it
            // did not, its text would read as empty, not as garbage).
            let decoded = crate::scan::decode_checked(
                line.as_bytes(),
                escaped.start as usize,
                escaped.end as usize,
                &mut text,
                &mut self.escaped_scratch.borrow_mut(),
            );
            if decoded.is_err() {
                text.clear();
            }
            text
        })
    }

    /// Appends `child` to `parent`'s children.
    pub(crate) fn append(&mut self, parent: u32, child: u32) {
        let last = self.slots[parent as usize].last_child;
        if last == NONE {
            self.slots[parent as usize].first_child = child;
        } else {
            self.slots[last as usize].next_sibling = child;
        }
        self.slots[parent as usize].last_child = child;
    }

    /// Adds member `child` (its key set) to `object`; when an earlier kept
    /// member has the same key, its value is replaced in place instead,
    /// and `true` returned.
    pub(crate) fn attach_member(&mut self, object: u32, child: u32, line: &str) -> bool {
        if let Some(key) = self.slots[child as usize].key {
            let key_text = self.resolve(line, key);
            let mut at = self.slots[object as usize].first_child;
            while at != NONE {
                let earlier = self.slots[at as usize];
                if earlier
                    .key
                    .is_some_and(|k| self.resolve(line, k) == key_text)
                {
                    let new = self.slots[child as usize];
                    let slot = &mut self.slots[at as usize];
                    slot.payload = new.payload;
                    slot.first_child = new.first_child;
                    slot.last_child = new.last_child;
                    slot.len = new.len;
                    self.forget_filled_in();
                    return true;
                }
                at = earlier.next_sibling;
            }
        }
        self.append(object, child);
        false
    }
}

/// Parses one value into the buffers, keeping what trie `trie` names.
struct Capture<'p> {
    parsed: &'p mut Parsed,
    /// The line (borrowed strings are kept as ranges of it).
    line: &'p str,
    projection: &'p Projection,
    trie: u32,
}

impl<'p> Capture<'p> {
    fn nested(&mut self, trie: u32) -> Capture<'_> {
        Capture {
            parsed: &mut *self.parsed,
            line: self.line,
            projection: self.projection,
            trie,
        }
    }
}

/// A string borrowed from `line` as a range of it.
fn line_range(line: &str, s: &str) -> Text {
    let start = (s.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize) as u32;
    Text::Line(start, start + s.len() as u32)
}

impl<'de> DeserializeSeed<'de> for Capture<'_> {
    type Value = u32;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u32, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Capture<'_> {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<u32, E> {
        Ok(self.parsed.push(Payload::Null))
    }

    fn visit_none<E>(self) -> Result<u32, E> {
        Ok(self.parsed.push(Payload::Null))
    }

    fn visit_bool<E>(self, v: bool) -> Result<u32, E> {
        Ok(self.parsed.push(Payload::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<u32, E> {
        Ok(self.parsed.push(Payload::Number(Number::Int(v))))
    }

    fn visit_u64<E>(self, v: u64) -> Result<u32, E> {
        let number = i64::try_from(v).map_or(Number::UInt(v), Number::Int);
        Ok(self.parsed.push(Payload::Number(number)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<u32, E> {
        Ok(self.parsed.push(Payload::Number(Number::Float(v))))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<u32, E> {
        let text = line_range(self.line, v);
        Ok(self.parsed.push(Payload::String(text)))
    }

    fn visit_str<E>(self, v: &str) -> Result<u32, E> {
        let text = self.parsed.buffer(v);
        Ok(self.parsed.push(Payload::String(text)))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<u32, A::Error> {
        let array = self.parsed.push(Payload::Array);
        let trie = self.trie;
        let mut len = 0u32;
        while let Some(element) = seq.next_element_seed(self.nested(trie))? {
            len += 1;
            self.parsed.append(array, element);
        }
        self.parsed.slots[array as usize].len = len;
        Ok(array)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<u32, A::Error> {
        let object = self.parsed.push(Payload::Object);
        let mut len = 0u32;
        let line = self.line;
        while let Some(key) = map.next_key_seed(KeySeed {
            parsed: &mut *self.parsed,
            line,
        })? {
            len += 1;
            let name = self.parsed.resolve(line, key);
            let key_ascii = name.is_ascii();
            let child_trie = self.projection.child(self.trie, name, key_ascii);
            match child_trie {
                Some(trie) => {
                    let child = map.next_value_seed(self.nested(trie))?;
                    self.parsed.set_key(child, key, key_ascii);
                    self.parsed.attach_member(object, child, line);
                }
                None => map.next_value_seed(Skip)?,
            }
        }
        self.parsed.slots[object as usize].len = len;
        Ok(object)
    }
}

/// Parses a value the rules do not read, keeping nothing. Unlike
/// [`serde::de::IgnoredAny`] (which `serde_json` skips without decoding
/// escapes or numbers) it goes through `serde_json`'s full parse, so a
/// line is refused exactly when a `serde_json::Value` parse refuses it
/// (lone surrogate escapes, numbers out of range) and with the same message.
struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_borrowed_str<E>(self, _: &'de str) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(SkipKey)?.is_some() {
            map.next_value_seed(Skip)?;
        }
        Ok(())
    }
}

/// An object key the rules do not read (checked, not kept).
struct SkipKey;

impl<'de> DeserializeSeed<'de> for SkipKey {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_str(Skip)
    }
}

/// Reads an object key as a [`Text`]: a range of the line, or of the
/// buffer when it has escapes.
struct KeySeed<'p> {
    parsed: &'p mut Parsed,
    line: &'p str,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Text;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Text, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text, E> {
        Ok(line_range(self.line, v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Text, E> {
        Ok(self.parsed.buffer(v))
    }
}

/// A node of a [`Parsed`] line: the [`Node`] the fast path's matchers read.
#[derive(Debug, Clone, Copy)]
pub struct Projected<'d> {
    parsed: &'d Parsed,
    line: &'d str,
    slot: u32,
}

impl<'d> Projected<'d> {
    fn slot(self) -> &'d Slot {
        // Slots are only created by the parse, and `slot` always names one.
        &self.parsed.slots[self.slot as usize]
    }

    fn at(self, slot: u32) -> Projected<'d> {
        Projected { slot, ..self }
    }

    fn children(self) -> impl Iterator<Item = Projected<'d>> {
        let mut next = match self.slot().payload {
            Payload::Array | Payload::Object => self.slot().first_child,
            _ => NONE,
        };
        std::iter::from_fn(move || {
            if next == NONE {
                return None;
            }
            let current = self.at(next);
            next = current.slot().next_sibling;
            Some(current)
        })
    }

    /// Whether the member's key is exactly `key` (lengths compared first).
    fn key_is(self, key: &str) -> bool {
        self.key_bytes().is_some_and(|name| name == key.as_bytes())
    }

    /// Whether the member's key equals `key` ignoring case, as Python's
    /// `str.lower()` compares (`key_ascii`: whether `key` is ASCII).
    fn key_is_ignoring_case(self, key: &str, key_ascii: bool) -> bool {
        let Some(name) = self.key_bytes() else {
            return false;
        };
        if name.len() == key.len() && name.eq_ignore_ascii_case(key.as_bytes()) {
            return true;
        }
        if key_ascii && self.slot().key_ascii {
            return false;
        }
        self.key().is_some_and(|name| eq_ignore_case(name, key))
    }

    fn key(self) -> Option<&'d str> {
        self.slot()
            .key
            .map(|key| self.parsed.resolve(self.line, key))
    }

    /// The key's bytes, without checking character boundaries.
    fn key_bytes(self) -> Option<&'d [u8]> {
        let (start, end, text) = match self.slot().key? {
            Text::Line(start, end) => (start, end, self.line),
            Text::Buffer(start, end) => (start, end, self.parsed.text.as_str()),
            Text::Escaped(_) => return self.key().map(str::as_bytes),
        };
        text.as_bytes().get(start as usize..end as usize)
    }

    /// Where the parse remembers what `path` found, when this node is the
    /// root (paths are remembered from the root only, what generated code
    /// reads) and the path had its id before this parse.
    #[inline(always)]
    fn remembered(self, path: &KeyPath) -> Option<&'d Cell<u64>> {
        if self.slot != 0 {
            return None;
        }
        self.parsed.found.get(path.id() as usize)
    }

    /// This parse's generation, in the high half of a remembered entry.
    #[inline(always)]
    fn generation_bits(self) -> u64 {
        u64::from(self.parsed.generation) << 32
    }

    /// Where the parse remembers a computed field, when this node is the
    /// root and the field had its id before this parse.
    #[inline(always)]
    fn remembered_field(self, key: &FieldKey) -> Option<&'d Cell<HeldField>> {
        if self.slot != 0 {
            return None;
        }
        self.parsed.fields.get(key.id() as usize)
    }

    /// `value` without its borrows, when it is part of this parse.
    fn hold(self, value: &Val<'d, Self>) -> Held {
        match value {
            Val::Missing => Held::Missing,
            Val::Node(node)
                if std::ptr::eq(node.parsed, self.parsed) && std::ptr::eq(node.line, self.line) =>
            {
                Held::Node(node.slot)
            }
            // An empty text, borrowed or built (a join of nothing).
            Val::Str(text) if text.is_empty() => Held::Empty,
            Val::Str(Cow::Borrowed(text)) => {
                if let Some((start, end)) = range_in(self.line, text) {
                    Held::Line(start, end)
                } else if let Some((start, end)) = range_in(&self.parsed.text, text) {
                    Held::Buffer(start, end)
                } else {
                    Held::Nothing
                }
            }
            _ => Held::Nothing,
        }
    }

    /// The value [`Projected::hold`] made `held`, when it held one.
    #[inline]
    fn recall(self, held: Held) -> Option<Val<'d, Self>> {
        Some(match held {
            Held::Nothing => return None,
            Held::Missing => Val::Missing,
            Held::Node(slot) => Val::Node(self.at(slot)),
            Held::Line(start, end) => {
                Val::Str(Cow::Borrowed(self.line.get(start as usize..end as usize)?))
            }
            Held::Buffer(start, end) => Val::Str(Cow::Borrowed(
                self.parsed.text.get(start as usize..end as usize)?,
            )),
            Held::Empty => Val::Str(Cow::Borrowed("")),
        })
    }

    /// Walks `path` and remembers what it found, for the next reads of this
    /// line.
    #[inline(never)]
    fn walk_and_remember(self, path: &KeyPath) -> Option<Self> {
        let found = path.walk(self);
        if let Some(entry) = self.remembered(path) {
            let slot = found.map_or(NONE, |node| node.slot);
            entry.set(self.generation_bits() | u64::from(slot));
        }
        found
    }
}

impl<'d> Node<'d> for Projected<'d> {
    fn kind(self) -> Kind {
        match self.slot().payload {
            Payload::Null => Kind::Null,
            Payload::Bool(_) => Kind::Bool,
            Payload::Number(_) => Kind::Number,
            Payload::String(_) => Kind::String,
            Payload::Array => Kind::Array,
            Payload::Object => Kind::Object,
        }
    }

    fn as_str(self) -> Option<&'d str> {
        match self.slot().payload {
            Payload::String(text) => Some(self.parsed.resolve(self.line, text)),
            _ => None,
        }
    }

    fn as_bool(self) -> Option<bool> {
        match self.slot().payload {
            Payload::Bool(b) => Some(b),
            _ => None,
        }
    }

    fn as_number(self) -> Option<Number> {
        match self.slot().payload {
            Payload::Number(n) => Some(n),
            _ => None,
        }
    }

    fn get(self, key: &str) -> Option<Self> {
        if !matches!(self.slot().payload, Payload::Object) {
            return None;
        }
        // A loop over the sibling links (`NONE` is past the end of `slots`).
        let slots = &self.parsed.slots;
        let mut at = self.slot().first_child;
        while let Some(member) = slots.get(at as usize) {
            if key_len(member) == key.len() && self.at(at).key_is(key) {
                return Some(self.at(at));
            }
            at = member.next_sibling;
        }
        None
    }

    fn get_ci(self, key: &str) -> Option<Self> {
        if !matches!(self.slot().payload, Payload::Object) {
            return None;
        }
        // One pass: the exact key wins; else the first equal ignoring case.
        let key_ascii = key.is_ascii();
        let slots = &self.parsed.slots;
        let mut first_ignoring_case = None;
        let mut at = self.slot().first_child;
        while let Some(member) = slots.get(at as usize) {
            // ASCII keys of other lengths differ ignoring case too.
            if key_len(member) == key.len() || !(key_ascii && member.key_ascii) {
                let candidate = self.at(at);
                if candidate.key_is(key) {
                    return Some(candidate);
                }
                if first_ignoring_case.is_none() && candidate.key_is_ignoring_case(key, key_ascii) {
                    first_ignoring_case = Some(candidate);
                }
            }
            at = member.next_sibling;
        }
        first_ignoring_case
    }

    /// Inlined into the matchers: a field computed already for this line
    /// costs a table look-up.
    #[inline]
    fn remember_field(
        self,
        key: &FieldKey,
        compute: impl FnOnce() -> Result<Val<'d, Self>, crate::RuleError>,
    ) -> Result<Val<'d, Self>, crate::RuleError> {
        let Some(entry) = self.remembered_field(key) else {
            return compute();
        };
        let held = entry.get();
        if held.generation == self.parsed.generation {
            if let Some(value) = self.recall(held.value) {
                return Ok(value);
            }
        }
        let value = compute()?;
        entry.set(HeldField {
            generation: self.parsed.generation,
            value: self.hold(&value),
        });
        Ok(value)
    }

    /// Inlined into the matchers: a path found already for this line costs
    /// a table look-up; the walk is `Projected::walk_and_remember`.
    #[inline]
    fn lookup(self, path: &KeyPath) -> Option<Self> {
        if let Some(entry) = self.remembered(path) {
            let remembered = entry.get();
            if remembered & !u64::from(u32::MAX) == self.generation_bits() {
                let slot = remembered as u32;
                return (slot != NONE).then(|| self.at(slot));
            }
            // A path the scanner fills in, and did not: nothing there.
            if self.parsed.filled_in(path.id()) {
                return None;
            }
        }
        self.walk_and_remember(path)
    }

    fn index(self, index: usize) -> Option<Self> {
        if !matches!(self.slot().payload, Payload::Array) {
            return None;
        }
        self.children().nth(index)
    }

    fn len(self) -> usize {
        match self.slot().payload {
            Payload::Array | Payload::Object => self.slot().len as usize,
            _ => 0,
        }
    }

    fn elements(self) -> impl Iterator<Item = Self> {
        let array = matches!(self.slot().payload, Payload::Array);
        self.children().filter(move |_| array)
    }

    fn members(self) -> impl Iterator<Item = (&'d str, Self)> {
        let object = matches!(self.slot().payload, Payload::Object);
        self.children()
            .filter(move |_| object)
            .map(|member| (member.key().unwrap_or(""), member))
    }

    fn decoded_document(self) -> Option<Option<Projected<'d>>> {
        let cell = self.parsed.documents.get(self.slot as usize)?;
        let document = cell.get_or_init(|| {
            self.parsed.documents_set.borrow_mut().push(self.slot);
            let text = match self.slot().payload {
                Payload::String(text) => text,
                _ => return None,
            };
            let mut document = self.parsed.spare.borrow_mut().pop().unwrap_or_default();
            let projection = self
                .parsed
                .document_projection
                .as_deref()
                .unwrap_or_else(|| everything());
            // A string with escapes (AKS's log always has some) is parsed
            // from the line as written, when it is written plainly enough,
            // instead of decoded, then parsed.
            let in_line = match text {
                Text::Escaped(index) => {
                    self.parsed.escaped_range(index).and_then(|(start, end)| {
                        document.decode_in_line(self.line, start, end, projection)
                    })
                }
                Text::Line(..) | Text::Buffer(..) => None,
            };
            let truthy = match in_line {
                Some(truthy) => truthy,
                None => document.decode_with(self.parsed.resolve(self.line, text), projection),
            };
            if truthy {
                Some(document)
            } else {
                self.parsed.spare.borrow_mut().push(document);
                None
            }
        });
        Some(
            document
                .as_ref()
                .map(|document| document.root_in(self.line)),
        )
    }

    fn to_json(self) -> serde_json::Value {
        use serde_json::Value;
        match self.slot().payload {
            Payload::Null => Value::Null,
            Payload::Bool(b) => Value::Bool(b),
            Payload::Number(Number::Int(i)) => Value::from(i),
            Payload::Number(Number::UInt(u)) => Value::from(u),
            Payload::Number(Number::Float(f)) => {
                serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
            }
            Payload::String(text) => Value::String(self.parsed.resolve(self.line, text).to_owned()),
            // Sized up front: the children's iterator cannot say its length.
            Payload::Array => {
                let mut elements = Vec::with_capacity(self.len());
                elements.extend(self.children().map(Node::to_json));
                Value::Array(elements)
            }
            Payload::Object => {
                let mut members = serde_json::Map::with_capacity(self.len());
                for (key, value) in self.members() {
                    members.insert(key.to_owned(), value.to_json());
                }
                Value::Object(members)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse_with(line: &str, paths: &[&[&str]]) -> (Parsed, Value) {
        let projection = Projection::new(paths.iter().copied());
        let mut parsed = Parsed::new();
        parsed.parse(line, &projection).expect("valid JSON");
        let json = parsed.root(line).to_json();
        (parsed, json)
    }

    /// What the scanner filled in for `path` in this parse: the slot it
    /// found, `Some(NONE)` for nothing there, `None` when it is left to a
    /// walk.
    fn filled_in(parsed: &Parsed, path: &KeyPath) -> Option<u32> {
        let entry = parsed.found.get(path.id() as usize)?.get();
        if entry >> 32 == u64::from(parsed.generation) {
            Some(entry as u32)
        } else {
            parsed.filled_in(path.id()).then_some(NONE)
        }
    }

    #[test]
    fn the_scanner_fills_in_its_paths_and_leaves_doubtful_ones_to_walks() {
        static USERNAME: KeyPath = KeyPath::exact(&["user", "username"]);
        static USERNAME_CI: KeyPath = KeyPath::ignoring_case(&["user", "username"]);
        static VERB: KeyPath = KeyPath::exact(&["verb"]);
        static VERB_CI: KeyPath = KeyPath::ignoring_case(&["verb"]);
        static OTHER: KeyPath = KeyPath::exact(&["other"]);
        let projection = Projection::new([&["user", "username"][..], &["verb"]]);
        let mut parsed = Parsed::new();
        let slot_of = |parsed: &Parsed, line: &str, path: &KeyPath| {
            path.walk(parsed.root(line)).map(|node| node.slot)
        };

        // Found, absent, and a path outside the projection.
        let line = r#"{"p_log_type":"T","user":{"username":"u"}}"#;
        parsed.parse(line, &projection).expect("valid JSON");
        let username = slot_of(&parsed, line, &USERNAME);
        assert!(username.is_some());
        assert_eq!(filled_in(&parsed, &USERNAME), username);
        assert_eq!(filled_in(&parsed, &USERNAME_CI), username);
        assert_eq!(filled_in(&parsed, &VERB), Some(NONE));
        assert_eq!(filled_in(&parsed, &VERB_CI), Some(NONE));
        assert_eq!(filled_in(&parsed, &OTHER), None);

        // A key spelled otherwise: the exact path finds nothing, the one
        // ignoring case is walked.
        let line = r#"{"p_log_type":"T","VERB":"get"}"#;
        parsed.parse(line, &projection).expect("valid JSON");
        assert_eq!(filled_in(&parsed, &VERB), Some(NONE));
        assert_eq!(filled_in(&parsed, &VERB_CI), None);
        assert!(parsed.root(line).lookup(&VERB_CI).is_some());

        // A repeated key: everything is walked.
        let line = r#"{"p_log_type":"T","user":{"username":"u"},"user":{}}"#;
        parsed.parse(line, &projection).expect("valid JSON");
        assert_eq!(filled_in(&parsed, &USERNAME), None);
        assert_eq!(filled_in(&parsed, &VERB), None);
        assert!(parsed.root(line).lookup(&USERNAME).is_none());

        // Through an array: not filled in (a walk does not go through one).
        let line = r#"{"p_log_type":"T","user":[{"username":"u"}]}"#;
        parsed.parse(line, &projection).expect("valid JSON");
        assert_eq!(filled_in(&parsed, &USERNAME), Some(NONE));
        assert!(parsed.root(line).lookup(&USERNAME).is_none());

        // Parsed by serde_json: walked.
        parsed
            .parse_with_serde(r#"{"p_log_type":"T"}"#, &projection)
            .expect("valid JSON");
        assert_eq!(filled_in(&parsed, &VERB), None);
    }

    #[test]
    fn computed_fields_are_computed_once_per_parse_and_not_across_lines() {
        static VERB: FieldKey = FieldKey::new("test/verb");
        static STATUS: FieldKey = FieldKey::new("test/status");
        static EMPTY: FieldKey = FieldKey::new("test/empty");
        static MISSING: FieldKey = FieldKey::new("test/missing");
        static OWNED: FieldKey = FieldKey::new("test/owned");
        static FAILING: FieldKey = FieldKey::new("test/failing");
        // Generated code's keys have their ids from the first event on.
        for key in [&VERB, &STATUS, &EMPTY, &MISSING, &OWNED, &FAILING] {
            key.id();
        }
        let projection = Projection::new([&["methodName"][..], &["status"]]);
        let mut parsed = Parsed::new();
        let calls = Cell::new(0);
        // Reads `key` twice, counting computations, and gives the value as JSON.
        let read_twice = |root: Projected<'_>,
                          key: &FieldKey,
                          value: &dyn Fn(
            Projected<'_>,
        )
            -> Result<serde_json::Value, crate::RuleError>| {
            calls.set(0);
            let mut seen = Vec::new();
            for _ in 0..2 {
                let got = root.remember_field(key, || {
                    calls.set(calls.get() + 1);
                    match key.name() {
                        "test/verb" => Ok(root
                            .get("methodName")
                            .and_then(Node::as_str)
                            .and_then(|m| m.rsplit('.').next())
                            .map_or(Val::Missing, |verb| Val::Str(Cow::Borrowed(verb)))),
                        "test/status" => Ok(Val::from_node(root.get("status"))),
                        "test/empty" => Ok(Val::Str(Cow::Borrowed(""))),
                        "test/missing" => Ok(Val::Missing),
                        "test/owned" => Ok(Val::Str(Cow::Owned(String::from("computed")))),
                        _ => Err(crate::RuleError::new("raised")),
                    }
                });
                seen.push(got.map(|v| v.to_json()));
            }
            assert_eq!(seen[0], seen[1], "{}", key.name());
            assert_eq!(seen[0], value(root), "{}", key.name());
            calls.get()
        };
        let first = r#"{"methodName": "io.k8s.core.v1.secrets.get", "status": {"code": 403}}"#;
        parsed.parse(first, &projection).expect("valid JSON");
        let root = parsed.root(first);
        assert_eq!(read_twice(root, &VERB, &|_| Ok(json!("get"))), 1);
        assert_eq!(read_twice(root, &STATUS, &|_| Ok(json!({"code": 403}))), 1);
        assert_eq!(read_twice(root, &EMPTY, &|_| Ok(json!(""))), 1);
        assert_eq!(read_twice(root, &MISSING, &|_| Ok(Value::Null)), 1);
        // What is not part of the parse, and errors, are computed each time.
        assert_eq!(read_twice(root, &OWNED, &|_| Ok(json!("computed"))), 2);
        let raised = |_: Projected<'_>| Err(crate::RuleError::new("raised"));
        assert_eq!(read_twice(root, &FAILING, &raised), 2);
        // Below the root nothing is remembered.
        let status = root.get("status").expect("kept");
        assert_eq!(read_twice(status, &STATUS, &|_| Ok(Value::Null)), 2);
        // The next line computes its own.
        let second = r#"{"methodName": "io.k8s.core.v1.secrets.list", "status": null}"#;
        parsed.parse(second, &projection).expect("valid JSON");
        let root = parsed.root(second);
        assert_eq!(read_twice(root, &VERB, &|_| Ok(json!("list"))), 1);
        assert_eq!(read_twice(root, &STATUS, &|_| Ok(Value::Null)), 1);
    }

    #[test]
    fn everything_round_trips_like_serde_json() {
        let line = r#"{"a": [1, -2, 3.5, 18446744073709551615, true, null, "x\"y"], "b": {"c": {}, "d": []}, "é\n": "ü"}"#;
        let projection = Projection::everything();
        let mut parsed = Parsed::new();
        parsed.parse(line, &projection).expect("valid JSON");
        let full: Value = serde_json::from_str(line).expect("valid JSON");
        assert_eq!(parsed.root(line).to_json(), full);
    }

    #[test]
    fn only_named_paths_are_kept_and_ends_are_whole() {
        let line = r#"{"p_log_type": "T", "verb": "get", "user": {"username": "u", "groups": ["g"]}, "objectRef": {"resource": "secrets", "x": 1}, "big": {"a": [1, 2]}}"#;
        let (parsed, json) = parse_with(line, &[&["verb"], &["objectRef", "resource"], &["user"]]);
        assert_eq!(
            json,
            json!({"p_log_type": "T", "verb": "get", "user": {"username": "u", "groups": ["g"]}, "objectRef": {"resource": "secrets"}})
        );
        // Lengths count every member, so emptiness is exact.
        let root = parsed.root(line);
        assert_eq!(root.len(), 5);
        assert_eq!(root.get("objectRef").map(Node::len), Some(2));
    }

    #[test]
    fn many_keys_are_found_through_the_table_and_others_are_not() {
        // Keys of Kubernetes and GCP audit events, found through the root
        // trie's table.
        let keys = [
            "kind",
            "apiVersion",
            "level",
            "auditID",
            "stage",
            "requestURI",
            "verb",
            "user",
            "sourceIPs",
            "userAgent",
            "objectRef",
            "responseStatus",
            "requestObject",
            "responseObject",
            "requestReceivedTimestamp",
            "stageTimestamp",
            "annotations",
            "impersonatedUser",
            "protoPayload",
            "resource",
            "logName",
            "severity",
            "p_log_type",
            "p_source_label",
            "properties",
        ];
        let paths: Vec<Vec<&str>> = keys.iter().map(|key| vec![*key]).collect();
        let projection = Projection::new(paths.iter().map(Vec::as_slice));
        assert!(projection.tries[0].hashed);
        for key in &keys {
            let upper = key.to_ascii_uppercase();
            assert!(projection.child(0, key, true).is_some(), "{key}");
            assert!(projection.child(0, &upper, true).is_some(), "{upper}");
            let longer = format!("{key}s");
            assert_eq!(projection.child(0, &longer, true), None, "{longer}");
        }
        assert_eq!(projection.child(0, "field7Nome", true), None);
        assert_eq!(projection.child(0, "", true), None);
    }

    #[test]
    fn a_case_insensitive_get_prefers_the_exact_key_then_the_first() {
        let line = r#"{"VERB": "a", "Verb": "b", "verb": "c", "NAME": "d", "Name": "e"}"#;
        let (parsed, _) = parse_with(line, &[&["verb"], &["name"]]);
        let root = parsed.root(line);
        let found = |key: &str| root.get_ci(key).and_then(Node::as_str);
        assert_eq!(found("verb"), Some("c"));
        assert_eq!(found("Verb"), Some("b"));
        assert_eq!(found("vERB"), Some("a"));
        assert_eq!(found("name"), Some("d"));
        assert_eq!(found("Name"), Some("e"));
        assert_eq!(found("names"), None);
    }

    #[test]
    fn keys_sharing_a_hash_are_searched_instead() {
        // Same length, and the same first, middle and last letters: the
        // same hash at every table size.
        let projection = Projection::new([&["aXbYc"][..], &["aZbWc"][..]]);
        assert!(!projection.tries[0].hashed);
        assert!(projection.child(0, "axbyc", true).is_some());
        assert!(projection.child(0, "AZBWC", true).is_some());
        assert_eq!(projection.child(0, "aQbRc", true), None);
        let line = r#"{"aXbYc": 1, "aQbRc": 2, "AZBWC": 3}"#;
        let (_, json) = parse_with(line, &[&["aXbYc"], &["aZbWc"]]);
        assert_eq!(json, json!({"aXbYc": 1, "AZBWC": 3}));
    }

    #[test]
    fn keys_are_kept_ignoring_case_and_arrays_are_transparent() {
        let line = r#"{"ObjectRef": {"Resource": "a"}, "objectref": {"resource": "b"}, "items": [{"id": 1, "x": 2}, {"id": 3}]}"#;
        let (parsed, json) = parse_with(line, &[&["objectRef", "resource"], &["items", "id"]]);
        assert_eq!(
            json,
            json!({"ObjectRef": {"Resource": "a"}, "objectref": {"resource": "b"}, "items": [{"id": 1}, {"id": 3}]})
        );
        let root = parsed.root(line);
        let found = root.get_ci("objectRef").and_then(|o| o.get_ci("resource"));
        assert_eq!(found.and_then(Node::as_str), Some("a"));
    }

    #[test]
    fn repeated_keys_replace_in_place_like_serde_json() {
        let line = r#"{"Verb": "a", "verb": "b", "Verb": "c", "p_log_type": "T"}"#;
        let (parsed, json) = parse_with(line, &[&["verb"]]);
        let full: Value = serde_json::from_str(line).expect("valid JSON");
        assert_eq!(json, full);
        assert_eq!(
            parsed.root(line).get_ci("VERB").and_then(Node::as_str),
            Some("c")
        );
    }

    #[test]
    fn non_ascii_keys_that_lowercase_to_a_path_key_are_kept() {
        // U+212A KELVIN SIGN lowercases to ASCII `k`: a 3-byte key equal,
        // ignoring case, to a 1-byte one, so lengths must not refuse it.
        let line = "{\"\u{212A}ind\": 1, \"kinds\": 2, \"p_log_type\": \"T\"}";
        let (parsed, json) = parse_with(line, &[&["kind"]]);
        assert_eq!(json, json!({"\u{212A}ind": 1, "p_log_type": "T"}));
        assert_eq!(
            parsed.root(line).get_ci("kind").and_then(Node::as_number),
            Some(Number::Int(1))
        );
        let (_, json) = parse_with(
            r#"{"kind": 1, "KIND": 2, "p_log_type": "T"}"#,
            &[&["\u{212A}ind"]],
        );
        assert_eq!(json, json!({"kind": 1, "KIND": 2, "p_log_type": "T"}));
        // The same in a key long enough to be scanned sixteen bytes at a
        // time, and with the Kelvin sign past the first sixteen.
        let line = "{\"\u{212A}ubernetesClusterName\": 1, \"kubernetesClusterNam\u{212A}\": 2}";
        let (_, json) = parse_with(
            line,
            &[&["kubernetesClusterName"], &["kubernetesClusterNamk"]],
        );
        assert_eq!(
            json,
            json!({"\u{212A}ubernetesClusterName": 1, "kubernetesClusterNam\u{212A}": 2})
        );
        // And with a long value after the key, the Kelvin sign in the
        // key's second sixteen bytes.
        let line = "{\"kubernetesClusterNam\u{212A}\": \"a value long enough to fill the window\"}";
        let (_, json) = parse_with(line, &[&["kubernetesClusterNamk"]]);
        assert_eq!(
            json,
            json!({"kubernetesClusterNam\u{212A}": "a value long enough to fill the window"})
        );
    }

    #[test]
    fn escaped_strings_and_keys_are_decoded() {
        let line = r#"{"v\u0065rb": "g\u00e9t", "p_log_type": "T"}"#;
        let (parsed, _) = parse_with(line, &[&["verb"]]);
        assert_eq!(
            parsed.root(line).get("verb").and_then(Node::as_str),
            Some("gét")
        );
    }

    #[test]
    fn a_line_fails_exactly_when_a_full_parse_fails() {
        let projection = Projection::new([]);
        let mut parsed = Parsed::new();
        let deep = format!("{{\"skipped\": {}{}}}", "[".repeat(200), "]".repeat(200));
        let lines = [
            "{\"a\": 1",
            "{\"a\": 1} x",
            "{\"a\": [1,]}",
            "{\"a\": {\"b\": 1,}}",
            "nope",
            "{\"a\": \"\\ud800\"}",
            "{\"a\": 1e999}",
            "{\"a\": NaN}",
            "{\"a\": \"\\x\"}",
            deep.as_str(),
            "{\"a\": [1, {\"b\": [true, null, \"\\u00e9\"]}], \"c\": -0.0}",
            " {} ",
        ];
        for line in lines {
            let ours = parsed.parse(line, &projection).map_err(|e| e.to_string());
            let theirs = serde_json::from_str::<Value>(line).map_err(|e| e.to_string());
            assert_eq!(ours.err(), theirs.err(), "{line}");
        }
    }

    #[test]
    fn remembered_paths_answer_for_the_line_parsed_last() {
        static VERB: KeyPath = KeyPath::ignoring_case(&["verb"]);
        static RESOURCE: KeyPath = KeyPath::exact(&["objectRef", "resource"]);
        let projection = Projection::new([&["verb"][..], &["objectRef"][..]]);
        let mut parsed = Parsed::new();
        let first = r#"{"Verb": "get", "objectRef": {"resource": "secrets"}}"#;
        // The ids exist before the parse sizes its table, and after.
        VERB.id();
        parsed.parse(first, &projection).expect("valid JSON");
        let root = parsed.root(first);
        for _ in 0..2 {
            assert_eq!(root.lookup(&VERB).and_then(Node::as_str), Some("get"));
            let resource = root.lookup(&RESOURCE).and_then(Node::as_str);
            assert_eq!(resource, Some("secrets"));
        }
        let second = r#"{"verb": "list", "objectRef": {"Resource": "pods"}}"#;
        parsed.parse(second, &projection).expect("valid JSON");
        let root = parsed.root(second);
        for _ in 0..2 {
            assert_eq!(root.lookup(&VERB).and_then(Node::as_str), Some("list"));
            // Exact keys: `Resource` is not `resource`.
            assert!(root.lookup(&RESOURCE).is_none());
        }
        // From a node below the root the walk is not remembered.
        static INNER: KeyPath = KeyPath::ignoring_case(&["resource"]);
        let object_ref = root.get("objectRef").expect("kept");
        assert_eq!(
            object_ref.lookup(&INNER).and_then(Node::as_str),
            Some("pods")
        );
        assert!(root.lookup(&INNER).is_none());
    }

    /// The document in `line`'s `log` string, as the fast path reads it,
    /// and whether it was parsed from the line as written.
    fn embedded(line: &str, document_paths: &[&[&str]]) -> (Option<Value>, bool) {
        let projection =
            Projection::new([&["log"][..]]).with_documents(document_paths.iter().copied());
        let mut parsed = Parsed::new();
        parsed.parse(line, &projection).expect("valid JSON");
        let root = parsed.root(line);
        let log = root.get("log").expect("kept");
        let document = log.decoded_document().flatten().map(Projected::to_json);
        let in_line = parsed
            .documents
            .iter()
            .filter_map(|cell| cell.get())
            .flatten()
            .any(|document| document.in_line);
        (document, in_line)
    }

    #[test]
    fn documents_are_parsed_from_the_escaped_string_they_are_written_in() {
        let document = r#"{"verb":"get","user":{"username":"a\"b\\c\nd\u00e9\/e"},"n":[1,-2.5,true,null],"s":"x"}"#;
        let line = json!({"p_log_type": "T", "log": document}).to_string();
        let (parsed, in_line) = embedded(&line, &[&["verb"], &["user"], &["n"]]);
        assert!(in_line, "{line}");
        assert_eq!(
            parsed,
            Some(
                json!({"verb": "get", "user": {"username": "a\"b\\c\nd\u{e9}/e"}, "n": [1, -2.5, true, null]})
            )
        );
        // Strings without escapes of their own are ranges of the line.
        let projection = Projection::new([&["log"][..]]).with_documents([&["verb"][..]]);
        let mut outer = Parsed::new();
        outer.parse(&line, &projection).expect("valid JSON");
        let verb = outer
            .root(&line)
            .get("log")
            .and_then(|log| log.decoded_document().flatten())
            .and_then(|document| document.get("verb"))
            .map(|verb| verb.slot().payload);
        assert!(
            matches!(verb, Some(Payload::String(Text::Line(..)))),
            "{verb:?}"
        );
        // A falsy document is no document, as Python's truthiness says.
        let empty = json!({"log": "{}"}).to_string();
        assert_eq!(embedded(&empty, &[]).0, None);
    }

    #[test]
    fn documents_written_otherwise_are_decoded_then_parsed() {
        // Whitespace written as escapes, an escaped `/` or `\u` outside the
        // document's strings, an escaped key: decoded first, same result.
        for line in [
            "{\"log\": \"{\\n\\\"verb\\\": \\\"get\\\"}\"}",
            "{\"log\": \"{\\\"verb\\\": \\\"g\\/et\\\"}\"}",
            "{\"log\": \"{\\\"verb\\\": \\\"g\\u00e9t\\\"}\"}",
            "{\"log\": \"{\\\"v\\\\u0065rb\\\": \\\"get\\\"}\"}",
        ] {
            let (document, in_line) = embedded(line, &[&["verb"]]);
            assert!(!in_line, "{line}");
            let text: Value = serde_json::from_str(line).expect("valid JSON");
            let decoded: Value =
                serde_json::from_str(text["log"].as_str().expect("a string")).expect("a document");
            assert_eq!(document, Some(json!({"verb": decoded["verb"]})), "{line}");
        }
        // Not JSON once decoded: no document, either way.
        assert_eq!(embedded(r#"{"log": "{\"verb\": }"}"#, &[]).0, None);
        assert_eq!(embedded(r#"{"log": "{\"verb\": \"a\\q\"}"}"#, &[]).0, None);
    }
}
