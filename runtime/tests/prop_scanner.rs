//! Differential property tests of the fast path's JSON scanner
//! (`rulec_runtime::scan`): on generated JSON text (any whitespace, escapes
//! of every kind, duplicate and case-variant keys, numbers spelled in every
//! JSON way) and on mutations of it, `Parsed::parse` (the scanner, falling
//! back to `serde_json`) keeps exactly what `Parsed::parse_with_serde` keeps,
//! and refuses exactly the lines it refuses, with the same message. A JSON
//! document written in a string value (AKS's `properties.log`), parsed from
//! the line as written, is the document its decoded text parses to.
//! Key paths looked up on what the scanner parsed (which fills in the
//! paths of its projection as it goes) find what a walk of `serde_json`'s
//! parse finds, exact or ignoring case, duplicate keys or not.

use proptest::prelude::*;
use rulec_runtime::projection::{EmbeddedDocument, Parsed, Projected, Projection};
use rulec_runtime::{KeyPath, Node};

/// A JSON value, rendered to text by [`render`] with the spelling choices
/// a serializer would not make.
#[derive(Debug, Clone)]
enum Json {
    Null,
    Bool(bool),
    /// The number's text, as written.
    Number(String),
    Str(String),
    Array(Vec<Json>),
    /// Members, in order; keys may repeat.
    Object(Vec<(String, Json)>),
}

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        Just("-0".to_owned()),
        Just("0".to_owned()),
        Just("9223372036854775808".to_owned()),
        Just("-9223372036854775809".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("123456789012345678901234567890".to_owned()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        (0u32..1000, 0u32..1000).prop_map(|(a, b)| format!("{a}.{b:03}")),
        (1u32..10, -400i32..400).prop_map(|(a, e)| format!("{a}e{e}")),
        (1u32..10, 0i32..30).prop_map(|(a, e)| format!("-{a}.5E+{e}")),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{0,12}",
        "[ -~]{0,20}",
        // Past the scanner's sixteen-byte runs.
        "[ -~]{16,48}",
        "\\PC{0,8}",
        // Escapes of every kind, control characters, surrogate pairs.
        proptest::collection::vec(
            prop_oneof![
                Just('"'),
                Just('\\'),
                Just('/'),
                Just('\n'),
                Just('\u{1}'),
                Just('\u{1f}'),
                Just('\u{7f}'),
                Just('é'),
                Just('\u{212A}'),
                Just('😀'),
                Just('a'),
            ],
            0..10
        )
        .prop_map(|chars| chars.into_iter().collect()),
        // Long and dense with escapes: runs of backslashes across the
        // scanner's sixty-four-byte blocks.
        proptest::collection::vec(
            prop_oneof![
                3 => Just('a'),
                2 => Just('\\'),
                2 => Just('"'),
                1 => Just('/'),
                1 => Just('\n'),
                1 => Just('é'),
                1 => Just('\u{1}'),
            ],
            40..200
        )
        .prop_map(|chars| chars.into_iter().collect()),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("p_log_type".to_owned()),
        Just("verb".to_owned()),
        Just("Verb".to_owned()),
        Just("VERB".to_owned()),
        Just("user".to_owned()),
        Just("username".to_owned()),
        Just("\u{212A}ind".to_owned()),
        Just("kind".to_owned()),
        Just("a".to_owned()),
        text(),
    ]
}

fn json() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        number_text().prop_map(Json::Number),
        text().prop_map(Json::Str),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            proptest::collection::vec((key(), inner), 0..6).prop_map(Json::Object),
        ]
    })
}

/// How to spell the text: whitespace and escapes.
#[derive(Debug, Clone, Copy)]
struct Style {
    /// Whitespace between tokens, from ` \t\n\r`, by a seed.
    spaces: u8,
    /// Escape every non-ASCII character (and some ASCII) as `\uXXXX`.
    escape_all: bool,
    /// Escape `/` as `\/`.
    escape_slash: bool,
    /// Whitespace between tokens is spaces only (a document written in a
    /// string then needs no escape for it).
    only_spaces: bool,
}

fn style() -> impl Strategy<Value = Style> {
    (any::<u8>(), any::<bool>(), any::<bool>()).prop_map(|(spaces, escape_all, escape_slash)| {
        Style {
            spaces,
            escape_all,
            escape_slash,
            only_spaces: false,
        }
    })
}

