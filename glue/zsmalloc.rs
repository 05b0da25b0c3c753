// SPDX-License-Identifier: GPL-2.0

//! The zsmalloc allocator for compressed objects.
//!
//! C header: [`include/linux/zsmalloc.h`](srctree/include/linux/zsmalloc.h)

use super::{ffi, racy::Racy};
use core::ptr::NonNull;
use kernel::prelude::*;

/// How `zs_malloc` may get memory.
#[derive(Clone, Copy)]
pub(crate) enum ZsGfp {
    /// No direct reclaim: usable while holding a compression stream.
    NoReclaim,
    /// May sleep and reclaim (GFP_NOIO): the slow path.
    Reclaim,
}

impl ZsGfp {
    fn raw(self) -> u32 {
        match self {
            // SAFETY: Constant-returning shim functions.
            ZsGfp::NoReclaim => unsafe { ffi::rzram_gfp_zs_fast() },
            // SAFETY: As above.
            ZsGfp::Reclaim => unsafe { ffi::rzram_gfp_zs_slow() },
        }
    }
}

/// A zsmalloc pool, destroyed on drop.
///
/// # Invariants
///
/// `ptr` is a pool returned by `zs_create_pool` and not yet destroyed.
pub(crate) struct ZsPool {
    ptr: NonNull<ffi::ZsPoolRaw>,
}

// SAFETY: zsmalloc pools are internally synchronised; every function may
// be called from any thread.
unsafe impl Send for ZsPool {}
// SAFETY: As above.
unsafe impl Sync for ZsPool {}

/// An object allocated from a [`ZsPool`], with its size.
///
/// An owning value: not `Clone`, and given back only by [`ZsPool::free`],
/// which consumes it.  Dropping one any other way would leak the object
/// until the pool is destroyed, so `Drop` reports it (a kernel warning,
/// which fails the test suite) instead of letting it pass silently.
///
/// # Invariants
///
/// `raw` is a live allocation of `size` bytes in the pool it came from.
#[derive(Debug)]
pub(crate) struct ZsHandle {
    raw: usize,
    /// Bytes; at most a page, which may be 64 KiB (`u16` could not hold
    /// it).
    size: u32,
}

impl Drop for ZsHandle {
    fn drop(&mut self) {
        // Only reached for a handle not given to `ZsPool::free`.
        pr_err!("zsmalloc object of {} bytes dropped unfreed\n", self.size);
        // SAFETY: A shim around `WARN_ON_ONCE(1)`; callable anywhere.
        unsafe { ffi::rzram_warn_leak() };
    }
}

impl ZsHandle {
    /// The object's size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.size as usize
    }
}

impl ZsPool {
    /// Creates a pool.  zsmalloc copies `name`.
    pub(crate) fn new(name: &CStr) -> Result<Self> {
        // SAFETY: `name` is NUL-terminated; zsmalloc duplicates it.
        let ptr = unsafe { ffi::zs_create_pool(name.as_char_ptr()) };
        // INVARIANT: a non-null return is a new pool.
        NonNull::new(ptr).map(|ptr| Self { ptr }).ok_or(ENOMEM)
    }

    fn raw(&self) -> *mut ffi::ZsPoolRaw {
        self.ptr.as_ptr()
    }

    /// Allocates `size` bytes (1..=PAGE_SIZE).
    pub(crate) fn malloc(&self, size: usize, gfp: ZsGfp) -> Result<ZsHandle> {
        if size == 0 || size > kernel::page::PAGE_SIZE {
            return Err(EINVAL);
        }
        // SAFETY: The pool is live (type invariant); `size` is in range.
        let raw = unsafe { ffi::zs_malloc(self.raw(), size, gfp.raw()) };
        // zs_malloc returns an error code cast to unsigned long on failure.
        if raw == 0 || raw >= (-4095isize) as usize {
            return Err(ENOMEM);
        }
        // INVARIANT: `raw` is a fresh allocation of `size` bytes.
        Ok(ZsHandle {
            raw,
            size: size as u32,
        })
    }

