// SPDX-License-Identifier: GPL-2.0

//! A reader-writer semaphore protecting a value, with guards.
//!
//! 6.12's `kernel::sync` has no rw-semaphore.  zram's `init_lock` is one:
//! I/O and statistics take it shared, configuration changes exclusive.
//!
//! Unlike zram, rzram's block I/O path takes it too (shared, to reach the
//! storage safely).  So every holder allocates without starting I/O: a
//! holder whose allocation entered reclaim and swapped out to this very
//! device would take the semaphore again from `submit_bio`, and wait on
//! itself once a writer queued between the two.  Each guard keeps a
//! [`NoIoScope`] for as long as it holds the semaphore, which also keeps
//! lockdep from seeing a `fs_reclaim` dependency under it.
//!
//! C header: [`include/linux/rwsem.h`](srctree/include/linux/rwsem.h)

use super::{ffi, NoIoScope};
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use kernel::{bindings, prelude::*, types::Opaque};

/// A value of type `T` behind a `struct rw_semaphore`.
///
/// # Invariants
///
/// `sem` was initialised by `init_rwsem` and stays at a fixed address (it
/// is boxed).  `data` is only accessed through the guards, which hold
/// `sem` shared (`&T`) or exclusively (`&mut T`).
pub(crate) struct RwSem<T> {
    sem: KBox<Opaque<bindings::rw_semaphore>>,
    data: UnsafeCell<T>,
}

// SAFETY: The semaphore serialises access to `data` across threads.
unsafe impl<T: Send> Send for RwSem<T> {}
// SAFETY: Readers share `&T` (so `T: Sync`), writers get `&mut T` (so
// `T: Send`).
unsafe impl<T: Send + Sync> Sync for RwSem<T> {}

impl<T> RwSem<T> {
    /// A new, unlocked semaphore around `data`.
    pub(crate) fn new(data: T) -> Result<Self> {
        let sem = KBox::new(Opaque::uninit(), GFP_KERNEL)?;
        // SAFETY: `sem` is boxed memory for a `rw_semaphore` that nobody
        // else can see yet.
        unsafe { ffi::rzram_init_rwsem(sem.get()) };
        // INVARIANT: initialised above, boxed.
        Ok(Self {
            sem,
            data: UnsafeCell::new(data),
        })
    }

    /// Takes the semaphore shared; may sleep.
    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        let noio = NoIoScope::new();
        // SAFETY: `sem` is initialised (type invariant).
        unsafe { bindings::down_read(self.sem.get()) };
        // INVARIANT: held shared.
        ReadGuard {
            lock: self,
            _not_send: PhantomData,
            _noio: noio,
        }
    }

    /// Takes the semaphore exclusively; may sleep.
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        let noio = NoIoScope::new();
        // SAFETY: `sem` is initialised (type invariant).
        unsafe { bindings::down_write(self.sem.get()) };
        // INVARIANT: held exclusively.
        WriteGuard {
            lock: self,
            _not_send: PhantomData,
            _noio: noio,
        }
    }
}

/// Shared hold of a [`RwSem`].
///
/// # Invariants
///
/// The semaphore is held shared by this guard.
pub(crate) struct ReadGuard<'a, T> {
    lock: &'a RwSem<T>,
    /// `!Send`: a semaphore is released by the task that took it.
    _not_send: PhantomData<*mut ()>,
    /// Entered before the semaphore was taken; left (field drop) after
    /// it is released.
    _noio: NoIoScope,
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: Held shared, so no writer has `&mut T`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: Held shared by this guard (type invariant).
        unsafe { bindings::up_read(self.lock.sem.get()) };
    }
}

/// Exclusive hold of a [`RwSem`].
///
/// # Invariants
///
/// The semaphore is held exclusively by this guard.
pub(crate) struct WriteGuard<'a, T> {
    lock: &'a RwSem<T>,
    /// As in [`ReadGuard`].
    _not_send: PhantomData<*mut ()>,
    /// As in [`ReadGuard`].
    _noio: NoIoScope,
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: Held exclusively.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: Held exclusively, so this is the only reference.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: Held exclusively by this guard (type invariant).
        unsafe { bindings::up_write(self.lock.sem.get()) };
    }
}
