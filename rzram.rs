// SPDX-License-Identifier: GPL-2.0

//! rzram: a compressed RAM block device with batched writeback.
//!
//! rzram mirrors zram (`drivers/block/zram/zram_drv.c` of Linux 6.12) and
//! its sysfs ABI under `/sys/block/rzramN`.  Its writeback to a backing
//! block device keeps many pages in flight at once (see `rzram_wb.rs`).
//!
//! Layout:
//! - `glue`: the safe wrappers over the C interfaces; all `unsafe` code of
//!   the driver lives there.
//! - this file: the module, its devices and their I/O paths.
//! - `slots`: the slot table and its per-slot lock.
//! - `parse`: `memparse`/`kstrto*` equivalents for sysfs input.
//! - `rzram_wb`: writeback.
//!
//! # Locks, in the order they are taken
//!
//! 1. `RzramModule::devices` (a mutex): the device list; held by hot_add,
//!    hot_remove and module unload.
//! 2. `Device::cfg_lock` (a mutex): serialises configuration changes
//!    (disksize, reset, comp_algorithm, recomp_algorithm, algorithm_params,
//!    backing_dev).  What they allocate
//!    or free (slot table, zsmalloc pool, compressors, backing device) is
//!    built or torn down under it, outside `init`.
//! 3. The disk's `open_mutex` (kernel): protects `Device::claim`.
//! 4. `Device::init` (a rw-semaphore, zram's `init_lock`): the device
//!    configuration (disksize, algorithm, backing device).  Sysfs and
//!    configuration only; never taken by the I/O path.  Exclusive only to
//!    publish or take out a value, never across an allocation or a
//!    teardown.
//!
//! `Device::io` is not a lock but a gate: the [`Store`] behind a
//! `percpu_ref` (see `glue::ioref`).  The I/O path, `slot_free_notify`,
//! writeback and the attributes that read the store take a per-CPU
//! reference, which never waits.  disksize and reset replace the store
//! under `cfg_lock`, after killing the reference and waiting for every
//! holder to leave (a running writeback included).  Holders allocate
//! with `GFP_NOIO` semantics (the guard keeps a `memalloc_noio` scope).
//! 5. One slot lock (see `slots`), never two at once, never across a sleep.

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use kernel::{
    c_str, new_mutex,
    page::PAGE_SIZE,
    prelude::*,
    sync::{Arc, Mutex},
};

mod glue;
mod parse;
mod recomp;
#[path = "rzram_wb.rs"]
mod rzram_wb;
mod slots;

use glue::bio::{Bio, Op, Segment};
use glue::comp::{self, Compressor, ALGORITHMS};
use glue::disk::{Disk, DiskConfig, DiskOps, DiskRef, DiskVtable, Major, SECTOR_SHIFT};
use glue::ioref::IoCell;
use glue::page::{PageMut, PagePool};
use glue::racy::Racy;
use glue::rwsem::RwSem;
use glue::sysfs::{disk_attrs, SysfsBuf};
use glue::zsmalloc::{ZsGfp, ZsHandle, ZsPool};
use slots::{Content, Slot, SlotTable, HUGE, IDLE, UNDER_WB};

module! {
    type: RzramModule,
    name: "rzram",
    author: "rzram developers",
    description: "Compressed RAM block device with batched writeback",
    license: "GPL",
}

const PAGE_SHIFT: u32 = kernel::page::PAGE_SHIFT as u32;
const SECTORS_PER_PAGE_SHIFT: u32 = PAGE_SHIFT - SECTOR_SHIFT;
const SECTORS_PER_PAGE: u64 = 1 << SECTORS_PER_PAGE_SHIFT;
/// `CRYPTO_MAX_ALG_NAME`.
const CRYPTO_MAX_ALG_NAME: usize = 128;

/// Bounce pages kept in reserve per device.  A task holds at most one at
/// a time, and gives it back without waiting on another, so one suffices
/// for progress; a few more keep concurrent partial I/O from queueing.
const BOUNCE_RESERVE: i32 = 4;
/// The algorithm named by the `default_algorithm` module parameter (zram:
/// `CONFIG_ZRAM_DEF_COMP`, lzo-rle by default), or `EINVAL` with a log
/// message if the kernel does not have it.
fn default_algorithm() -> Result<&'static CStr> {
    let want = glue::param_default_algorithm();
    let found = ALGORITHMS
        .iter()
        .find(|a| a.as_bytes() == want.as_bytes() && comp::available(a));
    found.copied().ok_or_else(|| {
        pr_err!("default_algorithm: {} is not available\n", want);
        EINVAL
    })
}

/// Counters shown in `io_stat`, `mm_stat`, `debug_stat` and `bd_stat`.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) compr_data_size: AtomicU64,
    pub(crate) failed_reads: AtomicU64,
    pub(crate) failed_writes: AtomicU64,
    pub(crate) notify_free: AtomicU64,
    pub(crate) same_pages: AtomicU64,
    pub(crate) huge_pages: AtomicU64,
    pub(crate) huge_pages_since: AtomicU64,
    pub(crate) pages_stored: AtomicU64,
    pub(crate) max_used_pages: AtomicU64,
    pub(crate) writestall: AtomicU64,
    pub(crate) miss_free: AtomicU64,
    pub(crate) bd_reads: AtomicU64,
    pub(crate) bd_writes: AtomicU64,
}

impl Stats {
    fn clear(&self) {
        for c in [
            &self.compr_data_size,
            &self.failed_reads,
            &self.failed_writes,
            &self.notify_free,
            &self.same_pages,
            &self.huge_pages,
            &self.huge_pages_since,
            &self.pages_stored,
            &self.max_used_pages,
            &self.writestall,
            &self.miss_free,
            &self.bd_reads,
            &self.bd_writes,
        ] {
            c.store(0, Relaxed);
        }
    }
}

pub(crate) fn dec(c: &AtomicU64) {
    c.fetch_sub(1, Relaxed);
}

