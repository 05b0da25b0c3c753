// SPDX-License-Identifier: GPL-2.0

//! Kernel glue: the only place in rzram with `unsafe` code and raw
//! `kernel::bindings`.
//!
//! Each submodule wraps one C facility in a small safe type whose invariants
//! are documented next to it, in the manner of
//! `rust/kernel/block/mq/gen_disk.rs`.  The driver above uses only these
//! types.

pub(crate) mod bio;
pub(crate) mod bioset;
pub(crate) mod debugfs;
pub(crate) mod disk;
pub(crate) mod ffi;
pub(crate) mod racy;
pub(crate) mod sysfs;

use core::cell::UnsafeCell;

/// A `static` that C code receives a mutable pointer to.
///
/// Kernel tables such as `block_device_operations` and `device_attribute`
/// hold raw pointers, so they are neither `Sync` nor placeable in read-only
/// memory when C may write to them (lockdep keys embedded in `attribute`).
/// `Shared` puts them in writable memory and hands out raw pointers only.
#[repr(transparent)]
pub(crate) struct Shared<T>(UnsafeCell<T>);

// The value is reached only through `get()`'s raw pointer, and every such
// access only reads: C reads the tables it is given (lockdep reads, not
// writes, a static attribute's keys), `glue::sysfs` an `Attr`'s callbacks.
// SAFETY: A shared `Shared` gives out only that pointer, and nothing writes
// a `Shared` static after initialisation, so no thread can race a write.
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// Wraps a value for C.
    pub(crate) const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// Returns the pointer to hand to C.
    pub(crate) const fn get(&self) -> *mut T {
        self.0.get()
    }
}

pub(crate) mod bitlock;
pub(crate) mod comp;
pub(crate) mod page;
pub(crate) mod rwsem;
pub(crate) mod zsmalloc;

/// The C string at the start of `bytes`: up to and including its first
/// NUL; `None` if `bytes` has no NUL.
///
/// Unlike `CStr::from_char_ptr`, whose `strlen() + 1` carries an overflow
/// check, this stays inside `bytes` and cannot panic.
pub(crate) fn cstr_prefix(bytes: &[u8]) -> Option<&kernel::str::CStr> {
    let nul = bytes.iter().position(|&b| b == 0)?;
    kernel::str::CStr::from_bytes_with_nul(bytes.get(..=nul)?).ok()
}

/// Seconds since boot, including suspend (`ktime_get_boottime_seconds`).
pub(crate) fn boottime_secs() -> i64 {
    // SAFETY: Reads a clock; callable from any context.
    unsafe { ffi::rzram_ktime_get_boottime_seconds() }
}

/// CPUs online now (`num_online_cpus`).
pub(crate) fn online_cpus() -> u32 {
    // SAFETY: Reads the online mask's weight; callable from any context.
    unsafe { ffi::rzram_num_online_cpus() }
}

/// Gives up the CPU if a reschedule is due (`cond_resched`), in a long
/// loop of a sleepable task.  May sleep: call it only where sleeping is
/// allowed (no spinlock or bit lock held); the debug kernel's might-sleep
/// check reports any other caller.
pub(crate) fn cond_resched() {
    // SAFETY: `cond_resched` has no memory-safety preconditions; calling
    // it in atomic context is a logic error the kernel reports, not
    // undefined behaviour.
    unsafe { ffi::rzram_cond_resched() };
}

/// The `wb_plug` module parameter (writable at run time).
pub(crate) fn param_wb_plug() -> bool {
    // SAFETY: Reads a module parameter (`READ_ONCE` in the shim).
    unsafe { ffi::rzram_wb_plug() }
}

/// The `rb_chain` module parameter (writable at run time).
pub(crate) fn param_rb_chain() -> bool {
    // SAFETY: Reads a module parameter (`READ_ONCE` in the shim).
    unsafe { ffi::rzram_rb_chain() }
}

/// The `wb_bio_pages` module parameter (writable at run time): the most
/// pages per writeback bio, 0 for the backing queue's limits.
pub(crate) fn param_wb_bio_pages() -> usize {
    // SAFETY: Reads a module parameter (`READ_ONCE` in the shim).
    unsafe { ffi::rzram_wb_bio_pages() as usize }
}

/// The `wb_packed` module parameter (read-only): new devices start with
/// `compressed_writeback` and `packed_writeback` set.
pub(crate) fn param_wb_packed() -> bool {
    // SAFETY: Reads a module parameter (`READ_ONCE` in the shim).
    unsafe { ffi::rzram_wb_packed() }
}

/// The `wb_contig` module parameter (writable at run time).
pub(crate) fn param_wb_contig() -> bool {
    // SAFETY: Reads a module parameter (`READ_ONCE` in the shim).
    unsafe { ffi::rzram_wb_contig() }
}

/// The `default_algorithm` module parameter (`""` if unset by a null).
pub(crate) fn param_default_algorithm() -> &'static kernel::str::CStr {
    // SAFETY: Reads a module parameter that is only set at load time.
    let p = unsafe { ffi::rzram_default_algorithm() };
    if p.is_null() {
        return kernel::c_str!("");
    }
    // SAFETY: A `charp` parameter is a NUL-terminated string that stays
    // allocated, unchanged (mode 0444), until the module is unloaded.
    unsafe { kernel::str::CStr::from_char_ptr(p) }
}

/// The `num_devices` module parameter.
pub(crate) fn param_num_devices() -> u32 {
    // SAFETY: Reads a module parameter that is only set at load time.
    unsafe { ffi::rzram_num_devices() }
}
pub(crate) mod bdev;
pub(crate) mod class;
pub(crate) mod ioref;
pub(crate) mod irqlock;
pub(crate) mod readback;

/// While alive, allocations of this task do not start I/O to reclaim
/// memory (`memalloc_noio_save`), as the block I/O path requires.
///
/// `!Send`, and only ever created inside the guards of [`rwsem::RwSem`],
/// which are `!Send` and release it after the semaphore, so scopes of one
/// task nest and end in LIFO order.
pub(crate) struct NoIoScope {
    flags: u32,
    _not_send: core::marker::PhantomData<*mut ()>,
}

impl NoIoScope {
    /// Enters the scope.  Private to `glue`: only the rwsem guards
    /// create one.
    fn new() -> Self {
        // SAFETY: Changes only the current task's allocation flags;
        // restored on drop, in LIFO order since the guard is scoped.
        let flags = unsafe { ffi::rzram_memalloc_noio_save() };
        Self {
            flags,
            _not_send: core::marker::PhantomData,
        }
    }
}

impl Drop for NoIoScope {
    fn drop(&mut self) {
        // SAFETY: Restores what `new` saved.
        unsafe { ffi::rzram_memalloc_noio_restore(self.flags) };
    }
}
