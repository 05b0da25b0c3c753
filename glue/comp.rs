// SPDX-License-Identifier: GPL-2.0

//! Compression with one stream per CPU, as zram's `zcomp` has.
//!
//! lzo, lzo-rle and lz4 go through the crypto API's `crypto_comp`
//! interface, which calls the same library functions with the same
//! parameters as zram's backends.  zstd does not: the crypto API's zstd
//! picks its parameters for an unknown input size, zram's backend for a
//! page, and the two compress differently.  So zstd is called directly, as
//! `drivers/block/zram/backend_zstd.c` does, and compresses to the same
//! sizes as zram.
//!
//! C headers: [`include/linux/crypto.h`](srctree/include/linux/crypto.h),
//! [`include/linux/zstd.h`](srctree/include/linux/zstd.h)

use super::{ffi, racy::Racy};
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{alloc::VVec, page::PAGE_SIZE, prelude::*};

/// Whether algorithm `name` goes to lib/zstd rather than the crypto API.
fn is_zstd(name: &CStr) -> bool {
    name.as_bytes() == b"zstd"
}

/// Whether the kernel offers compression algorithm `name`.
pub(crate) fn available(name: &CStr) -> bool {
    if is_zstd(name) {
        // lib/zstd is linked in: the module would not load without it.
        return true;
    }
    // SAFETY: `name` is NUL-terminated.
    unsafe { ffi::rzram_crypto_has_comp(name.as_char_ptr()) != 0 }
}

/// A zstd compression and decompression context, set up as zram's zstd
/// backend sets it up: the default level, parameters chosen for a
/// page-sized input, workspaces from vmalloc.
///
/// # Invariants
///
/// `cctx` and `dctx` were initialised by zstd in `_cctx_mem` and `_dctx_mem`,
/// which live as long as `self` and are not otherwise accessed.
struct Zstd {
    params: ffi::ZstdParams,
    cctx: NonNull<ffi::ZstdCctx>,
    dctx: NonNull<ffi::ZstdDctx>,
    _cctx_mem: VVec<u8>,
    _dctx_mem: VVec<u8>,
}

impl Zstd {
    fn new() -> Result<Self> {
        // SAFETY: Pure functions of their arguments.
        let params = unsafe { ffi::zstd_get_params(ffi::zstd_default_clevel(), PAGE_SIZE as u64) };
        // SAFETY: `params.c` is a valid parameter block.
        let csize = unsafe { ffi::zstd_cctx_workspace_bound(&params.c) };
        // SAFETY: No preconditions.
        let dsize = unsafe { ffi::zstd_dctx_workspace_bound() };
        let mut cctx_mem = VVec::from_elem(0u8, csize, GFP_KERNEL)?;
        let mut dctx_mem = VVec::from_elem(0u8, dsize, GFP_KERNEL)?;
        // SAFETY: `cctx_mem` is a writable buffer of `csize` bytes that
        // outlives the context (it moves into `Self` with it; moving a
        // `VVec` does not move its buffer).
        let cctx = unsafe { ffi::zstd_init_cctx(cctx_mem.as_mut_ptr(), csize) };
        // SAFETY: As above, for `dctx_mem`.
        let dctx = unsafe { ffi::zstd_init_dctx(dctx_mem.as_mut_ptr(), dsize) };
        // INVARIANT: Both contexts live in their workspaces, now owned by
        // `Self`.
        Ok(Self {
            params,
            cctx: NonNull::new(cctx).ok_or(ENOMEM)?,
            dctx: NonNull::new(dctx).ok_or(ENOMEM)?,
            _cctx_mem: cctx_mem,
            _dctx_mem: dctx_mem,
        })
    }
}

/// A transform from `crypto_alloc_comp`, freed on drop: owned from the
/// moment it is allocated, so no early return can leak it.
///
/// # Invariants
///
/// The pointer is a live transform, freed only by `Drop`.
struct CryptoTfm(NonNull<ffi::CryptoComp>);

impl CryptoTfm {
    /// Allocates a transform for algorithm `name`.
    fn new(name: &CStr) -> Result<Self> {
        // SAFETY: `name` is NUL-terminated.
        let tfm = unsafe { ffi::rzram_crypto_alloc_comp(name.as_char_ptr()) };
        let tfm = kernel::error::from_err_ptr(tfm)?;
        // INVARIANT: a pointer that is not an error is a new transform.
        NonNull::new(tfm).map(Self).ok_or(ENOMEM)
    }

