//! SIGINT and SIGTERM: the first one asks the run to stop (it finishes what
//! it has read and exits with [`Interrupt::exit_code`]); a second one ends the
//! process at once, as the signal's default action does.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

/// Exit code after SIGINT (128 + 2, as a shell reports a process Ctrl-C ended).
pub const EXIT_SIGINT: u8 = 130;
/// Exit code after SIGTERM (128 + 15).
pub const EXIT_SIGTERM: u8 = 143;

/// Which signal asked the run to stop, if one did.
#[derive(Clone)]
pub struct Interrupt {
    /// Set by the first signal; arms the default action for the second.
    stop: Arc<AtomicBool>,
    /// The exit code for the signal that arrived (0 before any).
    code: Arc<AtomicUsize>,
}

impl Interrupt {
    /// Installs the handlers (no unsafe code here: `signal-hook` does it).
    pub fn install() -> io::Result<Interrupt> {
        let interrupt = Interrupt {
            stop: Arc::new(AtomicBool::new(false)),
            code: Arc::new(AtomicUsize::new(0)),
        };
        for (signal, code) in [(SIGINT, EXIT_SIGINT), (SIGTERM, EXIT_SIGTERM)] {
            // The order matters: the default action is armed only once the
            // flag was set by an earlier signal.
            signal_hook::flag::register_conditional_default(signal, Arc::clone(&interrupt.stop))?;
            signal_hook::flag::register_usize(signal, Arc::clone(&interrupt.code), code.into())?;
            signal_hook::flag::register(signal, Arc::clone(&interrupt.stop))?;
        }
        Ok(interrupt)
    }

    /// Whether a signal asked the run to stop.
    pub fn requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The exit code of the signal received, if one was.
    pub fn exit_code(&self) -> Option<u8> {
        match self.code.load(Ordering::SeqCst) {
            0 => None,
            code => u8::try_from(code).ok(),
        }
    }

    /// The name of the signal received (`SIGINT` when none was).
    pub fn name(&self) -> &'static str {
        match self.exit_code() {
            Some(EXIT_SIGTERM) => "SIGTERM",
            _ => "SIGINT",
        }
    }
}
