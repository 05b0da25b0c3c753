// SPDX-License-Identifier: GPL-2.0

//! lz4 and lz4hc on lib/lz4, as `drivers/block/zram/backend_lz4.c` and
//! `backend_lz4hc.c` call it: the level is lz4's acceleration or lz4hc's
//! compression level; with a dictionary, every request loads it into a
//! stream first, so requests stay independent of each other.
//!
//! C header: [`include/linux/lz4.h`](srctree/include/linux/lz4.h)

use super::Setup;
use crate::glue::racy::Racy;
use core::ffi::c_void;
use kernel::{alloc::VVec, prelude::*};

/// `LZ4_MEM_COMPRESS`, also `sizeof(LZ4_stream_t)` (`rzram_shim.c` checks
/// both).
const LZ4_MEM_COMPRESS: usize = 16416;
/// `LZ4HC_MEM_COMPRESS`, also `sizeof(LZ4_streamHC_t)`.
const LZ4HC_MEM_COMPRESS: usize = 262192;
/// `sizeof(LZ4_streamDecode_t)` in `u64`s.
const LZ4_STREAMDECODESIZE_U64: usize = 4;
/// `LZ4_ACCELERATION_DEFAULT`.
pub(super) const LZ4_ACCELERATION_DEFAULT: i32 = 1;
/// `LZ4HC_DEFAULT_CLEVEL`.
pub(super) const LZ4HC_DEFAULT_CLEVEL: i32 = 9;

extern "C" {
    fn LZ4_compress_fast(
        src: *const u8,
        dst: *mut u8,
        src_size: i32,
        dst_cap: i32,
        accel: i32,
        wrkmem: *mut c_void,
    ) -> i32;
    fn LZ4_loadDict(stream: *mut c_void, dict: *const u8, dict_size: i32) -> i32;
    fn LZ4_compress_fast_continue(
        stream: *mut c_void,
        src: *const u8,
        dst: *mut u8,
        src_size: i32,
        dst_cap: i32,
        accel: i32,
    ) -> i32;
    fn LZ4_compress_HC(
        src: *const u8,
        dst: *mut u8,
        src_size: i32,
        dst_cap: i32,
        level: i32,
        wrkmem: *mut c_void,
    ) -> i32;
    fn LZ4_resetStreamHC(stream: *mut c_void, level: i32);
    fn LZ4_loadDictHC(stream: *mut c_void, dict: *const u8, dict_size: i32) -> i32;
    fn LZ4_compress_HC_continue(
        stream: *mut c_void,
        src: *const u8,
        dst: *mut u8,
        src_size: i32,
        dst_cap: i32,
    ) -> i32;
    fn LZ4_decompress_safe(src: *const u8, dst: *mut u8, src_size: i32, dst_cap: i32) -> i32;
    fn LZ4_setStreamDecode(stream: *mut c_void, dict: *const u8, dict_size: i32) -> i32;
    fn LZ4_decompress_safe_continue(
        stream: *mut c_void,
        src: *const u8,
        dst: *mut u8,
        src_size: i32,
        dst_cap: i32,
    ) -> i32;
}

/// Lengths as lz4's `int`s.
fn lens(src: usize, dst: usize) -> Result<(i32, i32)> {
    Ok((
        i32::try_from(src).map_err(|_| EINVAL)?,
        i32::try_from(dst).map_err(|_| EINVAL)?,
    ))
}

/// The dictionary of `p` as a pointer and an lz4 length.
fn dict_of(p: &Setup) -> Result<Option<(*const u8, i32)>> {
    match p.dict() {
        None => Ok(None),
        Some(d) => Ok(Some((
            d.as_ptr(),
            i32::try_from(d.len()).map_err(|_| EINVAL)?,
        ))),
    }
}

/// One lz4 or lz4hc stream.  `mem` is the work memory without a
/// dictionary, and the (zeroed, like zram's `kzalloc`) compression stream
/// with one: `LZ4_stream_t` or `LZ4_streamHC_t`, which the work memory's
/// size is.
pub(super) struct Lz4 {
    hc: bool,
    mem: VVec<u64>,
    dstrm: KVec<u64>,
}