/// Mostly the spellings that a document written in a string is parsed from
/// as written: whitespace of spaces only, and no escapes beyond those
/// needed (a string written otherwise is decoded first).
fn embedded_style() -> impl Strategy<Value = Style> {
    prop_oneof![
        3 => (any::<u8>(), any::<bool>(), any::<bool>()).prop_map(|(spaces, escape_all, escape_slash)| Style {
            spaces,
            escape_all,
            escape_slash,
            only_spaces: true,
        }),
        1 => style(),
    ]
}

/// Mostly the plain spelling of the string holding a document.
fn outer_style() -> impl Strategy<Value = Style> {
    prop_oneof![
        3 => Just(Style { spaces: 0, escape_all: false, escape_slash: false, only_spaces: false }),
        1 => style(),
    ]
}

fn space(out: &mut String, style: Style, at: usize) {
    if style.spaces % 3 == 0 {
        return;
    }
    if style.only_spaces {
        out.push(' ');
        return;
    }
    let chars = [" ", "\t", "\n", "\r", "  "];
    out.push_str(chars[(usize::from(style.spaces) + at) % chars.len()]);
}

fn render_str(out: &mut String, s: &str, style: Style) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' if style.escape_slash => out.push_str("\\/"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if style.escape_all && (!c.is_ascii() || c == 'e') => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn render(out: &mut String, value: &Json, style: Style) {
    space(out, style, out.len());
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(n),
        Json::Str(s) => render_str(out, s, style),
        Json::Array(elements) => {
            out.push('[');
            for (i, element) in elements.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                render(out, element, style);
            }
            space(out, style, out.len());
            out.push(']');
        }
        Json::Object(members) => {
            out.push('{');
            for (i, (key, element)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                space(out, style, out.len());
                render_str(out, key, style);
                space(out, style, out.len());
                out.push(':');
                render(out, element, style);
            }
            space(out, style, out.len());
            out.push('}');
        }
    }
    space(out, style, out.len());
}

fn projections() -> Vec<Projection> {
    vec![
        Projection::everything(),
        Projection::new([]),
        Projection::new([&["verb"][..], &["user", "username"], &["a"], &["kind"]]),
        Projection::new([&["user"][..], &["a", "a"]]),
    ]
}

/// Paths of the projections above and around them: exact and ignoring
/// case, spelled as the projections spell them and otherwise, shorter and
/// longer, and below a member kept whole.
static PATHS: [KeyPath; 22] = [
    KeyPath::exact(&["p_log_type"]),
    KeyPath::exact(&["verb"]),
    KeyPath::ignoring_case(&["verb"]),
    KeyPath::exact(&["Verb"]),
    KeyPath::ignoring_case(&["VERB"]),
    KeyPath::exact(&["user"]),
    KeyPath::ignoring_case(&["user"]),
    KeyPath::exact(&["user", "username"]),
    KeyPath::ignoring_case(&["user", "username"]),
    KeyPath::ignoring_case(&["User", "UserName"]),
    KeyPath::exact(&["user", "username", "a"]),
    KeyPath::exact(&["a"]),
    KeyPath::ignoring_case(&["a"]),
    KeyPath::exact(&["a", "a"]),
    KeyPath::ignoring_case(&["A", "a"]),
    KeyPath::exact(&["a", "a", "a"]),
    KeyPath::exact(&["kind"]),
    KeyPath::ignoring_case(&["kind"]),
    KeyPath::ignoring_case(&["KIND"]),
    KeyPath::exact(&["\u{212A}ind"]),
    KeyPath::exact(&["username"]),
    KeyPath::ignoring_case(&["a", "verb"]),
];

/// Every path of [`PATHS`] finds the same on both trees: `ours` looked up
/// (the scanner's fill-in, or a walk remembered), `theirs` walked.
fn same_lookups(ours: Projected<'_>, theirs: Projected<'_>) -> Result<(), String> {
    for path in &PATHS {
        // Twice: the first look-up may remember a walk for the second.
        for _ in 0..2 {
            let found = ours.lookup(path).map(Node::to_json);
            let walked = path.walk(theirs).map(Node::to_json);
            if found != walked {
                return Err(format!(
                    "{:?}: looked up {found:?}, walked {walked:?}",
                    path.keys()
                ));
            }
        }
    }
    Ok(())
}

