//! Progress and cancellation shared between the engine's worker threads and its caller, and
//! the warnings collected for the caller. The warning types live here rather than in
//! [`crate::trailing`], which makes them: the control sits below every reader, so it may
//! import none of them (see docs/ARCHITECTURE.md, "Who may import whom").

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rayon::ThreadPool;

/// Shared progress counter and cancel flag, the caller's strictness, and the warnings of
/// the call (collected here, from whichever worker thread reads which source, so that every
/// reader reports them the same way without returning them through each of its layers). The engine only adds to `done` and reads the
/// flag; the caller (e.g. the Python binding, polling from its own thread) reads `done` and
/// may [`Control::cancel`] at any time. Workers notice a cancel between chunks of a few MB.
#[derive(Debug, Default)]
pub struct Control {
    cancelled: AtomicBool,
    done: AtomicU64,
    total: AtomicU64,
    total_fixed: AtomicBool,
    strict: bool,
    on_calling_thread: bool,
    helpers: Option<Arc<ThreadPool>>,
    nodata_as_nan: bool,
    warnings: Mutex<Vec<Warning>>,
}

impl Control {
    /// A fresh control: nothing done, not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh control whose reads refuse what they would otherwise read with a warning
    /// (trailing content after a grid: see docs/FORMAT.md, "Trailing content").
    pub fn strict() -> Self {
        Control {
            strict: true,
            ..Self::default()
        }
    }

    /// Whether reads refuse what they would otherwise read with a warning.
    pub fn is_strict(&self) -> bool {
        self.strict
    }

    /// This control, for a read ([`crate::read`], [`crate::parse_grid`]) that runs every
    /// step on the calling thread and hands none to a thread pool, whatever the input's
    /// size. For small inputs, which one thread reads sooner than it can hand them to
    /// another (a tile: 0.13 ms a read through a pool against 0.08 ms here), and for a
    /// caller that must not start rayon's global pool (which a forked child would wait on
    /// for ever): such a read uses no pool at all. Statistics, mosaics and writing are not
    /// affected.
    pub fn on_calling_thread(mut self) -> Self {
        self.on_calling_thread = true;
        self
    }

    /// Whether a read runs on the calling thread alone (see [`Control::on_calling_thread`]).
    pub fn is_on_calling_thread(&self) -> bool {
        self.on_calling_thread
    }

    /// This control, for work run on a thread of no pool (a Python caller's) whose parallel
    /// passes over a text in memory (a read's count and parse) this thread starts at once,
    /// `pool`'s threads joining in as they wake; no one waits for a helper that comes late.
    /// On a thread that wakes a pool and waits for it instead, a read of a few MB right
    /// after another program's work (GDAL's, in turns) took 0.15-0.3 ms more of its 1.2-1.6
    /// ms (see the `parallel` module). Work run on a pool's own thread uses that pool.
    pub fn with_helpers(mut self, pool: Arc<ThreadPool>) -> Self {
        self.helpers = Some(pool);
        self
    }

    /// The pool whose threads help (see [`Control::with_helpers`]).
    pub(crate) fn helpers(&self) -> Option<&ThreadPool> {
        self.helpers.as_deref()
    }

    /// This control, for a read ([`crate::read`], [`crate::parse_grid`]) whose float cells
    /// equal to the grid's nodata come out as NaN (what xarray's masking makes of them),
    /// each chunk as soon as it is parsed, while it is in the cache: a second pass over a
    /// 64 MB grid took 5 ms. Int32 grids, and the grid's `nodata`, are as without it.
    pub fn nodata_as_nan(mut self) -> Self {
        self.nodata_as_nan = true;
        self
    }

    /// Whether a read's float nodata cells come out as NaN (see [`Control::nodata_as_nan`]).
    pub fn is_nodata_as_nan(&self) -> bool {
        self.nodata_as_nan
    }

    /// Record a warning for the caller.
    pub fn warn(&self, warning: Warning) {
        let mut w = self.warnings.lock().unwrap_or_else(|p| p.into_inner());
        // A tile read once per strip it spans warns once.
        if !w.contains(&warning) {
            w.push(warning);
        }
    }

    /// The warnings recorded so far, in the order they came, leaving none behind.
    pub fn take_warnings(&self) -> Vec<Warning> {
        std::mem::take(&mut *self.warnings.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Ask the engine to stop; the running call returns [`crate::Error::Cancelled`].
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether [`Control::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }

    /// Add `units` of work still to do (progress is in bytes of text). Ignored once a
    /// caller that knows the whole amount up front has called [`Control::fix_total`], so
    /// nested work (a mosaic's tiles) does not count twice.
    pub fn add_total(&self, units: u64) {
        if !self.total_fixed.load(Ordering::Relaxed) {
            self.total.fetch_add(units, Ordering::Relaxed);
        }
    }

    /// Set the total once and for all (see [`Control::add_total`]); the outermost caller
    /// wins, later calls (from nested work) are ignored.
    pub fn fix_total(&self, units: u64) {
        if !self.total_fixed.swap(true, Ordering::Relaxed) {
            self.total.store(units, Ordering::Relaxed);
        }
    }

    /// Record `units` of work done.
    pub fn advance(&self, units: u64) {
        self.done.fetch_add(units, Ordering::Relaxed);
    }

    /// `(done, total)` so far.
    pub fn progress(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// Which kind of trailing content a grid has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrailingKind {
    /// Lines starting with a word after the grid's last value.
    Lines,
    /// Values left over after `nrows` complete lines of `ncols` values.
    Leftover,
}

/// Something read, but not all of it: returned to the caller through [`Control::take_warnings`],
/// never printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The source's name, as in errors.
    pub path: String,
    /// 1-based line of the first byte ignored.
    pub line: u64,
    /// 1-based column of the first byte ignored.
    pub column: u64,
    /// What was ignored.
    pub kind: TrailingKind,
    /// What was ignored and why, without the location.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}
