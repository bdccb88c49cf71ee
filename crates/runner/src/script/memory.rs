//! The engine's allocator: Rust's own (rquickjs's `RustAllocator`), metered,
//! so the sandbox enforces the memory limit itself and knows when a script
//! hit it. QuickJS's own limit can't say so: past it, the engine may not even
//! have room for its "out of memory" error and throws `null`.
//!
//! The one place in the runner that needs `unsafe`: rquickjs's `Allocator`
//! trait is unsafe to implement; every block is passed to `RustAllocator`.
#![allow(unsafe_code)]

use rquickjs::allocator::{Allocator, RustAllocator};
use std::cell::Cell;
use std::ptr;
use std::rc::Rc;

/// What the engine holds, what it may hold, and whether it asked for more.
#[derive(Debug)]
pub(super) struct Meter {
    used: Cell<usize>,
    pub limit: Cell<usize>,
    pub hit: Cell<bool>,
}

impl Meter {
    /// A meter with no limit yet (the bootstrap runs unmetered).
    pub fn new() -> Rc<Meter> {
        Rc::new(Meter { used: Cell::new(0), limit: Cell::new(usize::MAX), hit: Cell::new(false) })
    }

    fn admit(&self, extra: usize) -> bool {
        if self.used.get().saturating_add(extra) > self.limit.get() {
            self.hit.set(true);
            return false;
        }
        true
    }
}

/// The allocator handed to the runtime.
pub(super) struct Metered(pub Rc<Meter>);

// SAFETY: every call is passed to `RustAllocator` unchanged; the meter only
// reads sizes of blocks that allocator made, and refuses by returning null,
// which QuickJS treats as out of memory.
unsafe impl Allocator for Metered {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !self.0.admit(size) {
            return ptr::null_mut();
        }
        let p = RustAllocator.alloc(size);
        if !p.is_null() {
            // SAFETY: p was just made by RustAllocator.
            self.0.used.set(self.0.used.get() + unsafe { RustAllocator::usable_size(p) });
        }
        p
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        let Some(total) = count.checked_mul(size) else {
            return ptr::null_mut();
        };
        if !self.0.admit(total) {
            return ptr::null_mut();
        }
        let p = RustAllocator.calloc(count, size);
        if !p.is_null() {
            // SAFETY: p was just made by RustAllocator.
            self.0.used.set(self.0.used.get() + unsafe { RustAllocator::usable_size(p) });
        }
        p
    }

    unsafe fn dealloc(&mut self, p: *mut u8) {
        if p.is_null() {
            return;
        }
        // SAFETY: the engine frees only blocks this allocator gave it.
        unsafe {
            self.0.used.set(self.0.used.get().saturating_sub(RustAllocator::usable_size(p)));
            RustAllocator.dealloc(p);
        }
    }

    unsafe fn realloc(&mut self, p: *mut u8, new_size: usize) -> *mut u8 {
        if p.is_null() {
            return self.alloc(new_size);
        }
        // SAFETY: p is a live block from this allocator.
        let old = unsafe { RustAllocator::usable_size(p) };
        if new_size > old && !self.0.admit(new_size - old) {
            return ptr::null_mut();
        }
        // SAFETY: as above; on failure the old block stays valid and counted.
        let q = unsafe { RustAllocator.realloc(p, new_size) };
        if !q.is_null() {
            let now = unsafe { RustAllocator::usable_size(q) };
            self.0.used.set(self.0.used.get().saturating_sub(old) + now);
        }
        q
    }

    unsafe fn usable_size(p: *mut u8) -> usize {
        // SAFETY: forwarded as the trait requires.
        unsafe { RustAllocator::usable_size(p) }
    }
}
