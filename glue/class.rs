// SPDX-License-Identifier: GPL-2.0

//! A device class with zram-control's two attributes, `hot_add` and
//! `hot_remove`.
//!
//! C header: [`include/linux/device/class.h`](srctree/include/linux/device/class.h)

use super::sysfs::{store_input, SysfsBuf};
use core::marker::PhantomData;
use kernel::{bindings, c_str, prelude::*, sync::Arc, types::Opaque};

/// What the control class does for its data `T`.
pub(crate) trait ControlOps: Send + Sync + Sized + 'static {
    /// Read of `hot_add`: create a device and print its id.
    fn hot_add(&self, buf: &mut SysfsBuf<'_>) -> Result;
    /// Write to `hot_remove`: remove the device whose id is written.
    fn hot_remove(&self, input: &[u8]) -> Result;
}

/// The registered class; `raw` first so that `struct class *` is a pointer
/// to the whole `Inner`.
#[repr(C)]
struct Inner<T> {
    raw: Opaque<bindings::class>,
    data: Arc<T>,
}

// SAFETY: `raw` is only handed to the driver core, which synchronises its
// own accesses; `data` is an `Arc` of a `Send + Sync` value.
unsafe impl<T: ControlOps> Send for Inner<T> {}
// SAFETY: As above.
unsafe impl<T: ControlOps> Sync for Inner<T> {}

/// A registered control class, unregistered on drop.
///
/// # Invariants
///
/// `inner.raw` is registered with `class_register` and its attribute
/// callbacks are the trampolines for `T`.
pub(crate) struct ControlClass<T: ControlOps> {
    inner: Pin<KBox<Inner<T>>>,
}

struct Tables<T>(PhantomData<T>);

impl<T: ControlOps> Tables<T> {
    const ATTRS: &'static [bindings::class_attribute; 2] = &[
        bindings::class_attribute {
            attr: bindings::attribute {
                name: c_str!("hot_add").as_char_ptr(),
                // As zram: reading creates a device, so only root may.
                mode: 0o400,
                // SAFETY: Lockdep bookkeeping; zero is its static state.
                ..unsafe { core::mem::zeroed() }
            },
            show: Some(hot_add_callback::<T>),
            store: None,
        },
        bindings::class_attribute {
            attr: bindings::attribute {
                name: c_str!("hot_remove").as_char_ptr(),
                mode: 0o200,
                // SAFETY: As above.
                ..unsafe { core::mem::zeroed() }
            },
            show: None,
            store: Some(hot_remove_callback::<T>),
        },
    ];
    const PTRS: &'static [*const bindings::attribute; 3] = &[
        &Self::ATTRS[0].attr,
        &Self::ATTRS[1].attr,
        core::ptr::null(),
    ];
    const GROUP: &'static bindings::attribute_group = &bindings::attribute_group {
        attrs: Self::PTRS.as_ptr().cast_mut().cast(),
        // SAFETY: All other members are optional; zero means absent.
        ..unsafe { core::mem::zeroed() }
    };
    const GROUPS: &'static [*const bindings::attribute_group; 2] =
        &[Self::GROUP, core::ptr::null()];
}

impl<T: ControlOps> ControlClass<T> {
    /// Registers class `name` (as `/sys/class/<name>`) around `data`.
    pub(crate) fn register(name: &'static CStr, data: Arc<T>) -> Result<Self> {
        let inner = KBox::pin(
            Inner {
                raw: Opaque::uninit(),
                data,
            },
            GFP_KERNEL,
        )?;
        let raw = inner.raw.get();
        // SAFETY: `raw` is our boxed, not yet registered class; a zeroed
        // class with a name and groups is a valid static-style class.
        unsafe {
            raw.write(bindings::class {
                name: name.as_char_ptr(),
                class_groups: Tables::<T>::GROUPS.as_ptr().cast_mut(),
                ..core::mem::zeroed()
            });
        }
        // SAFETY: `raw` is initialised above and stays at a fixed address
        // (pinned box) until `Drop` unregisters it.
        kernel::error::to_result(unsafe { bindings::class_register(raw) })?;
        // INVARIANT: registered above.
        Ok(Self { inner })
    }
}

impl<T: ControlOps> Drop for ControlClass<T> {
    fn drop(&mut self) {
        // SAFETY: Registered (type invariant).  Unregistering removes the
        // attributes and waits for running callbacks, so none can touch
        // `data` afterwards.
        unsafe { bindings::class_unregister(self.inner.raw.get()) };
    }
}

/// Returns the data of a class registered by [`ControlClass::register`].
///
/// # Safety
///
/// `class` must be the `raw` member of a live `Inner<T>`.
unsafe fn class_data<'a, T>(class: *const bindings::class) -> &'a T {
    // SAFETY: `raw` is the first member of the `#[repr(C)]` `Inner<T>`,
    // which is live while its attributes exist.
    unsafe { &(*class.cast::<Inner<T>>()).data }
}

/// `show` of `hot_add`.
///
/// # Safety
///
/// Called by sysfs with the class registered by [`ControlClass::register`].
unsafe extern "C" fn hot_add_callback<T: ControlOps>(
    class: *const bindings::class,
    _attr: *const bindings::class_attribute,
    buf: *mut kernel::ffi::c_char,
) -> isize {
    // SAFETY: Our attributes are only attached to an `Inner<T>`.
    let data = unsafe { class_data::<T>(class) };
    // SAFETY: sysfs passes a page-sized buffer for the callback.
    let mut out = unsafe { SysfsBuf::from_raw(buf) };
    match data.hot_add(&mut out) {
        Ok(()) => out.len() as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `store` of `hot_remove`.
///
/// # Safety
///
/// As for `hot_add_callback`, with `count` readable bytes at `buf`.
unsafe extern "C" fn hot_remove_callback<T: ControlOps>(
    class: *const bindings::class,
    _attr: *const bindings::class_attribute,
    buf: *const kernel::ffi::c_char,
    count: usize,
) -> isize {
    // SAFETY: Our attributes are only attached to an `Inner<T>`.
    let data = unsafe { class_data::<T>(class) };
    // SAFETY: sysfs passes `count` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    match data.hot_remove(store_input(input, false)) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}
