//! Where a read's parallel passes run: [`map_items`] maps a body's chunks in order, on the
//! calling thread alone, in the current rayon pool, or on the calling thread with a pool's
//! threads joining in as they wake ([`Control::with_helpers`]).
//!
//! Why the last one: a read of a few MB lasts about a millisecond, and a pool thread that
//! has slept for a while takes a sizeable part of that to wake (on this project's 2-core VM,
//! after a 13 ms GDAL read: 0.11-0.15 ms to start the work on a pool thread, 0.04 ms to wake
//! the caller again, against 0.02 and 0.02 when the pool had just worked). The calling
//! thread is awake: it starts each pass at once, and no one waits for a helper that comes
//! late, so a helper can only shorten the pass.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use rayon::prelude::*;
use rayon::ThreadPool;

use crate::control::Control;

/// `f` of each of `items`, in their order. On this thread alone unless `parallel`; with
/// helpers ([`Control::with_helpers`]) on a thread of no pool, here and on the helpers'
/// threads (see [`shared`]); else in the current rayon pool.
pub(crate) fn map_items<I: Send, R: Send>(
    items: Vec<I>,
    parallel: bool,
    control: &Control,
    f: impl Fn(I) -> R + Sync,
) -> Vec<R> {
    if !parallel || items.len() < 2 {
        return items.into_iter().map(f).collect();
    }
    match helpers(control) {
        Some(pool) => shared(pool, items, f),
        None => items.into_par_iter().map(&f).collect(),
    }
}