/// Both trees hold the same values and the same lengths everywhere.
fn same(ours: Projected<'_>, theirs: Projected<'_>) -> Result<(), String> {
    if ours.to_json() != theirs.to_json() {
        return Err(format!("{} != {}", ours.to_json(), theirs.to_json()));
    }
    if ours.len() != theirs.len() {
        return Err(format!("len {} != {}", ours.len(), theirs.len()));
    }
    for (a, b) in ours.elements().zip(theirs.elements()) {
        same(a, b)?;
    }
    for ((ka, a), (kb, b)) in ours.members().zip(theirs.members()) {
        if ka != kb {
            return Err(format!("key {ka:?} != {kb:?}"));
        }
        same(a, b)?;
    }
    Ok(())
}

fn check(line: &str) -> Result<(), TestCaseError> {
    for projection in projections() {
        let mut ours = Parsed::new();
        let mut theirs = Parsed::new();
        let a = ours.parse(line, &projection).map_err(|e| e.to_string());
        let b = theirs
            .parse_with_serde(line, &projection)
            .map_err(|e| e.to_string());
        prop_assert_eq!(&a, &b, "{}", line);
        if a.is_ok() {
            let result = same(ours.root(line), theirs.root(line));
            prop_assert!(result.is_ok(), "{line}: {result:?}");
            let result = same_lookups(ours.root(line), theirs.root(line));
            prop_assert!(result.is_ok(), "{line}: {result:?}");
        }
    }
    Ok(())
}

/// Drops the character of `text` at `cut` (if any) and puts `insert` there.
fn mutate(text: &mut String, cut: prop::sample::Index, insert: &str) {
    let mut at = cut.index(text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
    text.replace_range(at..end, insert);
}

/// The key paths kept of embedded documents: `None` keeps everything.
fn document_paths() -> Vec<Option<Vec<&'static [&'static str]>>> {
    vec![
        None,
        Some(vec![]),
        Some(vec![
            &["verb"][..],
            &["user", "username"],
            &["a"],
            &["kind"],
        ]),
        Some(vec![&["user"][..], &["a", "a"]]),
    ]
}

