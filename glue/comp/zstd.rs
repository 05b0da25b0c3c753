// SPDX-License-Identifier: GPL-2.0

//! zstd on lib/zstd, as `drivers/block/zram/backend_zstd.c` calls it:
//! parameters chosen for a page-sized input at the device's level, and
//! with a dictionary a shared compression and decompression dictionary
//! (by reference: the bytes stay in the [`Setup`]).
//!
//! Unlike zram, whose streams with a dictionary are zstd's dynamic
//! contexts (allocating with `GFP_ATOMIC` on first use, in the I/O path),
//! every context here is static, in a workspace allocated with the
//! stream, sized for the dictionary's parameters.
//!
//! C header: [`include/linux/zstd.h`](srctree/include/linux/zstd.h)

use super::Setup;
use crate::glue::{ffi, racy::Racy};
use core::ffi::c_void;
use core::ptr::NonNull;
use kernel::{alloc::VVec, page::PAGE_SIZE, prelude::*};

/// `zstd_cdict` (opaque).
#[repr(C)]
struct CDict {
    _p: [u8; 0],
}

/// `zstd_ddict` (opaque).
#[repr(C)]
struct DDict {
    _p: [u8; 0],
}

/// `zstd_custom_mem` (`ZSTD_customMem`).
#[repr(C)]
struct CustomMem {
    alloc: Option<unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void>,
    free: Option<unsafe extern "C" fn(*mut c_void, *mut c_void)>,
    opaque: *mut c_void,
}

extern "C" {
    fn zstd_get_cparams(level: i32, src_size: u64, dict_size: usize) -> ffi::ZstdCParams;
    fn zstd_create_cdict_byreference(
        dict: *const c_void,
        dict_size: usize,
        cparams: ffi::ZstdCParams,
        mem: CustomMem,
    ) -> *mut CDict;
    fn zstd_free_cdict(cdict: *mut CDict) -> usize;
    fn zstd_create_ddict_byreference(
        dict: *const c_void,
        dict_size: usize,
        mem: CustomMem,
    ) -> *mut DDict;
    fn zstd_free_ddict(ddict: *mut DDict) -> usize;
    fn zstd_compress_using_cdict(
        cctx: *mut ffi::ZstdCctx,
        dst: *mut u8,
        dst_capacity: usize,
        src: *const u8,
        src_size: usize,
        cdict: *const CDict,
    ) -> usize;
    fn zstd_decompress_using_ddict(
        dctx: *mut ffi::ZstdDctx,
        dst: *mut u8,
        dst_capacity: usize,
        src: *const u8,
        src_size: usize,
        ddict: *const DDict,
    ) -> usize;
}

/// zstd's allocator for the dictionaries (lib/zstd has no default one).
extern "C" fn dict_alloc(_opaque: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: Allocates with `GFP_KERNEL`: zstd calls this only while it
    // builds the dictionaries, in task context when the device is built,
    // never in the I/O path (the contexts are static).
    unsafe { ffi::rzram_kvzalloc(size) }
}

/// Frees what [`dict_alloc`] allocated.
///
/// # Safety
///
/// `addr` is NULL or a pointer [`dict_alloc`] returned, not freed before.
unsafe extern "C" fn dict_free(_opaque: *mut c_void, addr: *mut c_void) {
    // SAFETY: zstd passes back a pointer `dict_alloc` returned, or NULL.
    unsafe { ffi::rzram_kvfree(addr) };
}

fn custom_mem() -> CustomMem {
    CustomMem {
        alloc: Some(dict_alloc),
        free: Some(dict_free),
        opaque: core::ptr::null_mut(),
    }
}

/// The default level, `zstd_default_clevel()`.
pub(super) fn default_level() -> i32 {
    // SAFETY: No preconditions.
    unsafe { ffi::zstd_default_clevel() }
}

/// A compressor's shared dictionaries.
///
/// # Invariants
///
/// Both are live, created by reference to a dictionary that outlives them
/// (the [`Setup`] drops them before its bytes), and freed only by `Drop`.
pub(super) struct Dicts {
    cdict: NonNull<CDict>,
    ddict: NonNull<DDict>,
}

