// SPDX-License-Identifier: GPL-2.0

//! Bytes that another context may change while the driver reads them.
//!
//! A write bio's pages are not always stable.  `BLK_FEAT_STABLE_WRITES`
//! only makes the page cache wait for writeback; an `O_DIRECT` write
//! carries the writer's own pages, which another of its threads may change
//! while the bio is in flight.  A `&[u8]` over them would claim they cannot
//! change, which Rust's aliasing rules then let the compiler rely on.
//!
//! [`Racy`] never hands out a reference.  Its bytes are read only by C
//! (`memcpy`, the compressors), or one word at a time with volatile reads,
//! the kernel's `READ_ONCE` (the kernel memory model makes such a read of
//! a racing write return some value, old or new, and nothing worse).  What
//! the driver stores is then whatever the bytes were when read, as in zram:
//! a writer racing its own write gets undefined data back, never a crash.

use core::marker::PhantomData;
use kernel::{bindings, prelude::*};

/// `len` bytes at `ptr`, readable for `'a`, which may change meanwhile.
///
/// # Invariants
///
/// `ptr` is valid for reads of `len` bytes for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct Racy<'a> {
    ptr: *const u8,
    len: usize,
    _borrow: PhantomData<&'a [u8]>,
}

impl<'a> Racy<'a> {
    /// Bytes that nobody changes: a plain slice is trivially fine.
    pub(crate) fn from_slice(s: &'a [u8]) -> Self {
        // INVARIANT: a slice is readable for its lifetime.
        Self {
            ptr: s.as_ptr(),
            len: s.len(),
            _borrow: PhantomData,
        }
    }

    /// # Safety
    ///
    /// `ptr` must be valid for reads of `len` bytes for `'a`.
    pub(super) unsafe fn new(ptr: *const u8, len: usize) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self {
            ptr,
            len,
            _borrow: PhantomData,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The first byte, for C functions that read `len()` bytes from it.
    pub(super) fn as_ptr(&self) -> *const u8 {
        self.ptr
    }

    /// The bytes `start..start + len`, if inside.
    pub(crate) fn sub(&self, start: usize, len: usize) -> Option<Racy<'a>> {
        let end = start.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: `start..end` lies inside our readable range (checked).
        Some(unsafe { Racy::new(self.ptr.wrapping_add(start), len) })
    }

    /// Copies the bytes into `dst`, which must be as long (else `EINVAL`).
    pub(crate) fn copy_to(&self, dst: &mut [u8]) -> Result {
        if dst.len() != self.len {
            return Err(EINVAL);
        }
        // The read happens in C's `memcpy`, not through a Rust reference.
        // SAFETY: `ptr` is readable for `len` bytes (type invariant), `dst`
        // writable for as many and exclusively ours, so they cannot overlap.
        unsafe { bindings::memcpy(dst.as_mut_ptr().cast(), self.ptr.cast(), self.len) };
        Ok(())
    }

    /// Word `i` (native endian, 8 bytes at `8 * i`, any alignment), read
    /// once; `None` past the end.
    pub(crate) fn word(&self, i: usize) -> Option<u64> {
        let start = i.checked_mul(8)?;
        if start.checked_add(8)? > self.len {
            return None;
        }
        // SAFETY: the 8 bytes at `start` are inside our readable range
        // (checked); `[u8; 8]` has alignment 1.  A volatile read is the
        // kernel's `READ_ONCE`, the sanctioned read of racing memory.
        let b = unsafe { self.ptr.add(start).cast::<[u8; 8]>().read_volatile() };
        Some(u64::from_ne_bytes(b))
    }
}
