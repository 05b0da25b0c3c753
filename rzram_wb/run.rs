// SPDX-License-Identifier: GPL-2.0

//! One run of `writeback`: the batched write of the selected slots.

use super::select::{Cursor, Mode, Scan};
use super::WbStore;
use crate::glue::bdev::{Batch, Plug, ReqId};
use crate::slots::{Content, HUGE, IDLE, RECLAIMED, UNDER_WB};
use crate::{inc, Device, Store};
use core::sync::atomic::Ordering::Relaxed;
use kernel::prelude::*;
use pack::Packer;

#[path = "run_pack.rs"]
mod pack;

/// What the task knows about one request.
#[derive(Clone, Copy, Default)]
struct ReqMeta {
    /// The slot whose page the request carries, while it is in use.
    index: Option<usize>,
    block: u64,
    /// The filter the slot was selected with.
    mode: Option<Mode>,
    /// With `compressed_writeback`: the size of the compressed object the
    /// request carries (`None`: the page, raw or decompressed).
    zsize: Option<u32>,
    /// The request packs objects (`packed_writeback`): they are listed in
    /// the run's [`Packer`], not in `index`.
    packed: bool,
    /// Packed objects in the request, and the bytes they take.
    nobj: u16,
    used: u16,
}

/// Requests in the order they were queued: a ring in an array allocated
/// once, so queueing never allocates.
struct Fifo {
    q: KVec<Option<ReqId>>,
    head: usize,
    len: usize,
}

impl Fifo {
    /// A queue with room for `n` requests.
    fn new(n: usize) -> Result<Self> {
        let mut q = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            q.push(None, GFP_KERNEL)?;
        }
        Ok(Self { q, head: 0, len: 0 })
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Position `i` places after the head (`i` at most the capacity).
    fn at(&self, i: usize) -> usize {
        // `head` is below the capacity and `i` at most it: no overflow,
        // and one subtraction brings the sum below the capacity.
        let p = self.head.wrapping_add(i);
        if p >= self.q.len() {
            p.wrapping_sub(self.q.len())
        } else {
            p
        }
    }

    /// Queues `id`; hands it back if the queue is full.
    fn push(&mut self, id: ReqId) -> core::result::Result<(), ReqId> {
        if self.len >= self.q.len() {
            return Err(id);
        }
        let at = self.at(self.len);
        match self.q.get_mut(at) {
            Some(e) => {
                *e = Some(id);
                self.len += 1;
                Ok(())
            }
            _ => Err(id),
        }
    }

    /// The oldest request.
    fn pop(&mut self) -> Option<ReqId> {
        if self.len == 0 {
            return None;
        }
        let id = self.q.get_mut(self.head)?.take();
        self.head = self.at(1);
        self.len -= 1;
        id
    }
}

/// One run of `writeback`.  It owns everything the run takes, and its
/// `Drop` gives it back, so no exit can leak a block, a flag or a charge.
struct Run<'a> {
    dev: &'a Device,
    store: &'a Store,
    wb: &'a WbStore,
    batch: Batch<'a>,
    meta: KVec<ReqMeta>,
    /// Filled requests not yet submitted.
    filled: Fifo,
    /// Why the run stops early (limit exhausted, device full).
    stop: Option<Error>,
    /// The selection has no more slots.
    exhausted: bool,
    /// Most pages per bio: the backing queue's limits, or the
    /// `wb_bio_pages` benchmark knob.
    max_run: usize,
    /// Requests filled before they are submitted: half the batch, so
    /// that filling overlaps the write of the other half.
    chunk: usize,
    /// Slots taken, when the scans overlap (else each slot comes once).
    seen: Option<KVVec<u64>>,
    /// The most recent bio error; writeback goes on after one.
    bio_err: Option<Error>,
    /// `compressed_writeback`: write the compressed objects, not pages.
    compressed: bool,
    /// `packed_writeback`: several objects per request.
    packer: Option<Packer<'a>>,
    written: usize,
}