pub(crate) fn inc(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

/// What `disksize` creates and `reset` destroys.
pub(crate) struct Store {
    pub(crate) pool: ZsPool,
    /// The compressors, shared with the backing device's read
    /// completions, which decompress after the I/O path has let go.
    pub(crate) comps: Arc<Comps>,
    pub(crate) slots: SlotTable,
    /// Compressed sizes at or above this are stored raw ("huge").
    huge_class_size: usize,
    /// The backing device's blocks, if one is configured.
    pub(crate) wb: Option<rzram_wb::WbStore>,
    /// Bounce pages for partial-page I/O, which never fails for memory,
    /// and the page a running `recompress` decompresses into.
    bounce: PagePool,
}

/// A store's compressors, by priority.
pub(crate) struct Comps {
    /// The primary compressor (priority 0).
    pub(crate) primary: Compressor,
    /// The `recomp_algorithm` compressors, for priorities 1 to 3.
    pub(crate) recomp: recomp::Secondaries,
}

impl Comps {
    /// The compressor of priority `prio`, if the device has one.
    pub(crate) fn comp_of(&self, prio: usize) -> Option<&Compressor> {
        match prio {
            0 => Some(&self.primary),
            p => self.recomp.get(p),
        }
    }

    /// Decompresses `src`, an object read back from a block, into `dst`, a
    /// page, by the algorithm of priority `prio`.
    pub(crate) fn decompress_from(&self, prio: usize, src: &[u8], dst: &mut [u8]) -> Result {
        self.comp_of(prio).ok_or(EIO)?.get()?.decompress(src, dst)
    }

    /// Decompresses the object of `len` bytes at byte `off` of `page`
    /// (read back from a block) into all of `page`, by the algorithm of
    /// priority `prio`.
    pub(crate) fn decompress_in_place(
        &self,
        prio: usize,
        page: &mut [u8],
        (off, len): (usize, usize),
    ) -> Result {
        let mut strm = self.comp_of(prio).ok_or(EIO)?.get()?;
        strm.decompress_in_place(page, off, len)
    }
}

impl Store {
    /// Decompresses the object `h` of a `Zs` slot with `flags` into `dst`,
    /// a page: copied if it is a page (stored raw), else decompressed by
    /// the algorithm of the slot's priority.  `EIO` if it does not fill
    /// `dst` exactly.  Runs in atomic context (the slot is locked).
    pub(crate) fn decompress(&self, flags: u32, h: &ZsHandle, dst: &mut [u8]) -> Result {
        if h.size() == PAGE_SIZE {
            return self.pool.with_object(h, |src| {
                if src.len() != dst.len() {
                    return Err(EIO);
                }
                dst.copy_from_slice(src);
                Ok(())
            });
        }
        let mut strm = self.stream_of(flags)?;
        self.pool.with_object(h, |src| strm.decompress(src, dst))
    }

    /// Decompresses the object of `len` bytes at byte `off` of `page`
    /// (read back from a `compressed_writeback` block) into all of `page`,
    /// by the algorithm of the priority in `flags`.
    pub(crate) fn decompress_in_place(
        &self,
        flags: u32,
        page: &mut [u8],
        range: (usize, usize),
    ) -> Result {
        self.comps
            .decompress_in_place(slots::priority(flags), page, range)
    }

    /// This CPU's stream of the compressor of the priority in `flags`.
    fn stream_of(&self, flags: u32) -> Result<comp::StreamGuard<'_>> {
        self.comps.comp_of(slots::priority(flags)).ok_or(EIO)?.get()
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        // zsmalloc requires every object freed before its pool is
        // destroyed (the pool is dropped after this, in field order).
        let pool = &self.pool;
        self.slots.for_each_mut(|c| {
            if let Content::Zs(h) = core::mem::take(c) {
                pool.free(h);
            }
        });
    }
}

/// A device's configuration, behind its init lock.
pub(crate) struct Config {
    disksize: u64,
    comp_alg: &'static CStr,
    /// `recomp_algorithm` by priority 1 to 3; cleared by reset.
    recomp_algs: recomp::Names,
    /// `algorithm_params` by priority (0: `comp_alg`); cleared by reset.
    comp_params: [comp::Params; comp::MAX_COMPS],
    /// Set by `backing_dev` before initialisation.
    pub(crate) backing: Option<rzram_wb::BackingCfg>,
}

/// One rzram device: the private data of disk `rzramN`.
pub(crate) struct Device {
    /// zram's `init_lock`; see the lock order at the top of this file.
    pub(crate) init: RwSem<Config>,
    /// The store, `Some` once initialised (disksize set).  The I/O path
    /// reaches it through a per-CPU reference, without a shared lock;
    /// disksize and reset replace it (under `cfg_lock`) once every reader
    /// has left.
    pub(crate) io: Pin<KBox<IoCell<Store>>>,
    /// Serialises configuration changes; taken before `init`.
    pub(crate) cfg_lock: Pin<KBox<Mutex<()>>>,
    /// Set while a reset or removal runs: opens fail with `EBUSY`.
    /// Only read or written with the disk's `open_mutex` held.
    claim: AtomicBool,
    /// `mem_limit` in pages, 0 for none.
    limit_pages: AtomicU64,
    pub(crate) stats: Stats,
    /// Writeback limit and batch size, and whether a writeback runs.
    pub(crate) wb: rzram_wb::WbSettings,
    /// The algorithm of a new or reset device.
    default_alg: &'static CStr,
}

/// What [`Device::claim`] found.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// Unclaimed before: the caller claimed it.
    New,
    /// A reset or removal had claimed it.
    Taken,
}

/// A page of `len` bytes all equal to one machine word, as
/// `page_same_filled` checks.
fn same_filled(page: Racy<'_>) -> Option<u64> {
    let n = page.len() / 8;
    let first = page.word(0)?;
    // Check the last word first: most pages that are not same-filled
    // differ there, as zram notes.
    if page.word(n.checked_sub(1)?)? != first {
        return None;
    }
    (1..n).all(|i| page.word(i) == Some(first)).then_some(first)
}

/// Fills `dst` with the repeated word `v`.
fn fill_same(dst: &mut [u8], v: u64) {
    let b = v.to_ne_bytes();
    for w in dst.chunks_exact_mut(8) {
        w.copy_from_slice(&b);
    }
}

/// Part of one page of the device: `len` bytes at byte `off` of page
/// `index`, which go to byte `at` of a bio segment.
#[derive(Clone, Copy)]
struct Part {
    index: usize,
    off: usize,
    at: usize,
    len: usize,
}

/// The page of the device that holds `sector`, and the byte offset in it.
fn page_of(sector: u64) -> (usize, usize) {
    let index = (sector >> SECTORS_PER_PAGE_SHIFT) as usize;
    let off = ((sector & (SECTORS_PER_PAGE - 1)) << SECTOR_SHIFT) as usize;
    (index, off)
}

