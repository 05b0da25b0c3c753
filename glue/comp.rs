// SPDX-License-Identifier: GPL-2.0

//! Compression with one stream per CPU, as zram's `zcomp` has, over the
//! kernel's own compression libraries, each called as the zram 6.12
//! backend of the same name calls it (`drivers/block/zram/backend_*.c`),
//! so the compressed sizes are zram's.
//!
//! The backends: [`lzo`] (lzo, lzo-rle), [`lz4`] (lz4, lz4hc), [`zstd`],
//! [`deflate`] and [`sw842`] (842).  Each stream's work memory is
//! allocated with the compressor, when the device is initialised, so
//! nothing is allocated in the I/O path.

mod deflate;
mod lz4;
mod lzo;
mod sw842;
mod zstd;

use super::{ffi, racy::Racy};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{alloc::VVec, c_str, page::PAGE_SIZE, prelude::*};

/// zram's `ZCOMP_PARAM_NO_LEVEL`: the algorithm's default level.
pub(crate) const NO_LEVEL: i32 = i32::MIN;

/// The algorithms, in zram 6.12's order (zcomp.c `backends[]`, every
/// backend configured).  All are built on libraries the module links
/// against, so a kernel that loads rzram has all of them.
pub(crate) const ALGORITHMS: [&CStr; 7] = [
    c_str!("lzo-rle"),
    c_str!("lzo"),
    c_str!("lz4"),
    c_str!("lz4hc"),
    c_str!("zstd"),
    c_str!("deflate"),
    c_str!("842"),
];

/// An algorithm of [`ALGORITHMS`], by position.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    LzoRle,
    Lzo,
    Lz4,
    Lz4hc,
    Zstd,
    Deflate,
    Sw842,
}

impl Algorithm {
    fn of(name: &CStr) -> Option<Self> {
        const ALL: [Algorithm; 7] = [
            Algorithm::LzoRle,
            Algorithm::Lzo,
            Algorithm::Lz4,
            Algorithm::Lz4hc,
            Algorithm::Zstd,
            Algorithm::Deflate,
            Algorithm::Sw842,
        ];
        let i = ALGORITHMS
            .iter()
            .position(|a| a.as_bytes() == name.as_bytes())?;
        ALL.get(i).copied()
    }
}

/// Whether rzram offers compression algorithm `name`.
pub(crate) fn available(name: &CStr) -> bool {
    Algorithm::of(name).is_some()
}

/// zram's `ZRAM_MAX_COMPS` with `CONFIG_ZRAM_MULTI_COMP`: the primary
/// algorithm and three for recompression, each with its [`Params`].
pub(crate) const MAX_COMPS: usize = 4;

/// A compressor's parameters as configured (zram's `zcomp_params` before
/// `setup_params`): a level (`None`: the algorithm's default), and a
/// dictionary.
#[derive(Default)]
pub(crate) struct Params {
    pub(crate) level: Option<i32>,
    pub(crate) dict: Option<VVec<u8>>,
}

impl Params {
    /// A copy, for a compressor (the configuration keeps its own).
    pub(crate) fn try_clone(&self) -> Result<Self> {
        let dict = match &self.dict {
            None => None,
            Some(d) => {
                let mut v = VVec::with_capacity(d.len(), GFP_KERNEL)?;
                v.extend_from_slice(d, GFP_KERNEL)?;
                Some(v)
            }
        };
        Ok(Self {
            level: self.level,
            dict,
        })
    }
}

/// Reads a dictionary from the file at `path`, as zram's
/// `comp_params_store` does (`kernel_read_file_from_path`, the whole file,
/// under the `READING_POLICY` hook).
pub(crate) fn read_dict(path: &CStr) -> Result<VVec<u8>> {
    let mut buf: *mut core::ffi::c_void = core::ptr::null_mut();
    // SAFETY: `path` is NUL-terminated; on success `buf` is set to a
    // vmalloc'ed buffer of the returned size, ours to free.
    let n = unsafe { ffi::rzram_read_file(path.as_char_ptr(), &mut buf) };
    // zram turns every failure into `EINVAL`.
    let n = usize::try_from(n).map_err(|_| EINVAL)?;
    if buf.is_null() {
        return Err(EINVAL);
    }
    if n == 0 {
        // SAFETY: `buf` is ours and unused after (a `VVec` of capacity 0
        // would not free it).
        unsafe { ffi::rzram_kvfree(buf) };
        return Ok(VVec::new());
    }
    // A vmalloc'ed buffer is the `Vmalloc` allocator's (it frees with
    // `vfree`), of `n` bytes, all initialised by the read.
    // SAFETY: `buf` is such a buffer, not owned by anyone else, and `u8`
    // needs no alignment.
    Ok(unsafe { VVec::from_raw_parts(buf.cast::<u8>(), n, n) })
}

/// What every stream of a compressor shares, read-only: the level
/// resolved to the algorithm's default, the dictionary, and zstd's
/// dictionaries built from it.
pub(super) struct Setup {
    level: i32,
    /// Dropped before `dict`, whose bytes they refer to (field order).
    zstd: Option<zstd::Dicts>,
    dict: Option<VVec<u8>>,
}

impl Setup {
    fn new(alg: Algorithm, params: Params) -> Result<Self> {
        let level = params.level.unwrap_or(NO_LEVEL);
        let level = match alg {
            _ if level != NO_LEVEL => level,
            Algorithm::Lz4 => lz4::LZ4_ACCELERATION_DEFAULT,
            Algorithm::Lz4hc => lz4::LZ4HC_DEFAULT_CLEVEL,
            Algorithm::Zstd => zstd::default_level(),
            Algorithm::Deflate => deflate::Z_DEFAULT_COMPRESSION,
            _ => level,
        };
        // zram's backends without dictionary support ignore one.
        let dict = params.dict.filter(|d| !d.is_empty());
        let zstd = match (&dict, alg) {
            (Some(d), Algorithm::Zstd) => Some(zstd::Dicts::new(d, level)?),
            _ => None,
        };
        Ok(Self { level, zstd, dict })
    }

