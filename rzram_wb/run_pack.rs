// SPDX-License-Identifier: GPL-2.0

//! Packing (`packed_writeback`): the compressed objects of a run share
//! request pages, so each backing block written holds as many as fit.
//!
//! A few requests are open at once; each object goes to the first open
//! one it fits in (first fit), else to a new one, and when all are open
//! the oldest is closed: its tail is zeroed and it joins the filled
//! requests, which are submitted as usual.  A huge object (a raw page)
//! still takes a request of its own.  The limit is charged per request
//! (per block written), when it is opened.

use super::super::packs::Packs;
use super::{Cursor, Mode, ReqMeta, Run};
use crate::glue::bdev::ReqId;
use crate::inc;
use crate::slots::{Content, IDLE, UNDER_WB};
use kernel::{page::PAGE_SIZE, prelude::*};

/// Most objects in one request: bounds the object list (16 bytes per
/// entry, for every request of the batch).  Objects average 128 bytes or
/// more then fill a block.
pub(super) const MAX_OBJS: usize = 32;
/// Requests open for packing at once.
const OPEN_MAX: usize = 4;

/// One object in a request page.
#[derive(Clone, Copy, Default)]
struct Obj {
    index: usize,
    off: u16,
    size: u16,
    mode: Option<Mode>,
}

/// The packing state of a run.
pub(super) struct Packer<'a> {
    pub(super) packs: &'a Packs,
    /// `MAX_OBJS` entries per request of the batch.
    objs: KVVec<Obj>,
    /// Requests open for packing, oldest first (a prefix of the array).
    open: [Option<ReqId>; OPEN_MAX],
}

impl<'a> Packer<'a> {
    /// The state for a batch of `reqs` requests.
    pub(super) fn new(packs: &'a Packs, reqs: usize) -> Result<Self> {
        let n = reqs.checked_mul(MAX_OBJS).ok_or(ENOMEM)?;
        Ok(Self {
            packs,
            objs: KVVec::from_elem(Obj::default(), n, GFP_KERNEL)?,
            open: Default::default(),
        })
    }

    /// Takes the oldest open request out.  Requests are closed in the
    /// order they were opened, so their blocks, given in that order, follow
    /// the slots: read-back reads them in a few windows.
    fn take_oldest(&mut self) -> Option<ReqId> {
        let id = self.open.first_mut()?.take()?;
        self.open.rotate_left(1);
        Some(id)
    }

    /// The objects of request `req` with `nobj` of them.
    fn objs_of(&self, req: usize, nobj: u16) -> &[Obj] {
        let start = req.saturating_mul(MAX_OBJS);
        let end = start.saturating_add(usize::from(nobj));
        self.objs.get(start..end).unwrap_or(&[])
    }
}

/// What [`Run::place`] did with a slot.
enum Placed {
    /// Added to a request.
    Yes,
    /// Does not qualify (or was taken already).
    Skipped,
    /// No request is idle: try again after reaping.
    NoRequest,
}

