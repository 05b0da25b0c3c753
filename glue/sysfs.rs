// SPDX-License-Identifier: GPL-2.0

//! Sysfs attributes of a disk.
//!
//! [`disk_attrs!`] turns a table of `name => (show, store)` entries into a
//! static `attribute_group` for [`super::disk::Disk::new`].  The callbacks
//! are plain safe Rust functions:
//!
//! - `show(&T, &DiskRef, &mut SysfsBuf) -> Result`
//! - `store(&T, &DiskRef, &[u8]) -> Result`: the input as zram's C code
//!   sees it, up to the first NUL (sysfs NUL-terminates the buffer, and C
//!   string functions stop there), with at most one trailing newline
//!   removed; a store that returns `Ok` consumed it all.  It is bytes, not
//!   text: zram parses non-UTF-8 input like any other, and so must rzram.
//!   An entry `"name" => (show, store, keep_newline)` keeps the newline,
//!   for a store whose errors depend on the raw length.
//!
//! C header: [`include/linux/device.h`](srctree/include/linux/device.h)

use super::disk::{dev_data, DiskOps, DiskRef};
use super::Shared;
use core::marker::PhantomData;
use kernel::{bindings, page::PAGE_SIZE, prelude::*};

/// Reads an attribute into `buf`.
pub(crate) type ShowFn<T> = fn(&T, &DiskRef<'_>, &mut SysfsBuf<'_>) -> Result;
/// Applies a write to an attribute.
pub(crate) type StoreFn<T> = fn(&T, &DiskRef<'_>, &[u8]) -> Result;

/// One attribute: the C `device_attribute` followed by the Rust callbacks.
///
/// `raw` is the first member of a `#[repr(C)]` struct, so the pointer sysfs
/// passes back to the trampolines is also a pointer to the `Attr`.
#[repr(C)]
pub(crate) struct Attr<T: 'static> {
    raw: bindings::device_attribute,
    show: Option<ShowFn<T>>,
    store: Option<StoreFn<T>>,
    /// Pass the input to `store` with its trailing newline.
    keep_newline: bool,
}

impl<T: DiskOps + 'static> Attr<T> {
    /// An attribute readable by all (if it has `show`) and writable by root
    /// (if it has `store`), as zram's `DEVICE_ATTR_{RO,WO,RW}`.
    pub(crate) const fn new(
        name: &'static CStr,
        show: Option<ShowFn<T>>,
        store: Option<StoreFn<T>>,
    ) -> Self {
        let mode =
            (if show.is_some() { 0o444 } else { 0 }) | (if store.is_some() { 0o200 } else { 0 });
        Self {
            raw: bindings::device_attribute {
                attr: bindings::attribute {
                    name: name.as_char_ptr(),
                    mode,
                    // SAFETY: The remaining members are lockdep bookkeeping
                    // that sysfs initialises; zero is their static state.
                    ..unsafe { core::mem::zeroed() }
                },
                show: if show.is_some() {
                    Some(show_callback::<T>)
                } else {
                    None
                },
                store: if store.is_some() {
                    Some(store_callback::<T>)
                } else {
                    None
                },
            },
            show,
            store,
            keep_newline: false,
        }
    }

    /// Passes the input to `store` as written, trailing newline included.
    pub(crate) const fn keep_newline(mut self) -> Self {
        self.keep_newline = true;
        self
    }
}

/// The NULL-terminated attribute pointer array of `N` attributes (`M` is
/// `N + 1`).
pub(crate) const fn attr_ptrs<T: 'static, const N: usize, const M: usize>(
    attrs: &'static [Shared<Attr<T>>; N],
) -> [*mut bindings::attribute; M] {
    let mut out = [core::ptr::null_mut(); M];
    let mut i = 0;
    while i < N {
        // `raw.attr` is at offset 0 of the `#[repr(C)]` `Attr`.
        out[i] = attrs[i].get().cast();
        i += 1;
    }
    out
}

/// A NULL-terminated list of one attribute group for the disks of `T`.
pub(crate) struct AttrGroup<T> {
    list: &'static Shared<[*const bindings::attribute_group; 2]>,
    _p: PhantomData<fn(&T)>,
}

impl<T> AttrGroup<T> {
    #[doc(hidden)]
    pub(crate) const fn from_list(
        list: &'static Shared<[*const bindings::attribute_group; 2]>,
    ) -> Self {
        Self {
            list,
            _p: PhantomData,
        }
    }

    /// The list, as `device_add_disk` takes it.
    pub(crate) fn as_raw(&self) -> *mut *const bindings::attribute_group {
        self.list.get().cast()
    }
}

