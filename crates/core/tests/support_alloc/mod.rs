//! A global allocator that counts what each thread allocates, so a test can
//! show that reading a hostile file needs bounded memory (the most live at
//! once) and bounded work (all bytes ever allocated), without timing anything.
//!
//! Counts are per thread: tests run in parallel, and a card is read on the
//! thread that asks for it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The counting allocator; install with `#[global_allocator]`.
pub struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
    static TOTAL: Cell<usize> = const { Cell::new(0) };
}

fn note(grew: isize) {
    // `try_with`: an allocation while the thread's locals are torn down is not counted.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + grew;
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
    if grew > 0 {
        let _ = TOTAL.try_with(|t| t.set(t.get().saturating_add(grew as usize)));
    }
}

// SAFETY: every call is passed straight to the system allocator; counting
// touches only const-initialised thread locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        note(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note(new_size as isize - layout.size() as isize);
        }
        p
    }
}

/// What `f` needed on this thread: (its result, the most bytes live at once
/// beyond what was live before, every byte allocated).
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let total_before = TOTAL.with(Cell::get);
    let out = f();
    let peak = PEAK.with(Cell::get) - start;
    let total = TOTAL.with(Cell::get) - total_before;
    (out, peak.max(0) as usize, total)
}