    fn as_ptr(&self) -> *mut ffi::CryptoComp {
        self.0.as_ptr()
    }
}

impl Drop for CryptoTfm {
    fn drop(&mut self) {
        // SAFETY: The transform is live (type invariant) and freed once.
        unsafe { ffi::rzram_crypto_free_comp(self.0.as_ptr()) };
    }
}

/// The algorithm behind one stream.
enum Engine {
    Crypto(CryptoTfm),
    Zstd(Zstd),
}

/// One compression context with its output buffer.
struct Stream {
    engine: Engine,
    /// Output buffer: compressed data may exceed a page before the
    /// algorithm gives up, so it is two pages, as in zram.
    buf: KVec<u8>,
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
            let engine = if is_zstd(name) {
                Engine::Zstd(Zstd::new()?)
            } else {
                Engine::Crypto(CryptoTfm::new(name)?)
            };
            let stream = Stream {
                engine,
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
        Ok(StreamGuard {
            slot,
            _not_send: core::marker::PhantomData,
        })
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
    /// `!Send`: `put_cpu` runs on the CPU of `get_cpu`.
    _not_send: core::marker::PhantomData<*mut ()>,
}

impl StreamGuard<'_> {
    fn stream(&mut self) -> &mut Stream {
        // SAFETY: The guard holds `busy` (type invariant), so this is the
        // only reference to the stream.
        unsafe { &mut *self.slot.stream.get() }
    }

    /// Compresses `src` (at most a page) and returns the compressed bytes.
    pub(crate) fn compress(&mut self, src: Racy<'_>) -> Result<&[u8]> {
        let s = self.stream();
        let n = match &mut s.engine {
            Engine::Crypto(tfm) => {
                let mut dlen = s.buf.len() as u32;
                // The C compressor reads `src` however it changes meanwhile.
                // SAFETY: `tfm` is live; `src` is readable and `buf` (ours,
                // so no overlap) writable for their lengths; `dlen` is the
                // room in `buf`.
                let ret = unsafe {
                    ffi::crypto_comp_compress(
                        tfm.as_ptr(),
                        src.as_ptr(),
                        src.len() as u32,
                        s.buf.as_mut_ptr(),
                        &mut dlen,
                    )
                };
                if ret != 0 {
                    return Err(Error::from_errno(ret));
                }
                dlen as usize
            }
            Engine::Zstd(z) => {
                // `cctx` lives in its workspace (`Zstd` invariant).
                // SAFETY: `cctx` is live and this stream's only; `src` is
                // readable and `buf` (ours, so no overlap) writable for
                // their lengths.
                let ret = unsafe {
                    ffi::zstd_compress_cctx(
                        z.cctx.as_ptr(),
                        s.buf.as_mut_ptr(),
                        s.buf.len(),
                        src.as_ptr(),
                        src.len(),
                        &z.params,
                    )
                };
                // SAFETY: A pure function of its argument.
                if unsafe { ffi::zstd_is_error(ret) } != 0 {
                    return Err(EINVAL);
                }
                ret
            }
        };
        Ok(&s.buf[..n.min(s.buf.len())])
    }

    /// Decompresses `src` into `dst`, which it must fill exactly.
    pub(crate) fn decompress(&mut self, src: &[u8], dst: &mut [u8]) -> Result {
        let s = self.stream();
        let n = match &mut s.engine {
            Engine::Crypto(tfm) => {
                let mut dlen = dst.len() as u32;
                // SAFETY: As in `compress`, with `dst` as the output
                // buffer.
                let ret = unsafe {
                    ffi::crypto_comp_decompress(
                        tfm.as_ptr(),
                        src.as_ptr(),
                        src.len() as u32,
                        dst.as_mut_ptr(),
                        &mut dlen,
                    )
                };
                if ret != 0 {
                    return Err(EIO);
                }
                dlen as usize
            }
            Engine::Zstd(z) => {
                // SAFETY: As in `compress`, for `dctx`, with `dst` as the
                // output buffer.
                let ret = unsafe {
                    ffi::zstd_decompress_dctx(
                        z.dctx.as_ptr(),
                        dst.as_mut_ptr(),
                        dst.len(),
                        src.as_ptr(),
                        src.len(),
                    )
                };
                // SAFETY: A pure function of its argument.
                if unsafe { ffi::zstd_is_error(ret) } != 0 {
                    return Err(EIO);
                }
                ret
            }
        };
        if n != dst.len() {
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