fn now_secs() -> u32 {
    glue::boottime_secs().clamp(0, u32::MAX as i64) as u32
}

impl Device {
    fn new(default_alg: &'static CStr) -> Result<Self> {
        Ok(Self {
            default_alg,
            init: RwSem::new(Config {
                disksize: 0,
                comp_alg: default_alg,
                recomp_algs: Default::default(),
                comp_params: Default::default(),
                backing: None,
            })?,
            io: IoCell::new()?,
            cfg_lock: KBox::pin_init(new_mutex!((), "rzram:cfg_lock"), GFP_KERNEL)?,
            claim: AtomicBool::new(false),
            limit_pages: AtomicU64::new(0),
            stats: Stats::default(),
            wb: rzram_wb::WbSettings::new(),
        })
    }

    /// Frees what a locked slot holds, as `zram_free_page`, and clears all
    /// flags.  Clearing `UNDER_WB` is how a writeback in flight learns that
    /// the slot changed (see `rzram_wb`).
    pub(crate) fn free_slot(&self, store: &Store, slot: &mut Slot<'_>) {
        slot.relaxed().store(0, Relaxed);
        // A written-back slot that kept its `HUGE` flag (compressed
        // writeback) was uncounted when it was written back.
        if slot.flags() & HUGE != 0 && matches!(slot.data_ref(), Content::Zs(_)) {
            dec(&self.stats.huge_pages);
        }
        slot.set_flags(0);
        match core::mem::take(slot.data()) {
            Content::Empty => return,
            Content::Same(_) => dec(&self.stats.same_pages),
            Content::Zs(h) => {
                self.stats
                    .compr_data_size
                    .fetch_sub(h.size() as u64, Relaxed);
                store.pool.free(h);
            }
            Content::Wb(block) | Content::WbZ { block, .. } => rzram_wb::free_block(store, block),
            Content::WbP { block, size, .. } => rzram_wb::put_object(store, block, size),
        }
        dec(&self.stats.pages_stored);
    }

    /// Reads page `index` into `dst`, as `zram_read_page`.
    fn read_page(&self, store: &Store, index: usize, dst: &mut PageMut<'_>) -> Result {
        let slot = self.lock_accessed(store, index)?;
        self.read_slot(store, slot, dst)
    }

    /// Reads the locked `slot` into `dst`; unlocks it.
    fn read_slot(&self, store: &Store, slot: Slot<'_>, dst: &mut PageMut<'_>) -> Result {
        match slot.data_ref() {
            Content::Empty => dst.with_mut(|d| d.fill(0)),
            Content::Same(v) => dst.with_mut(|d| fill_same(d, *v)),
            Content::Zs(h) => dst.with_mut(|d| store.decompress(slot.flags(), h, d))?,
            &Content::Wb(block) => {
                // The slot is unlocked before the (sleeping) read.
                return rzram_wb::read_block(self, store, block, dst, slot);
            }
            &Content::WbZ { block, size } => {
                // What decompression needs, taken before the slot is
                // unlocked for the read.
                let flags = slot.flags();
                rzram_wb::read_block(self, store, block, dst, slot)?;
                dst.with_mut(|d| store.decompress_in_place(flags, d, (0, size as usize)))?;
            }
            &Content::WbP { block, off, size } => {
                let flags = slot.flags();
                let range = (usize::from(off), usize::from(size));
                rzram_wb::read_block(self, store, block, dst, slot)?;
                dst.with_mut(|d| store.decompress_in_place(flags, d, range))?;
            }
        }
        Ok(())
    }

    /// Stores a whole page at `index`, as `zram_write_page`.
    fn write_page(&self, store: &Store, index: usize, src: Racy<'_>) -> Result {
        let (content, flags) = match same_filled(src) {
            Some(v) => (Content::Same(v), 0),
            None => {
                let (h, huge) = self.compress_store(store, src)?;
                (Content::Zs(h), if huge { HUGE } else { 0 })
            }
        };
        let mut slot = match store.slots.lock(index) {
            Ok(slot) => slot,
            Err(e) => {
                // Not stored: the object goes back to the pool.
                if let Content::Zs(h) = content {
                    store.pool.free(h);
                }
                return Err(e);
            }
        };
        // `free_slot` cleared every flag.
        self.free_slot(store, &mut slot);
        match &content {
            Content::Same(_) => inc(&self.stats.same_pages),
            Content::Zs(h) => {
                self.stats
                    .compr_data_size
                    .fetch_add(h.size() as u64, Relaxed);
            }
            Content::Empty | Content::Wb(_) | Content::WbZ { .. } | Content::WbP { .. } => {}
        }
        if flags & HUGE != 0 {
            inc(&self.stats.huge_pages);
            inc(&self.stats.huge_pages_since);
        }
        slot.set_flags(flags);
        *slot.data() = content;
        slots::accessed(&mut slot, now_secs());
        drop(slot);
        inc(&self.stats.pages_stored);
        Ok(())
    }

    /// Compresses `src` and stores it in the pool; returns the handle and
    /// whether the page was stored raw.
    fn compress_store(&self, store: &Store, src: Racy<'_>) -> Result<(ZsHandle, bool)> {
        // Set when the fast allocation failed and a handle of this size was
        // allocated by the sleeping slow path.
        let mut prealloc: Option<ZsHandle> = None;
        loop {
            let mut strm = match store.comps.primary.get() {
                Ok(strm) => strm,
                Err(e) => {
                    if let Some(h) = prealloc.take() {
                        store.pool.free(h);
                    }
                    return Err(e);
                }
            };
            let out = strm.compress(src).inspect_err(|e| {
                pr_err!("Compression failed! err={}\n", e.to_errno());
            });
            let out = match out {
                Ok(out) => out,
                Err(e) => {
                    drop(strm);
                    if let Some(h) = prealloc.take() {
                        store.pool.free(h);
                    }
                    return Err(e);
                }
            };
            let huge = out.len() >= store.huge_class_size;
            let data = if huge { src } else { Racy::from_slice(out) };
            let h = match prealloc.take() {
                Some(h) if h.size() == data.len() => h,
                Some(h) => {
                    // Only if the page changed under us: retry.
                    store.pool.free(h);
                    continue;
                }
                None => match store.pool.malloc(data.len(), ZsGfp::NoReclaim) {
                    Ok(h) => h,
                    Err(_) => {
                        let len = data.len();
                        drop(strm);
                        inc(&self.stats.writestall);
                        prealloc = Some(store.pool.malloc(len, ZsGfp::Reclaim)?);
                        continue;
                    }
                },
            };
            let alloced = store.pool.total_pages() as u64;
            self.stats.max_used_pages.fetch_max(alloced, Relaxed);
            let limit = self.limit_pages.load(Relaxed);
            if limit != 0 && alloced > limit {
                drop(strm);
                store.pool.free(h);
                return Err(ENOMEM);
            }
            let r = store.pool.write(&h, data);
            drop(strm);
            if let Err(e) = r {
                store.pool.free(h);
                return Err(e);
            }
            return Ok((h, huge));
        }
    }

