// SPDX-License-Identifier: GPL-2.0

//! A spinlock that disables interrupts while held.
//!
//! 6.12's `kernel::sync::SpinLock` uses plain `spin_lock`, which deadlocks
//! when the same lock is also taken from a bio completion in interrupt
//! context.  This backend uses `spin_lock_irqsave`, and works with
//! `kernel::sync::CondVar` like any other lock.

use super::ffi;
use kernel::{bindings, sync::lock::Backend};

/// The `spin_lock_irqsave` backend for `kernel::sync::lock::Lock`.
pub(crate) struct IrqSpinLockBackend;

/// A spinlock that disables local interrupts while held.
pub(crate) type IrqSpinLock<T> = kernel::sync::lock::Lock<T, IrqSpinLockBackend>;

// SAFETY: `lock` and `unlock` take and release the underlying spinlock,
// which gives mutual exclusion; the saved interrupt state travels in the
// guard state from `lock` to `unlock`.
unsafe impl Backend for IrqSpinLockBackend {
    type State = bindings::spinlock_t;
    type GuardState = usize;

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: The caller guarantees `ptr` is valid for writes and that
        // `name` and `key` live forever.
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller guarantees `ptr` is an initialised spinlock.
        unsafe { ffi::rzram_spin_lock_irqsave(ptr) }
    }

    unsafe fn unlock(ptr: *mut Self::State, flags: &Self::GuardState) {
        // SAFETY: The caller owns the lock; `flags` came from `lock`.
        unsafe { ffi::rzram_spin_unlock_irqrestore(ptr, *flags) }
    }
}
