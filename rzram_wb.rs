// SPDX-License-Identifier: GPL-2.0

//! Writeback of rzram pages to a backing block device.
//!
//! 6.12's zram writes back one page at a time and waits for each
//! (`submit_bio_wait`).  rzram instead:
//!
//! 1. fills a preallocated array of requests ([`Batch`]): for each
//!    selected slot it copies the page under the slot lock and marks the
//!    slot `UNDER_WB`;
//! 2. gives the filled requests one contiguous run of backing blocks where
//!    the bitmap allows, and submits them under a plug, so adjacent writes
//!    merge into large sequential ones;
//! 3. sleeps only when no request is free, and reaps completions in task
//!    context: a slot still `UNDER_WB` (not freed or rewritten meanwhile)
//!    is committed to its block, otherwise the block is released.
//!
//! The completion callback only publishes the request (see `glue::bdev`).
//!
//! # Locks
//!
//! - One writeback or recompression per device at a time: another gets
//!   `EAGAIN`, as zram's `pp_in_progress` (an atomic flag,
//!   [`WbSettings::begin`]; not a lock, nothing waits for it).  A
//!   writeback holds the store's I/O reference (see `rzram.rs`), then
//!   takes slot locks.
//! - The block map's allocation spinlock is taken last, possibly under a
//!   slot lock (see `blockmap`).
//!
//! # Files
//!
//! - `blockmap`: the backing device's blocks, with a read count each;
//! - `select`: parsing a `writeback` request into the slots it selects;
//! - `run`: the batched write of those slots, and `run_pack` its packing
//!   of compressed objects into shared blocks (`packed_writeback`);
//! - `packs`: the objects of each packed block, and their totals;
//! - `compact`: `writeback_compact`, which packs sparse blocks again;
//! - `read`: reading written-back pages, chained or synchronous;
//! - `attrs`: the sysfs attributes.

use crate::glue::bdev::{BackingDev, WriteBios};
use crate::glue::readback::ReadSet;
use crate::{Config, Store};
use core::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use kernel::{prelude::*, str::CString, sync::Arc};

#[path = "rzram_wb/attrs.rs"]
mod attrs;
#[path = "rzram_wb/blockmap.rs"]
mod blockmap;
#[path = "rzram_wb/compact.rs"]
mod compact;
#[path = "rzram_wb/packs.rs"]
mod packs;
#[path = "rzram_wb/read.rs"]
mod read;
#[path = "rzram_wb/run.rs"]
mod run;
#[path = "rzram_wb/select.rs"]
mod select;

pub(crate) use attrs::*;
use blockmap::BlockMap;
pub(crate) use compact::writeback_compact_store;
use packs::Packs;
use read::ReadTarget;
pub(crate) use read::{
    chain, chain_read, chain_read_obj, chain_read_part, obj_of, read_block, Chain,
};

/// Default `writeback_batch_size`.  Upstream's is 32; `make bench`
/// measured 16384 pages written back 2.3x to 2.6x faster with 256, and
/// 1024 only 17% to 20% faster again while pinning four times the pages
/// (docs/benchmarks.md).
pub(crate) const DEFAULT_BATCH_SIZE: u32 = 256;
/// Largest `writeback_batch_size`: each request pins a page for the whole
/// writeback, so this bounds it to 16 MiB with 4 KiB pages.  Upstream has
/// no bound.
pub(crate) const MAX_BATCH_SIZE: u32 = 4096;

/// The configured backing device (set by `backing_dev`).
pub(crate) struct BackingCfg {
    dev: BackingDev,
    path: CString,
}

/// Backing state of an initialised device.
pub(crate) struct WbStore {
    /// The device, for writeback.
    dev: BackingDev,
    /// Chained reads, the block map and compressors they report to, and
    /// the workqueues of their decompression and of the reads the I/O
    /// path waits for (partial pages, read-modify-write).
    reads: ReadSet<ReadTarget>,
    /// Writeback's bios.
    write_bios: WriteBios,
    /// With `packed_writeback`: the objects of packed blocks.
    packs: Option<Packs>,
}

impl WbStore {
    /// The backing state of a device being initialised, with every block
    /// of `dev` free, whose objects read back are decompressed by `comps`.
    pub(crate) fn new(dev: BackingDev, packed: bool, comps: Arc<crate::Comps>) -> Result<Self> {
        let blocks = BlockMap::new(dev.nr_pages())?;
        let packs = packed.then(|| Packs::new(dev.nr_pages())).transpose()?;
        let reads = ReadSet::new(dev.clone(), ReadTarget::new(blocks, comps))?;
        let write_bios = WriteBios::new()?;
        Ok(Self {
            dev,
            reads,
            write_bios,
            packs,
        })
    }

