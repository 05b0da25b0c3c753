// SPDX-License-Identifier: GPL-2.0

//! deflate on lib/zlib_deflate and lib/zlib_inflate, as
//! `drivers/block/zram/backend_deflate.c` calls them: a raw deflate stream
//! (no zlib header) with the crypto API's window (2^11) and memory level.
//!
//! C header: [`include/linux/zlib.h`](srctree/include/linux/zlib.h)

use super::Setup;
use crate::glue::racy::Racy;
use core::ffi::{c_ulong, c_void};
use kernel::{alloc::VVec, prelude::*};

/// `DEFLATE_DEF_WINBITS` of backend_deflate.c, negated: a raw stream.
const WINBITS: i32 = -11;
/// `MAX_MEM_LEVEL`.
const MAX_MEM_LEVEL: i32 = 8;
/// `Z_DEFAULT_COMPRESSION`.
pub(super) const Z_DEFAULT_COMPRESSION: i32 = -1;
const Z_OK: i32 = 0;
const Z_STREAM_END: i32 = 1;
const Z_SYNC_FLUSH: i32 = 3;
const Z_FINISH: i32 = 5;
const Z_DEFLATED: i32 = 8;
const Z_DEFAULT_STRATEGY: i32 = 0;

/// `struct z_stream_s` (`rzram_shim.c` checks the layout).
#[repr(C)]
struct ZStream {
    next_in: *const u8,
    avail_in: c_ulong,
    total_in: c_ulong,
    next_out: *mut u8,
    avail_out: c_ulong,
    total_out: c_ulong,
    msg: *mut u8,
    state: *mut c_void,
    workspace: *mut c_void,
    data_type: i32,
    adler: c_ulong,
    reserved: c_ulong,
}

extern "C" {
    fn zlib_deflate_workspacesize(window_bits: i32, mem_level: i32) -> i32;
    fn zlib_inflate_workspacesize() -> i32;
    fn zlib_deflateInit2(
        strm: *mut ZStream,
        level: i32,
        method: i32,
        window_bits: i32,
        mem_level: i32,
        strategy: i32,
    ) -> i32;
    fn zlib_inflateInit2(strm: *mut ZStream, window_bits: i32) -> i32;
    fn zlib_deflateReset(strm: *mut ZStream) -> i32;
    fn zlib_inflateReset(strm: *mut ZStream) -> i32;
    fn zlib_deflate(strm: *mut ZStream, flush: i32) -> i32;
    fn zlib_inflate(strm: *mut ZStream, flush: i32) -> i32;
}

/// A zeroed stream with `ws` as its workspace.
fn stream(ws: &mut VVec<u8>) -> Result<KBox<ZStream>> {
    let s = ZStream {
        next_in: core::ptr::null(),
        avail_in: 0,
        total_in: 0,
        next_out: core::ptr::null_mut(),
        avail_out: 0,
        total_out: 0,
        msg: core::ptr::null_mut(),
        state: core::ptr::null_mut(),
        workspace: ws.as_mut_ptr().cast(),
        data_type: 0,
        adler: 0,
        reserved: 0,
    };
    Ok(KBox::new(s, GFP_KERNEL)?)
}

/// A workspace of the size zlib asks for.
fn workspace(size: i32) -> Result<VVec<u8>> {
    let size = usize::try_from(size).map_err(|_| EINVAL)?;
    Ok(VVec::from_elem(0u8, size, GFP_KERNEL)?)
}

/// One deflate stream: a deflate and an inflate state.
///
/// # Invariants
///
/// `c` and `d` were initialised by `zlib_deflateInit2` and
/// `zlib_inflateInit2` in `_cws` and `_dws`, which live as long as
/// `self`; the states point back at their `z_stream`, so those are boxed
/// and never move.  (The kernel's zlib frees nothing at its `End`: the
/// workspaces are ours.)
pub(super) struct Deflate {
    c: KBox<ZStream>,
    d: KBox<ZStream>,
    _cws: VVec<u8>,
    _dws: VVec<u8>,
}

impl Deflate {
    pub(super) fn new(p: &Setup) -> Result<Self> {
        // SAFETY: Pure functions of their arguments.
        let (csize, dsize) = unsafe {
            (
                zlib_deflate_workspacesize(WINBITS, MAX_MEM_LEVEL),
                zlib_inflate_workspacesize(),
            )
        };
        let (mut cws, mut dws) = (workspace(csize)?, workspace(dsize)?);
        let (mut c, mut d) = (stream(&mut cws)?, stream(&mut dws)?);
        // SAFETY: `c` is a zeroed stream whose workspace is `csize` bytes,
        // the size zlib asked for with these parameters.
        let ret = unsafe {
            zlib_deflateInit2(
                &mut *c,
                p.level,
                Z_DEFLATED,
                WINBITS,
                MAX_MEM_LEVEL,
                Z_DEFAULT_STRATEGY,
            )
        };
        if ret != Z_OK {
            return Err(EINVAL);
        }
        // SAFETY: As above, for `d` and `dsize`.
        if unsafe { zlib_inflateInit2(&mut *d, WINBITS) } != Z_OK {
            return Err(EINVAL);
        }
        // INVARIANT: both are initialised in workspaces that move into
        // `Self` (moving a `VVec` or `KBox` does not move its buffer).
        Ok(Self {
            c,
            d,
            _cws: cws,
            _dws: dws,
        })
    }

    pub(super) fn compress(&mut self, src: Racy<'_>, dst: &mut [u8]) -> Result<usize> {
        let z: &mut ZStream = &mut self.c;
        // SAFETY: `z` is an initialised deflate stream (type invariant).
        if unsafe { zlib_deflateReset(z) } != Z_OK {
            return Err(EINVAL);
        }
        z.next_in = src.as_ptr();
        z.avail_in = src.len() as c_ulong;
        z.next_out = dst.as_mut_ptr();
        z.avail_out = dst.len() as c_ulong;
        // The pointers are stale after the call; zlib does not read them
        // again before the next request sets them.
        // SAFETY: `next_in` is readable for `avail_in` bytes and
        // `next_out` (ours, no overlap) writable for `avail_out`, which
        // zlib keeps to.
        if unsafe { zlib_deflate(z, Z_FINISH) } != Z_STREAM_END {
            return Err(EINVAL);
        }
        usize::try_from(z.total_out).map_err(|_| EINVAL)
    }

    pub(super) fn decompress(&mut self, src: &[u8], dst: &mut [u8]) -> Result<usize> {
        let z: &mut ZStream = &mut self.d;
        // SAFETY: `z` is an initialised inflate stream (type invariant).
        if unsafe { zlib_inflateReset(z) } != Z_OK {
            return Err(EINVAL);
        }
        z.next_in = src.as_ptr();
        z.avail_in = src.len() as c_ulong;
        z.next_out = dst.as_mut_ptr();
        z.avail_out = dst.len() as c_ulong;
        // SAFETY: As in `compress`, for the inflate stream.
        if unsafe { zlib_inflate(z, Z_SYNC_FLUSH) } != Z_STREAM_END {
            return Err(EINVAL);
        }
        usize::try_from(z.total_out).map_err(|_| EINVAL)
    }
}