    /// Reads a whole page into the page of `seg`: a written-back page, or
    /// object, as a child bio of the bio being served, if `chain` is given.
    fn read_whole(
        &self,
        store: &Store,
        index: usize,
        seg: &mut Segment<'_>,
        chain: Option<&mut rzram_wb::Chain<'_>>,
    ) -> Result {
        let slot = self.lock_accessed(store, index)?;
        if let Some(chain) = chain {
            if let &Content::Wb(block) = slot.data_ref() {
                return rzram_wb::chain_read(self, store, chain, seg, block, slot);
            }
            if let Some(obj) = rzram_wb::obj_of(slot.data_ref()) {
                return rzram_wb::chain_read_obj(self, store, chain, seg, obj, slot);
            }
        }
        let mut dst = seg.whole_page().ok_or(EIO)?;
        self.read_slot(store, slot, &mut dst)
    }

    /// Reads part `p` of a page into its segment `seg`: a written-back
    /// page as a child bio of the bio being served, if `chain` is given and
    /// a bounce page is at hand; anything else synchronously.
    fn read_part_chained(
        &self,
        store: &Store,
        p: Part,
        seg: &mut Segment<'_>,
        chain: Option<&mut rzram_wb::Chain<'_>>,
    ) -> Result {
        if let Some(chain) = chain {
            let slot = self.lock_accessed(store, p.index)?;
            if let &Content::Wb(block) = slot.data_ref() {
                let range = (p.at, p.len, p.off);
                if rzram_wb::chain_read_part(self, store, chain, seg, range, block, slot)? {
                    return Ok(());
                }
            }
        }
        self.read_part(store, p, seg)
    }

    /// Reads part `p` of a page into its segment `seg` through a bounce
    /// page, and waits.
    fn read_part(&self, store: &Store, p: Part, seg: &mut Segment<'_>) -> Result {
        let mut bounce = store.bounce.get()?;
        let mut page = bounce.page_mut();
        self.read_page(store, p.index, &mut page)?;
        page.with_mut(|src| {
            let src = src.get(p.off..).and_then(|s| s.get(..p.len)).ok_or(EIO)?;
            let mut map = seg.map();
            let dst = map
                .as_mut_slice()
                .get_mut(p.at..)
                .and_then(|d| d.get_mut(..p.len));
            dst.ok_or(EIO)?.copy_from_slice(src);
            Ok(())
        })
    }

    /// Writes `src` at byte `off` of page `index`; a partial page is merged
    /// with the old content in a bounce page.
    fn write_part(&self, store: &Store, index: usize, off: usize, src: Racy<'_>) -> Result {
        if src.len() == PAGE_SIZE {
            return self.write_page(store, index, src);
        }
        let mut bounce = store.bounce.get()?;
        let mut page = bounce.page_mut();
        self.read_page(store, index, &mut page)?;
        page.with_mut(|p| {
            // `write_bio` keeps `off + src.len()` within the page.
            let dst = p.get_mut(off..).and_then(|p| p.get_mut(..src.len()));
            src.copy_to(dst.ok_or(EIO)?)?;
            self.write_page(store, index, Racy::from_slice(p))
        })
    }

