//! Writing a value as one line of compact JSON, byte for byte as
//! `serde_json::to_writer` writes it, through `sonic-rs`'s serializer: it
//! escapes strings thirty-two bytes at a time where `serde_json` looks at each
//! byte, and `detect`'s lines are mostly strings (titles, dedup strings, alert
//! contexts). Both escape the same bytes the same way (`"`, `\`, and control
//! characters, with `\b`, `\t`, `\n`, `\f`, `\r` short) and format floats with
//! the same crate (`zmij`); `tests/json_line.rs` compares the two on every
//! output of the bundled and generated samples and on generated values.

use serde::Serialize;

/// Why a value could not be written: its `Serialize` failed (a map with keys
/// that are not strings, for instance; nothing `detect` writes).
pub type JsonLineError = sonic_rs::Error;

/// Appends `value` to `out` as compact JSON followed by `\n`.
pub fn write_json_line<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), JsonLineError> {
    sonic_rs::to_writer(&mut *out, value)?;
    out.push(b'\n');
    Ok(())
}
