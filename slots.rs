// SPDX-License-Identifier: GPL-2.0

//! The slot table: one entry per page of the device.
//!
//! Each slot is a [`BitLocked`] `Content` plus flag bits; its relaxed word
//! holds the last access time in seconds of boot time.  A slot is 32 bytes
//! on 64-bit (asserted below): the lock word and the access time (4 bytes
//! each), then `Content`, whose tag does not fit in the 16-byte handle.
//! zram's `zram_table_entry` is 24 bytes without lock debugging.
//!
//! # Locking
//!
//! A slot's lock protects its `Content` and flags.  Its callers hold the
//! store's I/O reference (see `rzram.rs`); it is taken after every other
//! lock of the driver but the block map's and the batch's, never two at a
//! time, and never across a sleep.

use crate::glue::bitlock::{BitGuard, BitLocked};
use crate::glue::zsmalloc::ZsHandle;
use kernel::prelude::*;

/// What a slot holds.
#[derive(Debug, Default)]
pub(crate) enum Content {
    /// Nothing written (reads as zeroes).
    #[default]
    Empty,
    /// A page filled with one repeated machine word.
    Same(u64),
    /// A zsmalloc object: compressed, or the raw page if `HUGE`.
    Zs(ZsHandle),
    /// Written back to block `n` of the backing device, as the page (or,
    /// with `compressed_writeback`, a huge slot's raw page).
    Wb(u64),
    /// Written back with `compressed_writeback`: the compressed object of
    /// `size` bytes at the start of `block`, zeros after it.  The slot's
    /// flags keep the priority of the algorithm that compressed it.
    WbZ { block: u64, size: u32 },
    /// Written back with `packed_writeback`: the compressed object of
    /// `size` bytes at byte `off` of `block`, which other slots' objects
    /// may share (the block map counts them).  The flags keep the
    /// priority, as for `WbZ`.
    WbP { block: u64, off: u16, size: u16 },
}

/// The page did not compress below the huge threshold; stored raw.
pub(crate) const HUGE: u32 = 1 << 0;
/// Not accessed since the last `idle` marking.
pub(crate) const IDLE: u32 = 1 << 1;
/// No secondary algorithm compressed the page better: set only by
/// `recompress`, which then skips the slot; the `incompressible` writeback
/// mode selects it.
pub(crate) const INCOMPRESSIBLE: u32 = 1 << 2;
/// A writeback request carries a copy of this slot's page.
pub(crate) const UNDER_WB: u32 = 1 << 3;
/// Read back into memory by `writeback_compact`, for its writeback to
/// pack again; cleared by it, and with the other flags when the slot is
/// freed.
pub(crate) const RECLAIMED: u32 = 1 << 6;
/// The priority of the algorithm that compressed a `Zs` slot (0: the
/// primary, 1 to 3: a `recomp_algorithm`), in two flag bits as zram's
/// `ZRAM_COMP_PRIORITY_BIT1`.  Cleared with the other flags when the slot
/// is freed.
const PRIO_SHIFT: u32 = 4;
const PRIO_MASK: u32 = 0b11 << PRIO_SHIFT;

// Every priority of `MAX_COMPS` fits in the two bits.
const _: () = assert!(crate::glue::comp::MAX_COMPS <= 4);

/// The compression priority in `flags`.
pub(crate) fn priority(flags: u32) -> usize {
    ((flags & PRIO_MASK) >> PRIO_SHIFT) as usize
}

/// `flags` with the compression priority set to `prio` (below
/// `MAX_COMPS`).
pub(crate) fn with_priority(flags: u32, prio: usize) -> u32 {
    (flags & !PRIO_MASK) | (((prio as u32) << PRIO_SHIFT) & PRIO_MASK)
}

// The size the module documents (README, `mm_stat` comparisons).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(core::mem::size_of::<BitLocked<Content>>() == 32);

/// The slots of one initialised device.
pub(crate) struct SlotTable {
    slots: KVVec<BitLocked<Content>>,
}

/// A locked slot.
pub(crate) type Slot<'a> = BitGuard<'a, Content>;

impl SlotTable {
    /// A table of `n` empty slots.
    pub(crate) fn new(n: usize) -> Result<Self> {
        let mut slots = KVVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            slots.push(BitLocked::new(Content::Empty), GFP_KERNEL)?;
        }
        Ok(Self { slots })
    }

    /// Number of slots.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Calls `f` on every slot's content, through `&mut` (no locking).
    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(&mut Content)) {
        for s in self.slots.iter_mut() {
            f(s.get_mut());
        }
    }

    /// Locks slot `index`, which must be in range (the block layer checks
    /// I/O against the capacity; other callers check explicitly).
    pub(crate) fn lock(&self, index: usize) -> Result<Slot<'_>> {
        Ok(self.slots.get(index).ok_or(EINVAL)?.lock())
    }

    /// Locks slot `index` if it is free.
    pub(crate) fn try_lock(&self, index: usize) -> Option<Slot<'_>> {
        self.slots.get(index)?.try_lock()
    }
}

/// Records an access of a locked slot at `now` seconds: clears `IDLE`.
pub(crate) fn accessed(slot: &mut Slot<'_>, now: u32) {
    let f = slot.flags();
    if f & IDLE != 0 {
        slot.set_flags(f & !IDLE);
    }
    slot.relaxed()
        .store(now, core::sync::atomic::Ordering::Relaxed);
}