impl Run<'_> {
    /// Whether this run already took slot `index` (possible only when
    /// scans overlap); marks it taken otherwise.  O(1).
    fn taken(&mut self, index: usize) -> bool {
        let Some(seen) = self.seen.as_mut() else {
            return false;
        };
        let Some(w) = seen.get_mut(index / 64) else {
            return false;
        };
        let bit = 1u64 << (index % 64);
        let was = *w & bit != 0;
        *w |= bit;
        was
    }

    /// Copies slot `index` into request `id` if the slot qualifies, and
    /// marks it `UNDER_WB`.  `Err` stops the run (limit exhausted).
    fn fill(&mut self, id: &ReqId, index: usize, mode: Option<Mode>) -> Result<bool> {
        let store = self.store;
        let mut slot = store.slots.lock(index)?;
        let flags = slot.flags();
        let Content::Zs(h) = slot.data_ref() else {
            // Empty, same-filled or already written back.
            return Ok(false);
        };
        if flags & UNDER_WB != 0 || !mode.map_or(true, |m| m.wants(flags)) {
            return Ok(false);
        }
        // A slot is filled once per run: a second request carrying it
        // could commit a stale copy after a rewrite.
        if self.taken(index) {
            return Ok(false);
        }
        // `id` is of this run's batch, so this does not fail.
        let page = self.batch.page_mut(id).ok_or(EIO)?;
        if !self.dev.wb.charge() {
            return Err(EIO);
        }
        let zsize =
            (self.compressed && h.size() < kernel::page::PAGE_SIZE).then_some(h.size() as u32);
        let r = page.with_mut(|dst| match zsize {
            // The object, then zeros: nothing of what the request page
            // held before reaches the backing device.
            Some(_) => store.pool.with_object(h, |src| {
                let n = src.len();
                dst.get_mut(..n).ok_or(EIO)?.copy_from_slice(src);
                dst.get_mut(n..).ok_or(EIO)?.fill(0);
                Ok(())
            }),
            None => store.decompress(flags, h, dst),
        });
        // `meta` has an entry per request of the batch: the lookup succeeds.
        let m = match r.and_then(|()| self.meta.get_mut(id.index()).ok_or(EIO)) {
            Ok(m) => m,
            Err(e) => {
                drop(slot);
                self.dev.wb.refund();
                return Err(e);
            }
        };
        slot.set_flags(flags | UNDER_WB);
        *m = ReqMeta {
            index: Some(index),
            mode,
            zsize,
            ..ReqMeta::default()
        };
        Ok(true)
    }

    /// Undoes [`Run::fill`] for a request that will not be submitted.
    fn unfill(&mut self, id: ReqId) {
        if self.meta.get(id.index()).is_some_and(|m| m.packed) {
            return self.unfill_packed(id);
        }
        let carried = self.meta.get_mut(id.index()).and_then(|m| m.index.take());
        if let Some(index) = carried {
            if let Ok(mut slot) = self.store.slots.lock(index) {
                let f = slot.flags();
                slot.set_flags(f & !UNDER_WB);
            }
            self.dev.wb.refund();
        }
        self.batch.put_idle(id);
    }

    /// Handles a completed request.
    fn finish(&mut self, id: ReqId, r: Result) {
        let m = match self.meta.get_mut(id.index()) {
            Some(m) => core::mem::take(m),
            None => ReqMeta::default(),
        };
        if m.packed {
            return self.finish_packed(id, &m, r);
        }
        self.batch.put_idle(id);
        let Some(index) = m.index else { return };
        let (dev, store) = (self.dev, self.store);
        let Ok(mut slot) = store.slots.lock(index) else {
            return;
        };
        let f = slot.flags();
        let unchanged = f & UNDER_WB != 0;
        if let Err(e) = r {
            // Not fatal: remember the error and go on.
            if unchanged {
                slot.set_flags(f & !(UNDER_WB | IDLE));
            }
            drop(slot);
            self.wb.blocks().free(m.block);
            dev.wb.refund();
            self.bio_err = Some(e);
            return;
        }
        inc(&dev.stats.bd_writes);
        let idle_mode = m.mode.is_some_and(Mode::idle);
        if !unchanged || (idle_mode && f & IDLE == 0) {
            // Freed, rewritten or accessed meanwhile: keep the memory copy.
            // As zram, such a page is not charged to the limit.
            slot.set_flags(f & !UNDER_WB);
            drop(slot);
            self.wb.blocks().free(m.block);
            dev.wb.refund();
            return;
        }
        if self.compressed {
            let new = match m.zsize {
                Some(size) => Content::WbZ {
                    block: m.block,
                    size,
                },
                None => Content::Wb(m.block),
            };
            commit_kept(dev, store, &mut slot, new);
            drop(slot);
        } else {
            dev.free_slot(store, &mut slot);
            slot.set_flags(0);
            *slot.data() = Content::Wb(m.block);
            drop(slot);
            inc(&dev.stats.pages_stored);
        }
        // At most one per slot: this cannot saturate.
        self.written = self.written.saturating_add(1);
    }
}

