//! Files that are not regular files (FIFOs, `/dev/stdin` pipes, process substitution, character
//! devices) opened and read so that a cancel is always seen: opening a FIFO blocks until a
//! writer comes, and reading a pipe blocks until data comes, possibly for ever. Here both
//! wait in short polls, checking the caller's [`Control`] in between, so Ctrl-C in Python (or
//! Cancel in QGIS) ends the call within a poll interval whatever the other end does.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use crate::control::Control;

/// How long one wait for a writer or for data lasts before the cancel flag is looked at.
#[cfg(unix)]
const POLL_MS: i32 = 50;

/// A file opened for reading, and whether it is a regular file (whose size is known and whose
/// reads never wait).
#[derive(Debug)]
pub(crate) struct OpenedFile {
    /// The open file.
    pub(crate) file: File,
    /// Whether it is a regular file.
    pub(crate) regular: bool,
    /// Its metadata, taken once when it was opened (callers need its size and identity).
    pub(crate) meta: std::fs::Metadata,
}

/// Open `path` for reading. A FIFO is opened without waiting for a writer; the first read of
/// it waits for one (see [`Interruptible`]). Nothing else changes for regular files.
pub(crate) fn open(path: &Path) -> io::Result<OpenedFile> {
    // O_NONBLOCK stays set on a regular file: it has no effect on one (reads of disk files
    // never wait), and clearing it would cost two calls for every tile.
    #[cfg(unix)]
    let file = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)?
    };
    #[cfg(not(unix))]
    let file = File::open(path)?;
    let meta = file.metadata()?;
    Ok(OpenedFile {
        regular: meta.is_file(),
        file,
        meta,
    })
}

impl OpenedFile {
    /// The file with ordinary (blocking) reads, for callers that have no [`Control`] to
    /// watch: a FIFO then reads what its writer sends, or ends at once if it has none.
    pub(crate) fn into_blocking(self) -> io::Result<File> {
        #[cfg(unix)]
        if !self.regular {
            clear_nonblocking(&self.file)?;
        }
        Ok(self.file)
    }
}

#[cfg(unix)]
fn clear_nonblocking(file: &File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is a descriptor `file` owns and keeps open for the duration of both calls;
    // F_GETFL and F_SETFL only read and set its status flags, touching no memory of ours.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let wanted = flags & !libc::O_NONBLOCK;
    // SAFETY: as above.
    if wanted != flags && unsafe { libc::fcntl(fd, libc::F_SETFL, wanted) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Reads of a pipe or device that wait for data in polls of `POLL_MS`, so a cancel of
/// `control` ends a wait: the read then fails with [`cancelled`], which the engine reports
/// as [`crate::Error::Cancelled`].
#[derive(Debug)]
pub(crate) struct Interruptible<'c> {
    file: File,
    control: &'c Control,
}

impl<'c> Interruptible<'c> {
    /// Wrap a non-regular file opened by [`open`].
    pub(crate) fn new(file: File, control: &'c Control) -> Self {
        Interruptible { file, control }
    }
}

/// The payload of the error a read cancelled while waiting fails with. Not
/// [`io::ErrorKind::Interrupted`]: `read_to_end` and friends retry those.
#[derive(Debug)]
struct CancelledWhileWaiting;

impl std::fmt::Display for CancelledWhileWaiting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled while waiting for input")
    }
}

impl std::error::Error for CancelledWhileWaiting {}

/// The error a read cancelled while waiting fails with.
pub(crate) fn cancelled() -> io::Error {
    io::Error::other(CancelledWhileWaiting)
}

/// Whether `e` is the error of a read cancelled while waiting (see [`cancelled`]).
pub(crate) fn is_cancelled(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<CancelledWhileWaiting>())
}

impl Read for Interruptible<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        loop {
            if self.control.is_cancelled() {
                return Err(cancelled());
            }
            if !wait_readable(&self.file)? {
                continue;
            }
            match self.file.read(buf) {
                // A FIFO whose writer has not come yet reads as "no data" while non-blocking.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other,
            }
        }
        #[cfg(not(unix))]
        {
            if self.control.is_cancelled() {
                return Err(cancelled());
            }
            self.file.read(buf)
        }
    }
}

/// Wait up to [`POLL_MS`] for `file` to have data (or an end); `false` on time-out.
#[cfg(unix)]
fn wait_readable(file: &File) -> io::Result<bool> {
    use std::os::fd::AsRawFd;
    let mut poll = libc::pollfd {
        fd: file.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `poll` is one valid, initialised pollfd that lives across the call, and the count
    // passed is 1; the descriptor stays open (owned by `file`) for the call's duration.
    let ready = unsafe { libc::poll(&mut poll, 1, POLL_MS) };
    if ready < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(e);
    }
    // POLLHUP (the writer left) and POLLERR also end the wait: the read then says what it is.
    Ok(ready > 0)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};

    fn fifo(dir: &tempfile::TempDir) -> std::path::PathBuf {
        let path = dir.path().join("fifo");
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        path
    }

    #[test]
    fn opening_a_fifo_without_writer_does_not_wait() {
        let dir = tempfile::tempdir().unwrap();
        let opened = open(&fifo(&dir)).unwrap();
        assert!(!opened.regular);
    }

    #[test]
    fn a_cancel_ends_a_wait_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let opened = open(&fifo(&dir)).unwrap();
        let control = Control::new();
        let waited = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                // Several polls pass before the cancel: the reader must have waited, not ended.
                std::thread::sleep(std::time::Duration::from_millis(3 * POLL_MS as u64));
                waited.store(true, Ordering::SeqCst);
                control.cancel();
            });
            let mut buf = [0u8; 16];
            let err = Interruptible::new(opened.file, &control)
                .read(&mut buf)
                .unwrap_err();
            assert!(is_cancelled(&err), "{err}");
            assert!(waited.load(Ordering::SeqCst));
        });
    }

    #[test]
    fn data_and_end_pass_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = fifo(&dir);
        let opened = open(&path).unwrap();
        let control = Control::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut w = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                w.write_all(b"ncols 1").unwrap();
            });
            let mut text = Vec::new();
            Interruptible::new(opened.file, &control)
                .read_to_end(&mut text)
                .unwrap();
            assert_eq!(text, b"ncols 1");
        });
    }
}
