// SPDX-License-Identifier: GPL-2.0

//! Reading written-back pages.
//!
//! A whole-page read becomes a child bio of the bio being served (see
//! `glue::readback`), unless the `rb_chain=0` benchmark knob is set.  A
//! read that the caller must wait for (part of a page, or the old content
//! for a partial write) goes to a `WQ_MEM_RECLAIM` worker.  Either way the
//! block is pinned under the slot lock, so a concurrent free of the slot
//! leaves it allocated until the read is over, and nothing is allocated
//! that could fail.

use super::blockmap::BlockMap;
use crate::glue::bio::Segment;
use crate::glue::page::{PageMut, PoolPage};
use crate::glue::readback::ReadChain;
use crate::slots::Slot;
use crate::{inc, Device, Store};

/// Child bios for the written-back pages of one bio.
pub(crate) type Chain<'a> = ReadChain<'a, BlockMap>;

/// A builder of chained reads for a bio of up to `max_pages` pages, if the
/// device has a backing device and chained reads are on.
pub(crate) fn chain(store: &Store, max_pages: usize) -> Option<Chain<'_>> {
    let wb = store.wb.as_ref()?;
    crate::glue::param_rb_chain().then(|| wb.reads.chain(max_pages))
}

/// Reads backing block `block`, held by the locked `slot`, into the page of
/// the whole-page segment `seg`, as a child of the bio being served.  The
/// slot is unlocked before the read is submitted.
pub(crate) fn chain_read(
    dev: &Device,
    store: &Store,
    chain: &mut Chain<'_>,
    seg: &mut Segment<'_>,
    block: u64,
    slot: Slot<'_>,
) -> kernel::error::Result {
    let wb = store.wb.as_ref().ok_or(kernel::error::code::EIO)?;
    let pinned = wb.blocks().pin(block);
    drop(slot);
    pinned?;
    // zram counts a read of the backing device when it is issued.
    inc(&dev.stats.bd_reads);
    chain
        .add(seg, block)
        .inspect_err(|_| wb.blocks().unpin(block))
}

/// Reads bytes `src_off..src_off + len` of backing block `block`, held by
/// the locked `slot`, into bytes `at..at + len` of `seg`, through a bounce
/// page copied at completion.  `Ok(false)` if that would have to wait for
/// a bounce page: the caller then reads synchronously.
pub(crate) fn chain_read_part(
    dev: &Device,
    store: &Store,
    chain: &mut Chain<'_>,
    seg: &mut Segment<'_>,
    (at, len, src_off): (usize, usize, usize),
    block: u64,
    slot: Slot<'_>,
) -> kernel::error::Result<bool> {
    let wb = store.wb.as_ref().ok_or(kernel::error::code::EIO)?;
    let pinned = wb.blocks().pin(block);
    drop(slot);
    pinned?;
    let r = chain.add_partial(seg, at, len, src_off, block);
    match r {
        Ok(true) => inc(&dev.stats.bd_reads),
        _ => wb.blocks().unpin(block),
    }
    r
}

/// Reads backing block `block`, held by the locked `slot`, into `dst`, and
/// waits.  The slot is unlocked before the (sleeping) read.
pub(crate) fn read_block(
    dev: &Device,
    store: &Store,
    block: u64,
    dst: &mut PageMut<'_>,
    slot: Slot<'_>,
) -> kernel::error::Result {
    let Some(wb) = store.wb.as_ref() else {
        drop(slot);
        return Err(kernel::error::code::EIO);
    };
    let pinned = wb.blocks().pin(block);
    drop(slot);
    pinned?;
    inc(&dev.stats.bd_reads);
    let r = wb.wq.read_sync(wb.reads.bdev(), block, dst);
    wb.blocks().unpin(block);
    r
}

/// Packed blocks a [`PackCache`] keeps: as many as a writeback fills at
/// once, so that the objects of neighbouring slots, spread over those
/// blocks, are found.
const CACHED: usize = 4;