/// Commits a written-back slot in `compressed_writeback` mode, as 7.0
/// after its fix "do not slot_free() written-back slots": the zsmalloc
/// object is freed in place, and the slot keeps what a read needs and
/// what `block_state` shows (the priority, `HUGE`, `INCOMPRESSIBLE`, the
/// access time), but not `IDLE`.  `huge_pages` stops counting it here, so
/// `free_slot` does not count it down again; the page stays stored.
fn commit_kept(dev: &Device, store: &Store, slot: &mut crate::slots::Slot<'_>, new: Content) {
    let f = slot.flags();
    if let Content::Zs(h) = core::mem::take(slot.data()) {
        if f & HUGE != 0 {
            crate::dec(&dev.stats.huge_pages);
        }
        dev.stats
            .compr_data_size
            .fetch_sub(h.size() as u64, Relaxed);
        store.pool.free(h);
    }
    *slot.data() = new;
    slot.set_flags(f & !(UNDER_WB | IDLE | RECLAIMED));
}

impl Run<'_> {
    /// Fills idle requests with the next selected slots, until `chunk`
    /// are filled, none is idle, the selection is exhausted or the run must
    /// stop.  Submitting every `chunk` keeps a bio in flight while the next
    /// one is filled.
    fn fill_chunk(&mut self, cursor: &mut Cursor<'_>) {
        if self.packer.is_some() {
            return self.fill_chunk_packed(cursor);
        }
        while self.stop.is_none() && !self.exhausted && self.filled.len() < self.chunk {
            let Some(id) = self.batch.take_idle() else {
                return;
            };
            let mut got = false;
            for (index, mode) in cursor.by_ref() {
                match self.fill(&id, index, mode) {
                    Ok(true) => {
                        got = true;
                        break;
                    }
                    Ok(false) => {}
                    Err(e) => {
                        self.stop = Some(e);
                        break;
                    }
                }
            }
            if !got {
                self.exhausted = self.stop.is_none();
                self.batch.put_idle(id);
                return;
            }
            // `filled` has room for every request of the batch.
            if let Err(id) = self.filled.push(id) {
                self.unfill(id);
                self.stop = Some(EIO);
            }
        }
    }

    /// Gives the filled requests consecutive blocks, in the order they were
    /// filled, and submits them under one plug.
    fn submit_filled(&mut self, plug: &mut Plug, use_plug: bool, contig: bool) {
        if self.filled.is_empty() {
            return;
        }
        // Blocks are given in fill (slot) order, so ascending slots get
        // ascending blocks and read back sequentially.
        let _plugged = use_plug.then(|| plug.start());
        while !self.filled.is_empty() {
            let want = self.filled.len().min(self.max_run);
            let Some(blocks) = self.wb.blocks().alloc_run(want, contig) else {
                self.stop = Some(ENOSPC);
                while let Some(id) = self.filled.pop() {
                    self.unfill(id);
                }
                return;
            };
            // One bio for the run: the run has at most `filled.len()` and
            // `max_run` blocks.
            let mut block = blocks.start;
            let (filled, meta) = (&mut self.filled, &mut self.meta);
            let packs = self.packer.as_ref().map(|p| p.packs);
            self.batch
                .submit_run(blocks.start, blocks.clone().count(), || {
                    let id = filled.pop()?;
                    if let Some(m) = meta.get_mut(id.index()) {
                        m.block = block;
                        if let (true, Some(p)) = (m.packed, packs) {
                            p.begin(block);
                        }
                    }
                    block += 1;
                    Some(id)
                });
            // Blocks left without a request (never: see above).
            for b in block..blocks.end {
                self.wb.blocks().free(b);
            }
        }
    }

    /// Reaps completed requests; sleeps for one only if none is idle or
    /// nothing is left to fill.
    fn reap_some(&mut self) {
        let mut wait = self.stop.is_some() || self.exhausted || self.batch.idle_count() == 0;
        while let Some((id, r)) = self.batch.reap(wait) {
            wait = false;
            self.finish(id, r);
        }
    }
}