/// `out` cut into consecutive slices of `lengths`, in order, each as long as what is left
/// allows: the pieces a [`map_items`] hands one per item.
pub(crate) fn consecutive_mut<T>(
    out: &mut [T],
    lengths: impl IntoIterator<Item = usize>,
) -> Vec<&mut [T]> {
    let lengths = lengths.into_iter();
    let mut pieces = Vec::with_capacity(lengths.size_hint().0);
    let mut rest = out;
    for length in lengths {
        let take = length.min(rest.len());
        let (piece, tail) = std::mem::take(&mut rest).split_at_mut(take);
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// How many threads a parallel pass of `control`'s work has: 1 on the calling thread
/// alone, the helpers and this thread with helpers, else the current pool's. Asks no pool
/// it does not use (asking rayon from a thread of no pool would start its global pool).
pub(crate) fn threads(control: &Control) -> usize {
    if control.is_on_calling_thread() {
        return 1;
    }
    match helpers(control) {
        Some(pool) => pool.current_num_threads() + 1,
        None => rayon::current_num_threads().max(1),
    }
}

/// `control`'s helpers, when this thread is in no pool (a pool's own thread uses its pool).
fn helpers(control: &Control) -> Option<&ThreadPool> {
    control
        .helpers()
        .filter(|_| rayon::current_thread_index().is_none())
}

/// [`map_items`] on this thread and `pool`'s: one job per pool thread is queued, and every
/// thread, this one first, takes the next item not taken until none is left. This thread then
/// waits only for the items other threads hold, never for a job still queued: that one finds
/// nothing left when it runs, and returns.
fn shared<I: Send, R: Send>(pool: &ThreadPool, items: Vec<I>, f: impl Fn(I) -> R + Sync) -> Vec<R> {
    let len = items.len();
    let items: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let results: Vec<Mutex<Option<std::thread::Result<R>>>> =
        (0..len).map(|_| Mutex::new(None)).collect();
    let task = |i: usize| {
        let item = items[i]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(item) = item {
            // Caught, so that the item still counts as finished; raised again here below.
            let result = panic::catch_unwind(AssertUnwindSafe(|| f(item)));
            *results[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        }
    };
    let task: *const (dyn Fn(usize) + Sync + '_) = &task;
    // SAFETY: this only erases the pointer's lifetime bound (same layout, same vtable); see
    // `Claims::task` for why it is only dereferenced while `task` is alive.
    let task = unsafe {
        std::mem::transmute::<
            *const (dyn Fn(usize) + Sync + '_),
            *const (dyn Fn(usize) + Sync + 'static),
        >(task)
    };
    let claims = Arc::new(Claims {
        next: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        len,
        all_finished: (Mutex::new(()), Condvar::new()),
        task,
    });
    {
        // Waits for the items other threads hold, also should this thread unwind.
        let _finish = Finish(&claims);
        for _ in 0..pool.current_num_threads().min(len - 1) {
            let claims = Arc::clone(&claims);
            pool.spawn(move || claims.take_items());
        }
        claims.take_items();
    }
    results
        .into_iter()
        .map(|r| {
            match r.into_inner().unwrap_or_else(PoisonError::into_inner) {
                Some(Ok(value)) => value,
                Some(Err(payload)) => panic::resume_unwind(payload),
                // Every index was claimed (this thread claims until none is left) and its
                // task stored a result before it counted as finished.
                None => unreachable!("an item was never mapped"),
            }
        })
        .collect()
}

/// The items of one [`shared`] map, claimed one at a time by index.
struct Claims {
    /// The next index to claim; at `len` or past it, none is left.
    next: AtomicUsize,
    /// How many claimed items are done.
    finished: AtomicUsize,
    len: usize,
    /// Where the calling thread waits for the last items other threads hold.
    all_finished: (Mutex<()>, Condvar),
    /// Maps item `i`: a closure local to the [`shared`] call that made these claims. It is
    /// dereferenced only in [`Claims::take_items`], for an index below `len` just claimed
    /// there, and that index counts as finished only after the call returns; [`shared`]
    /// returns or unwinds (dropping the closure) only after [`Claims::close_and_wait`], which
    /// leaves no index to claim and waits for every claimed one. Every index is claimed once,
    /// so no call starts after that: a helper job that runs later finds no index left and
    /// never dereferences it.
    task: *const (dyn Fn(usize) + Sync),
}

// SAFETY: the only field that is not `Send` and `Sync` by itself is `task`, which points to
// a `Sync` closure (callable from any thread at once), alive whenever it is called (see
// `Claims::task`).
unsafe impl Send for Claims {}
// SAFETY: as for `Send` above.
unsafe impl Sync for Claims {}

impl Claims {
    /// Map items, one claimed index after another, until none is left.
    fn take_items(&self) {
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.len {
                return;
            }
            // SAFETY: `i` is below `len` and claimed by this thread alone: the closure is
            // alive until this index is counted finished, just below (see `Claims::task`).
            unsafe { (*self.task)(i) };
            // Sequentially consistent with `close_and_wait`: either it sees this item finished,
            // or this thread sees no index left and wakes it.
            self.finished.fetch_add(1, Ordering::SeqCst);
            if self.next.load(Ordering::SeqCst) >= self.len {
                // None left to claim: the caller may be waiting for this one.
                let (lock, all_finished) = &self.all_finished;
                let _held = lock.lock().unwrap_or_else(PoisonError::into_inner);
                all_finished.notify_all();
            }
        }
    }

    /// Leave no index to claim, then wait until every claimed item is done.
    fn close_and_wait(&self) {
        let claimed = self.next.swap(self.len, Ordering::SeqCst).min(self.len);
        let (lock, all_finished) = &self.all_finished;
        let mut held = lock.lock().unwrap_or_else(PoisonError::into_inner);
        while self.finished.load(Ordering::SeqCst) < claimed {
            held = all_finished
                .wait(held)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Calls [`Claims::close_and_wait`] when dropped: a [`shared`] map must not return, nor
/// unwind, while another thread may still call its closure.
struct Finish<'a>(&'a Claims);

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        self.0.close_and_wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn pool(threads: usize) -> Arc<ThreadPool> {
        Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool"),
        )
    }

    #[test]
    fn every_item_is_mapped_once_in_order_wherever_it_runs() {
        let helped = Control::new().with_helpers(pool(2));
        let items: Vec<usize> = (0..1000).collect();
        let want: Vec<usize> = items.iter().map(|i| i * 3).collect();
        let calls = AtomicUsize::new(0);
        let f = |i: usize| {
            calls.fetch_add(1, Ordering::Relaxed);
            i * 3
        };
        assert_eq!(map_items(items.clone(), true, &helped, f), want);
        // From a pool's own thread, the pool maps them (rayon).
        let other = pool(2);
        assert_eq!(
            other.install(|| map_items(items.clone(), true, &helped, f)),
            want
        );
        assert_eq!(map_items(items.clone(), false, &helped, f), want);
        assert_eq!(calls.load(Ordering::Relaxed), 3000);
    }

    #[test]
    fn helpers_share_the_work_and_are_counted() {
        let helpers = pool(2);
        let control = Control::new().with_helpers(Arc::clone(&helpers));
        assert_eq!(threads(&control), 3);
        assert_eq!(threads(&Control::new().on_calling_thread()), 1);
        // Each item sleeps long enough for the helpers to wake: more than one thread maps.
        let names = map_items((0..40).collect(), true, &control, |_: i32| {
            std::thread::sleep(Duration::from_millis(2));
            std::thread::current().id()
        });
        let mut distinct = names.clone();
        distinct.sort_by_key(|id| format!("{id:?}"));
        distinct.dedup();
        assert!(distinct.len() > 1, "only one thread mapped the items");
    }

    #[test]
    fn the_caller_does_not_wait_for_helpers_that_have_not_started() {
        // The pool's only thread is held busy until the map has returned: the caller must
        // map every item itself and return, while its queued helper job still waits.
        let helpers = pool(1);
        let (release, held) = mpsc::channel::<()>();
        let (started, busy) = mpsc::channel::<()>();
        helpers.spawn(move || {
            let _ = started.send(());
            let _ = held.recv_timeout(Duration::from_secs(30));
        });
        busy.recv().expect("the pool's thread is busy");
        let control = Control::new().with_helpers(Arc::clone(&helpers));
        let (mapped, answer) = mpsc::channel();
        std::thread::spawn(move || {
            let caller = std::thread::current().id();
            let ids = map_items((0..8).collect(), true, &control, |_: i32| {
                std::thread::current().id()
            });
            let _ = mapped.send(ids.iter().all(|&id| id == caller));
        });
        let answer = answer.recv_timeout(Duration::from_secs(10));
        release.send(()).expect("the busy job is waiting");
        assert_eq!(
            answer,
            Ok(true),
            "the map waited for a helper that had not started"
        );
        // The late helper job runs now, finds nothing to do, and the pool goes on.
        let (done, finished) = mpsc::channel::<()>();
        helpers.spawn(move || {
            let _ = done.send(());
        });
        finished
            .recv_timeout(Duration::from_secs(10))
            .expect("the pool ran the late helper and the next job");
    }

    #[test]
    fn consecutive_pieces_take_what_is_left() {
        let mut out: Vec<u32> = (0..10).collect();
        let pieces = consecutive_mut(&mut out, [3, 0, 4, 5, 2]);
        let got: Vec<Vec<u32>> = pieces.iter().map(|p| p.to_vec()).collect();
        assert_eq!(
            got,
            vec![
                vec![0, 1, 2],
                vec![],
                vec![3, 4, 5, 6],
                vec![7, 8, 9],
                vec![]
            ]
        );
    }

    #[test]
    fn a_panicking_item_panics_in_the_caller() {
        let control = Control::new().with_helpers(pool(2));
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            map_items((0..64).collect(), true, &control, |i: i32| {
                assert!(i != 37, "item 37");
                i
            })
        }));
        assert!(caught.is_err());
        // The pool still works afterwards.
        assert_eq!(
            map_items(vec![1, 2], true, &control, |i: i32| i + 1),
            vec![2, 3]
        );
    }
}
