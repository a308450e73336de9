use rulec_compiler::yaml::{Reader, SourceFile};
#[test]
fn scratch() {
    for (name, text) in [
        (
            "flow-any",
            format!(
                "a: [{}x{}]\n",
                "{Any: [".repeat(10_000),
                "]}".repeat(10_000)
            ),
        ),
        (
            "flow-lower",
            format!("a: {}a{}\n", "{Lower: ".repeat(10_000), "}".repeat(10_000)),
        ),
        (
            "flow-seq",
            format!("a: {}a{}\n", "[".repeat(10_000), "]".repeat(10_000)),
        ),
    ] {
        let file = SourceFile {
            name: "x".into(),
            text,
        };
        let t = std::time::Instant::now();
        let r: Result<yaml_serde::Value, _> = yaml_serde::from_str(&file.text);
        eprintln!(
            "{name}: yaml {:?} {:?}",
            t.elapsed(),
            r.err().map(|e| e.to_string())
        );
        let t = std::time::Instant::now();
        let mut reader = Reader::new(&file);
        let _ = reader.parse();
        let d = reader.finish();
        eprintln!("{name}: reader {:?} {}", t.elapsed(), d.len());
    }
}