    /// The dictionary, if there is one.
    fn dict(&self) -> Option<&[u8]> {
        self.dict.as_deref()
    }
}

/// The algorithm behind one stream.
enum Engine {
    Lzo(lzo::Lzo),
    Lz4(lz4::Lz4),
    Zstd(zstd::Zstd),
    Deflate(deflate::Deflate),
    Sw842(sw842::Sw842),
}

impl Engine {
    fn new(alg: Algorithm, p: &Setup) -> Result<Self> {
        Ok(match alg {
            Algorithm::LzoRle => Self::Lzo(lzo::Lzo::new(true)?),
            Algorithm::Lzo => Self::Lzo(lzo::Lzo::new(false)?),
            Algorithm::Lz4 => Self::Lz4(lz4::Lz4::new(false)?),
            Algorithm::Lz4hc => Self::Lz4(lz4::Lz4::new(true)?),
            Algorithm::Zstd => Self::Zstd(zstd::Zstd::new(p)?),
            Algorithm::Deflate => Self::Deflate(deflate::Deflate::new(p)?),
            Algorithm::Sw842 => Self::Sw842(sw842::Sw842::new()?),
        })
    }

    fn compress(&mut self, p: &Setup, src: Racy<'_>, dst: &mut [u8]) -> Result<usize> {
        match self {
            Self::Lzo(e) => e.compress(src, dst),
            Self::Lz4(e) => e.compress(p, src, dst),
            Self::Zstd(e) => e.compress(p, src, dst),
            Self::Deflate(e) => e.compress(src, dst),
            Self::Sw842(e) => e.compress(src, dst),
        }
    }

    fn decompress(&mut self, p: &Setup, src: &[u8], dst: &mut [u8]) -> Result<usize> {
        match self {
            Self::Lzo(_) => lzo::Lzo::decompress(src, dst),
            Self::Lz4(e) => e.decompress(p, src, dst),
            Self::Zstd(e) => e.decompress(p, src, dst),
            Self::Deflate(e) => e.decompress(src, dst),
            Self::Sw842(_) => sw842::Sw842::decompress(src, dst),
        }
    }
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
    /// Dropped before `setup`, whose dictionaries the streams use.
    slots: KVec<Slot>,
    setup: Setup,
}

// SAFETY: Each `Stream` is only reached through a `StreamGuard`, which
// holds the slot's `busy` flag exclusively; `setup` is only read.
unsafe impl Send for Compressor {}
// SAFETY: As above.
unsafe impl Sync for Compressor {}

impl Compressor {
    /// Allocates one stream per possible CPU for algorithm `name` with
    /// `params`: `EINVAL` for an unknown algorithm or parameters the
    /// library refuses (as zram's `zcomp_create`).
    pub(crate) fn new(name: &CStr, params: Params) -> Result<Self> {
        let alg = Algorithm::of(name).ok_or(EINVAL)?;
        let setup = Setup::new(alg, params)?;
        // SAFETY: Reads a variable that is fixed after boot.
        let n = unsafe { ffi::rzram_nr_cpu_ids() } as usize;
        let mut slots = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            let stream = Stream {
                engine: Engine::new(alg, &setup)?,
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
        Ok(Self { slots, setup })
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
            setup: &self.setup,
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
    setup: &'a Setup,
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
    /// The C compressor reads `src` however it changes meanwhile.
    pub(crate) fn compress(&mut self, src: Racy<'_>) -> Result<&[u8]> {
        if src.len() > PAGE_SIZE {
            return Err(EINVAL);
        }
        let setup = self.setup;
        let s = self.stream();
        let n = s.engine.compress(setup, src, &mut s.buf)?;
        s.buf.get(..n).ok_or(EINVAL)
    }

    /// Decompresses `src` into `dst`, which it must fill exactly.
    pub(crate) fn decompress(&mut self, src: &[u8], dst: &mut [u8]) -> Result {
        let setup = self.setup;
        let n = self.stream().engine.decompress(setup, src, dst);
        filled(n, dst.len())
    }

    /// Decompresses the `len` bytes at byte `off` of `page` into all of
    /// `page` (an object read back from a block), through this stream's
    /// buffer.
    pub(crate) fn decompress_in_place(
        &mut self,
        page: &mut [u8],
        off: usize,
        len: usize,
    ) -> Result {
        let setup = self.setup;
        let s = self.stream();
        let src = page.get(off..).and_then(|p| p.get(..len)).ok_or(EIO)?;
        let buf = s.buf.get_mut(..len).ok_or(EIO)?;
        buf.copy_from_slice(src);
        let n = s.engine.decompress(setup, buf, page);
        filled(n, page.len())
    }
}

/// A decompression's result: `EIO` unless it produced exactly `want`
/// bytes.
fn filled(n: Result<usize>, want: usize) -> Result {
    match n {
        Ok(n) if n == want => Ok(()),
        _ => Err(EIO),
    }
}

impl Drop for StreamGuard<'_> {
    fn drop(&mut self) {
        self.slot.busy.store(false, Ordering::Release);
        // SAFETY: Pairs with the `get_cpu` in `Compressor::get`.
        unsafe { ffi::rzram_put_cpu() };
    }
}
