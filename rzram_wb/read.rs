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
use crate::glue::page::PageMut;
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
