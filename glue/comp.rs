// SPDX-License-Identifier: GPL-2.0

//! Compression through the crypto API's `crypto_comp` interface, with one
//! stream per CPU as zram's `zcomp` has.
//!
//! C header: [`include/linux/crypto.h`](srctree/include/linux/crypto.h)

use super::ffi;
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{page::PAGE_SIZE, prelude::*};

/// Whether the kernel offers compression algorithm `name`.
pub(crate) fn available(name: &CStr) -> bool {
    // SAFETY: `name` is NUL-terminated.
    unsafe { ffi::rzram_crypto_has_comp(name.as_char_ptr()) != 0 }
}

/// One compression transform with its output buffer.
///
/// # Invariants
///
/// `tfm` is a live transform from `crypto_alloc_comp`, freed on drop.
struct Stream {
    tfm: NonNull<ffi::CryptoComp>,
    /// Output buffer: compressed data may exceed a page before the
    /// algorithm gives up, so it is two pages, as in zram.
    buf: KVec<u8>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        // SAFETY: `tfm` is live (type invariant) and freed once.
        unsafe { ffi::rzram_crypto_free_comp(self.tfm.as_ptr()) };
    }
}

/// A stream slot: `busy` guards `stream` against the one reentrancy
/// preemption-disabling does not exclude (an interrupt on the same CPU).
struct Slot {
    busy: AtomicBool,
    stream: UnsafeCell<Stream>,
}

/// Per-CPU compression streams for one algorithm.
pub(crate) struct Compressor {
    slots: KVec<Slot>,
}

// SAFETY: Each `Stream` is only reached through a `StreamGuard`, which
// holds the slot's `busy` flag exclusively.
unsafe impl Send for Compressor {}
// SAFETY: As above.
unsafe impl Sync for Compressor {}

impl Compressor {
    /// Allocates one stream per possible CPU for algorithm `name`.
    pub(crate) fn new(name: &CStr) -> Result<Self> {
        // SAFETY: Reads a variable that is fixed after boot.
        let n = unsafe { ffi::rzram_nr_cpu_ids() } as usize;
        let mut slots = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            // SAFETY: `name` is NUL-terminated.
            let tfm = unsafe { ffi::rzram_crypto_alloc_comp(name.as_char_ptr()) };
            let tfm = kernel::error::from_err_ptr(tfm)?;
            // INVARIANT: `tfm` is a new, live transform.
            let stream = Stream {
                tfm: NonNull::new(tfm).ok_or(ENOMEM)?,
                buf: KVec::from_elem(0, 2 * PAGE_SIZE, GFP_KERNEL)?,
            };
            slots.push(
                Slot {
                    busy: AtomicBool::new(false),
                    stream: UnsafeCell::new(stream),
                },
                GFP_KERNEL,
            )?;
        }
        Ok(Self { slots })
    }

    /// Takes this CPU's stream.  Preemption stays disabled until the guard
    /// is dropped, so the caller must not sleep while holding it.  Fails
    /// with `EBUSY` only if an interrupt handler on this CPU interrupted
    /// another user of the same stream.
    pub(crate) fn get(&self) -> Result<StreamGuard<'_>> {
        // SAFETY: Disables preemption and returns this CPU's id, which is
        // below `nr_cpu_ids`.
        let cpu = unsafe { ffi::rzram_get_cpu() } as usize;
        let Some(slot) = self.slots.get(cpu) else {
            // SAFETY: Pairs with `get_cpu` above.
            unsafe { ffi::rzram_put_cpu() };
            return Err(EINVAL);
        };
        if slot.busy.swap(true, Ordering::Acquire) {
            // SAFETY: Pairs with `get_cpu` above.
            unsafe { ffi::rzram_put_cpu() };
            return Err(EBUSY);
        }
        Ok(StreamGuard { slot })
    }
}

/// Exclusive use of one CPU's stream.
///
/// # Invariants
///
/// `slot.busy` was set by this guard, and preemption is disabled
/// (`get_cpu`) until drop.
pub(crate) struct StreamGuard<'a> {
    slot: &'a Slot,
}

impl StreamGuard<'_> {
    fn stream(&mut self) -> &mut Stream {
        // SAFETY: The guard holds `busy` (type invariant), so this is the
        // only reference to the stream.
        unsafe { &mut *self.slot.stream.get() }
    }

    /// Compresses `src` (at most a page) and returns the compressed bytes.
    pub(crate) fn compress(&mut self, src: &[u8]) -> Result<&[u8]> {
        let s = self.stream();
        let mut dlen = s.buf.len() as u32;
        // SAFETY: `tfm` is live; `src` and `buf` are valid for their
        // lengths and do not overlap; `dlen` is the room in `buf`.
        let ret = unsafe {
            ffi::crypto_comp_compress(
                s.tfm.as_ptr(),
                src.as_ptr(),
                src.len() as u32,
                s.buf.as_mut_ptr(),
                &mut dlen,
            )
        };
        if ret != 0 {
            return Err(Error::from_errno(ret));
        }
        let n = (dlen as usize).min(s.buf.len());
        Ok(&s.buf[..n])
    }

    /// Decompresses `src` into `dst`, which it must fill exactly.
    pub(crate) fn decompress(&mut self, src: &[u8], dst: &mut [u8]) -> Result {
        let s = self.stream();
        let mut dlen = dst.len() as u32;
        // SAFETY: As in `compress`, with `dst` as the output buffer.
        let ret = unsafe {
            ffi::crypto_comp_decompress(
                s.tfm.as_ptr(),
                src.as_ptr(),
                src.len() as u32,
                dst.as_mut_ptr(),
                &mut dlen,
            )
        };
        if ret != 0 || dlen as usize != dst.len() {
            return Err(EIO);
        }
        Ok(())
    }
}

impl Drop for StreamGuard<'_> {
    fn drop(&mut self) {
        self.slot.busy.store(false, Ordering::Release);
        // SAFETY: Pairs with the `get_cpu` in `Compressor::get`.
        unsafe { ffi::rzram_put_cpu() };
    }
}
