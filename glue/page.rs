// SPDX-License-Identifier: GPL-2.0

//! Owned pages with scoped kernel mappings.
//!
//! `kernel::page::Page` of 6.12 allocates only with the flags the kernel
//! crate exposes, which lack `GFP_NOIO`; the I/O path needs it.

use super::ffi;
use core::ptr::NonNull;
use kernel::{bindings, page::PAGE_SIZE, prelude::*};

/// One page, freed on drop.
///
/// # Invariants
///
/// `page` is an order-0 page allocated by this type and owned by it.
pub(crate) struct OwnedPage {
    page: NonNull<bindings::page>,
}

// SAFETY: A page is plain memory; ownership may move between threads.
unsafe impl Send for OwnedPage {}
// SAFETY: Shared access only reads through a temporary mapping.
unsafe impl Sync for OwnedPage {}

impl OwnedPage {
    /// Allocates a page without starting I/O to reclaim memory (usable in
    /// the block I/O path).
    pub(crate) fn alloc_noio() -> Result<Self> {
        // SAFETY: Plain page allocation.
        let p = unsafe { ffi::rzram_alloc_page_noio() };
        // INVARIANT: a non-null result is a page we own.
        NonNull::new(p).map(|page| Self { page }).ok_or(ENOMEM)
    }

    /// Allocates a page that may wait for reclaim.
    pub(crate) fn alloc() -> Result<Self> {
        // SAFETY: Plain page allocation.
        let p = unsafe { ffi::rzram_alloc_page_kernel() };
        // INVARIANT: a non-null result is a page we own.
        NonNull::new(p).map(|page| Self { page }).ok_or(ENOMEM)
    }

    /// The raw page, for building bios.
    pub(crate) fn as_raw(&self) -> *mut bindings::page {
        self.page.as_ptr()
    }

    /// Calls `f` with the page's bytes.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: We own the page (type invariant).
        let p = unsafe { ffi::rzram_kmap_local_page(self.as_raw()) };
        // SAFETY: The mapping covers the whole page; `&self` excludes
        // writers through `with_mut`.
        let r = f(unsafe { core::slice::from_raw_parts(p.cast::<u8>(), PAGE_SIZE) });
        // SAFETY: Mapped above; nothing else was mapped in between that is
        // still live (local mappings nest).
        unsafe { ffi::rzram_kunmap_local(p) };
        r
    }

    /// Calls `f` with the page's bytes, writable.
    pub(crate) fn with_mut<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: We own the page (type invariant).
        let p = unsafe { ffi::rzram_kmap_local_page(self.as_raw()) };
        // SAFETY: The mapping covers the page; `&mut self` makes this the
        // only reference to its bytes.
        let r = f(unsafe { core::slice::from_raw_parts_mut(p.cast::<u8>(), PAGE_SIZE) });
        // SAFETY: As in `with`.
        unsafe { ffi::rzram_kunmap_local(p) };
        r
    }
}

impl Drop for OwnedPage {
    fn drop(&mut self) {
        // SAFETY: We own this order-0 page (type invariant).
        unsafe { bindings::__free_pages(self.as_raw(), 0) };
    }
}
