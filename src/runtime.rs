//! Process-level settings that make the engine fast.
//!
//! The tape allocates a fresh buffer for every op's output and gradient. With glibc's
//! default thresholds, large buffers are `mmap`ed and returned to the kernel when freed,
//! so the next step page-faults them in again; profiling a mnist-cnn step showed about
//! 15% of the time in the kernel's page-fault path. [`tune_allocator`] raises glibc's
//! mmap and trim thresholds so freed tensor memory is reused inside the process
//! (measured: about 1.4× faster training and 2× faster inference for mnist-cnn).
//!
//! A short run (one `lamppost explain` on a few digits) touches most of its memory for
//! the first time, and the kernel then clears and maps it 4 KiB at a time: profiles of
//! such runs showed half the time in page faults. So the heap is also reserved up front
//! and advised for transparent huge pages (`madvise(MADV_HUGEPAGE)`, honoured where
//! `/sys/kernel/mm/transparent_hugepage/enabled` is `always` or `madvise`), with one
//! malloc arena so worker threads allocate from that heap too. Measured with whole
//! processes on 64 MNIST digits (mnist-cnn, `--pictures none`, best of 7): saliency
//! 27.6 → 14.9 ms, integrated gradients 415 → 310 ms, and on 8 digits 120 → 48 ms;
//! `lamppost train mnist-cnn --epochs 1 --limit 12000` 1.95 → 1.92 s at the same peak
//! memory. `LAMPPOST_NO_HUGEPAGES=1` turns this part off (to measure it).
//!
//! The `lamppost` binary, the benches and the examples call it first; library users can
//! too. It changes nothing but speed.

use std::cell::Cell;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

static TUNE: Once = Once::new();

/// Keeps freed memory in the process (glibc only; a no-op elsewhere). Idempotent.
pub fn tune_allocator() {
    TUNE.call_once(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            // glibc's mallopt parameters (malloc.h)
            const M_TRIM_THRESHOLD: i32 = -1;
            const M_TOP_PAD: i32 = -2;
            const M_MMAP_THRESHOLD: i32 = -3;
            unsafe extern "C" {
                fn mallopt(param: i32, value: i32) -> i32;
            }
            const M_ARENA_MAX: i32 = -8;
            const MADV_HUGEPAGE: i32 = 14;
            unsafe extern "C" {
                fn malloc(size: usize) -> *mut u8;
                fn free(p: *mut u8);
                fn madvise(addr: *mut u8, len: usize, advice: i32) -> i32;
            }
            // SAFETY: mallopt only changes allocator thresholds; it is called once,
            // before this crate allocates tensors in parallel. The block is only
            // advised and freed, never read or written.
            unsafe {
                mallopt(M_MMAP_THRESHOLD, 256 << 20);
                mallopt(M_TRIM_THRESHOLD, 1 << 30);
                mallopt(M_TOP_PAD, 64 << 20);
                if std::env::var_os("LAMPPOST_NO_HUGEPAGES").is_none() {
                    mallopt(M_ARENA_MAX, 1);
                    const RESERVE: usize = 192 << 20;
                    const HUGE: usize = 2 << 20;
                    let p = malloc(RESERVE);
                    if !p.is_null() {
                        let start = (p as usize).div_ceil(HUGE) * HUGE;
                        let end = (p as usize + RESERVE) / HUGE * HUGE;
                        if end > start {
                            madvise(start as *mut u8, end - start, MADV_HUGEPAGE);
                        }
                        free(p);
                    }
                }
            }
        }
    });
}

/// Runs `f` on a thread of rayon's pool, and returns its result.
///
/// Work split over the threads from outside the pool (the program's main thread)
/// hands each parallel part to the pool and sleeps until it is done: two thread
/// wake-ups per parallel op, which on this machine cost about as much as a small op
/// itself (mnist-linear's inference of 256 digits: 45 µs on one thread, 52–58 µs on
/// two). From a thread of the pool, the caller works on its own part at once and the
/// other thread joins in when it wakes. So entry points that run many ops (`predict`,
/// a training step, the `lamppost` command) move onto the pool once. Where `f` already
/// runs on a thread of the pool it is called directly. The results do not depend on
/// which thread runs what.
///
/// The `lamppost` binary runs its whole command this way, after [`init_pool`];
/// `predict` and the training steps through [`on_pool_for`].
pub fn on_pool<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if rayon::current_thread_index().is_some() {
        f()
    } else {
        rayon::join(f, || ()).0
    }
}

/// [`hot`] for a pass whose `work` (examples × the model's parameters: a dense layer's
/// multiply-adds; a convolution's are more) is at least 2²⁰, else `f` right here. Moving
/// onto the pool costs two thread wake-ups: a mnist-linear training step on 64 digits,
/// which splits no op, went from 31 to 50–61 µs that way; its inference on 256 digits,
/// which does, from 51–69 to 41–51 µs, and the VAE's training step from 1.49–1.67 to
/// 1.23–1.30 ms (bench A/B, two rounds).
pub fn on_pool_for<R: Send>(work: usize, f: impl FnOnce() -> R + Send) -> R {
    if work >= 1 << 20 { hot(f) } else { f() }
}

thread_local! {
    /// Whether this thread runs a [`hot`] region's `f` or keeps awake for one.
    static HOT: Cell<bool> = const { Cell::new(false) };
}

