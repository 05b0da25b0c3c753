// SPDX-License-Identifier: GPL-2.0

//! A compact spinning lock in one bit of a 32-bit word.
//!
//! rzram keeps one per slot (a page of the device), so it must be small:
//! the other 31 bits of the word hold flags that the lock also protects,
//! and a second word holds a value that may be read and written without
//! the lock (the slot's access time).  Like `bit_spin_lock`, the holder
//! runs with preemption disabled and must not sleep.

use super::ffi;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicU32, Ordering};

const LOCK: u32 = 1 << 31;

/// A value of type `T` and 31 flag bits, protected by a bit lock.
pub(crate) struct BitLocked<T> {
    word: AtomicU32,
    /// Free for the owner; not protected by the lock.
    pub(crate) relaxed: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: `data` is only reached through a `BitGuard`, which holds the
// lock, so it is never accessed from two threads at once.
unsafe impl<T: Send> Sync for BitLocked<T> {}
// SAFETY: As above; moving the whole value moves `T`.
unsafe impl<T: Send> Send for BitLocked<T> {}

impl<T> BitLocked<T> {
    /// A new, unlocked value with no flags.
    pub(crate) const fn new(data: T) -> Self {
        Self {
            word: AtomicU32::new(0),
            relaxed: AtomicU32::new(0),
            data: UnsafeCell::new(data),
        }
    }

    /// Locks, spinning until the lock is free.
    pub(crate) fn lock(&self) -> BitGuard<'_, T> {
        // SAFETY: Disabling preemption is always allowed; re-enabled when
        // the guard drops.
        unsafe { ffi::rzram_preempt_disable() };
        loop {
            let old = self.word.fetch_or(LOCK, Ordering::Acquire);
            if old & LOCK == 0 {
                // INVARIANT: we set the lock bit.
                return BitGuard {
                    lock: self,
                    _not_send: core::marker::PhantomData,
                };
            }
            while self.word.load(Ordering::Relaxed) & LOCK != 0 {
                // SAFETY: A plain CPU hint.
                unsafe { ffi::rzram_cpu_relax() };
            }
        }
    }

    /// Locks if the lock is free.
    pub(crate) fn try_lock(&self) -> Option<BitGuard<'_, T>> {
        // SAFETY: As in `lock`; re-enabled below or by the guard.
        unsafe { ffi::rzram_preempt_disable() };
        if self.word.fetch_or(LOCK, Ordering::Acquire) & LOCK == 0 {
            // INVARIANT: we set the lock bit.
            Some(BitGuard {
                lock: self,
                _not_send: core::marker::PhantomData,
            })
        } else {
            // SAFETY: Pairs with the disable above.
            unsafe { ffi::rzram_preempt_enable() };
            None
        }
    }
}

impl<T> BitLocked<T> {
    /// Exclusive access without locking, through `&mut`.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

/// The held lock of a [`BitLocked`].
///
/// # Invariants
///
/// This guard set the lock bit of `lock.word` and preemption is disabled.
pub(crate) struct BitGuard<'a, T> {
    lock: &'a BitLocked<T>,
    /// `!Send`: preemption is re-enabled on the CPU that disabled it.
    _not_send: core::marker::PhantomData<*mut ()>,
}

impl<T> BitGuard<'_, T> {
    /// The protected value.
    pub(crate) fn data(&mut self) -> &mut T {
        // SAFETY: The lock is held (type invariant), so this is the only
        // reference to the data.
        unsafe { &mut *self.lock.data.get() }
    }

    /// The protected value, shared.
    pub(crate) fn data_ref(&self) -> &T {
        // SAFETY: As in `data`.
        unsafe { &*self.lock.data.get() }
    }

    /// The flag bits (the low 31 bits of the word).
    pub(crate) fn flags(&self) -> u32 {
        self.lock.word.load(Ordering::Relaxed) & !LOCK
    }

    /// Replaces the flag bits, keeping the lock held.
    pub(crate) fn set_flags(&mut self, flags: u32) {
        // Only the holder writes the word while it is locked.
        self.lock
            .word
            .store((flags & !LOCK) | LOCK, Ordering::Relaxed);
    }

    /// The lock's relaxed word.
    pub(crate) fn relaxed(&self) -> &AtomicU32 {
        &self.lock.relaxed
    }
}

impl<T> Drop for BitGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.word.fetch_and(!LOCK, Ordering::Release);
        // SAFETY: Pairs with the disable in `lock`/`try_lock`.
        unsafe { ffi::rzram_preempt_enable() };
    }
}
