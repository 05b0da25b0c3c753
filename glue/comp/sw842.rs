// SPDX-License-Identifier: GPL-2.0

//! 842 on lib/842, as `drivers/block/zram/backend_842.c` calls it.
//!
//! C header: [`include/linux/sw842.h`](srctree/include/linux/sw842.h)

use crate::glue::racy::Racy;
use core::ffi::c_void;
use kernel::{alloc::VVec, prelude::*};

/// `SW842_MEM_COMPRESS` (`rzram_shim.c` checks it).
const SW842_MEM_COMPRESS: usize = 0xf000;

extern "C" {
    fn sw842_compress(
        src: *const u8,
        srclen: u32,
        dst: *mut u8,
        destlen: *mut u32,
        wmem: *mut c_void,
    ) -> i32;
    fn sw842_decompress(src: *const u8, srclen: u32, dst: *mut u8, destlen: *mut u32) -> i32;
}

/// One 842 stream: its work memory.
pub(super) struct Sw842 {
    wmem: VVec<u64>,
}

impl Sw842 {
    pub(super) fn new() -> Result<Self> {
        let wmem = VVec::from_elem(0u64, SW842_MEM_COMPRESS / 8, GFP_KERNEL)?;
        Ok(Self { wmem })
    }

    pub(super) fn compress(&mut self, src: Racy<'_>, dst: &mut [u8]) -> Result<usize> {
        let slen = u32::try_from(src.len()).map_err(|_| EINVAL)?;
        let mut dlen = u32::try_from(dst.len()).map_err(|_| EINVAL)?;
        // SAFETY: `src` is readable for `slen` bytes, `dst` (ours, no
        // overlap) writable for `dlen`, which sw842 checks; `wmem` is
        // `SW842_MEM_COMPRESS` bytes and this stream's only.
        let ret = unsafe {
            sw842_compress(
                src.as_ptr(),
                slen,
                dst.as_mut_ptr(),
                &mut dlen,
                self.wmem.as_mut_ptr().cast(),
            )
        };
        if ret != 0 {
            return Err(Error::from_errno(ret));
        }
        Ok(dlen as usize)
    }

    pub(super) fn decompress(src: &[u8], dst: &mut [u8]) -> Result<usize> {
        let slen = u32::try_from(src.len()).map_err(|_| EINVAL)?;
        let mut dlen = u32::try_from(dst.len()).map_err(|_| EINVAL)?;
        // SAFETY: `src` is readable for `slen` bytes, `dst` writable for
        // `dlen`, which sw842 checks.
        let ret = unsafe { sw842_decompress(src.as_ptr(), slen, dst.as_mut_ptr(), &mut dlen) };
        if ret != 0 {
            return Err(EINVAL);
        }
        Ok(dlen as usize)
    }
}
