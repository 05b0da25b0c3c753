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
// SAFETY: Shared access gives out only the raw page, for bios.
unsafe impl Sync for OwnedPage {}

impl OwnedPage {
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

    /// The page, writable (for a read bio) for as long as it is borrowed.
    pub(crate) fn page_mut(&mut self) -> PageMut<'_> {
        // SAFETY: We own the page (type invariant) and lend it out,
        // exclusively, for the borrow of `self`.
        unsafe { PageMut::from_raw(self.page) }
    }

    /// Calls `f` with the page's bytes, writable.
    pub(crate) fn with_mut<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: We own the page (type invariant).
        let p = unsafe { ffi::rzram_kmap_local_page(self.as_raw()) };
        // SAFETY: The mapping covers the page; `&mut self` makes this the
        // only reference to its bytes.
        let r = f(unsafe { core::slice::from_raw_parts_mut(p.cast::<u8>(), PAGE_SIZE) });
        // SAFETY: Mapped above; local mappings nest, and any mapping made
        // inside `f` was released before it returned.
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

/// A page the holder may write for `'a`, and hand to a read bio.
///
/// # Invariants
///
/// `page` is a valid order-0 page, and for `'a` nobody but the holder of
/// this value reads or writes its bytes (the page belongs to a read bio
/// still being served, or to a [`PoolPage`] held exclusively).
pub(crate) struct PageMut<'a> {
    page: NonNull<bindings::page>,
    _borrow: core::marker::PhantomData<&'a mut ()>,
}

impl PageMut<'_> {
    /// # Safety
    ///
    /// `page` must satisfy the type invariants for the chosen lifetime.
    pub(super) unsafe fn from_raw(page: NonNull<bindings::page>) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self {
            page,
            _borrow: core::marker::PhantomData,
        }
    }

    /// The raw page, for a bio that writes it.
    pub(super) fn as_raw(&mut self) -> *mut bindings::page {
        self.page.as_ptr()
    }

    /// Calls `f` with the page's bytes, writable.
    pub(crate) fn with_mut<R>(&mut self, f: impl FnOnce(&mut [u8]) -> R) -> R {
        // SAFETY: The page is valid (type invariant).
        let p = unsafe { ffi::rzram_kmap_local_page(self.page.as_ptr()) };
        // SAFETY: The mapping covers the whole page, and the holder has
        // exclusive access to its bytes (type invariant) through `&mut`.
        let r = f(unsafe { core::slice::from_raw_parts_mut(p.cast::<u8>(), PAGE_SIZE) });
        // SAFETY: Mapped above; local mappings nest, and any mapping made
        // inside `f` was released before it returned.
        unsafe { ffi::rzram_kunmap_local(p) };
        r
    }
}

/// A mempool of pages: an allocation waits for a page rather than fail,
/// so the I/O path always makes progress.
///
/// # Invariants
///
/// `pool` is a page mempool (order 0) created by [`PagePool::new`] and
/// destroyed on drop; every element taken is given back by [`PoolPage`]
/// before the pool can drop (it borrows the pool).
pub(crate) struct PagePool {
    pool: NonNull<bindings::mempool_t>,
}

// SAFETY: mempools are safe to use from any thread and context.
unsafe impl Send for PagePool {}
// SAFETY: As above; `mempool_alloc` and `mempool_free` synchronise
// internally.
unsafe impl Sync for PagePool {}

impl PagePool {
    /// A pool that keeps `min_nr` pages in reserve.
    pub(crate) fn new(min_nr: i32) -> Result<Self> {
        // SAFETY: `mempool_alloc_pages`/`mempool_free_pages` with order 0
        // (a null `pool_data`) is what `mempool_create_page_pool(n, 0)`
        // does.
        let pool = unsafe {
            bindings::mempool_create_node_noprof(
                min_nr,
                Some(bindings::mempool_alloc_pages),
                Some(bindings::mempool_free_pages),
                core::ptr::null_mut(),
                bindings::GFP_KERNEL,
                bindings::NUMA_NO_NODE,
            )
        };
        // INVARIANT: a non-null result is a new page pool.
        NonNull::new(pool).map(|pool| Self { pool }).ok_or(ENOMEM)
    }

    /// Takes a page if one is at hand without sleeping (`GFP_NOWAIT`): from
    /// the page allocator or the reserve.
    pub(crate) fn try_get(&self) -> Option<PoolPage<'_>> {
        // SAFETY: `pool` is live (type invariant); GFP_NOWAIT never sleeps.
        let p = unsafe {
            bindings::mempool_alloc_noprof(
                self.pool.as_ptr(),
                bindings::GFP_NOWAIT | bindings::__GFP_NOWARN,
            )
        };
        let page = NonNull::new(p.cast::<bindings::page>())?;
        // INVARIANT: an element of this pool, owned until dropped.
        Some(PoolPage { pool: self, page })
    }

    /// Gives back a page taken with [`PoolPage::into_raw`].
    ///
    /// # Safety
    ///
    /// `page` must come from `into_raw` of a page of this pool, and be given
    /// back once.  Callable in any context.
    pub(crate) unsafe fn put_raw(&self, page: NonNull<bindings::page>) {
        // SAFETY: An element of this pool (the caller's contract).
        unsafe { bindings::mempool_free(page.as_ptr().cast(), self.pool.as_ptr()) };
    }

    /// Takes a page, waiting for one (`GFP_NOIO`) if the page allocator
    /// and the reserve are both empty: a sleeping `mempool_alloc` does not
    /// fail.  `ENOMEM` is kept only because the C signature allows null.
    pub(crate) fn get(&self) -> Result<PoolPage<'_>> {
        // SAFETY: `pool` is live (type invariant); GFP_NOIO may sleep,
        // which every caller (the block I/O path) allows.
        let p =
            unsafe { bindings::mempool_alloc_noprof(self.pool.as_ptr(), ffi::rzram_gfp_noio()) };
        let page = NonNull::new(p.cast::<bindings::page>()).ok_or(ENOMEM)?;
        // INVARIANT: an element of this pool, owned until dropped.
        Ok(PoolPage { pool: self, page })
    }
}

impl Drop for PagePool {
    fn drop(&mut self) {
        // SAFETY: Created by `new`; no element is outstanding (each
        // `PoolPage` borrows the pool).
        unsafe { bindings::mempool_destroy(self.pool.as_ptr()) };
    }
}

/// A page taken from a [`PagePool`], given back on drop.
///
/// # Invariants
///
/// `page` is an element of `pool`, owned by this value.
pub(crate) struct PoolPage<'a> {
    pool: &'a PagePool,
    page: NonNull<bindings::page>,
}

impl PoolPage<'_> {
    /// Hands the page over to the caller, who gives it back with
    /// [`PagePool::put_raw`].
    pub(crate) fn into_raw(self) -> NonNull<bindings::page> {
        let page = self.page;
        core::mem::forget(self);
        page
    }

    /// The page, writable for as long as it is borrowed.
    pub(crate) fn page_mut(&mut self) -> PageMut<'_> {
        // SAFETY: We own the page (type invariant) and lend it out for the
        // borrow of `self`.
        unsafe { PageMut::from_raw(self.page) }
    }
}

impl Drop for PoolPage<'_> {
    fn drop(&mut self) {
        // SAFETY: The page came from this pool and is given back once.
        unsafe { bindings::mempool_free(self.page.as_ptr().cast(), self.pool.pool.as_ptr()) };
    }
}
