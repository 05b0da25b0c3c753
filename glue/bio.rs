// SPDX-License-Identifier: GPL-2.0

//! Bios handed to rzram's `submit_bio`.
//!
//! C header: [`include/linux/bio.h`](srctree/include/linux/bio.h)

use super::{ffi, racy::Racy};
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU8, Ordering};
use kernel::{bindings, error::Result};

/// The operation a bio asks for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Op {
    Read,
    Write,
    Flush,
    Discard,
    WriteZeroes,
    /// Anything else (zone operations, secure erase, ...): not supported.
    Other,
}

/// A bio the driver has been asked to serve.
///
/// # Invariants
///
/// - `ptr` points to a live `struct bio` that the block layer handed to this
///   driver's `submit_bio` and that has not been completed yet.
/// - The bio is completed exactly once: by [`Bio::end`], or with an I/O
///   error when the `Bio` is dropped without being ended.
pub(crate) struct Bio {
    ptr: NonNull<bindings::bio>,
}

impl Bio {
    /// Takes ownership of a bio given to `submit_bio`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a bio passed to this driver's `submit_bio` that
    /// nobody else will complete.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::bio) -> Option<Self> {
        // INVARIANT: guaranteed by the caller.
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    fn raw(&self) -> *mut bindings::bio {
        self.ptr.as_ptr()
    }

    /// The operation of this bio.
    pub(crate) fn op(&self) -> Op {
        // SAFETY: By the type invariant `self.ptr` is a live bio.
        let op = unsafe { ffi::rzram_bio_op(self.raw()) };
        match op {
            bindings::req_op_REQ_OP_READ => Op::Read,
            bindings::req_op_REQ_OP_WRITE => Op::Write,
            bindings::req_op_REQ_OP_FLUSH => Op::Flush,
            bindings::req_op_REQ_OP_DISCARD => Op::Discard,
            bindings::req_op_REQ_OP_WRITE_ZEROES => Op::WriteZeroes,
            _ => Op::Other,
        }
    }

    /// The first sector (512 bytes) the bio addresses.
    pub(crate) fn sector(&self) -> u64 {
        // SAFETY: By the type invariant `self.ptr` is a live bio that only
        // this driver accesses until it is ended.
        unsafe { (*self.raw()).bi_iter.bi_sector }
    }

    /// The number of bytes the bio addresses.
    pub(crate) fn size(&self) -> u32 {
        // SAFETY: As in `sector`.
        unsafe { (*self.raw()).bi_iter.bi_size }
    }

    /// Calls `f` for each single-page segment of the bio's data, in order,
    /// stopping at the first error.
    ///
    /// The callback form (rather than an iterator) ensures that at most one
    /// segment's page is mapped at a time.
    pub(crate) fn for_each_segment(
        &mut self,
        mut f: impl FnMut(&mut Segment<'_>) -> Result,
    ) -> Result {
        // SAFETY: By the type invariant `self.ptr` is a live bio.
        let mut iter = unsafe { (*self.raw()).bi_iter };
        while iter.bi_size > 0 {
            // SAFETY: `iter` is a copy of the bio's own iterator advanced
            // only by `rzram_bio_advance_iter_single` while `bi_size > 0`,
            // so it addresses a valid bvec of this live bio.
            let bv = unsafe { ffi::rzram_bio_iter_iovec(self.raw(), iter) };
            let len = bv.bv_len;
            // INVARIANT: `bv` is a single-page bvec of a live bio which is
            // borrowed for the lifetime of the segment.
            let mut seg = Segment {
                bv,
                parent: self.ptr,
                _bio: PhantomData,
            };
            f(&mut seg)?;
            // SAFETY: `len` is the length of the current bvec, which is at
            // most `iter.bi_size`.
            unsafe { ffi::rzram_bio_advance_iter_single(self.raw(), &mut iter, len) };
        }
        Ok(())
    }

    /// Completes the bio: successfully for `Ok`, with an I/O error otherwise.
    /// Records an I/O error as the bio's status unless it has one already
    /// (a chained child may have failed it); `true` if this was the first.
    pub(crate) fn fail_first(&self) -> bool {
        // SAFETY: Returns a constant.
        let ioerr = unsafe { ffi::rzram_blk_sts_ioerr() };
        // SAFETY: The bio is live (type invariant).
        unsafe { set_first_status(self.raw(), ioerr) }
    }

    pub(crate) fn end(self, result: Result) {
        let ptr = self.raw();
        core::mem::forget(self);
        match result {
            // SAFETY: `ptr` is live and not yet ended (type invariant); we
            // forgot `self`, so it is ended exactly once.
            Ok(()) => unsafe { bindings::bio_endio(ptr) },
            // SAFETY: As above.
            Err(_) => unsafe { ffi::rzram_bio_io_error(ptr) },
        }
    }
}

/// Sets `bio`'s status to `status` unless it has an error already, as
/// `bio_chain_endio` keeps the first; `true` if this one was the first.
/// Completing children and the submitter race here, all through this.
///
/// # Safety
///
/// `bio` must be live and not yet ended.
pub(super) unsafe fn set_first_status(bio: *mut bindings::bio, status: u8) -> bool {
    // SAFETY: `bio` is live (the caller's guarantee); its status is a byte
    // written concurrently only through this function's atomic.
    let st = unsafe { AtomicU8::from_ptr(&raw mut (*bio).bi_status) };
    st.compare_exchange(0, status, Ordering::Relaxed, Ordering::Relaxed)
        .is_ok()
}

impl Drop for Bio {
    fn drop(&mut self) {
        // SAFETY: A `Bio` dropped without `end` has not been completed yet
        // (type invariant); complete it with an error so it never hangs.
        unsafe { ffi::rzram_bio_io_error(self.raw()) };
    }
}

/// One segment of a bio's data: a range inside a single page.
///
/// # Invariants
///
/// `bv` describes a range inside one page that belongs to `parent`, a bio
/// that stays live, and is not ended, for `'a`.
pub(crate) struct Segment<'a> {
    bv: bindings::bio_vec,
    /// The bio the segment belongs to.
    parent: NonNull<bindings::bio>,
    _bio: PhantomData<&'a mut Bio>,
}

