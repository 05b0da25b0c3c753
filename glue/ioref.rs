// SPDX-License-Identifier: GPL-2.0

//! A value that the I/O path reaches without a shared lock.
//!
//! [`IoCell`] guards an `Option<T>` with a `percpu_ref`: a reader takes a
//! per-CPU reference (`percpu_ref_tryget_live`), which touches no shared
//! cache line, and reads the value through the guard.  [`IoCell::replace`]
//! kills the reference, waits until every reader has left, swaps the value
//! and brings the reference back to life.  So the value never changes
//! while a guard exists.
//!
//! C header: [`include/linux/percpu-refcount.h`](srctree/include/linux/percpu-refcount.h)

use super::{ffi, irqlock::IrqSpinLock, NoIoScope};
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::Deref;
use kernel::{
    bindings, c_str,
    error::to_result,
    new_condvar, new_mutex,
    prelude::*,
    static_lock_class,
    sync::{CondVar, Mutex},
    types::Opaque,
};

/// An `Option<T>` behind a `percpu_ref`.
///
/// # Invariants
///
/// - `pref` was initialised by `percpu_ref_init` with [`release`] and is
///   exited on drop.
/// - `value` is written only by [`IoCell::replace`], while `pref` is dead
///   and has dropped to zero, so that no [`IoGuard`] exists and none can be
///   made.
#[pin_data(PinnedDrop)]
pub(crate) struct IoCell<T> {
    #[pin]
    pref: Opaque<bindings::percpu_ref>,
    /// Set by [`release`] once the killed reference reaches zero.
    #[pin]
    drained: IrqSpinLock<bool>,
    #[pin]
    drained_cv: CondVar,
    /// Serialises [`IoCell::replace`].
    #[pin]
    change: Mutex<()>,
    value: UnsafeCell<Option<T>>,
}

// SAFETY: The value is shared (`&T`) between readers only while no writer
// exists (type invariants), so `T: Sync` suffices for sharing; replacing
// moves a `T` between threads, hence `T: Send`.
unsafe impl<T: Send + Sync> Sync for IoCell<T> {}
// SAFETY: As above.
unsafe impl<T: Send> Send for IoCell<T> {}

impl<T: Send + Sync> IoCell<T> {
    /// An empty cell, its reference live.
    pub(crate) fn new() -> Result<Pin<KBox<Self>>> {
        let cell = KBox::pin_init(
            pin_init!(Self {
                pref: Opaque::uninit(),
                drained <- kernel::sync::lock::Lock::new(
                    false,
                    c_str!("rzram:io_drained"),
                    static_lock_class!(),
                ),
                drained_cv <- new_condvar!("rzram:io_drained"),
                change <- new_mutex!((), "rzram:io_change"),
                value: UnsafeCell::new(None),
            }),
            GFP_KERNEL,
        )?;
        // Zeroed first: a failed `percpu_ref_init` leaves it zeroed, and
        // `percpu_ref_exit` (run when the box drops) frees nothing then.
        // SAFETY: `pref` is pinned in the box, writable and not yet
        // initialised; `release::<T>` matches this cell's type.
        let ret = unsafe {
            core::ptr::write_bytes(cell.pref.get(), 0, 1);
            bindings::percpu_ref_init(
                cell.pref.get(),
                Some(release::<T>),
                // Kept usable after a kill, for `percpu_ref_reinit`.
                bindings::PERCPU_REF_ALLOW_REINIT,
                bindings::GFP_KERNEL,
            )
        };
        to_result(ret)?;
        Ok(cell)
    }

    /// A guard over the value, if there is one and no replacement runs.
    /// Never sleeps.
    pub(crate) fn get(&self) -> Option<IoGuard<'_, T>> {
        // SAFETY: `pref` is initialised (type invariant).
        if !unsafe { ffi::rzram_percpu_ref_tryget_live(self.pref.get()) } {
            return None;
        }
        // SAFETY: We hold a live reference, so `replace` is not writing the
        // value and cannot until we drop it (type invariants).
        let Some(value) = (unsafe { &*self.value.get() }).as_ref() else {
            // SAFETY: Drops the reference taken above.
            unsafe { ffi::rzram_percpu_ref_put(self.pref.get()) };
            return None;
        };
        // INVARIANT: we took the reference above.
        Some(IoGuard {
            cell: self,
            value,
            _noio: NoIoScope::new(),
            _not_send: PhantomData,
        })
    }

    /// Whether there is a value.
    pub(crate) fn is_some(&self) -> bool {
        self.get().is_some()
    }

    /// Replaces the value, waiting until no guard exists.  I/O meanwhile
    /// finds no value.  Returns the old one.
    pub(crate) fn replace(&self, new: Option<T>) -> Option<T> {
        let _change = self.change.lock();
        // SAFETY: `pref` is live (only `replace` kills it, and it brings it
        // back before returning); `release` runs once it reaches zero.
        unsafe { bindings::percpu_ref_kill_and_confirm(self.pref.get(), None) };
        let mut drained = self.drained.lock();
        while !*drained {
            self.drained_cv.wait(&mut drained);
        }
        *drained = false;
        drop(drained);
        // SAFETY: The reference is dead and at zero: no guard exists and
        // `get` fails until the reinit below (type invariants).
        let old = core::mem::replace(unsafe { &mut *self.value.get() }, new);
        // SAFETY: Dead and at zero, as `percpu_ref_reinit` requires.
        unsafe { bindings::percpu_ref_reinit(self.pref.get()) };
        old
    }
}

#[pinned_drop]
impl<T> PinnedDrop for IoCell<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Nobody holds a guard (they borrow the cell); exiting a
        // live or zeroed reference is allowed.
        unsafe { bindings::percpu_ref_exit(self.pref.get()) };
    }
}

/// The `release` of an [`IoCell`]'s reference: the last reader has left.
/// May run in RCU callback (softirq) context.
///
/// # Safety
///
/// `pref` must be the `pref` field of a live `IoCell<T>`.
unsafe extern "C" fn release<T>(pref: *mut bindings::percpu_ref) {
    let off = core::mem::offset_of!(IoCell<T>, pref);
    // SAFETY: `pref` is the field at `off` of a live `IoCell<T>`, which
    // `replace` keeps alive while it waits for this call.
    let cell = unsafe { &*pref.cast::<u8>().sub(off).cast::<IoCell<T>>() };
    let mut drained = cell.drained.lock();
    *drained = true;
    cell.drained_cv.notify_all();
    drop(drained);
}

/// A reader of an [`IoCell`]'s value.
///
/// # Invariants
///
/// Holds one reference of `cell.pref`, dropped on drop.
pub(crate) struct IoGuard<'a, T> {
    cell: &'a IoCell<T>,
    value: &'a T,
    /// Allocations of the holder do not recurse into I/O.
    _noio: NoIoScope,
    /// `!Send`: the scope above belongs to this task.
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for IoGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.value
    }
}

impl<T> Drop for IoGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: We hold one reference (type invariant).
        unsafe { ffi::rzram_percpu_ref_put(self.cell.pref.get()) };
    }
}
