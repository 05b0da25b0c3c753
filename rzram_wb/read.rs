// SPDX-License-Identifier: GPL-2.0

//! Reading written-back pages.
//!
//! A whole-page read becomes a child bio of the bio being served (see
//! `glue::readback`), unless the `rb_chain=0` benchmark knob is set; so
//! does a compressed object's, decompressed by a worker once its block is
//! read, and each block is read once for all of the bio's pages it holds.
//! A read that the caller must wait for (part of a page, or the old
//! content for a partial write) goes to a `WQ_MEM_RECLAIM` worker.  Either
//! way the block is pinned under the slot lock, so a concurrent free of
//! the slot leaves it allocated until the read is over, and nothing is
//! allocated that could fail.

use super::blockmap::BlockMap;
use crate::glue::bio::Segment;
use crate::glue::page::PageMut;
use crate::glue::readback::{ObjAt, ReadChain, ReadDone};
use crate::slots::{Content, Slot};
use crate::{inc, Comps, Device, Store};
use kernel::sync::Arc;

/// Child bios for the written-back pages of one bio.
pub(crate) type Chain<'a> = ReadChain<'a, ReadTarget>;

/// A builder of chained reads for a bio of up to `max_pages` pages, if the
/// device has a backing device and chained reads are on.
pub(crate) fn chain(store: &Store, max_pages: usize) -> Option<Chain<'_>> {
    let wb = store.wb.as_ref()?;
    crate::glue::param_rb_chain().then(|| wb.reads.chain(max_pages))
}

/// Pins backing block `block`, held by the locked `slot`, and unlocks the
/// slot: the block then stays allocated, and what the slot named, until
/// it is unpinned.
fn pin_unlocked(wb: &super::WbStore, block: u64, slot: Slot<'_>) -> kernel::error::Result {
    let pinned = wb.blocks().pin(block);
    drop(slot);
    pinned
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
    pin_unlocked(wb, block, slot)?;
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
    pin_unlocked(wb, block, slot)?;
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
    pin_unlocked(wb, block, slot)?;
    inc(&dev.stats.bd_reads);
    let r = wb.reads.sync_wq().read_sync(wb.reads.bdev(), block, dst);
    wb.blocks().unpin(block);
    r
}

/// Where the compressed object of a written-back slot lies, if it has one
/// (`compressed_writeback`, packed or not).
pub(crate) fn obj_of(c: &Content) -> Option<ObjAt> {
    match *c {
        Content::WbZ { block, size } => Some(ObjAt {
            block,
            off: 0,
            size: size as usize,
        }),
        Content::WbP { block, off, size } => Some(ObjAt {
            block,
            off: usize::from(off),
            size: usize::from(size),
        }),
        _ => None,
    }
}

/// Reads the compressed object `obj` of the locked `slot` into the page
/// of the whole-page segment `seg`, as a child of the bio being served:
/// its block is read once for all the bio's pages it holds, consecutive
/// blocks by one child, and a worker decompresses them.  The slot is
/// unlocked before anything is submitted.
pub(crate) fn chain_read_obj(
    dev: &Device,
    store: &Store,
    chain: &mut Chain<'_>,
    seg: &mut Segment<'_>,
    obj: ObjAt,
    slot: Slot<'_>,
) -> kernel::error::Result {
    let wb = store.wb.as_ref().ok_or(kernel::error::code::EIO)?;
    let prio = crate::slots::priority(slot.flags());
    if chain.reads(seg, obj.block) {
        // Pinned by the child since its first object, under that slot's
        // lock: not released, so not rewritten, since.  This slot, locked,
        // names it, so its object is in what the child reads.
        drop(slot);
        return chain.add_obj(seg, obj, prio);
    }
    pin_unlocked(wb, obj.block, slot)?;
    inc(&dev.stats.bd_reads);
    chain
        .add_obj(seg, obj, prio)
        .inspect_err(|_| wb.blocks().unpin(obj.block))
}

/// What the chained reads of a backing device report to: the block map,
/// whose blocks they pin, and the compressors of the objects they read.
pub(crate) struct ReadTarget {
    pub(super) blocks: BlockMap,
    /// Shared with the store: a completion may decompress after the
    /// store's I/O reference is gone, up to the read set's drop.
    comps: Arc<Comps>,
}

impl ReadTarget {
    pub(super) fn new(blocks: BlockMap, comps: Arc<Comps>) -> Self {
        Self { blocks, comps }
    }
}

impl ReadDone for ReadTarget {
    fn read_done(&self, first: u64, n: u32) {
        self.blocks.read_done(first, n);
    }

    fn read_failed(&self) {
        self.blocks.read_failed();
    }

    fn decompress(&self, prio: usize, src: &[u8], dst: &mut [u8]) -> kernel::error::Result {
        self.comps.decompress_from(prio, src, dst)
    }

    fn decompress_in_place(
        &self,
        prio: usize,
        page: &mut [u8],
        off: usize,
        len: usize,
    ) -> kernel::error::Result {
        self.comps.decompress_in_place(prio, page, (off, len))
    }
}