    /// Frees an object of this pool.
    pub(crate) fn free(&self, h: ZsHandle) {
        // Freed here, so its `Drop` (the leak report) must not run.
        let h = core::mem::ManuallyDrop::new(h);
        // SAFETY: `h` is a live allocation (type invariant) of this pool
        // (the driver keeps one pool per device and only frees its own
        // handles into it); `h` was consumed, so it is freed once.
        unsafe { ffi::zs_free(self.raw(), h.raw) };
    }

    /// Copies `data`, which must be exactly `h.size()` bytes, into `h`.
    pub(crate) fn write(&self, h: &ZsHandle, data: Racy<'_>) -> Result {
        if data.len() != h.size() {
            return Err(EINVAL);
        }
        // C's `memcpy` reads `data`.
        // SAFETY: `h` is a live `data.len()`-byte object of this pool, its
        // write-only mapping valid until unmapped; `data` is readable and,
        // the object being unpublished, cannot overlap it.
        unsafe {
            let dst = ffi::zs_map_object(self.raw(), h.raw, ffi::ZS_MM_WO);
            kernel::bindings::memcpy(dst.cast(), data.as_ptr().cast(), data.len());
            ffi::zs_unmap_object(self.raw(), h.raw);
        }
        Ok(())
    }

    /// Calls `f` with the bytes of object `h`.  `f` runs in atomic context
    /// (zsmalloc maps objects with preemption disabled): it must not sleep.
    pub(crate) fn with_object<R>(&self, h: &ZsHandle, f: impl FnOnce(&[u8]) -> R) -> R {
        // SAFETY: `h` is a live allocation of `h.size` bytes of this pool; a
        // read-only mapping is valid for that many bytes until unmapped,
        // and nobody writes a stored object.
        let src = unsafe { ffi::zs_map_object(self.raw(), h.raw, ffi::ZS_MM_RO) };
        // SAFETY: See above.
        let r = f(unsafe { core::slice::from_raw_parts(src, h.size()) });
        // SAFETY: Mapped above.
        unsafe { ffi::zs_unmap_object(self.raw(), h.raw) };
        r
    }

    /// Pages the pool uses.
    pub(crate) fn total_pages(&self) -> usize {
        // SAFETY: The pool is live.
        unsafe { ffi::zs_get_total_pages(self.raw()) }
    }

    /// Compacts the pool; returns the pages freed.
    pub(crate) fn compact(&self) -> usize {
        // SAFETY: The pool is live.
        unsafe { ffi::zs_compact(self.raw()) }
    }

    /// Pages freed by compaction over the pool's life.
    pub(crate) fn pages_compacted(&self) -> usize {
        let mut stats: usize = 0;
        // SAFETY: `struct zs_pool_stats` is a single `atomic_long_t`, which
        // has the layout of `usize`.
        unsafe { ffi::zs_pool_stats(self.raw(), &mut stats) };
        stats
    }

    /// The index of the size class that holds objects of `size` bytes
    /// (at most a page).  Classes of equal geometry are merged, so sizes
    /// from the huge class size up share one index.
    pub(crate) fn class_index(&self, size: usize) -> u32 {
        let size = size.min(kernel::page::PAGE_SIZE) as u32;
        // SAFETY: The pool is live (type invariant); callable in any
        // context, and every size maps to a class (zsmalloc clamps the
        // index to its last class).
        unsafe { ffi::zs_lookup_class_index(self.raw(), size) }
    }

    /// Objects of at least this size are stored one per page ("huge").
    pub(crate) fn huge_class_size(&self) -> usize {
        // SAFETY: The pool is live.
        unsafe { ffi::zs_huge_class_size(self.raw()) }
    }
}

impl Drop for ZsPool {
    fn drop(&mut self) {
        // SAFETY: The pool is live (type invariant) and dropped once.
        // Objects not freed are released with it.
        unsafe { ffi::zs_destroy_pool(self.raw()) };
    }
}