impl Lz4 {
    pub(super) fn new(hc: bool) -> Result<Self> {
        let size = if hc {
            LZ4HC_MEM_COMPRESS
        } else {
            LZ4_MEM_COMPRESS
        };
        Ok(Self {
            hc,
            mem: VVec::from_elem(0u64, size / 8, GFP_KERNEL)?,
            dstrm: KVec::from_elem(0u64, LZ4_STREAMDECODESIZE_U64, GFP_KERNEL)?,
        })
    }

    pub(super) fn compress(&mut self, p: &Setup, src: Racy<'_>, dst: &mut [u8]) -> Result<usize> {
        let (slen, dlen) = lens(src.len(), dst.len())?;
        let (s, d, mem) = (src.as_ptr(), dst.as_mut_ptr(), self.mem.as_mut_ptr().cast());
        let ret = match (self.hc, dict_of(p)?) {
            // SAFETY: `s` is readable for `slen` bytes, `d` (ours, no
            // overlap) writable for `dlen`, which lz4 checks; `mem` is
            // `LZ4_MEM_COMPRESS` bytes, 8-byte aligned, this stream's only.
            (false, None) => unsafe { LZ4_compress_fast(s, d, slen, dlen, p.level, mem) },
            // SAFETY: As above, with `LZ4HC_MEM_COMPRESS` bytes.
            (true, None) => unsafe { LZ4_compress_HC(s, d, slen, dlen, p.level, mem) },
            (false, Some((dict, dsize))) => {
                // `mem` is an `LZ4_stream_t` (its size, 8-byte aligned,
                // zeroed at first); the dictionary outlives the request.
                // SAFETY: `mem` is such a stream, `dict` readable for
                // `dsize` bytes.
                if unsafe { LZ4_loadDict(mem, dict, dsize) } != dsize {
                    return Err(EINVAL);
                }
                // SAFETY: As for `LZ4_compress_fast`, on the stream.
                unsafe { LZ4_compress_fast_continue(mem, s, d, slen, dlen, p.level) }
            }
            (true, Some((dict, dsize))) => {
                // SAFETY: `mem` is an `LZ4_streamHC_t` by size and
                // alignment, this stream's only.
                unsafe { LZ4_resetStreamHC(mem, p.level) };
                // SAFETY: As above; `dict` readable for `dsize` bytes.
                if unsafe { LZ4_loadDictHC(mem, dict, dsize) } != dsize {
                    return Err(EINVAL);
                }
                // SAFETY: As for `LZ4_compress_HC`, on the stream.
                unsafe { LZ4_compress_HC_continue(mem, s, d, slen, dlen) }
            }
        };
        if ret <= 0 {
            return Err(EINVAL);
        }
        Ok(ret as usize)
    }

    pub(super) fn decompress(&mut self, p: &Setup, src: &[u8], dst: &mut [u8]) -> Result<usize> {
        let (slen, dlen) = lens(src.len(), dst.len())?;
        let (s, d) = (src.as_ptr(), dst.as_mut_ptr());
        let ret = match dict_of(p)? {
            // SAFETY: `s` is readable for `slen` bytes, `d` writable for
            // `dlen`, which the safe decoder checks.
            None => unsafe { LZ4_decompress_safe(s, d, slen, dlen) },
            Some((dict, dsize)) => {
                let strm = self.dstrm.as_mut_ptr().cast();
                // SAFETY: `strm` is an `LZ4_streamDecode_t` by size and
                // alignment, this stream's only; `dict` readable for
                // `dsize` bytes for the whole request.
                if unsafe { LZ4_setStreamDecode(strm, dict, dsize) } == 0 {
                    return Err(EINVAL);
                }
                // SAFETY: As for `LZ4_decompress_safe`, on the stream.
                unsafe { LZ4_decompress_safe_continue(strm, s, d, slen, dlen) }
            }
        };
        usize::try_from(ret).map_err(|_| EINVAL)
    }
}