impl Dicts {
    /// Builds the dictionaries for `dict` at `level`.  The caller keeps
    /// `dict` alive and unmoved until the result is dropped.
    pub(super) fn new(dict: &[u8], level: i32) -> Result<Self> {
        let (d, n) = (dict.as_ptr().cast(), dict.len());
        // SAFETY: A pure function of its arguments.
        let prm = unsafe { zstd_get_cparams(level, PAGE_SIZE as u64, n) };
        // SAFETY: `d` is readable for `n` bytes for as long as the result
        // lives (the caller's promise); `custom_mem()` allocates in task
        // context, which this is.
        let cdict = NonNull::new(unsafe { zstd_create_cdict_byreference(d, n, prm, custom_mem()) })
            .ok_or(EINVAL)?;
        // SAFETY: As above.
        let ddict = unsafe { zstd_create_ddict_byreference(d, n, custom_mem()) };
        let Some(ddict) = NonNull::new(ddict) else {
            // SAFETY: `cdict` is live and not used after.
            unsafe { zstd_free_cdict(cdict.as_ptr()) };
            return Err(EINVAL);
        };
        // INVARIANT: both were just created, by reference to `dict`.
        Ok(Self { cdict, ddict })
    }
}

impl Drop for Dicts {
    fn drop(&mut self) {
        // SAFETY: Both are live (type invariant) and freed once, here.
        unsafe {
            zstd_free_cdict(self.cdict.as_ptr());
            zstd_free_ddict(self.ddict.as_ptr());
        }
    }
}

/// One zstd stream: static compression and decompression contexts.
///
/// # Invariants
///
/// `cctx` and `dctx` were initialised by zstd in `_cctx_mem` and
/// `_dctx_mem`, which live as long as `self` and are not otherwise
/// accessed.
pub(super) struct Zstd {
    params: ffi::ZstdParams,
    cctx: NonNull<ffi::ZstdCctx>,
    dctx: NonNull<ffi::ZstdDctx>,
    _cctx_mem: VVec<u8>,
    _dctx_mem: VVec<u8>,
}

impl Zstd {
    pub(super) fn new(p: &Setup) -> Result<Self> {
        // SAFETY: Pure functions of their arguments.
        let params = unsafe { ffi::zstd_get_params(p.level, PAGE_SIZE as u64) };
        let dict_len = p.dict().map_or(0, |d| d.len());
        // The workspace for the parameters the dictionary was built with:
        // zram's, with no dictionary.
        // SAFETY: A pure function of its arguments.
        let cprm = unsafe { zstd_get_cparams(p.level, PAGE_SIZE as u64, dict_len) };
        let cprm = if dict_len == 0 { params.c } else { cprm };
        // SAFETY: `cprm` is a valid parameter block.
        let csize = unsafe { ffi::zstd_cctx_workspace_bound(&cprm) };
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

    pub(super) fn compress(&mut self, p: &Setup, src: Racy<'_>, dst: &mut [u8]) -> Result<usize> {
        let (c, d, dl, s, sl) = (
            self.cctx.as_ptr(),
            dst.as_mut_ptr(),
            dst.len(),
            src.as_ptr(),
            src.len(),
        );
        let ret = match &p.zstd {
            // SAFETY: `c` is live and this stream's only (invariant); `s`
            // is readable for `sl` bytes and `d` (ours, no overlap)
            // writable for `dl`.
            None => unsafe { ffi::zstd_compress_cctx(c, d, dl, s, sl, &self.params) },
            // SAFETY: As above; the dictionary is live (`Dicts`).
            Some(z) => unsafe { zstd_compress_using_cdict(c, d, dl, s, sl, z.cdict.as_ptr()) },
        };
        // SAFETY: A pure function of its argument.
        if unsafe { ffi::zstd_is_error(ret) } != 0 {
            return Err(EINVAL);
        }
        Ok(ret)
    }

    pub(super) fn decompress(&mut self, p: &Setup, src: &[u8], dst: &mut [u8]) -> Result<usize> {
        let (c, d, dl, s, sl) = (
            self.dctx.as_ptr(),
            dst.as_mut_ptr(),
            dst.len(),
            src.as_ptr(),
            src.len(),
        );
        let ret = match &p.zstd {
            // SAFETY: As in `compress`, for the decompression context,
            // with `d` as the output.
            None => unsafe { ffi::zstd_decompress_dctx(c, d, dl, s, sl) },
            // SAFETY: As above; the dictionary is live (`Dicts`).
            Some(z) => unsafe { zstd_decompress_using_ddict(c, d, dl, s, sl, z.ddict.as_ptr()) },
        };
        // SAFETY: A pure function of its argument.
        if unsafe { ffi::zstd_is_error(ret) } != 0 {
            return Err(EINVAL);
        }
        Ok(ret)
    }
}