impl Run<'_> {
    /// Fills requests with packed objects, as [`Run::fill_chunk`]: until
    /// `chunk` are filled, none is idle, the selection is exhausted or the
    /// run must stop.  Open requests stay open for the next call while
    /// the run goes on, so a completion frees a request to fill; when
    /// nothing would complete (no request submitted or filled), the
    /// oldest is closed, so the run always moves.  At the end, all are
    /// closed.
    pub(super) fn fill_chunk_packed(&mut self, cursor: &mut Cursor<'_>) {
        while self.stop.is_none() && !self.exhausted && self.filled.len() < self.chunk {
            let Some((index, mode)) = cursor.next() else {
                self.exhausted = true;
                break;
            };
            match self.place(index, mode) {
                Ok(Placed::Yes | Placed::Skipped) => {}
                Ok(Placed::NoRequest) => {
                    cursor.unget(index);
                    if self.filled.is_empty() && self.batch.outstanding() == 0 {
                        self.close_oldest();
                    }
                    return;
                }
                Err(e) => self.stop = Some(e),
            }
        }
        if self.stop.is_some() || self.exhausted {
            self.close_open();
        }
    }

    /// Adds slot `index` to an open request if it qualifies: a huge one
    /// to a request of its own.
    fn place(&mut self, index: usize, mode: Option<Mode>) -> Result<Placed> {
        let store = self.store;
        let mut slot = store.slots.lock(index)?;
        let flags = slot.flags();
        let Content::Zs(h) = slot.data_ref() else {
            return Ok(Placed::Skipped);
        };
        if flags & UNDER_WB != 0 || !mode.map_or(true, |m| m.wants(flags)) {
            return Ok(Placed::Skipped);
        }
        let size = h.size();
        let Some(size16) = u16::try_from(size).ok().filter(|_| size < PAGE_SIZE) else {
            drop(slot);
            return self.place_huge(index, mode);
        };
        let Some(at) = self.open_for(size16)? else {
            return Ok(Placed::NoRequest);
        };
        if self.taken(index) {
            return Ok(Placed::Skipped);
        }
        let packer = self.packer.as_mut().ok_or(EIO)?;
        let id = packer.open.get(at).and_then(Option::as_ref).ok_or(EIO)?;
        let m = self.meta.get_mut(id.index()).ok_or(EIO)?;
        let off = usize::from(m.used);
        let page = self.batch.page_mut(id).ok_or(EIO)?;
        page.with_mut(|dst| {
            store.pool.with_object(h, |src| {
                let dst = dst.get_mut(off..).and_then(|d| d.get_mut(..src.len()));
                dst.ok_or(EIO)?.copy_from_slice(src);
                Ok::<(), Error>(())
            })
        })?;
        let e = id.index().saturating_mul(MAX_OBJS) + usize::from(m.nobj);
        *packer.objs.get_mut(e).ok_or(EIO)? = Obj {
            index,
            off: m.used,
            size: size16,
            mode,
        };
        m.used += size16;
        m.nobj += 1;
        slot.set_flags(flags | UNDER_WB);
        Ok(Placed::Yes)
    }

    /// A huge slot: its raw page in a request of its own.
    fn place_huge(&mut self, index: usize, mode: Option<Mode>) -> Result<Placed> {
        let Some(id) = self.batch.take_idle() else {
            return Ok(Placed::NoRequest);
        };
        match self.fill(&id, index, mode) {
            Ok(true) => {
                if let Err(id) = self.filled.push(id) {
                    self.unfill(id);
                    return Err(EIO);
                }
                Ok(Placed::Yes)
            }
            Ok(false) => {
                self.batch.put_idle(id);
                Ok(Placed::Skipped)
            }
            Err(e) => {
                self.batch.put_idle(id);
                Err(e)
            }
        }
    }

    /// The position of an open request with room for `size` bytes,
    /// opening one (and closing the oldest, if all are open) if none
    /// has; `None` if no request is idle.  `EIO` if the limit is spent.
    fn open_for(&mut self, size: u16) -> Result<Option<usize>> {
        let packer = self.packer.as_mut().ok_or(EIO)?;
        let meta = &self.meta;
        let fits = |o: &Option<ReqId>| {
            o.as_ref()
                .and_then(|id| meta.get(id.index()))
                .is_some_and(|m| {
                    usize::from(m.nobj) < MAX_OBJS
                        && usize::from(m.used) + usize::from(size) <= PAGE_SIZE
                })
        };
        if let Some(at) = packer.open.iter().position(fits) {
            return Ok(Some(at));
        }
        if packer.open.iter().all(Option::is_some) {
            self.close_oldest();
        }
        let Some(id) = self.batch.take_idle() else {
            return Ok(None);
        };
        if !self.dev.wb.charge() {
            self.batch.put_idle(id);
            return Err(EIO);
        }
        if let Some(m) = self.meta.get_mut(id.index()) {
            *m = ReqMeta {
                packed: true,
                ..ReqMeta::default()
            };
        }
        let packer = self.packer.as_mut().ok_or(EIO)?;
        // A place is free: the oldest was closed above if none was.
        let Some(at) = packer.open.iter().position(Option::is_none) else {
            self.unfill(id);
            return Err(EIO);
        };
        if let Some(o) = packer.open.get_mut(at) {
            *o = Some(id);
        }
        Ok(Some(at))
    }

    /// Ends the packing of open request `id`: zeros its tail and queues
    /// it for submission; an empty one goes back idle, uncharged.
    fn close(&mut self, id: ReqId) {
        let used = self.meta.get(id.index()).map_or(0, |m| m.used);
        if used == 0 {
            return self.unfill(id);
        }
        if let Some(page) = self.batch.page_mut(&id) {
            page.with_mut(|p| {
                if let Some(tail) = p.get_mut(usize::from(used)..) {
                    tail.fill(0);
                }
            });
        }
        if let Err(id) = self.filled.push(id) {
            self.unfill(id);
            self.stop = Some(EIO);
        }
    }

    /// Closes the oldest open request.
    fn close_oldest(&mut self) {
        if let Some(id) = self.packer.as_mut().and_then(Packer::take_oldest) {
            self.close(id);
        }
    }

    /// Takes any open request out.
    fn take_any_open(&mut self) -> Option<ReqId> {
        self.packer.as_mut()?.take_oldest()
    }

    /// Closes every open request.
    fn close_open(&mut self) {
        while let Some(id) = self.take_any_open() {
            self.close(id);
        }
    }

    /// Un-fills every open request (the run is over early).
    pub(super) fn unfill_open(&mut self) {
        while let Some(id) = self.take_any_open() {
            self.unfill(id);
        }
    }

    /// Undoes the packing of request `id`, not submitted: its slots lose
    /// `UNDER_WB`, and its charge is refunded.
    pub(super) fn unfill_packed(&mut self, id: ReqId) {
        let m = self
            .meta
            .get_mut(id.index())
            .map(core::mem::take)
            .unwrap_or_default();
        if let Some(packer) = self.packer.as_ref() {
            for o in packer.objs_of(id.index(), m.nobj) {
                if let Ok(mut slot) = self.store.slots.lock(o.index) {
                    let f = slot.flags();
                    slot.set_flags(f & !UNDER_WB);
                }
            }
        }
        self.dev.wb.refund();
        self.batch.put_idle(id);
    }

    /// Handles a completed packed request `id` with metadata `m`: commits
    /// each object whose slot is unchanged to its place in the block; the
    /// block is released if none is.
    pub(super) fn finish_packed(&mut self, id: ReqId, m: &ReqMeta, r: Result) {
        let Some(packer) = self.packer.as_ref() else {
            self.batch.put_idle(id);
            return;
        };
        let (dev, store, blocks) = (self.dev, self.store, self.wb.blocks());
        let ok = r.is_ok();
        let mut committed = 0usize;
        let mut lost = false;
        for o in packer.objs_of(id.index(), m.nobj) {
            let Ok(mut slot) = store.slots.lock(o.index) else {
                continue;
            };
            let f = slot.flags();
            let unchanged = f & UNDER_WB != 0;
            let idle_gone = o.mode.is_some_and(Mode::idle) && f & IDLE == 0;
            if !ok || !unchanged || idle_gone {
                if unchanged {
                    // A failed write: as zram, the slot is no longer idle.
                    let clear = if ok { UNDER_WB } else { UNDER_WB | IDLE };
                    slot.set_flags(f & !clear);
                }
                lost = true;
                continue;
            }
            packer.packs.add(m.block, o.size);
            let new = Content::WbP {
                block: m.block,
                off: o.off,
                size: o.size,
            };
            super::commit_kept(dev, store, &mut slot, new);
            committed += 1;
        }
        packer.packs.end(blocks, m.block, lost);
        self.batch.put_idle(id);
        match r {
            Err(e) => self.bio_err = Some(e),
            Ok(()) => inc(&dev.stats.bd_writes),
        }
        if committed == 0 {
            // As zram, a block that keeps nothing is not charged.
            dev.wb.refund();
        }
        self.written = self.written.saturating_add(committed);
    }
}