    fn blocks(&self) -> &BlockMap {
        &self.reads.target().blocks
    }
}

/// Writeback settings of a device (zram's `wb_limit_lock` fields are
/// atomics here).
pub(crate) struct WbSettings {
    /// zram's `pp_in_progress`: set while a writeback or a recompression
    /// runs.
    busy: core::sync::atomic::AtomicBool,
    limit_enable: core::sync::atomic::AtomicBool,
    /// Budget in 4 KiB units.
    limit: core::sync::atomic::AtomicU64,
    batch_size: core::sync::atomic::AtomicU32,
    /// `compressed_writeback` (7.0): set before `disksize`, kept by reset.
    /// It cannot change while the device is initialised (`EBUSY`), so a
    /// writeback reads it as the store's setting.
    pub(crate) compressed: core::sync::atomic::AtomicBool,
    /// `packed_writeback`: as `compressed`, and applies with it.
    pub(crate) packed: core::sync::atomic::AtomicBool,
}

impl WbSettings {
    pub(crate) fn new() -> Self {
        Self {
            busy: core::sync::atomic::AtomicBool::new(false),
            limit_enable: core::sync::atomic::AtomicBool::new(false),
            limit: core::sync::atomic::AtomicU64::new(0),
            batch_size: core::sync::atomic::AtomicU32::new(DEFAULT_BATCH_SIZE),
            compressed: core::sync::atomic::AtomicBool::new(crate::glue::param_wb_packed()),
            packed: core::sync::atomic::AtomicBool::new(crate::glue::param_wb_packed()),
        }
    }

    /// Marks a post-processing action (writeback or recompression) as
    /// running until the returned guard drops, or `EAGAIN` if one already
    /// runs: as zram, they do not queue up behind each other.
    pub(crate) fn begin(&self) -> Result<Running<'_>> {
        if self.busy.swap(true, Acquire) {
            return Err(EAGAIN);
        }
        Ok(Running(&self.busy))
    }

    /// Whether writebacks of a device initialised now pack (read by
    /// `disksize`): `packed_writeback` applies with `compressed_writeback`
    /// only, and says so in the log if it is set alone.
    pub(crate) fn packing(&self) -> bool {
        let (c, p) = (self.compressed.load(Relaxed), self.packed.load(Relaxed));
        if p && !c {
            pr_warn!("packed_writeback needs compressed_writeback: writeback will not pack\n");
        }
        p && c
    }

    /// 4 KiB units per page.
    const UNITS: u64 = 1 << (kernel::page::PAGE_SHIFT - 12);

    /// Charges one page against the limit; `false` if it is exhausted.
    fn charge(&self) -> bool {
        if !self.limit_enable.load(Relaxed) {
            return true;
        }
        self.limit
            .fetch_update(Relaxed, Relaxed, |l| l.checked_sub(Self::UNITS))
            .is_ok()
    }

    /// Gives back a page charged by [`WbSettings::charge`].
    fn refund(&self) {
        if self.limit_enable.load(Relaxed) {
            self.limit.fetch_add(Self::UNITS, Relaxed);
        }
    }
}

/// Proof that a post-processing action (writeback or recompression) runs
/// (see [`WbSettings::begin`]); dropping it ends it, whatever way the
/// store returns.
pub(crate) struct Running<'a>(&'a core::sync::atomic::AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Release);
    }
}

/// Read requests that a chained read of the backing device failed.
pub(crate) fn failed_reads(store: &Store) -> u64 {
    store
        .wb
        .as_ref()
        .map_or(0, |wb| wb.blocks().failed_reads.load(Relaxed))
}

/// Releases backing block `block` of a slot being freed (slot locked).
pub(crate) fn free_block(store: &Store, block: u64) {
    if let Some(wb) = store.wb.as_ref() {
        wb.blocks().free(block);
    }
}

/// Puts the object of `size` bytes in packed block `block`, of a slot
/// being freed (slot locked); the last one releases the block.
pub(crate) fn put_object(store: &Store, block: u64, size: u16) {
    if let Some(wb) = store.wb.as_ref() {
        if let Some(p) = wb.packs.as_ref() {
            p.put(wb.blocks(), block, size);
        }
    }
}

/// The backing device that `disksize` will use, if one is set.
pub(crate) fn backing_of(cfg: &Config) -> Option<BackingDev> {
    cfg.backing.as_ref().map(|b| b.dev.clone())
}

/// Called by reset: takes out the backing device, for the caller to
/// release outside the init lock.  As in zram, the writeback limit and
/// batch size survive a reset.
pub(crate) fn reset(cfg: &mut Config) -> Option<BackingCfg> {
    cfg.backing.take()
}
