// SPDX-License-Identifier: GPL-2.0

//! The objects of packed blocks (`packed_writeback`): per backing block,
//! how many compressed objects it holds and their bytes, and the device's
//! totals that `packed_stat` shows.
//!
//! A packed block is owned by the writeback that writes it until
//! [`Packs::end`], and after that by its objects: the last object freed
//! releases the block (through [`BlockMap::free`], so a read in flight
//! still defers it).  An object is added with its slot locked, and put
//! with its slot locked, so a block's count never goes below the objects
//! that slots hold.  Nothing here takes a lock: each block's state is one
//! atomic word, and the totals are counters that are exact whenever no
//! update is in flight.

use super::blockmap::BlockMap;
use core::sync::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed},
};
use kernel::prelude::*;

/// Live bytes of the block's objects: bits 0 to 15 (at most a page).
const BYTES: u32 = 0xffff;
/// One object, in the count at bits 16 to 29.
const ONE: u32 = 1 << 16;
const COUNT: u32 = 0x3fff << 16;
/// The block lost an object while others stayed: it is sparse.
const SPARSE: u32 = 1 << 30;
/// A writeback still owns the block (from [`Packs::begin`] to
/// [`Packs::end`]).
const WRITING: u32 = 1 << 31;

// A page's bytes and the objects of a page fit their fields.
const _: () = assert!(kernel::page::PAGE_SIZE as u32 <= BYTES);
const _: () = assert!((kernel::page::PAGE_SIZE as u32 / 32) < (COUNT >> 16));

/// What `packed_stat` shows.
#[derive(Clone, Copy)]
pub(crate) struct PackStat {
    /// Objects in packed blocks.
    pub(crate) objects: u64,
    /// Their compressed bytes.
    pub(crate) bytes: u64,
    /// Blocks holding them.
    pub(crate) blocks: u64,
    /// Blocks that lost an object and still hold others.
    pub(crate) sparse: u64,
    /// The bytes of those blocks not held by a live object: what
    /// `writeback_compact` can give back.
    pub(crate) sparse_dead: u64,
}

/// The packed blocks of one backing device.
pub(crate) struct Packs {
    /// Per block: [`BYTES`], the count, [`SPARSE`] and [`WRITING`].
    state: KVVec<AtomicU32>,
    objects: AtomicU64,
    bytes: AtomicU64,
    blocks: AtomicU64,
    sparse: AtomicU64,
    /// Live bytes in sparse blocks.
    sparse_live: AtomicU64,
}

impl Packs {
    /// The map for a device of `nr` blocks, none packed.
    pub(crate) fn new(nr: u64) -> Result<Self> {
        let n = usize::try_from(nr).map_err(|_| ENOMEM)?;
        let mut state = KVVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            state.push(AtomicU32::new(0), GFP_KERNEL)?;
        }
        Ok(Self {
            state,
            objects: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            blocks: AtomicU64::new(0),
            sparse: AtomicU64::new(0),
            sparse_live: AtomicU64::new(0),
        })
    }

    fn word(&self, block: u64) -> Option<&AtomicU32> {
        self.state.get(usize::try_from(block).ok()?)
    }

    /// A writeback takes `block`, just allocated, to pack objects in.
    pub(crate) fn begin(&self, block: u64) {
        if let Some(w) = self.word(block) {
            w.store(WRITING, Relaxed);
            self.blocks.fetch_add(1, Relaxed);
        }
    }

    /// Adds an object of `size` bytes to `block`, between
    /// [`Packs::begin`] and [`Packs::end`], with its slot locked.
    pub(crate) fn add(&self, block: u64, size: u16) {
        if let Some(w) = self.word(block) {
            w.fetch_add(ONE | u32::from(size), Relaxed);
            self.objects.fetch_add(1, Relaxed);
            self.bytes.fetch_add(u64::from(size), Relaxed);
        }
    }

    /// The writeback is done with `block`: `lost` objects it carried were
    /// not added (their slots changed).  The block is released if it holds
    /// no object.
    pub(crate) fn end(&self, blocks: &BlockMap, block: u64, lost: bool) {
        let Some(w) = self.word(block) else { return };
        let mut cur = w.load(Acquire);
        loop {
            let mut new = cur & !WRITING;
            let becomes_sparse = lost && new & COUNT != 0 && new & SPARSE == 0;
            if becomes_sparse {
                new |= SPARSE;
            }
            match w.compare_exchange(cur, new, AcqRel, Acquire) {
                Ok(_) => {
                    if new & COUNT == 0 {
                        self.release(blocks, block, new);
                    } else if becomes_sparse {
                        self.sparse.fetch_add(1, Relaxed);
                        self.sparse_live.fetch_add(u64::from(new & BYTES), Relaxed);
                    }
                    return;
                }
                Err(v) => cur = v,
            }
        }
    }

    /// Puts the object of `size` bytes of a slot being freed (locked)
    /// from `block`; the last one releases the block.
    pub(crate) fn put(&self, blocks: &BlockMap, block: u64, size: u16) {
        let Some(w) = self.word(block) else { return };
        let sub = ONE | u32::from(size);
        let mut cur = w.load(Acquire);
        loop {
            // The slot's object is counted: no underflow but by a bug,
            // which must not release a block others hold.
            if cur & COUNT < ONE || cur & BYTES < u32::from(size) {
                pr_err!("packed block {} has no object of {} bytes\n", block, size);
                return;
            }
            let mut new = cur - sub;
            let empty = new & COUNT == 0;
            let was_sparse = cur & SPARSE != 0;
            if !empty {
                new |= SPARSE;
            }
            match w.compare_exchange(cur, new, AcqRel, Acquire) {
                Ok(_) => {
                    self.objects.fetch_sub(1, Relaxed);
                    self.bytes.fetch_sub(u64::from(size), Relaxed);
                    if was_sparse {
                        self.sparse_live.fetch_sub(u64::from(size), Relaxed);
                    } else if !empty {
                        self.sparse.fetch_add(1, Relaxed);
                        self.sparse_live.fetch_add(u64::from(new & BYTES), Relaxed);
                    }
                    if empty && new & WRITING == 0 {
                        self.release(blocks, block, new);
                    }
                    return;
                }
                Err(v) => cur = v,
            }
        }
    }

    /// Releases `block`, empty and out of writeback, whose last state was
    /// `last`.
    fn release(&self, blocks: &BlockMap, block: u64, last: u32) {
        if last & SPARSE != 0 {
            self.sparse.fetch_sub(1, Relaxed);
        }
        if let Some(w) = self.word(block) {
            w.store(0, Relaxed);
        }
        self.blocks.fetch_sub(1, Relaxed);
        blocks.free(block);
    }

    /// Whether `block` is sparse.
    pub(crate) fn is_sparse(&self, block: u64) -> bool {
        self.word(block)
            .is_some_and(|w| w.load(Relaxed) & SPARSE != 0)
    }

    /// The totals.
    pub(crate) fn stat(&self) -> PackStat {
        let sparse = self.sparse.load(Relaxed);
        let page = kernel::page::PAGE_SIZE as u64;
        let live = self.sparse_live.load(Relaxed);
        PackStat {
            objects: self.objects.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            blocks: self.blocks.load(Relaxed),
            sparse,
            sparse_dead: (sparse * page).saturating_sub(live),
        }
    }
}