/// One kept block: its page, and the block in it (pinned).
#[derive(Default)]
struct Kept<'a> {
    page: Option<PoolPage<'a>>,
    block: Option<u64>,
}

/// The packed blocks last read for a bio: the bio's next slots with
/// objects in the same blocks are decompressed from them, without reading
/// a block again.  A kept block stays pinned, so it is not released,
/// reallocated and rewritten meanwhile: a slot that, locked, names the
/// block names the content that was read.  Pages are taken without
/// waiting; without one, the object is read into the caller's page.
pub(crate) struct PackCache<'a> {
    wb: Option<&'a super::WbStore>,
    kept: [Kept<'a>; CACHED],
    /// The entry to replace next, when all hold a block.
    next: usize,
}

impl<'a> PackCache<'a> {
    /// An empty cache for the reads of one bio.
    pub(crate) fn new(store: &'a Store) -> Self {
        Self {
            wb: store.wb.as_ref(),
            kept: Default::default(),
            next: 0,
        }
    }

    /// Reads the object of `size` bytes at byte `off` of packed block
    /// `block`, held by the locked `slot`, decompressed into `dst`.  The
    /// slot is unlocked before any read.
    pub(crate) fn read(
        &mut self,
        dev: &Device,
        store: &Store,
        (block, off, size): (u64, usize, usize),
        slot: Slot<'_>,
        dst: &mut PageMut<'_>,
    ) -> kernel::error::Result {
        let flags = slot.flags();
        let Some(wb) = self.wb else {
            drop(slot);
            return Err(kernel::error::code::EIO);
        };
        if let Some(k) = self.kept.iter_mut().find(|k| k.block == Some(block)) {
            drop(slot);
            return decompress(k, store, flags, (off, size), dst);
        }
        let pinned = wb.blocks().pin(block);
        drop(slot);
        pinned?;
        let at = match self.kept.iter().position(|k| k.block.is_none()) {
            Some(at) => at,
            None => {
                let at = self.next % CACHED;
                self.next = at + 1;
                at
            }
        };
        let k = self.kept.get_mut(at).ok_or(kernel::error::code::EIO)?;
        if let Some(old) = k.block.take() {
            wb.blocks().unpin(old);
        }
        if k.page.is_none() {
            k.page = wb.cache_pages.try_get();
        }
        inc(&dev.stats.bd_reads);
        let Some(page) = k.page.as_mut() else {
            let r = wb.wq.read_sync(wb.reads.bdev(), block, dst);
            wb.blocks().unpin(block);
            r?;
            return dst.with_mut(|d| store.decompress_in_place(flags, d, (off, size)));
        };
        if let Err(e) = wb
            .wq
            .read_sync(wb.reads.bdev(), block, &mut page.page_mut())
        {
            wb.blocks().unpin(block);
            return Err(e);
        }
        k.block = Some(block);
        decompress(k, store, flags, (off, size), dst)
    }
}

/// Decompresses bytes `off..off + size` of the kept block `k` into `dst`.
fn decompress(
    k: &mut Kept<'_>,
    store: &Store,
    flags: u32,
    (off, size): (usize, usize),
    dst: &mut PageMut<'_>,
) -> kernel::error::Result {
    let page = k.page.as_mut().ok_or(kernel::error::code::EIO)?;
    page.page_mut().with_mut(|src| {
        let src = src.get(off..).and_then(|s| s.get(..size));
        let src = src.ok_or(kernel::error::code::EIO)?;
        dst.with_mut(|d| store.decompress_from(flags, src, d))
    })
}

impl Drop for PackCache<'_> {
    fn drop(&mut self) {
        for k in self.kept.iter_mut() {
            if let (Some(b), Some(wb)) = (k.block.take(), self.wb) {
                wb.blocks().unpin(b);
            }
        }
    }
}