impl Drop for Run<'_> {
    /// Whatever way the run ends, nothing it took is left behind: filled
    /// requests are un-filled (flag cleared, limit refunded), and every
    /// request in flight is waited for and reaped (slot committed, or its
    /// block released and the limit refunded).
    fn drop(&mut self) {
        self.unfill_open();
        while let Some(id) = self.filled.pop() {
            self.unfill(id);
        }
        while let Some((id, r)) = self.batch.reap(true) {
            self.finish(id, r);
        }
    }
}

/// Writes back the selected slots; returns the number written.
pub(super) fn writeback(
    dev: &Device,
    store: &Store,
    wb: &WbStore,
    scans: &[Scan],
) -> Result<usize> {
    let size = dev.wb.batch_size.load(Relaxed).max(1) as usize;
    let batch = Batch::new(&wb.dev, &wb.write_bios, size)?;
    let meta = KVec::from_elem(ReqMeta::default(), batch.len(), GFP_KERNEL)?;
    let filled = Fifo::new(batch.len())?;
    let batch_len = batch.len();
    let max_run = match crate::glue::param_wb_bio_pages() {
        0 => batch.max_run(),
        n => n.min(batch.max_run()),
    };
    let chunk = (batch.len() / 2).min(max_run).max(1);
    let mut plug = Plug::new()?;
    let mut run = Run {
        dev,
        store,
        wb,
        batch,
        meta,
        filled,
        stop: None,
        exhausted: false,
        seen: super::select::overlap_map(scans)?,
        max_run,
        chunk,
        bio_err: None,
        compressed: dev.wb.compressed.load(Relaxed),
        packer: wb
            .packs
            .as_ref()
            .map(|p| Packer::new(p, batch_len))
            .transpose()?,
        written: 0,
    };
    let (use_plug, contig) = (crate::glue::param_wb_plug(), crate::glue::param_wb_contig());
    let mut cursor = Cursor {
        scans,
        scan: 0,
        next: 0,
    };
    loop {
        run.fill_chunk(&mut cursor);
        run.submit_filled(&mut plug, use_plug, contig);
        if run.batch.outstanding() == 0 {
            break;
        }
        run.reap_some();
    }
    pr_debug!(
        "writeback: {} written, stop {:?}, bio error {:?}\n",
        run.written,
        run.stop.map(|e| e.to_errno()),
        run.bio_err.map(|e| e.to_errno())
    );
    if let Some(e) = run.stop.or(run.bio_err) {
        return Err(e);
    }
    Ok(run.written)
}