/// [`on_pool`], with the pool's other threads kept awake until `f` returns: each spins,
/// taking whatever parallel part is pushed at once, instead of going to sleep between
/// ops and being woken by a system call for the next one. OpenMP's threads wait the
/// same way between parallel regions (libgomp spins a while before sleeping), which is
/// how PyTorch runs its ops.
///
/// A training step or a prediction is a few dozen parallel ops, each split over the
/// threads and joined again, and a sleeping thread on this machine takes tens of
/// microseconds to wake. Measured in-process, best of 300 runs from copies of one state,
/// three rounds alternated: mnist-vae's training step 2.06–2.20 → 1.78–1.89 ms. The
/// price is a busy core while `f` works alone, so only passes run hot ([`on_pool_for`]:
/// predictions, training steps, the explanations' gradient and layer passes, the
/// attacks'; a class visualization's whole ascent; the engine benches), never a
/// command's reading, writing or drawing.
///
/// Within `f`, and on a thread that keeps awake, further `hot` calls just call their
/// `f`. The results do not depend on which thread runs what.
pub fn hot<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    on_pool(|| {
        let others = rayon::current_num_threads().saturating_sub(1);
        if HOT.get() || others == 0 {
            return f();
        }
        let done = AtomicBool::new(false);
        keep_awake(others, &done, f)
    })
}

/// Sets [`HOT`] while alive, and `done` (if any) when dropped, unwinding included, so
/// that a panic in `f` does not leave the other threads spinning for ever.
struct HotGuard<'a> {
    was: bool,
    done: Option<&'a AtomicBool>,
}

impl<'a> HotGuard<'a> {
    fn new(done: Option<&'a AtomicBool>) -> Self {
        HotGuard {
            was: HOT.replace(true),
            done,
        }
    }
}

impl Drop for HotGuard<'_> {
    fn drop(&mut self) {
        HOT.set(self.was);
        if let Some(done) = self.done {
            done.store(true, Ordering::Release);
        }
    }
}

/// Runs `f` beside `others` jobs that keep awake. They are pushed before `f` starts, so
/// they are older than any part `f` pushes and thieves take them first; a thread that
/// waits for a part of `f` has therefore already seen them taken, and never runs one
/// itself while `f` is unfinished (a job's owner only pops it back after `f` returns,
/// and then it ends at once).
fn keep_awake<R: Send>(others: usize, done: &AtomicBool, f: impl FnOnce() -> R + Send) -> R {
    if others == 0 {
        let _guard = HotGuard::new(Some(done));
        return f();
    }
    rayon::join(
        || keep_awake(others - 1, done, f),
        || {
            let _guard = HotGuard::new(None);
            while !done.load(Ordering::Acquire) {
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    std::hint::spin_loop();
                }
            }
        },
    )
    .0
}

/// Starts rayon's pool (thread count from `RAYON_NUM_THREADS`, else one per core) with
/// the main thread's 8 MiB of stack per thread instead of 2 MiB, since the `lamppost`
/// command runs on it ([`on_pool`]). Does nothing if the pool already runs.
pub fn init_pool() {
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(8 << 20)
        .build_global();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sum split over the pool, in the same order whatever thread runs which half.
    fn split_sum(v: &[u64]) -> u64 {
        if v.len() <= 1024 {
            return v.iter().sum();
        }
        let (l, r) = v.split_at(v.len() / 2);
        let (a, b) = rayon::join(|| split_sum(l), || split_sum(r));
        a + b
    }

    #[test]
    fn hot_regions_nest_return_and_end() {
        let v: Vec<u64> = (0..1 << 16).collect();
        let want: u64 = v.iter().sum();
        for threads in [2, 3] {
            // a pool of the test's own: the global one also runs the other tests
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            // nested regions, and regions started from threads that keep awake for another
            let got = pool.install(|| {
                hot(|| {
                    assert!(HOT.get(), "f runs with the flag set");
                    let inner = hot(|| rayon::join(|| hot(|| split_sum(&v)), || split_sum(&v)));
                    split_sum(&v) + inner.0 + inner.1
                })
            });
            assert_eq!(got, 3 * want);
            // every thread has stopped spinning (or this would never end) and has its flag
            // cleared, and a later region works as the first
            assert_eq!(pool.broadcast(|_| HOT.get()), vec![false; threads]);
            assert_eq!(pool.install(|| hot(|| split_sum(&v))), want);
        }
    }

    #[test]
    fn a_panic_in_a_hot_region_reaches_the_caller_and_stops_the_spinning() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.install(|| hot(|| -> u64 { panic!("planted") }))
        }));
        let msg = caught.expect_err("the panic propagates");
        assert_eq!(msg.downcast_ref::<&str>(), Some(&"planted"));
        assert_eq!(pool.broadcast(|_| HOT.get()), vec![false; 2]);
        let v: Vec<u64> = (0..1 << 14).collect();
        assert_eq!(
            pool.install(|| hot(|| split_sum(&v))),
            v.iter().sum::<u64>()
        );
    }

    #[test]
    fn one_thread_pools_run_f_alone() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let v: Vec<u64> = (0..1 << 14).collect();
        assert_eq!(
            pool.install(|| hot(|| split_sum(&v))),
            v.iter().sum::<u64>()
        );
    }
}