    /// Locks slot `index` and records the access, as `zram_accessed`
    /// does under the same lock.
    fn lock_accessed<'a>(&self, store: &'a Store, index: usize) -> Result<Slot<'a>> {
        let mut slot = store.slots.lock(index)?;
        slots::accessed(&mut slot, now_secs());
        Ok(slot)
    }

    /// Counts a failed write request, as zram's `failed_writes`.
    fn failed_write(&self, e: Error) -> Error {
        inc(&self.stats.failed_writes);
        e
    }

    /// Serves a read bio.  Whole pages that are written back are read by
    /// child bios of `bio`, which completes only after them.
    fn read_bio(&self, store: &Store, bio: &mut Bio) -> Result {
        let mut sector = bio.sector();
        let mut chain = rzram_wb::chain(store, bio.size() as usize >> PAGE_SHIFT);
        bio.for_each_segment(|seg| {
            let len = seg.len();
            let mut done = 0;
            while done < len {
                let (index, off) = page_of(sector);
                let n = (len - done).min(PAGE_SIZE - off);
                let r = if n == PAGE_SIZE {
                    self.read_whole(store, index, seg, chain.as_mut())
                } else {
                    let p = Part {
                        index,
                        off,
                        at: done,
                        len: n,
                    };
                    self.read_part_chained(store, p, seg, chain.as_mut())
                };
                r?;
                done += n;
                // The block layer keeps the bio inside the disk's capacity:
                // the sector does not wrap (it would in C, unsigned).
                sector = sector.wrapping_add((n >> SECTOR_SHIFT) as u64);
            }
            Ok(())
        })
    }

    /// Serves a write bio.
    fn write_bio(&self, store: &Store, bio: &mut Bio) -> Result {
        let mut sector = bio.sector();
        bio.for_each_segment(|seg| {
            let len = seg.len();
            let map = seg.map();
            let mut done = 0;
            while done < len {
                let (index, off) = page_of(sector);
                let n = (len - done).min(PAGE_SIZE - off);
                // The mapping is `len` bytes long, so the lookup succeeds.
                let src = map.as_racy().sub(done, n).ok_or(EIO);
                src.and_then(|src| self.write_part(store, index, off, src))
                    .map_err(|e| self.failed_write(e))?;
                done += n;
                sector = sector.wrapping_add((n >> SECTOR_SHIFT) as u64);
            }
            Ok(())
        })
    }

    /// Discard and write-zeroes: frees whole pages, as `zram_bio_discard`
    /// (a partial page at either end is left alone).
    fn discard(&self, store: &Store, bio: &Bio) {
        let mut n = bio.size() as usize;
        let sector = bio.sector();
        let mut index = (sector >> SECTORS_PER_PAGE_SHIFT) as usize;
        let off = ((sector & (SECTORS_PER_PAGE - 1)) << SECTOR_SHIFT) as usize;
        if off != 0 {
            if n <= PAGE_SIZE - off {
                return;
            }
            n -= PAGE_SIZE - off;
            index += 1;
        }
        while n >= PAGE_SIZE {
            if let Ok(mut slot) = store.slots.lock(index) {
                self.free_slot(store, &mut slot);
            }
            inc(&self.stats.notify_free);
            index += 1;
            n -= PAGE_SIZE;
        }
    }

    /// Tears down the store and returns to the uninitialised state, as
    /// `zram_reset_device`.  The caller holds `cfg_lock`.
    fn reset(&self, disk: &DiskRef<'_>) {
        disk.set_capacity_and_notify(0);
        disk.clear_io_stats();
        // Waits until no I/O, writeback or attribute uses the store.
        let store = self.io.replace(None);
        let (backing, params) = {
            let mut cfg = self.init.write();
            self.limit_pages.store(0, Relaxed);
            cfg.disksize = 0;
            cfg.comp_alg = self.default_alg;
            cfg.recomp_algs = Default::default();
            let params = core::mem::take(&mut cfg.comp_params);
            (rzram_wb::reset(&mut cfg), params)
        };
        // Dropping the store frees every page and the backing bitmap; the
        // backing device is released last.  All outside `init`.
        drop(store);
        drop(params);
        drop(backing);
        self.stats.clear();
    }

    /// The primary and secondary compressors for `disksize`.  If one
    /// cannot be built, the algorithms and their parameters go back to
    /// their defaults, as zram's `zram_destroy_comps` does on that path.
    /// The caller holds `cfg_lock`.
    fn build_comps(
        &self,
        alg: &'static CStr,
        params: comp::Params,
        plan: recomp::Plan,
    ) -> Result<(Compressor, recomp::Secondaries)> {
        let built = Compressor::new(alg, params)
            .inspect_err(|_| pr_err!("Cannot initialise {} compressing backend\n", alg))
            .and_then(|c| Ok((c, recomp::Secondaries::new(plan)?)));
        if built.is_err() {
            let params = {
                let mut cfg = self.init.write();
                cfg.comp_alg = self.default_alg;
                cfg.recomp_algs = Default::default();
                core::mem::take(&mut cfg.comp_params)
            };
            // Freed outside `init`.
            drop(params);
        }
        built
    }

    /// Claims the device for reset or removal, so that it cannot be opened:
    /// `EBUSY` if it is open.  Returns [`Claim::Taken`] if a reset or
    /// removal had claimed it already (it stays claimed).
    fn claim(&self, disk: &DiskRef<'_>) -> Result<Claim> {
        disk.with_open_lock(|openers| {
            if openers > 0 {
                return Err(EBUSY);
            }
            if self.claim.swap(true, Relaxed) {
                Ok(Claim::Taken)
            } else {
                Ok(Claim::New)
            }
        })
    }

    fn unclaim(&self, disk: &DiskRef<'_>) {
        disk.with_open_lock(|_| self.claim.store(false, Relaxed));
    }
}

impl DiskOps for Device {
    fn submit_bio(&self, _disk: &DiskRef<'_>, mut bio: Bio) {
        let op = bio.op();
        // Nothing is cached, so there is nothing to flush.
        if op == Op::Flush {
            bio.end(Ok(()));
            return;
        }
        let Some(store) = self.io.get() else {
            bio.end(Err(EIO));
            return;
        };
        let r = match op {
            Op::Read => {
                let r = self.read_bio(&store, &mut bio);
                // Counted once per bio: a chained child may have failed it
                // first (and counted it, see `rzram_wb`).
                if r.is_err() && bio.fail_first() {
                    inc(&self.stats.failed_reads);
                }
                r
            }
            Op::Write => self.write_bio(&store, &mut bio),
            Op::Discard | Op::WriteZeroes => {
                self.discard(&store, &bio);
                Ok(())
            }
            Op::Flush => Ok(()),
            Op::Other => Err(EIO),
        };
        drop(store);
        bio.end(r);
    }

    fn open(&self) -> Result {
        // Called with `open_mutex` held, which protects `claim`.
        if self.claim.load(Relaxed) {
            return Err(EBUSY);
        }
        Ok(())
    }

    fn swap_slot_free_notify(&self, index: u64) {
        // Runs under the swap device's spinlock: nothing here may sleep.
        inc(&self.stats.notify_free);
        // Never sleeps: the store's reference is per CPU.
        let Some(store) = self.io.get() else {
            return;
        };
        match store.slots.try_lock(index as usize) {
            Some(mut slot) => self.free_slot(&store, &mut slot),
            None => inc(&self.stats.miss_free),
        };
    }
}

// ---------------------------------------------------------------------------
// sysfs attributes, in the order of zram's `zram_disk_attrs`.

type ShowResult = Result;

pub(crate) fn emit(buf: &mut SysfsBuf<'_>, args: core::fmt::Arguments<'_>) -> ShowResult {
    buf.write_fmt(args).map_err(|_| EINVAL)
}

