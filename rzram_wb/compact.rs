// SPDX-License-Identifier: GPL-2.0

//! `writeback_compact` (rzram): packs the live objects of sparse packed
//! blocks again, so that those blocks are released.
//!
//! The slots are taken in chunks.  In each, every object that lies in a
//! sparse block is read back into memory, as the zsmalloc object it was
//! before its writeback, and marked `RECLAIMED`; its old block loses it,
//! and goes with its last object.  Then one writeback run over the chunk
//! packs the `RECLAIMED` slots into new, full blocks.  A chunk bounds the
//! memory the objects take meanwhile.  As any writeback, the run is
//! charged to `writeback_limit`; a slot it does not write stays in
//! memory, correct, and loses the mark.

use super::packs::Packs;
use super::select::{Mode, Scan};
use super::WbStore;
use crate::glue::disk::DiskRef;
use crate::glue::page::OwnedPage;
use crate::glue::racy::Racy;
use crate::glue::zsmalloc::ZsGfp;
use crate::slots::{Content, RECLAIMED};
use crate::{Device, Store};
use core::sync::atomic::Ordering::Relaxed;
use kernel::prelude::*;

/// Slots per chunk.
const CHUNK: usize = 4096;

/// `writeback_compact`: any input.  `EINVAL` if the device is not
/// initialised or does not pack, `EAGAIN` while a writeback or
/// recompression runs, `ENODEV` without a backing device.
pub(crate) fn writeback_compact_store(dev: &Device, _: &DiskRef<'_>, _s: &[u8]) -> Result {
    let store = dev.io.get().ok_or(EINVAL)?;
    let _running = dev.wb.begin()?;
    let wb = store.wb.as_ref().ok_or(ENODEV)?;
    let packs = wb.packs.as_ref().ok_or(EINVAL)?;
    let mut page = OwnedPage::alloc()?;
    let n = store.slots.len();
    let mut lo = 0;
    while lo < n {
        let hi = lo.saturating_add(CHUNK).min(n);
        let mut cache = Kept { wb, block: None };
        let moved = reclaim(dev, &store, packs, &mut cache, &mut page, lo..hi);
        drop(cache);
        let r = match moved {
            Ok(0) => Ok(0),
            Ok(_) => {
                let scans = [Scan {
                    mode: Some(Mode::Reclaimed),
                    lo,
                    hi,
                }];
                super::run::writeback(dev, &store, wb, &scans)
            }
            Err(e) => Err(e),
        };
        unmark(&store, lo..hi);
        r?;
        lo = hi;
    }
    Ok(())
}

/// The block whose content is in the reclaim page, pinned.
struct Kept<'a> {
    wb: &'a WbStore,
    block: Option<u64>,
}

impl Drop for Kept<'_> {
    fn drop(&mut self) {
        if let Some(b) = self.block.take() {
            self.wb.blocks().unpin(b);
        }
    }
}

/// Reads the objects of sparse blocks among slots `range` back into
/// memory; returns how many.
fn reclaim(
    dev: &Device,
    store: &Store,
    packs: &Packs,
    kept: &mut Kept<'_>,
    page: &mut OwnedPage,
    range: core::ops::Range<usize>,
) -> Result<usize> {
    let mut moved = 0usize;
    for index in range {
        let slot = store.slots.lock(index)?;
        let &Content::WbP { block, off, size } = slot.data_ref() else {
            continue;
        };
        if !packs.is_sparse(block) {
            continue;
        }
        if kept.block != Some(block) {
            // Pinned under the slot lock: the block stays what the slot
            // names until it is unpinned.
            let pinned = kept.wb.blocks().pin(block);
            drop(slot);
            pinned?;
            if let Some(old) = kept.block.replace(block) {
                kept.wb.blocks().unpin(old);
            }
            inc_read(dev);
            kept.wb
                .reads
                .sync_wq()
                .read_sync(kept.wb.reads.bdev(), block, &mut page.page_mut())?;
        } else {
            drop(slot);
        }
        // Allocated and written unlocked: it may sleep.
        let h = store.pool.malloc(usize::from(size), ZsGfp::Reclaim)?;
        let (off, len) = (usize::from(off), usize::from(size));
        let w = page.with_mut(|p| {
            let src = p.get(off..).and_then(|s| s.get(..len)).ok_or(EIO)?;
            store.pool.write(&h, Racy::from_slice(src))
        });
        if let Err(e) = w {
            store.pool.free(h);
            return Err(e);
        }
        let mut slot = store.slots.lock(index)?;
        // The same place of the pinned block: the same object.
        if !matches!(slot.data_ref(), &Content::WbP { block: b, off: o, size: s }
            if (b, usize::from(o), s) == (block, off, size))
        {
            drop(slot);
            store.pool.free(h);
            continue;
        }
        let hsize = h.size() as u64;
        *slot.data() = Content::Zs(h);
        let f = slot.flags();
        slot.set_flags(f | RECLAIMED);
        dev.stats.compr_data_size.fetch_add(hsize, Relaxed);
        packs.put(kept.wb.blocks(), block, size);
        drop(slot);
        moved += 1;
    }
    Ok(moved)
}

fn inc_read(dev: &Device) {
    crate::inc(&dev.stats.bd_reads);
}

/// Clears `RECLAIMED` from slots `range`: those the writeback wrote lost
/// it already; the others stay in memory.
fn unmark(store: &Store, range: core::ops::Range<usize>) {
    for index in range {
        if let Ok(mut slot) = store.slots.lock(index) {
            let f = slot.flags();
            if f & RECLAIMED != 0 {
                slot.set_flags(f & !RECLAIMED);
            }
        }
    }
}
