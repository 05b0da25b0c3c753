// SPDX-License-Identifier: GPL-2.0

//! lzo and lzo-rle on lib/lzo, as `drivers/block/zram/backend_lzo.c` and
//! `backend_lzorle.c` call it.
//!
//! C header: [`include/linux/lzo.h`](srctree/include/linux/lzo.h)

use crate::glue::racy::Racy;
use core::ffi::c_void;
use kernel::{page::PAGE_SIZE, prelude::*};

/// `LZO1X_MEM_COMPRESS` (`rzram_shim.c` checks it).
const LZO1X_MEM_COMPRESS: usize = 8192 * 2;
/// `LZO_E_OK`.
const LZO_E_OK: i32 = 0;

/// `lzo1x_worst_compress(x)`: what lzo1x_1_compress may write for `x`
/// bytes.  It does not check the room it is given, so the caller does.
const fn worst_compress(x: usize) -> usize {
    x + x / 16 + 64 + 3
}
// The stream buffer (two pages) holds the worst case for a page.
const _: () = assert!(worst_compress(PAGE_SIZE) <= 2 * PAGE_SIZE);

extern "C" {
    fn lzo1x_1_compress(
        src: *const u8,
        src_len: usize,
        dst: *mut u8,
        dst_len: *mut usize,
        wrkmem: *mut c_void,
    ) -> i32;
    fn lzorle1x_1_compress(
        src: *const u8,
        src_len: usize,
        dst: *mut u8,
        dst_len: *mut usize,
        wrkmem: *mut c_void,
    ) -> i32;
    fn lzo1x_decompress_safe(
        src: *const u8,
        src_len: usize,
        dst: *mut u8,
        dst_len: *mut usize,
    ) -> i32;
}

/// One lzo stream: its work memory.
pub(super) struct Lzo {
    rle: bool,
    wrkmem: KVec<u64>,
}

impl Lzo {
    pub(super) fn new(rle: bool) -> Result<Self> {
        let wrkmem = KVec::from_elem(0u64, LZO1X_MEM_COMPRESS / 8, GFP_KERNEL)?;
        Ok(Self { rle, wrkmem })
    }

    pub(super) fn compress(&mut self, src: Racy<'_>, dst: &mut [u8]) -> Result<usize> {
        if dst.len() < worst_compress(src.len()) {
            return Err(EINVAL);
        }
        let f = if self.rle {
            lzorle1x_1_compress
        } else {
            lzo1x_1_compress
        };
        let mut dlen = dst.len();
        // lzo writes at most the worst case, which `dst` holds (checked
        // above); `wrkmem` is `LZO1X_MEM_COMPRESS` bytes, 8-byte aligned.
        // SAFETY: `src` is readable for its length, `dst` (ours, no
        // overlap) writable for that worst case, `wrkmem` this stream's.
        let ret = unsafe {
            f(
                src.as_ptr(),
                src.len(),
                dst.as_mut_ptr(),
                &mut dlen,
                self.wrkmem.as_mut_ptr().cast(),
            )
        };
        if ret != LZO_E_OK {
            return Err(EINVAL);
        }
        Ok(dlen)
    }

    pub(super) fn decompress(src: &[u8], dst: &mut [u8]) -> Result<usize> {
        let mut dlen = dst.len();
        // SAFETY: `src` is readable and `dst` writable for their lengths;
        // the safe decompressor writes at most `dlen` bytes.
        let ret =
            unsafe { lzo1x_decompress_safe(src.as_ptr(), src.len(), dst.as_mut_ptr(), &mut dlen) };
        if ret != LZO_E_OK {
            return Err(EINVAL);
        }
        Ok(dlen)
    }
}