impl Segment<'_> {
    /// Length of the segment in bytes.
    pub(crate) fn len(&self) -> usize {
        self.bv.bv_len as usize
    }

    /// The bio this segment is part of: live and not yet ended while the
    /// segment exists (type invariant).
    pub(super) fn parent(&self) -> NonNull<bindings::bio> {
        self.parent
    }

    /// The segment's page and the offset of its range in the page.
    pub(super) fn page_and_offset(&self) -> (*mut bindings::page, u32) {
        (self.bv.bv_page, self.bv.bv_offset)
    }

    /// The segment's page, if the segment is that whole page.
    pub(crate) fn whole_page(&mut self) -> Option<super::page::PageMut<'_>> {
        if self.bv.bv_len as usize != kernel::page::PAGE_SIZE || self.bv.bv_offset != 0 {
            return None;
        }
        let page = NonNull::new(self.bv.bv_page)?;
        // The segment covers the whole page, of a live bio borrowed for the
        // segment's lifetime, which only this driver writes until it ends.
        // SAFETY: So the page is valid and, through `&mut self`, lent out
        // once for the borrow: `PageMut`'s invariants.
        Some(unsafe { super::page::PageMut::from_raw(page) })
    }

    /// Maps the segment's bytes into the kernel's address space.
    pub(crate) fn map(&mut self) -> Mapped<'_> {
        // SAFETY: By the type invariant `bv_page` is a valid page of a live
        // bio; `kmap_local_page` accepts any such page.
        let base = unsafe { ffi::rzram_kmap_local_page(self.bv.bv_page) };
        // INVARIANT: `base` is the mapping of the segment's page, and the
        // range `bv_offset..bv_offset + bv_len` lies inside that page.
        Mapped {
            base,
            offset: self.bv.bv_offset as usize,
            len: self.bv.bv_len as usize,
            _seg: PhantomData,
        }
    }
}

/// A kmap_local mapping of one bio segment, unmapped on drop.
///
/// # Invariants
///
/// `base` is a live `kmap_local_page` mapping of a page, and
/// `offset + len <= PAGE_SIZE`.  The mapping is borrowed mutably from its
/// segment, so a segment is mapped at most once at a time.
pub(crate) struct Mapped<'a> {
    base: *mut core::ffi::c_void,
    offset: usize,
    len: usize,
    _seg: PhantomData<&'a mut ()>,
}

impl Mapped<'_> {
    /// The segment's bytes, as a write bio carries them: they may change
    /// while the driver reads them (`O_DIRECT` pages stay the writer's),
    /// so they are [`Racy`], not a slice.
    pub(crate) fn as_racy(&self) -> Racy<'_> {
        // SAFETY: By the type invariant the range is inside a page mapped
        // for as long as `self` is borrowed.
        unsafe { Racy::new(self.base.cast::<u8>().add(self.offset), self.len) }
    }

    /// The segment's bytes, for filling a read.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // An `O_DIRECT` reader that touches its own buffer meanwhile races
        // in user space; the driver only stores to the range and never
        // reads it back, so that can only change what the reader finds.
        // SAFETY: The range is inside a mapped page (type invariant) of a
        // read bio, whose pages are the driver's until the bio ends;
        // `&mut self` makes this the only reference into the mapping.
        unsafe {
            core::slice::from_raw_parts_mut(self.base.cast::<u8>().add(self.offset), self.len)
        }
    }
}

impl Drop for Mapped<'_> {
    fn drop(&mut self) {
        // SAFETY: `base` came from `kmap_local_page` (type invariant) and
        // local mappings are released in LIFO order: at most one segment
        // mapping exists at a time.
        unsafe { ffi::rzram_kunmap_local(self.base) };
    }
}