fn disksize_show(dev: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> ShowResult {
    let size = dev.init.read().disksize;
    emit(buf, format_args!("{size}\n"))
}

fn disksize_store(dev: &Device, disk: &DiskRef<'_>, s: &[u8]) -> Result {
    let size = parse::memparse(s).unwrap_or(0);
    if size == 0 {
        return Err(EINVAL);
    }
    let _cfg_lock = dev.cfg_lock.lock();
    let (comp_alg, params, plan, backing) = {
        if dev.io.is_some() {
            pr_info!("Cannot change disksize for initialized device\n");
            return Err(EBUSY);
        }
        let cfg = dev.init.read();
        let params = cfg.comp_params[0].try_clone()?;
        let plan = recomp::Plan::of(&cfg)?;
        (cfg.comp_alg, params, plan, rzram_wb::backing_of(&cfg))
    };
    // Build the store outside `init` (see the lock order); `cfg_lock`
    // keeps the configuration read above from changing meanwhile.
    let size = size.checked_add(PAGE_SIZE as u64 - 1).ok_or(EINVAL)? & !(PAGE_SIZE as u64 - 1);
    let pages = usize::try_from(size >> PAGE_SHIFT).map_err(|_| ENOMEM)?;
    let slots = SlotTable::new(pages)?;
    let pool = ZsPool::new(disk.name())?;
    let (comp, recomp) = dev.build_comps(comp_alg, params, plan)?;
    let huge_class_size = pool.huge_class_size();
    let packed = dev.wb.packing();
    let comps = Arc::new(
        Comps {
            primary: comp,
            recomp,
        },
        GFP_KERNEL,
    )?;
    let wb = backing
        .map(|b| rzram_wb::WbStore::new(b, packed, comps.clone()))
        .transpose()?;
    let bounce = PagePool::new(BOUNCE_RESERVE)?;
    dev.init.write().disksize = size;
    let old = dev.io.replace(Some(Store {
        pool,
        comps,
        slots,
        huge_class_size,
        wb,
        bounce,
    }));
    // `cfg_lock` kept the device uninitialised since the check above.
    drop(old);
    disk.set_capacity_and_notify(size >> SECTOR_SHIFT);
    Ok(())
}

fn initstate_show(dev: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> ShowResult {
    let init = dev.io.is_some();
    emit(buf, format_args!("{}\n", init as u32))
}

fn reset_store(dev: &Device, disk: &DiskRef<'_>, s: &[u8]) -> Result {
    if parse::kstrtou16(s)? == 0 {
        return Err(EINVAL);
    }
    let _cfg_lock = dev.cfg_lock.lock();
    if dev.claim(disk)? == Claim::Taken {
        // A removal runs: it resets the device itself.
        return Err(EBUSY);
    }
    // Make sure all pending I/O is finished.  As zram, a failure does not
    // stop the reset: the data is being discarded anyway.
    if let Err(e) = disk.sync() {
        pr_warn!(
            "reset: flushing {} failed: error {}\n",
            disk.name(),
            e.to_errno()
        );
    }
    dev.reset(disk);
    dev.unclaim(disk);
    Ok(())
}

fn compact_store(dev: &Device, _: &DiskRef<'_>, _s: &[u8]) -> Result {
    let store = dev.io.get().ok_or(EINVAL)?;
    store.pool.compact();
    Ok(())
}

fn mem_limit_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    let limit = parse::memparse(s).ok_or(EINVAL)?;
    // zram takes `init_lock` exclusively here.  rzram does not: the value
    // is an atomic, and a pending writer would hold up every I/O (which
    // takes `init` shared) until a running writeback finished.
    let pages = limit.div_ceil(PAGE_SIZE as u64);
    dev.limit_pages.store(pages, Relaxed);
    Ok(())
}

fn mem_used_max_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    if parse::kstrtoull(s, 10).map_err(|_| EINVAL)? != 0 {
        return Err(EINVAL);
    }
    if let Some(store) = dev.io.get() {
        dev.stats
            .max_used_pages
            .store(store.pool.total_pages() as u64, Relaxed);
    }
    Ok(())
}

fn idle_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    // `None`: mark everything ("all"); else pages not accessed since.
    let cutoff = if parse::streq(s, "all") {
        None
    } else {
        let age = parse::kstrtoull(s, 0).map_err(|_| EINVAL)?;
        Some(glue::boottime_secs().saturating_sub(age.min(i64::MAX as u64) as i64))
    };
    let store = dev.io.get().ok_or(EINVAL)?;
    for index in 0..store.slots.len() {
        let mut slot = store.slots.lock(index)?;
        // As zram: written-back, in-flight and same-filled slots are never
        // idle; neither is an empty one.
        match slot.data_ref() {
            Content::Zs(_) => {}
            _ => continue,
        }
        let f = slot.flags();
        if f & UNDER_WB != 0 {
            continue;
        }
        let ac = slot.relaxed().load(Relaxed) as i64;
        let idle = cutoff.map_or(true, |c| c > ac);
        slot.set_flags(if idle { f | IDLE } else { f & !IDLE });
    }
    Ok(())
}

/// zram keeps this attribute for compatibility: streams are per CPU, so
/// it shows the online CPUs, and a write is accepted and ignored.
fn max_comp_streams_show(_: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> ShowResult {
    emit(buf, format_args!("{}\n", glue::online_cpus()))
}

fn max_comp_streams_store(_: &Device, _: &DiskRef<'_>, _s: &[u8]) -> Result {
    Ok(())
}

/// Shows every algorithm, the one named `cur` in brackets, as zram's
/// `zcomp_available_show`.
pub(crate) fn algorithms_show(buf: &mut SysfsBuf<'_>, cur: &CStr) -> ShowResult {
    for alg in ALGORITHMS.iter().filter(|a| comp::available(a)) {
        if alg.as_bytes() == cur.as_bytes() {
            emit(buf, format_args!("[{}] ", alg))?;
        } else {
            emit(buf, format_args!("{} ", alg))?;
        }
    }
    emit(buf, format_args!("\n"))
}

/// The algorithm a `comp_algorithm` or `recomp_algorithm` store names, as
/// zram's `__comp_algorithm_store`: `E2BIG` for a name of
/// `CRYPTO_MAX_ALG_NAME` bytes or more as written (newline included), then
/// one trailing newline is dropped and the name compared with
/// `sysfs_streq`, which ignores one more; `EINVAL` if there is none.
pub(crate) fn find_algorithm(s: &[u8]) -> Result<&'static CStr> {
    if s.len() >= CRYPTO_MAX_ALG_NAME {
        return Err(E2BIG);
    }
    let s = s.strip_suffix(b"\n").unwrap_or(s);
    let s = s.strip_suffix(b"\n").unwrap_or(s);
    let alg = ALGORITHMS
        .iter()
        .find(|a| a.as_bytes() == s && comp::available(a));
    alg.copied().ok_or(EINVAL)
}

fn comp_algorithm_show(dev: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> ShowResult {
    let cur = dev.init.read().comp_alg;
    algorithms_show(buf, cur)
}

fn comp_algorithm_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    // The attribute is `keep_newline`: zram sees the input as written.
    let alg = find_algorithm(s)?;
    let _cfg_lock = dev.cfg_lock.lock();
    // Refuse under the shared lock: a writer queued behind a running
    // writeback would hold up every I/O until it finished.  An
    // uninitialised device has no writeback and no I/O, and `cfg_lock`
    // keeps it uninitialised until the write below.
    if dev.io.is_some() {
        pr_info!("Can't change algorithm for initialized device\n");
        return Err(EBUSY);
    }
    dev.init.write().comp_alg = alg;
    Ok(())
}

