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
const _: () = assert!(CACHED <= 64);

/// Where a compressed object of a written-back slot lies: its block, and
/// its offset and size in it (`compressed_writeback` or packed).
#[derive(Clone, Copy)]
pub(crate) struct ObjAt {
    pub(crate) block: u64,
    pub(crate) off: usize,
    pub(crate) size: usize,
}

impl ObjAt {
    /// The object of a slot's content, if it is a compressed one.
    pub(crate) fn of(c: &crate::slots::Content) -> Option<Self> {
        match *c {
            crate::slots::Content::WbZ { block, size } => Some(Self {
                block,
                off: 0,
                size: size as usize,
            }),
            crate::slots::Content::WbP { block, off, size } => Some(Self {
                block,
                off: usize::from(off),
                size: usize::from(size),
            }),
            _ => None,
        }
    }
}

/// The compressed objects' blocks read for a bio: a window of consecutive
/// blocks read with one request, from the block a slot needs on, so that
/// the objects of the bio's next pages are decompressed from memory.
///
/// Before the read, the window looks at the slots of the bio's next pages
/// (each locked in turn) and pins, under that slot's lock, each block of
/// the window that one of them names; the window runs over them, and
/// over packed blocks between them.  Only pinned blocks are used: a pinned block is not released,
/// reallocated and rewritten, so a slot that, locked, names it names the
/// content that was read.  The blocks between them are read with the
/// others and never used; if the window's read fails, the needed block
/// is read alone, so a bad block the bio does not need does not fail it.
/// Pages are taken without waiting; without any, the object is read
/// into the caller's page.
pub(crate) struct PackCache<'a> {
    wb: Option<&'a super::WbStore>,
    pages: [Option<PoolPage<'a>>; CACHED],
    /// The window: blocks `first..first + n`.
    first: u64,
    n: usize,
    /// Bit `i`: block `first + i` is pinned (and usable).
    pinned: u64,
    /// Whole pages of the bio not read yet: the window looks no further.
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
            pinned: 0,
            left: pages,
        }
    }

    /// The window entry of `block`, if it is pinned in the window.
    fn find(&self, block: u64) -> Option<usize> {
        let i = usize::try_from(block.checked_sub(self.first)?).ok()?;
        (i < self.n && self.pinned & (1 << i) != 0).then_some(i)
    }

    /// Reads the compressed object `obj` of slot `index`, locked as
    /// `slot`, decompressed into `dst`.  The slot is unlocked before any
    /// read.
    pub(crate) fn read(
        &mut self,
        dev: &Device,
        store: &Store,
        (index, obj): (usize, ObjAt),
        slot: Slot<'_>,
        dst: &mut PageMut<'_>,
    ) -> kernel::error::Result {
        let flags = slot.flags();
        self.left = self.left.saturating_sub(1);
        let Some(wb) = self.wb else {
            drop(slot);
            return Err(kernel::error::code::EIO);
        };
        if let Some(i) = self.find(obj.block) {
            drop(slot);
            return self.decompress(i, store, flags, obj, dst);
        }
        let pinned = wb.blocks().pin(obj.block);
        drop(slot);
        pinned?;
        self.forget();
        (self.first, self.n, self.pinned) = (obj.block, 1, 1);
        self.gather(store, index);
        self.n = self.take_pages();
        if self.n == 0 {
            // Only entry 0 is still pinned: it is read into `dst`.
            self.pinned = 0;
            return read_alone(dev, store, wb, flags, obj, dst);
        }
        dev.stats.bd_reads.fetch_add(self.n as u64, Relaxed);
        let pages = self.pages.iter_mut().take(self.n).flatten();
        let r = wb
            .wq
            .read_sync_run(wb.reads.bdev(), obj.block, pages.map(|p| p.page_mut()));
        if r.is_err() {
            // A block of the window the slot does not need may have
            // failed: read the one it needs alone (still pinned).
            self.unpin_from(1);
            (self.n, self.pinned) = (0, 0);
            return read_alone(dev, store, wb, flags, obj, dst);
        }
        self.decompress(0, store, flags, obj, dst)
    }

    /// Pins the window's blocks that the slots after `index` (the bio's
    /// next pages) name, and ends the window with the last of them.
    fn gather(&mut self, store: &Store, index: usize) {
        let Some(wb) = self.wb else { return };
        for j in 1..=self.left.min(2 * CACHED) {
            let Some(slot) = index.checked_add(j).and_then(|i| store.slots.lock(i).ok()) else {
                break;
            };
            let Some(at) = ObjAt::of(slot.data_ref()) else {
                continue;
            };
            let Some(i) = at
                .block
                .checked_sub(self.first)
                .and_then(|i| usize::try_from(i).ok())
            else {
                continue;
            };
            if i >= CACHED || self.pinned & (1 << i) != 0 {
                continue;
            }
            // Under this slot's lock, as `BlockMap::pin` needs.
            if wb.blocks().pin(at.block).is_ok() {
                self.pinned |= 1 << i;
            }
        }
        // The window runs over the needed blocks from the first on, and
        // over a block between them that no slot of the bio named only if
        // it holds packed objects (read, never used): not over the blocks
        // of uncompressed pages, which their own reads fetch.
        let last = (u64::BITS - self.pinned.leading_zeros()) as usize;
        let packs = wb.packs.as_ref();
        let mut n = 1;
        while n < last {
            let b = self.first.saturating_add(n as u64);
            if self.pinned & (1 << n) == 0 && !packs.is_some_and(|p| p.holds(b)) {
                break;
            }
            n += 1;
        }
        self.n = n;
        self.unpin_from(n);
    }

    /// Takes a page for each entry of the window, without waiting; the
    /// window ends before the first entry without one (the pins after
    /// it are dropped, but entry 0's).  Returns the new length.
    fn take_pages(&mut self) -> usize {
        let Some(wb) = self.wb else { return 0 };
        let mut n = 0;
        while n < self.n {
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
        self.unpin_from(n.max(1));
        n
    }

    /// Unpins the window's blocks from entry `from` on.
    fn unpin_from(&mut self, from: usize) {
        let Some(wb) = self.wb else { return };
        for i in from..CACHED {
            if self.pinned & (1 << i) != 0 {
                wb.blocks().unpin(self.first.saturating_add(i as u64));
                self.pinned &= !(1 << i);
            }
        }
    }

    /// Decompresses object `obj` of window entry `i` into `dst`.
    fn decompress(
        &mut self,
        i: usize,
        store: &Store,
        flags: u32,
        obj: ObjAt,
        dst: &mut PageMut<'_>,
    ) -> kernel::error::Result {
        let page = self.pages.get_mut(i).and_then(Option::as_mut);
        let page = page.ok_or(kernel::error::code::EIO)?;
        page.page_mut().with_mut(|src| {
            let src = src.get(obj.off..).and_then(|s| s.get(..obj.size));
            let src = src.ok_or(kernel::error::code::EIO)?;
            dst.with_mut(|d| store.decompress_from(flags, src, d))
        })
    }

    /// Empties the window, unpinning its blocks.
    fn forget(&mut self) {
        self.unpin_from(0);
        self.n = 0;
    }
}

/// Reads the block of `obj`, pinned by the caller, into `dst`, unpins it,
/// and decompresses the object in place.
fn read_alone(
    dev: &Device,
    store: &Store,
    wb: &super::WbStore,
    flags: u32,
    obj: ObjAt,
    dst: &mut PageMut<'_>,
) -> kernel::error::Result {
    inc(&dev.stats.bd_reads);
    let r = wb.wq.read_sync(wb.reads.bdev(), obj.block, dst);
    wb.blocks().unpin(obj.block);
    r?;
    dst.with_mut(|d| store.decompress_in_place(flags, d, (obj.off, obj.size)))
}

impl Drop for PackCache<'_> {
    fn drop(&mut self) {
        self.forget();
    }
}
