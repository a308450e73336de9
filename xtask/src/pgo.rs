//! `cargo xtask pgo`: builds `detect` and `rulec-bench` with profile-guided
//! optimisation. An instrumented `dist` build runs the bench on generated
//! events of another seed than the bench measures (every stage, the
//! `serde_json` floors included, and `detect` end to end in each of its
//! modes); LLVM then lays out and optimises the `dist` build for what that
//! run executed.
//!
//! Layout, under the target directory's `pgo/`: `instrumented/` and
//! `optimized/` (cargo target directories), `profiles/` (the raw profiles),
//! `merged.profdata`, `training/` (the training corpus and the bench's
//! table). The binaries: `pgo/optimized/dist/{detect,rulec-bench}`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use crate::workspace::{self, cargo, status, target_dir};

/// The generator seed of the training events (the bench measures seed 7).
const TRAINING_SEED: &str = "1";

/// MB of generated events the instrumented build is trained on, unless told.
pub const DEFAULT_TRAIN_MB: usize = 24;

/// `cargo xtask pgo` arguments.
#[derive(clap::Args)]
pub struct PgoArgs {
    /// MB of generated events the instrumented build is trained on.
    #[arg(long, default_value_t = DEFAULT_TRAIN_MB)]
    train_mb: usize,
}

/// Runs the command.
pub fn run(args: &PgoArgs) -> ExitCode {
    match build(&workspace::root(), args.train_mb) {
        Ok(dir) => {
            eprintln!(
                "cargo xtask pgo: built {} and {}",
                dir.join("detect").display(),
                dir.join("rulec-bench").display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cargo xtask pgo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the profile-guided binaries; the directory holding them.
pub fn build(root: &Path, train_mb: usize) -> Result<PathBuf, String> {
    let profdata = llvm_profdata()?;
    let pgo = target_dir(root).join("pgo");
    let profiles = pgo.join("profiles");
    let training = pgo.join("training");
    // Profiles of an earlier build would describe other code.
    if profiles.exists() {
        std::fs::remove_dir_all(&profiles).map_err(|e| format!("{}: {e}", profiles.display()))?;
    }
    for dir in [&profiles, &training] {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }

    eprintln!("cargo xtask pgo: building the instrumented binaries...");
    let instrumented = pgo.join("instrumented");
    let mut flag = OsString::from("-Cprofile-generate=");
    flag.push(&profiles);
    build_dist(root, &instrumented, &flag)?;

    eprintln!("cargo xtask pgo: training on {train_mb} MB of events (seed {TRAINING_SEED})...");
    let bin = instrumented.join("dist");
    let table = training.join("bench.txt");
    let table_file =
        std::fs::File::create(&table).map_err(|e| format!("{}: {e}", table.display()))?;
    status(
        Command::new(bin.join("rulec-bench"))
            .current_dir(root)
            .args(["--seed", TRAINING_SEED, "--runs", "1", "--no-python"])
            .arg("--mb")
            .arg(train_mb.max(1).to_string())
            .arg("--slow-mb")
            .arg((train_mb / 4).max(1).to_string())
            .arg("--work-dir")
            .arg(&training)
            .arg("--detect")
            .arg(bin.join("detect"))
            .env("LLVM_PROFILE_FILE", profiles.join("%p-%m.profraw"))
            .stdout(Stdio::from(table_file)),
    )?;

    let merged = pgo.join("merged.profdata");
    status(
        Command::new(&profdata)
            .arg("merge")
            .arg("-o")
            .arg(&merged)
            .arg(&profiles),
    )?;

    eprintln!("cargo xtask pgo: building the optimised binaries...");
    let optimized = pgo.join("optimized");
    let mut flag = OsString::from("-Cprofile-use=");
    flag.push(&merged);
    build_dist(root, &optimized, &flag)?;
    Ok(optimized.join("dist"))
}

/// `cargo build --profile dist` of `detect` and `rulec-bench` into
/// `target_dir`, with `flag` added to the user's `RUSTFLAGS`.
fn build_dist(root: &Path, target_dir: &Path, flag: &OsString) -> Result<(), String> {
    let mut rustflags = std::env::var_os("RUSTFLAGS").unwrap_or_default();
    if !rustflags.is_empty() {
        rustflags.push(" ");
    }
    rustflags.push(flag);
    status(
        cargo()
            .current_dir(root)
            .args(["build", "--profile", "dist", "--target-dir"])
            .arg(target_dir)
            .args(crate::bench::BINARIES)
            .env("RUSTFLAGS", rustflags),
    )
}

/// The `llvm-profdata` of the toolchain that builds (rustup's `llvm-tools`
/// component: its LLVM reads the profiles rustc's LLVM writes), installed
/// with rustup when missing.
fn llvm_profdata() -> Result<PathBuf, String> {
    let path = profdata_path()?;
    if path.is_file() {
        return Ok(path);
    }
    eprintln!("cargo xtask pgo: installing rustup's llvm-tools component...");
    status(Command::new("rustup").args(["component", "add", "llvm-tools"]))?;
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} is missing after `rustup component add llvm-tools`",
            path.display()
        ))
    }
}

/// Where the toolchain's `llvm-profdata` is: `<sysroot>/lib/rustlib/<host>/bin`.
fn profdata_path() -> Result<PathBuf, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = |args: &[&str]| -> Result<String, String> {
        let out = Command::new(&rustc)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run rustc: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`rustc {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        String::from_utf8(out.stdout).map_err(|e| format!("rustc's output: {e}"))
    };
    let sysroot = output(&["--print", "sysroot"])?;
    let version = output(&["-vV"])?;
    let host = host_of(&version).ok_or("`rustc -vV` names no host")?;
    Ok(Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(host)
        .join("bin")
        .join(format!("llvm-profdata{}", std::env::consts::EXE_SUFFIX)))
}

/// The host triple in `rustc -vV`'s output.
fn host_of(version: &str) -> Option<&str> {
    version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_comes_from_rustcs_verbose_version() {
        let version = "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\n";
        assert_eq!(host_of(version), Some("x86_64-unknown-linux-gnu"));
        assert_eq!(host_of("rustc 1.95.0\n"), None);
    }
}