/// `algorithm_params`, as zram 6.12's `algorithm_params_store`: tokens
/// `priority=N`, `level=N`, `algo=NAME` (the priority of the algorithm so
/// named) and `dict=PATH`; others are ignored, one without a value is
/// `EINVAL`.  The parameters of that priority are replaced (a dictionary
/// that cannot be read leaves them cleared, and is `EINVAL`); they apply
/// when `disksize` next builds the compressor, and reset clears them.
/// zram takes no lock and changes the parameters of a running compressor
/// in place; rzram stores them for the next initialisation only.
fn algorithm_params_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    let (mut prio, mut level, mut algo, mut dict) = (0i32, None, None, None);
    parse::for_each_param(s, |key, val| {
        match key {
            b"priority" => prio = parse::kstrtoint(val)?,
            b"level" => level = Some(parse::kstrtoint(val)?),
            b"algo" => algo = Some(val),
            b"dict" => dict = Some(val),
            _ => {}
        }
        Ok(())
    })?;
    if let Some(a) = algo {
        let found = recomp::priority_of(&dev.init.read(), a);
        prio = found.map_or(-1, |p| p as i32);
    }
    let prio = usize::try_from(prio)
        .ok()
        .filter(|&p| p < comp::MAX_COMPS)
        .ok_or(EINVAL)?;
    // Read outside the locks: a file may take long.
    let dict = dict.map(read_dict).transpose();
    let _cfg_lock = dev.cfg_lock.lock();
    let (params, ret) = match dict {
        Ok(dict) => (comp::Params { level, dict }, Ok(())),
        Err(e) => (comp::Params::default(), Err(e)),
    };
    let old = core::mem::replace(&mut dev.init.write().comp_params[prio], params);
    drop(old);
    ret
}

/// The dictionary at `path` (bytes as written, up to the first NUL).
fn read_dict(path: &[u8]) -> Result<kernel::alloc::VVec<u8>> {
    let mut p = KVec::with_capacity(path.len() + 1, GFP_KERNEL)?;
    p.extend_from_slice(path, GFP_KERNEL)?;
    p.push(0, GFP_KERNEL)?;
    let path = glue::cstr_prefix(&p).ok_or(EINVAL)?;
    comp::read_dict(path)
}

fn io_stat_show(dev: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> ShowResult {
    // Reads failed by the backing device, counted where they complete.
    let chained = dev.io.get().map_or(0, |st| rzram_wb::failed_reads(&st));
    let _cfg = dev.init.read();
    let s = &dev.stats;
    emit(
        buf,
        format_args!(
            "{:8} {:8} 0 {:8}\n",
            s.failed_reads.load(Relaxed) + chained,
            s.failed_writes.load(Relaxed),
            s.notify_free.load(Relaxed)
        ),
    )
}

fn mm_stat_show(dev: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> ShowResult {
    let (mem_used, compacted) = dev.io.get().map_or((0, 0), |st| {
        (
            st.pool.total_pages() as u64,
            st.pool.pages_compacted() as u64,
        )
    });
    let s = &dev.stats;
    emit(
        buf,
        format_args!(
            "{:8} {:8} {:8} {:8} {:8} {:8} {:8} {:8} {:8}\n",
            s.pages_stored.load(Relaxed) << PAGE_SHIFT,
            s.compr_data_size.load(Relaxed),
            mem_used << PAGE_SHIFT,
            dev.limit_pages.load(Relaxed) << PAGE_SHIFT,
            s.max_used_pages.load(Relaxed) << PAGE_SHIFT,
            s.same_pages.load(Relaxed),
            compacted,
            s.huge_pages.load(Relaxed),
            s.huge_pages_since.load(Relaxed)
        ),
    )
}

fn debug_stat_show(dev: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> ShowResult {
    let _cfg = dev.init.read();
    let s = &dev.stats;
    emit(
        buf,
        format_args!(
            "version: {}\n{:8} {:8}\n",
            1,
            s.writestall.load(Relaxed),
            s.miss_free.load(Relaxed)
        ),
    )
}

/// Formats into a vector.
struct VecWriter<'a>(&'a mut KVec<u8>);

impl core::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0
            .extend_from_slice(s.as_bytes(), GFP_KERNEL)
            .map_err(|_| core::fmt::Error)
    }
}

/// `block_state` in debugfs, as zram's `read_block_state`: a line per
/// stored slot from slot `*pos` on, as many whole lines as fit.  rzram
/// keeps access times in seconds, so the microseconds are 0.
impl glue::debugfs::DebugRead for Device {
    fn read(&self, pos: &mut u64, out: &mut glue::debugfs::ReadBuf) -> Result {
        let store = self.io.get().ok_or(EINVAL)?;
        let start = usize::try_from(*pos).unwrap_or(usize::MAX);
        for index in start..store.slots.len() {
            let slot = store.slots.lock(index)?;
            let kind = match slot.data_ref() {
                Content::Empty => None,
                Content::Same(_) => Some(('s', '.')),
                Content::Wb(_) | Content::WbZ { .. } | Content::WbP { .. } => Some(('.', 'w')),
                Content::Zs(_) => Some(('.', '.')),
            };
            if let Some((s, w)) = kind {
                let f = slot.flags();
                let ac = slot.relaxed().load(Relaxed);
                drop(slot);
                let flag = |bit, c| if f & bit != 0 { c } else { '.' };
                let mut line = KVec::with_capacity(48, GFP_KERNEL)?;
                let h = flag(HUGE, 'h');
                let i = flag(IDLE, 'i');
                let n = flag(slots::INCOMPRESSIBLE, 'n');
                let r = if slots::priority(f) != 0 { 'r' } else { '.' };
                VecWriter(&mut line)
                    .write_fmt(format_args!(
                        "{index:12} {ac:12}.000000 {s}{w}{h}{i}{r}{n}\n"
                    ))
                    .map_err(|_| ENOMEM)?;
                if !out.push_line(&line)? {
                    break;
                }
            }
            *pos = (index as u64).saturating_add(1);
        }
        Ok(())
    }
}

