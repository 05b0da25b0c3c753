// SPDX-License-Identifier: GPL-2.0

//! The allocation map of the backing device's page-sized blocks, with a
//! read count per block.
//!
//! A block is in use from [`BlockMap::alloc_run`] until it is released.
//! A block being read (pinned) is not released by [`BlockMap::free`]: the
//! free is deferred to the last reader's [`BlockMap::unpin`], which may
//! run in a bio's completion, in interrupt context.  Nothing here
//! allocates after construction, and only allocation takes a lock.
//!
//! # Locks
//!
//! `cursor` (a spinlock) serialises allocators; it is taken under at most
//! one slot lock.  Releasing a block and pinning are lock-free: a bit is
//! only set by an allocator holding `cursor`, and only cleared by the one
//! owner of the block, so atomic read-modify-writes cannot lose an update.

use core::ops::Range;
use core::sync::atomic::{
    AtomicU32, AtomicU64,
    Ordering::{AcqRel, Acquire, Relaxed, Release},
};
use kernel::{new_spinlock, prelude::*, sync::SpinLock};

/// Set in a block's read count when the block was freed while pinned.
const FREE_PENDING: u32 = 1 << 31;

/// The block map of one backing device.
pub(crate) struct BlockMap {
    /// One bit per block; set = in use.
    bits: KVVec<AtomicU64>,
    /// Per block: readers in flight, plus [`FREE_PENDING`].
    readers: KVVec<AtomicU32>,
    nr: u64,
    /// Blocks in use (`bd_count`).
    used: AtomicU64,
    /// Read requests failed by a chained read of this device (part of
    /// io_stat's `failed_reads`).
    pub(super) failed_reads: AtomicU64,
    /// Where the next search starts, so consecutive batches get
    /// consecutive blocks.
    cursor: Pin<KBox<SpinLock<u64>>>,
}

impl BlockMap {
    /// A map of `nr` free blocks.
    pub(crate) fn new(nr: u64) -> Result<Self> {
        let words = usize::try_from(nr.div_ceil(64)).map_err(|_| ENOMEM)?;
        let blocks = usize::try_from(nr).map_err(|_| ENOMEM)?;
        let mut bits = KVVec::with_capacity(words, GFP_KERNEL)?;
        for _ in 0..words {
            bits.push(AtomicU64::new(0), GFP_KERNEL)?;
        }
        let mut readers = KVVec::with_capacity(blocks, GFP_KERNEL)?;
        for _ in 0..blocks {
            readers.push(AtomicU32::new(0), GFP_KERNEL)?;
        }
        Ok(Self {
            bits,
            readers,
            nr,
            used: AtomicU64::new(0),
            failed_reads: AtomicU64::new(0),
            cursor: KBox::pin_init(new_spinlock!(0, "rzram:blocks"), GFP_KERNEL)?,
        })
    }

    /// Blocks in use.
    pub(crate) fn used(&self) -> u64 {
        self.used.load(Relaxed)
    }

    /// The bitmap word that holds block `b` and the bit's mask; `None` past
    /// the bitmap (for no block below `nr`).
    fn word(&self, b: u64) -> Option<(&AtomicU64, u64)> {
        let w = self.bits.get(usize::try_from(b / 64).ok()?)?;
        Some((w, 1 << (b % 64)))
    }

    fn test(&self, b: u64) -> bool {
        self.word(b).is_some_and(|(w, m)| w.load(Acquire) & m != 0)
    }

    /// First free block in `from..to` (`to` at most `nr`).
    fn find_free(&self, from: u64, to: u64) -> Option<u64> {
        let mut b = from;
        while b < to {
            // The bits below `b` in its word count as used.
            let (w, _) = self.word(b)?;
            let w = w.load(Acquire) | ((1u64 << (b % 64)) - 1);
            if w != u64::MAX {
                // The word's first block, plus the offset of its first
                // free bit (below 64): an `|` that cannot overflow.
                let found = (b & !63) | u64::from((!w).trailing_zeros());
                return (found < to).then_some(found);
            }
            // The next word's first block; none past `u64::MAX`.
            b = (b | 63).checked_add(1)?;
        }
        None
    }

    /// Allocates up to `want` consecutive free blocks and returns them.
    /// `None` when the device is full.
    ///
    /// With `contig` off (the `wb_contig=0` benchmark knob) it behaves like
    /// zram's `alloc_block_bdev`: one block, the first free one.
    pub(crate) fn alloc_run(&self, want: usize, contig: bool) -> Option<Range<u64>> {
        let mut cursor = self.cursor.lock();
        let from = if contig { *cursor } else { 0 };
        let want = if contig { want } else { 1 };
        let start = self
            .find_free(from, self.nr)
            .or_else(|| self.find_free(0, from.min(self.nr)))?;
        // `n < want` and `end < nr` bound both increments.
        let (mut n, mut end) = (0, start);
        while n < want && end < self.nr && !self.test(end) {
            if let Some((w, m)) = self.word(end) {
                w.fetch_or(m, AcqRel);
            }
            n += 1;
            end += 1;
        }
        *cursor = end;
        self.used.fetch_add(n as u64, Relaxed);
        Some(start..end)
    }

    /// Clears the bit of `block`, which the caller owns and nobody reads.
    fn release(&self, block: u64) {
        if let Some(r) = self.readers.get(block as usize) {
            r.store(0, Relaxed);
        }
        if let Some((w, m)) = self.word(block) {
            // Release: the block's reads and its count are done before an
            // allocator can see it free.
            if w.fetch_and(!m, Release) & m != 0 {
                self.used.fetch_sub(1, Relaxed);
            }
        }
    }

    /// Releases `block`, or leaves it to its last reader.  Called by the
    /// block's owner: with the slot that holds it locked (the slot is
    /// being freed), or by writeback for a block no slot holds.
    pub(crate) fn free(&self, block: u64) {
        let Some(r) = self.readers.get(block as usize) else {
            return;
        };
        if r.fetch_or(FREE_PENDING, AcqRel) & !FREE_PENDING == 0 {
            self.release(block);
        }
    }

    /// Keeps `block` allocated until [`BlockMap::unpin`].  Called with the
    /// slot that holds the block locked, so it is not freed meanwhile.
    /// `EIO` only past 2^31 - 1 readers of one block at once.
    pub(crate) fn pin(&self, block: u64) -> Result {
        let r = self.readers.get(block as usize).ok_or(EIO)?;
        r.fetch_update(Acquire, Relaxed, |v| {
            (v & !FREE_PENDING < FREE_PENDING - 1).then_some(v + 1)
        })
        .map(|_| ())
        .map_err(|_| EIO)
    }

    /// Ends a read of `block`; the last reader of a freed block releases
    /// it.  Does not sleep.
    pub(crate) fn unpin(&self, block: u64) {
        let Some(r) = self.readers.get(block as usize) else {
            return;
        };
        if r.fetch_sub(1, AcqRel) == FREE_PENDING | 1 {
            self.release(block);
        }
    }

    /// Ends the chained reads of blocks `first..first + n`.
    pub(super) fn read_done(&self, first: u64, n: u32) {
        for b in first..first.saturating_add(u64::from(n)) {
            self.unpin(b);
        }
    }

    /// Counts a request failed by a chained read (io_stat's
    /// `failed_reads`).
    pub(super) fn read_failed(&self) {
        self.failed_reads.fetch_add(1, Relaxed);
    }
}