/// Declares a static [`AttrGroup`] named `$group` for disks whose data is
/// `$t`, from `"name" => (show, store)` entries.
macro_rules! disk_attrs {
    ($vis:vis static $group:ident: $t:ty = { $($name:literal => ($show:expr, $store:expr $(, $flag:ident)?)),* $(,)? }) => {
        $vis static $group: $crate::glue::sysfs::AttrGroup<$t> = {
            use $crate::glue::{sysfs::{attr_ptrs, Attr, AttrGroup}, Shared};
            use kernel::bindings;
            const N: usize = [$($name),*].len();
            static ATTRS: [Shared<Attr<$t>>; N] =
                [$(Shared::new(Attr::new(kernel::c_str!($name), $show, $store)$(.$flag())?)),*];
            static PTRS: Shared<[*mut bindings::attribute; N + 1]> =
                Shared::new(attr_ptrs(&ATTRS));
            static GROUP: Shared<bindings::attribute_group> =
                Shared::new(bindings::attribute_group {
                    attrs: PTRS.get().cast(),
                    // SAFETY: All other members are optional; zero is
                    // "absent" for each of them.
                    ..unsafe { core::mem::zeroed() }
                });
            static LIST: Shared<[*const bindings::attribute_group; 2]> =
                Shared::new([GROUP.get().cast_const(), core::ptr::null()]);
            AttrGroup::from_list(&LIST)
        };
    };
}
pub(crate) use disk_attrs;

/// The page-sized output buffer of a sysfs `show`.
///
/// Writes past the end are truncated, as `sysfs_emit` does.
pub(crate) struct SysfsBuf<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SysfsBuf<'a> {
    /// Wraps the page-sized buffer sysfs passes to a `show` callback.
    ///
    /// # Safety
    ///
    /// `buf` must be valid for writes of `PAGE_SIZE` bytes for `'a`.
    pub(super) unsafe fn from_raw(buf: *mut kernel::ffi::c_char) -> Self {
        // SAFETY: Guaranteed by the caller.
        let buf = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), PAGE_SIZE) };
        Self { buf, len: 0 }
    }

    /// Bytes written so far.
    pub(super) fn len(&self) -> usize {
        self.len
    }
}

/// What a C store sees of `input` (the `count` bytes sysfs passes): the
/// bytes before the first NUL, with one trailing newline removed unless
/// `keep_newline`.
pub(super) fn store_input(input: &[u8], keep_newline: bool) -> &[u8] {
    let end = input.iter().position(|&c| c == 0).unwrap_or(input.len());
    let s = input.get(..end).unwrap_or(input);
    match s.strip_suffix(b"\n") {
        Some(t) if !keep_newline => t,
        _ => s,
    }
}

impl core::fmt::Write for SysfsBuf<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // Keep the final byte for the NUL sysfs expects to be able to add.
        let end = self.buf.len().saturating_sub(1);
        let Some(room) = self.buf.get_mut(self.len..end) else {
            return Ok(());
        };
        let n = s.len().min(room.len());
        for (dst, src) in room.iter_mut().zip(s.as_bytes()) {
            *dst = *src;
        }
        // `n` fits in `room`, which ends at `end`: this cannot saturate.
        self.len = self.len.saturating_add(n);
        Ok(())
    }
}

/// `show` of every attribute in an [`AttrGroup`].
///
/// # Safety
///
/// Called by sysfs with the device of a live disk whose data is `T` and an
/// attribute from a group declared by [`disk_attrs!`] for `T`.
unsafe extern "C" fn show_callback<T: DiskOps + 'static>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut kernel::ffi::c_char,
) -> isize {
    // Nothing writes an `Attr` after initialisation (see `Shared`).
    // SAFETY: sysfs passes back a `device_attribute` of our groups, the
    // first member of an `Attr<T>` in a `Shared` static: `&` is sound.
    let attr = unsafe { &*attr.cast::<Attr<T>>() };
    // SAFETY: Our groups are only attached to disks with data `T`.
    let (data, disk) = unsafe { dev_data::<T>(dev) };
    // SAFETY: sysfs passes a page-sized buffer that we own for the
    // duration of the callback.
    let mut out = unsafe { SysfsBuf::from_raw(buf) };
    let Some(show) = attr.show else {
        return EIO.to_errno() as isize;
    };
    match show(data, &disk, &mut out) {
        Ok(()) => out.len as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `store` of every attribute in an [`AttrGroup`].
///
/// # Safety
///
/// As for `show_callback`, with `count` readable bytes at `buf`.
unsafe extern "C" fn store_callback<T: DiskOps + 'static>(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *const kernel::ffi::c_char,
    count: usize,
) -> isize {
    // SAFETY: As in `show_callback`.
    let attr = unsafe { &*attr.cast::<Attr<T>>() };
    // SAFETY: As in `show_callback`.
    let (data, disk) = unsafe { dev_data::<T>(dev) };
    // SAFETY: sysfs passes `count` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    let Some(store) = attr.store else {
        return EIO.to_errno() as isize;
    };
    match store(data, &disk, store_input(input, attr.keep_newline)) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}
