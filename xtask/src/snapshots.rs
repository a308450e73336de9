//! Compares a test case's alert output with its committed insta snapshot, so
//! `cargo xtask test` can report a changed output next to its test.

use std::path::Path;

use insta::internals::TextSnapshotContents;
use insta::{Snapshot, TextSnapshotKind};
use similar::{ChangeTag, TextDiff};

use crate::regen::snapshot_path;

/// How a case's output compares with its snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotStatus {
    /// Equal.
    Matches,
    /// No snapshot is committed yet.
    Missing {
        /// The snapshot file, relative to the workspace root.
        path: String,
    },
    /// The output changed.
    Differs {
        /// The snapshot file, relative to the workspace root.
        path: String,
        /// A unified diff, snapshot (`-`) to output (`+`).
        diff: String,
    },
    /// The snapshot file cannot be read.
    Unreadable {
        /// The snapshot file, relative to the workspace root.
        path: String,
        /// Why.
        error: String,
    },
}

/// Compares `output` with the snapshot of the rule module's case `fn_name`.
pub fn compare(root: &Path, module: &str, fn_name: &str, output: &str) -> SnapshotStatus {
    let relative = snapshot_path(module, fn_name);
    let path = relative.display().to_string();
    let full = root.join(&relative);
    if !full.exists() {
        return SnapshotStatus::Missing { path };
    }
    let stored = match Snapshot::from_file(&full) {
        Ok(snapshot) => snapshot,
        Err(e) => {
            return SnapshotStatus::Unreadable {
                path,
                error: e.to_string(),
            }
        }
    };
    let Some(stored) = stored.as_text() else {
        return SnapshotStatus::Unreadable {
            path,
            error: "not a text snapshot".to_owned(),
        };
    };
    let fresh = TextSnapshotContents::new(output.to_owned(), TextSnapshotKind::File);
    if stored.matches_latest(&fresh) {
        return SnapshotStatus::Matches;
    }
    SnapshotStatus::Differs {
        path,
        diff: unified_diff(&stored.to_string(), &fresh.to_string()),
    }
}

/// The changed lines, `-` from the snapshot and `+` from the output, with a
/// line of context around each change.
fn unified_diff(old: &str, new: &str) -> String {
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    for group in diff.grouped_ops(1) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                out.push(sign);
                out.push_str(change.value().trim_end_matches('\n'));
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_changed_lines() {
        let diff = unified_diff("a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(diff, " a\n-b\n+B\n c\n");
    }
}