/// `document` written in the string value `log` of a line (in `style`):
/// the document the fast path parses from it is the one its text decodes
/// to, and it is there exactly when that one is.
fn check_embedded(document: &str, style: Style) -> Result<(), TestCaseError> {
    let mut line = String::from(r#"{"p_log_type":"T","log":"#);
    render_str(&mut line, document, style);
    line.push('}');
    for paths in document_paths() {
        let outer = Projection::new([&["log"][..]]);
        let (outer, inner) = match &paths {
            None => (outer, Projection::everything()),
            Some(paths) => (
                outer.with_documents(paths.iter().copied()),
                Projection::new(paths.iter().copied()),
            ),
        };
        let mut parsed = Parsed::new();
        prop_assert!(parsed.parse(&line, &outer).is_ok(), "{}", line);
        let log = parsed.root(&line).get("log");
        let ours = log.and_then(|log| log.decoded_document()).flatten();
        let mut theirs = EmbeddedDocument::default();
        let truthy = theirs.decode_with(document, &inner);
        prop_assert_eq!(ours.is_some(), truthy, "{}", line);
        if let Some(ours) = ours {
            let result = same(ours, theirs.root());
            prop_assert!(result.is_ok(), "{line}: {result:?}");
            let result = same_lookups(ours, theirs.root());
            prop_assert!(result.is_ok(), "{line}: {result:?}");
        }
    }
    Ok(())
}

/// The document in the string value `log` of a parsed line.
fn document_of<'d>(parsed: &'d Parsed, line: &'d str) -> Option<Projected<'d>> {
    let log = parsed.root(line).get("log");
    log.and_then(|log| log.decoded_document()).flatten()
}

/// A line holding `document` in its string value `log`, then broken (or
/// not) anywhere by `insert` at `cut`, parsed with projections that read
/// documents in strings (whose documents the scanner parses as it finds the
/// string's end): refused exactly when `serde_json` refuses it, and keeping
/// what it keeps, the document included.
fn check_line_with_document(
    document: &str,
    style: Style,
    cut: prop::sample::Index,
    insert: &str,
) -> Result<(), TestCaseError> {
    let mut line = String::from(r#"{"p_log_type":"T","log":"#);
    render_str(&mut line, document, style);
    line.push('}');
    mutate(&mut line, cut, insert);
    check_line_with_document_at(&line)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_line_with_a_document_in_a_string_is_refused_or_kept_as_serde_json_does(
        value in json(),
        style in embedded_style(),
        outer in outer_style(),
        cut in any::<prop::sample::Index>(),
        insert in prop_oneof![
            Just(""), Just(" "), Just(","), Just("\""), Just("\\"), Just("\\\""), Just("}"),
            Just("x"), Just("\u{1}"), Just("\t"), Just("\n"), Just("\\n"), Just("\\u0020"),
        ],
    ) {
        let mut document = String::new();
        // Mostly an object, as audit logs are (the scanner parses a string's
        // document early only when it opens with `{\"`).
        let value = match value {
            Json::Object(_) => value,
            other => Json::Object(vec![
                ("verb".to_owned(), Json::Str("get".to_owned())),
                ("a".to_owned(), other),
            ]),
        };
        render(&mut document, &value, style);
        check_line_with_document(document.trim_start(), outer, cut, insert)?;
    }

    #[test]
    fn the_scanner_keeps_what_serde_json_keeps(value in json(), style in style()) {
        let mut line = String::new();
        render(&mut line, &value, style);
        check(&line)?;
    }

    #[test]
    fn the_scanner_refuses_what_serde_json_refuses(
        value in json(),
        style in style(),
        cut in any::<prop::sample::Index>(),
        insert in prop_oneof![
            Just(""), Just(","), Just("\""), Just("\\"), Just("}"), Just("]"), Just("x"), Just("0"),
            // Control characters, the first and last of them, are refused
            // raw in strings; DEL is not a control character for JSON.
            Just("\u{0}"), Just("\u{1}"), Just("\u{1f}"), Just("\u{7f}"), Just("\t"),
        ],
    ) {
        let mut line = String::new();
        render(&mut line, &value, style);
        mutate(&mut line, cut, insert);
        check(&line)?;
    }

    #[test]
    fn a_document_in_a_string_is_the_one_its_text_decodes_to(
        value in json(),
        style in embedded_style(),
        outer in outer_style(),
    ) {
        let mut document = String::new();
        render(&mut document, &value, style);
        check_embedded(&document, outer)?;
    }

    #[test]
    fn a_broken_document_in_a_string_is_refused_as_its_text_is(
        value in json(),
        style in embedded_style(),
        outer in outer_style(),
        cut in any::<prop::sample::Index>(),
        insert in prop_oneof![
            Just(""), Just(","), Just("\""), Just("\\"), Just("}"), Just("]"), Just("x"),
            Just("\u{1}"), Just("\t"), Just("\n"), Just("\\q"), Just("\\u12"), Just("\\ud800"),
        ],
    ) {
        let mut document = String::new();
        render(&mut document, &value, style);
        mutate(&mut document, cut, insert);
        check_embedded(&document, outer)?;
    }
}

/// Lines whose string value holds a document, written so that the scanner
/// parses it as it scans the string, or almost so: each is refused or
/// kept as `serde_json` does, with the same document.
#[test]
fn documents_in_strings_parsed_early_are_those_of_serde_json() {
    let lines = [
        // Parsed early: spaces between the document's tokens.
        r#"{"log":"{\"verb\": \"get\" , \"a\":[1, true]} "}"#,
        // Raw whitespace other than spaces in a string: not JSON.
        "{\"log\":\"{\\\"verb\\\":\t\\\"get\\\"}\"}",
        "{\"log\":\"{\\\"verb\\\":\n\\\"get\\\"}\"}",
        "{\"log\":\"{\\\"verb\\\":\\\"get\\\"}\r\"}",
        // Whitespace written as an escape: decoded, then parsed.
        r#"{"log":"{\"verb\":\n\"get\"}"}"#,
        // Not a document, or not only one: the string stays a string.
        r#"{"log":"{\"verb\":\"get\"} x"}"#,
        r#"{"log":"{\"verb\":\"get\"}{}"}"#,
        r#"{"log":"{\"verb\"}"}"#,
        // Not JSON: the document is followed by a byte, then by what would
        // follow the string had the byte been its closing quote.
        r#"{"log":"{\"verb\":\"get\"}Q,"p_log_type":"T"}"#,
        // The string does not end: refused.
        r#"{"log":"{\"verb\":\"get\"}"#,
        r#"{"log":"{\"verb\":\"get\"} "#,
        // A falsy document.
        r#"{"log":"{}"}"#,
        r#"{"log":"{ }","verb":"x"}"#,
    ];
    for line in lines {
        check_line_with_document_at(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    }
}

/// [`check_line_with_document`] for a line as it is.
fn check_line_with_document_at(line: &str) -> Result<(), TestCaseError> {
    for paths in document_paths().into_iter().flatten() {
        let projection = Projection::new([&["log"][..]]).with_documents(paths.iter().copied());
        let mut ours = Parsed::new();
        let mut theirs = Parsed::new();
        let a = ours.parse(line, &projection).map_err(|e| e.to_string());
        let b = theirs
            .parse_with_serde(line, &projection)
            .map_err(|e| e.to_string());
        prop_assert_eq!(&a, &b, "{}", line);
        if a.is_err() {
            continue;
        }
        let result = same(ours.root(line), theirs.root(line));
        prop_assert!(result.is_ok(), "{line}: {result:?}");
        let (ours, theirs) = (document_of(&ours, line), document_of(&theirs, line));
        prop_assert_eq!(ours.is_some(), theirs.is_some(), "{}", line);
        if let (Some(ours), Some(theirs)) = (ours, theirs) {
            let result = same(ours, theirs);
            prop_assert!(result.is_ok(), "{line}: {result:?}");
            let result = same_lookups(ours, theirs);
            prop_assert!(result.is_ok(), "{line}: {result:?}");
        }
    }
    Ok(())
}

/// The scanner decides the lines it is meant for (were it to leave them all
/// to `serde_json`, the tests above could not tell).
#[test]
fn the_scanner_decides_ordinary_lines() {
    let lines = [
        r#"{"p_log_type":"Amazon.EKS.Audit","verb":"get","user":{"username":"u","groups":["a","b"]},"code":403,"x":-1.5,"n":null,"t":true}"#,
        r#"{ "a" : [ 1 , 2 , { "b" : "c\"d\\e\/f\u00e9" } ] , "p_log_type" : "T" }"#,
        "{\"properties\":{\"log\":\"{\\\"verb\\\":\\\"get\\\"}\"},\"p_log_type\":\"Azure.MonitorActivity\"}",
    ];
    for projection in projections() {
        for line in lines {
            let mut parsed = Parsed::new();
            assert!(
                parsed.parse_with_scanner(line, &projection).is_ok(),
                "{line}"
            );
        }
    }
}

/// What the scanner leaves to `serde_json`, valid or not.
#[test]
fn the_scanner_leaves_the_rare_and_the_invalid_to_serde_json() {
    let deep = format!("{}{}", "[".repeat(101), "]".repeat(101));
    let lines = [
        r#"{"a": 1e5}"#,
        r#"{"a": "\ud83d\ude00"}"#,
        r#"{"a": "\ud800"}"#,
        deep.as_str(),
        "{\"a\": 1",
        "{\"a\": \"\u{1}\"}",
        // Control characters after an escape, in each of the scanner's
        // strides: a byte at a time (the line's last bytes), eight, sixteen.
        "{\"a\": \"\\\"\u{1f}\"}",
        "{\"a\": \"\\\"\u{1f}\", \"b\": 1}",
        "{\"a\": \"\\\"x\u{1f}yyyyyyyyyyyyyyyyyyyy\", \"b\": 1}",
        "{\"a\": \"\\q\"}",
        "{\"a\": 01}",
        "",
    ];
    let projection = Projection::everything();
    for line in lines {
        let mut parsed = Parsed::new();
        assert!(
            parsed.parse_with_scanner(line, &projection).is_err(),
            "{line}"
        );
        // And the whole parse answers as serde_json does.
        check(line).expect("the fallback agrees");
    }
}

/// Escapes at every offset from a string's first escape, so that some
/// straddle the scanner's sixty-four-byte blocks: the scanner decides them
/// (a wrong guess would fall back to `serde_json`, and the tests above
/// could not tell), and keeps what `serde_json` keeps.
#[test]
fn escapes_across_the_scanners_blocks_are_decided() {
    let escapes = [r#"\""#, r"\\", r#"\\\""#, r"\\\\", r"\n", r"\u00e9", r"\/"];
    let cases = (0..140).flat_map(|gap| {
        escapes
            .into_iter()
            .flat_map(move |escape| [(gap, escape, 0), (gap, escape, 70)])
    });
    for (gap, escape, tail) in cases {
        // With a tail, the string ends inside a block; without, in the
        // line's last bytes, after the last block.
        let text = format!(r"\t{}{escape}{}", "a".repeat(gap), "b".repeat(tail));
        let line = format!(r#"{{"p_log_type":"T","t":1,"s":"{text}"}}"#);
        let mut parsed = Parsed::new();
        assert!(
            parsed
                .parse_with_scanner(&line, &Projection::everything())
                .is_ok(),
            "{line}"
        );
        let value: serde_json::Value = serde_json::from_str(&line).expect("valid JSON");
        assert_eq!(parsed.root(&line).to_json(), value, "{line}");
    }
}
