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
use core::sync::atomic::Ordering::Relaxed;

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

/// Blocks a [`PackCache`] reads at once, and keeps.
const CACHED: usize = crate::glue::readback::SYNC_MAX;

/// The packed blocks last read for a bio: a window of consecutive blocks
/// read with one request, from the block a slot needed on, so that the
/// objects of the bio's next pages are decompressed from memory.
///
/// The first block of the window is pinned, so it is not released,
/// reallocated and rewritten meanwhile: a slot that, locked, names it
/// names the content that was read.  The others were read ahead without
/// a pin, only if they held committed objects, and each is used only
/// while its generation is the one read before the read (see
/// `Packs::readable`).  Pages are taken without waiting; without any, the
/// object is read into the caller's page.
pub(crate) struct PackCache<'a> {
    wb: Option<&'a super::WbStore>,
    pages: [Option<PoolPage<'a>>; CACHED],
    /// The window: blocks `first..first + n`, `first` pinned if `n > 0`.
    first: u64,
    n: usize,
    /// The generation of each read-ahead block of the window.
    gens: [u32; CACHED],
    /// Whole pages of the bio not read yet: no read ahead past them.
    left: usize,
}

impl<'a> PackCache<'a> {
    /// An empty cache for the reads of a bio of `pages` pages.
    pub(crate) fn new(store: &'a Store, pages: usize) -> Self {
        Self {
            wb: store.wb.as_ref(),
            pages: Default::default(),
            first: 0,
            n: 0,
            gens: [0; CACHED],
            left: pages,
        }
    }

    /// The window entry of `block`, if it is in the window and valid.
    fn find(&self, packs: &super::Packs, block: u64) -> Option<usize> {
        let i = usize::try_from(block.checked_sub(self.first)?).ok()?;
        if i >= self.n {
            return None;
        }
        (i == 0 || packs.gen(block) == self.gens.get(i).copied()).then_some(i)
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
        self.left = self.left.saturating_sub(1);
        let Some((wb, packs)) = self.wb.and_then(|wb| Some((wb, wb.packs.as_ref()?))) else {
            drop(slot);
            return Err(kernel::error::code::EIO);
        };
        if let Some(i) = self.find(packs, block) {
            drop(slot);
            return self.decompress(i, store, flags, (off, size), dst);
        }
        let pinned = wb.blocks().pin(block);
        drop(slot);
        pinned?;
        self.forget();
        let n = self.fill_window(packs, block);
        if n == 0 {
            inc(&dev.stats.bd_reads);
            let r = wb.wq.read_sync(wb.reads.bdev(), block, dst);
            wb.blocks().unpin(block);
            r?;
            return dst.with_mut(|d| store.decompress_in_place(flags, d, (off, size)));
        }
        dev.stats.bd_reads.fetch_add(n as u64, Relaxed);
        let pages = self.pages.iter_mut().take(n).flatten();
        let r = wb
            .wq
            .read_sync_run(wb.reads.bdev(), block, pages.map(|p| p.page_mut()));
        if let Err(e) = r {
            wb.blocks().unpin(block);
            return Err(e);
        }
        (self.first, self.n) = (block, n);
        self.decompress(0, store, flags, (off, size), dst)
    }

    /// Chooses the window from `block` (pinned) on: the following blocks
    /// that hold committed objects, up to the pages left in the bio and a
    /// page at hand for each.  Returns its length.
    fn fill_window(&mut self, packs: &super::Packs, block: u64) -> usize {
        let want = self.left.saturating_add(1).min(CACHED);
        let Some(wb) = self.wb else { return 0 };
        let mut n = 0;
        while n < want {
            if n > 0 {
                let g = block.checked_add(n as u64).and_then(|b| packs.readable(b));
                match (g, self.gens.get_mut(n)) {
                    (Some(g), Some(e)) => *e = g,
                    _ => break,
                }
            }
            let Some(p) = self.pages.get_mut(n) else {
                break;
            };
            if p.is_none() {
                *p = wb.cache_pages.try_get();
            }
            if p.is_none() {
                break;
            }
            n += 1;
        }
        n
    }

    /// Decompresses bytes `off..off + size` of window entry `i` into `dst`.
    fn decompress(
        &mut self,
        i: usize,
        store: &Store,
        flags: u32,
        (off, size): (usize, usize),
        dst: &mut PageMut<'_>,
    ) -> kernel::error::Result {
        let page = self.pages.get_mut(i).and_then(Option::as_mut);
        let page = page.ok_or(kernel::error::code::EIO)?;
        page.page_mut().with_mut(|src| {
            let src = src.get(off..).and_then(|s| s.get(..size));
            let src = src.ok_or(kernel::error::code::EIO)?;
            dst.with_mut(|d| store.decompress_from(flags, src, d))
        })
    }

    /// Empties the window, unpinning its first block.
    fn forget(&mut self) {
        if let (true, Some(wb)) = (self.n > 0, self.wb) {
            wb.blocks().unpin(self.first);
        }
        self.n = 0;
    }
}

impl Drop for PackCache<'_> {
    fn drop(&mut self) {
        self.forget();
    }
}