disk_attrs!(static RZRAM_ATTRS: Device = {
    "compact" => (None, Some(compact_store)),
    "disksize" => (Some(disksize_show), Some(disksize_store)),
    "initstate" => (Some(initstate_show), None),
    "reset" => (None, Some(reset_store)),
    "mem_limit" => (None, Some(mem_limit_store)),
    "mem_used_max" => (None, Some(mem_used_max_store)),
    "idle" => (None, Some(idle_store)),
    "max_comp_streams" => (Some(max_comp_streams_show), Some(max_comp_streams_store)),
    "backing_dev" => (Some(rzram_wb::backing_dev_show), Some(rzram_wb::backing_dev_store)),
    "writeback" => (None, Some(rzram_wb::writeback_store)),
    "writeback_limit" => (
        Some(rzram_wb::writeback_limit_show),
        Some(rzram_wb::writeback_limit_store)
    ),
    "writeback_limit_enable" => (
        Some(rzram_wb::writeback_limit_enable_show),
        Some(rzram_wb::writeback_limit_enable_store)
    ),
    "writeback_batch_size" => (
        Some(rzram_wb::writeback_batch_size_show),
        Some(rzram_wb::writeback_batch_size_store)
    ),
    "compressed_writeback" => (
        Some(rzram_wb::compressed_writeback_show),
        Some(rzram_wb::compressed_writeback_store)
    ),
    "packed_writeback" => (
        Some(rzram_wb::packed_writeback_show),
        Some(rzram_wb::packed_writeback_store)
    ),
    "packed_stat" => (Some(rzram_wb::packed_stat_show), None),
    "writeback_compact" => (None, Some(rzram_wb::writeback_compact_store)),
    "comp_algorithm" => (Some(comp_algorithm_show), Some(comp_algorithm_store), keep_newline),
    "io_stat" => (Some(io_stat_show), None),
    "mm_stat" => (Some(mm_stat_show), None),
    "bd_stat" => (Some(rzram_wb::bd_stat_show), None),
    "debug_stat" => (Some(debug_stat_show), None),
    "recomp_algorithm" => (
        Some(recomp::recomp_algorithm_show),
        Some(recomp::recomp_algorithm_store),
        keep_newline
    ),
    "recompress" => (None, Some(recomp::recompress_store), keep_newline),
    "algorithm_params" => (None, Some(algorithm_params_store), keep_newline),
});

static RZRAM_FOPS: DiskVtable = DiskVtable::new::<Device>();

// ---------------------------------------------------------------------------
// The module and its devices.

/// Devices by id; `None` marks a free id (ids are reused lowest first, as
/// zram's idr does).
struct Devices {
    list: KVec<Option<Disk<Device>>>,
    /// `default_algorithm`, checked at load time.
    default_alg: &'static CStr,
    /// debugfs `rzram/`, with a directory per device; dropped after the
    /// devices (field order), whose directories are inside it.
    debugfs: Option<glue::debugfs::Dir>,
}

impl Devices {
    /// Adds a device with the lowest free id and returns the id.
    fn add(&mut self, major: &Major) -> Result<u32> {
        let id = self
            .list
            .iter()
            .position(Option::is_none)
            .unwrap_or(self.list.len());
        let id32 = u32::try_from(id).map_err(|_| ENOSPC)?;
        // zram uses minors = 1 and the id as first minor (MINORBITS = 20).
        if id32 >= 1 << 20 {
            return Err(ENOSPC);
        }
        if id == self.list.len() {
            self.list.push(None, GFP_KERNEL)?;
        }
        // `id` is a free entry or the one just pushed.
        let entry = self.list.get_mut(id).ok_or(ENOSPC)?;
        let data = KBox::pin(Device::new(self.default_alg)?, GFP_KERNEL)?;
        let cfg = DiskConfig {
            major,
            first_minor: id32,
            max_discard_sectors: u32::MAX,
            block_size: PAGE_SIZE as u32,
        };
        let mut disk = Disk::new(
            cfg,
            format_args!("rzram{id}"),
            &RZRAM_FOPS,
            &RZRAM_ATTRS,
            data,
        )
        .inspect_err(|_| pr_err!("Error allocating disk structure for device {id}\n"))?;
        if let Some(root) = &self.debugfs {
            disk.add_debugfs(root, c_str!("block_state"));
        }
        pr_info!("Added device: {}\n", disk.disk().name());
        *entry = Some(disk);
        Ok(id32)
    }

    /// Removes device `id`, as `zram_remove`: `EBUSY` if it is open.
    fn remove(&mut self, id: usize) -> Result {
        let entry = self.list.get_mut(id).ok_or(ENODEV)?;
        let disk = entry.as_ref().ok_or(ENODEV)?;
        let d = disk.disk();
        // Claimed already: a reset runs.  As `zram_remove`, go on: deleting
        // the disk below waits for the reset's sysfs callback to return.
        disk.data().claim(&d)?;
        pr_info!("Removed device: {}\n", d.name());
        // Dropping the disk deletes it (waiting for sysfs callbacks and
        // I/O), then frees the device and everything it holds.
        *entry = None;
        Ok(())
    }
}

/// The module's shared state: what the control class operates on.
#[pin_data]
struct Control {
    /// Taken first of all locks (see the lock order above).
    #[pin]
    devices: Mutex<Devices>,
    /// Dropped after the devices (field order).
    major: Major,
}

impl glue::class::ControlOps for Control {
    fn hot_add(&self, buf: &mut SysfsBuf<'_>) -> Result {
        let id = self.devices.lock().add(&self.major)?;
        emit(buf, format_args!("{id}\n"))
    }

    fn hot_remove(&self, s: &[u8]) -> Result {
        // zram: kstrtoint, EINVAL for a negative id, then ENODEV for any
        // id without a device.
        let id = parse::kstrtoint(s)?;
        let id = usize::try_from(id).map_err(|_| EINVAL)?;
        self.devices.lock().remove(id)
    }
}

struct RzramModule {
    // Field order is drop order: the class goes first, so no hot_add can
    // run while the devices are torn down.
    _class: glue::class::ControlClass<Control>,
    _control: Arc<Control>,
}

impl kernel::Module for RzramModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let default_alg = default_algorithm()?;
        let major = Major::register(c_str!("rzram"))?;
        let control = Arc::pin_init(
            pin_init!(Control {
                devices <- new_mutex!(
                    Devices {
                        list: KVec::new(),
                        default_alg,
                        debugfs: glue::debugfs::Dir::new(c_str!("rzram"), None),
                    },
                    "rzram:devices"
                ),
                major,
            }),
            GFP_KERNEL,
        )?;
        {
            let mut list = control.devices.lock();
            for _ in 0..glue::param_num_devices() {
                list.add(&control.major)?;
            }
        }
        let class = glue::class::ControlClass::register(c_str!("rzram-control"), control.clone())?;
        Ok(RzramModule {
            _class: class,
            _control: control,
        })
    }
}
