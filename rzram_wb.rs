// SPDX-License-Identifier: GPL-2.0

//! Writeback of rzram pages to a backing block device.
//!
//! 6.12's zram writes back one page at a time and waits for each
//! (`submit_bio_wait`).  rzram instead:
//!
//! 1. fills a preallocated array of requests ([`Batch`]): for each
//!    selected slot it copies the page under the slot lock and marks the
//!    slot `UNDER_WB`;
//! 2. gives the filled requests one contiguous run of backing blocks where
//!    the bitmap allows, and submits them under a plug, so adjacent writes
//!    merge into large sequential ones;
//! 3. sleeps only when no request is free, and reaps completions in task
//!    context: a slot still `UNDER_WB` (not freed or rewritten meanwhile)
//!    is committed to its block, otherwise the block is released.
//!
//! The completion callback only publishes the request (see `glue::bdev`).
//!
//! # Locks
//!
//! - `Device::wb_lock` (a mutex) serialises writebacks of one device; it
//!   is taken before the init lock (shared), then slot locks.  It is never
//!   held with `Device::cfg_lock`.
//! - `BlockMap::state` (a spinlock) protects the block bitmap; it is taken
//!   last, possibly under a slot lock.

use crate::glue::bdev::{canonical_path, BackingDev, Batch, Plug, ReqId};
use crate::glue::disk::DiskRef;
use crate::glue::sysfs::SysfsBuf;
use crate::slots::{Content, HUGE, IDLE, INCOMPRESSIBLE, UNDER_WB};
use crate::{emit, inc, parse, Config, Device, Store};
use core::ops::Range;
use core::sync::atomic::Ordering::Relaxed;
use kernel::{new_spinlock, prelude::*, str::CString, sync::SpinLock};

/// Default `writeback_batch_size`, as upstream.
pub(crate) const DEFAULT_BATCH_SIZE: u32 = 32;

/// The configured backing device (set by `backing_dev`).
pub(crate) struct BackingCfg {
    dev: BackingDev,
    path: CString,
}

/// Backing state of an initialised device.
pub(crate) struct WbStore {
    dev: BackingDev,
    blocks: BlockMap,
}

/// Pages currently read from a block; a pinned block is freed only when
/// its last reader is done.
struct PinnedBlock {
    block: u64,
    readers: u32,
    free_pending: bool,
}

struct BlockState {
    /// One bit per backing block; set = in use.
    bits: KVVec<u64>,
    nr: u64,
    /// Where the next search starts, so consecutive batches get
    /// consecutive blocks.
    cursor: u64,
    pinned: KVec<PinnedBlock>,
}

/// The allocation bitmap of the backing device's page-sized blocks.
struct BlockMap {
    state: Pin<KBox<SpinLock<BlockState>>>,
}

impl BlockState {
    /// The bitmap word that holds block `b`; `None` past the bitmap (for
    /// no block below `nr`).
    fn word(&self, b: u64) -> Option<&u64> {
        self.bits.get(usize::try_from(b / 64).ok()?)
    }

    fn test(&self, b: u64) -> bool {
        self.word(b).is_some_and(|w| w & (1 << (b % 64)) != 0)
    }

    fn set(&mut self, b: u64, on: bool) {
        let Some(w) = usize::try_from(b / 64)
            .ok()
            .and_then(|i| self.bits.get_mut(i))
        else {
            return;
        };
        if on {
            *w |= 1 << (b % 64);
        } else {
            *w &= !(1 << (b % 64));
        }
    }

    /// First free block in `from..to` (`to` at most `nr`).
    fn find_free(&self, from: u64, to: u64) -> Option<u64> {
        let mut b = from;
        while b < to {
            // The bits below `b` in its word count as used.
            let w = self.word(b)? | ((1u64 << (b % 64)) - 1);
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
}

impl BlockMap {
    fn new(nr: u64) -> Result<Self> {
        let words = usize::try_from(nr.div_ceil(64)).map_err(|_| ENOMEM)?;
        let bits = KVVec::from_elem(0, words, GFP_KERNEL)?;
        let state = BlockState {
            bits,
            nr,
            cursor: 0,
            pinned: KVec::new(),
        };
        Ok(Self {
            state: KBox::pin_init(new_spinlock!(state, "rzram:blocks"), GFP_KERNEL)?,
        })
    }

    /// Allocates up to `want` consecutive free blocks and returns them.
    /// `None` when the device is full.
    ///
    /// With `contig` off (the `wb_contig=0` benchmark knob) it behaves like
    /// zram's `alloc_block_bdev`: one block, the first free one.
    fn alloc_run(&self, dev: &Device, want: usize, contig: bool) -> Option<Range<u64>> {
        let mut st = self.state.lock();
        let (nr, cursor) = (st.nr, if contig { st.cursor } else { 0 });
        let want = if contig { want } else { 1 };
        let start = st
            .find_free(cursor, nr)
            .or_else(|| st.find_free(0, cursor.min(nr)))?;
        // `n < want` and `end < nr` bound both increments.
        let (mut n, mut end) = (0, start);
        while n < want && end < nr && !st.test(end) {
            st.set(end, true);
            n += 1;
            end += 1;
        }
        st.cursor = end;
        dev.stats.bd_count.fetch_add(n as u64, Relaxed);
        Some(start..end)
    }

    /// Releases `block`, or marks it to be released by its last reader.
    fn free(&self, dev: &Device, block: u64) {
        let mut st = self.state.lock();
        if let Some(p) = st
            .pinned
            .iter_mut()
            .find(|p| p.readers > 0 && p.block == block)
        {
            p.free_pending = true;
            return;
        }
        if block < st.nr && st.test(block) {
            st.set(block, false);
            dev.stats.bd_count.fetch_sub(1, Relaxed);
        }
    }

    /// Keeps `block` allocated until [`BlockMap::unpin`].  Called with the
    /// owning slot locked, so the block cannot be freed meanwhile.
    fn pin(&self, block: u64) -> Result {
        let mut st = self.state.lock();
        if let Some(p) = st
            .pinned
            .iter_mut()
            .find(|p| p.readers > 0 && p.block == block)
        {
            // More readers than `u32::MAX` would be a failed read.
            p.readers = p.readers.checked_add(1).ok_or(EIO)?;
            return Ok(());
        }
        // Reuse an entry whose readers are gone, else grow.
        if let Some(p) = st.pinned.iter_mut().find(|p| p.readers == 0) {
            *p = PinnedBlock {
                block,
                readers: 1,
                free_pending: false,
            };
            return Ok(());
        }
        st.pinned.push(
            PinnedBlock {
                block,
                readers: 1,
                free_pending: false,
            },
            GFP_ATOMIC,
        )?;
        Ok(())
    }

    fn unpin(&self, dev: &Device, block: u64) {
        let pending = {
            let mut st = self.state.lock();
            let Some(p) = st
                .pinned
                .iter_mut()
                .find(|p| p.readers > 0 && p.block == block)
            else {
                return;
            };
            p.readers -= 1;
            if p.readers > 0 {
                return;
            }
            core::mem::replace(&mut p.free_pending, false)
        };
        if pending {
            self.free(dev, block);
        }
    }
}

/// Writeback settings of a device (zram's `wb_limit_lock` fields are
/// atomics here).
pub(crate) struct WbSettings {
    limit_enable: core::sync::atomic::AtomicBool,
    /// Budget in 4 KiB units.
    limit: core::sync::atomic::AtomicU64,
    batch_size: core::sync::atomic::AtomicU32,
}

impl WbSettings {
    pub(crate) fn new() -> Self {
        Self {
            limit_enable: core::sync::atomic::AtomicBool::new(false),
            limit: core::sync::atomic::AtomicU64::new(0),
            batch_size: core::sync::atomic::AtomicU32::new(DEFAULT_BATCH_SIZE),
        }
    }

    /// 4 KiB units per page.
    const UNITS: u64 = 1 << (kernel::page::PAGE_SHIFT - 12);

    /// Charges one page against the limit; `false` if it is exhausted.
    fn charge(&self) -> bool {
        if !self.limit_enable.load(Relaxed) {
            return true;
        }
        self.limit
            .fetch_update(Relaxed, Relaxed, |l| l.checked_sub(Self::UNITS))
            .is_ok()
    }

    /// Gives back a page charged by [`WbSettings::charge`].
    fn refund(&self) {
        if self.limit_enable.load(Relaxed) {
            self.limit.fetch_add(Self::UNITS, Relaxed);
        }
    }
}

/// Releases backing block `block` of a slot being freed (slot locked).
pub(crate) fn free_block(dev: &Device, store: &Store, block: u64) {
    if let Some(wb) = store.wb.as_ref() {
        wb.blocks.free(dev, block);
    }
}

/// Reads backing block `block` into `dst`.  Called with the slot that
/// holds the block locked; `unlock` releases it before the (sleeping) read.
pub(crate) fn read_block(
    dev: &Device,
    store: &Store,
    block: u64,
    dst: &mut [u8],
    unlock: impl FnOnce(),
) -> Result {
    let Some(wb) = store.wb.as_ref() else {
        unlock();
        return Err(EIO);
    };
    let pinned = wb.blocks.pin(block);
    unlock();
    pinned?;
    let r = wb.dev.read_page(block, dst);
    wb.blocks.unpin(dev, block);
    if r.is_ok() {
        inc(&dev.stats.bd_reads);
    }
    r
}

/// Called by `disksize`: sets up the block bitmap of the backing device.
/// The backing device that `disksize` will use, if one is set.
pub(crate) fn backing_of(cfg: &Config) -> Option<BackingDev> {
    cfg.backing.as_ref().map(|b| b.dev.clone())
}

impl WbStore {
    /// The backing state of a device being initialised, with every block
    /// of `dev` free.
    pub(crate) fn new(dev: BackingDev) -> Result<Self> {
        let blocks = BlockMap::new(dev.nr_pages())?;
        Ok(Self { dev, blocks })
    }
}

/// Called by reset: takes out the backing device, for the caller to
/// release outside the init lock.  As in zram, the writeback limit and
/// batch size survive a reset.
pub(crate) fn reset(cfg: &mut Config) -> Option<BackingCfg> {
    cfg.backing.take()
}

// ---------------------------------------------------------------------------
// Selecting slots.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Idle,
    Huge,
    HugeIdle,
    Incompressible,
}

impl Mode {
    /// `parse_mode` of zram.
    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "idle" => Mode::Idle,
            "huge" => Mode::Huge,
            "huge_idle" => Mode::HugeIdle,
            "incompressible" => Mode::Incompressible,
            _ => return Err(EINVAL),
        })
    }

    /// Whether a slot with `flags` qualifies.
    fn wants(self, flags: u32) -> bool {
        match self {
            Mode::Idle => flags & IDLE != 0,
            Mode::Huge => flags & HUGE != 0,
            Mode::HugeIdle => flags & (HUGE | IDLE) == HUGE | IDLE,
            Mode::Incompressible => flags & INCOMPRESSIBLE != 0,
        }
    }

    fn idle(self) -> bool {
        matches!(self, Mode::Idle | Mode::HugeIdle)
    }
}

/// One scan of a `writeback` request: the slots `lo..hi` that pass the
/// mode filter (`None`: any written slot).
#[derive(Clone, Copy)]
struct Scan {
    mode: Option<Mode>,
    lo: usize,
    hi: usize,
}

/// `kstrtoul(s, 10)` with zram's errors: `EINVAL` for a malformed number,
/// `ERANGE` for one that overflows.
fn parse_index(s: &str) -> Result<usize> {
    let v = parse::kstrtoull(s, 10)?;
    usize::try_from(v).map_err(|_| ERANGE)
}

/// `s.split_once(sep)` for an ASCII `sep`: the text before and after its
/// first occurrence.  Unlike a `char` pattern (core's `CharSearcher`) or
/// `split_at_checked`, `str::get` does its index arithmetic without
/// overflow checks, so this cannot panic.
fn split_once_ascii(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|c| c == sep)?;
    // `s.get(i..)` starts with the one-byte `sep`.
    Some((s.get(..i)?, s.get(i..)?.get(1..)?))
}

/// Parses what was written to `writeback`, as upstream zram (6.16 and
/// later) does for a device of `nr_pages` pages:
///
/// - `page_index=N` and `page_indexes=A-B` (B inclusive) each add a scan;
///   an index at or past the end, or A > B, is `ERANGE`;
/// - a mode (`idle`, `huge`, `huge_idle`, `incompressible`), bare or as
///   `type=<mode>`, scans the last range given (the whole device if none)
///   with that filter, and ends the input: later tokens are ignored;
/// - other `key=value` tokens are ignored; a bare unknown word, or a key
///   with an empty value, is `EINVAL`.
fn parse_selection(s: &str, nr_pages: usize) -> Result<KVec<Scan>> {
    let mut scans = KVec::new();
    let (mut lo, mut hi) = (0, nr_pages);
    for tok in s.split_ascii_whitespace() {
        // As the kernel's `next_arg`: a `=` in the first position does not
        // split, and an empty value counts as none.
        let (key, val) = match split_once_ascii(tok, b'=') {
            Some((key, val)) if !key.is_empty() => (key, (!val.is_empty()).then_some(val)),
            _ => (tok, None),
        };
        match (key, val) {
            (mode, None) | ("type", Some(mode)) => {
                let mode = Mode::parse(mode)?;
                scans.push(
                    Scan {
                        mode: Some(mode),
                        lo,
                        hi,
                    },
                    GFP_KERNEL,
                )?;
                break;
            }
            ("page_index", Some(v)) => {
                lo = parse_index(v)?;
                if lo >= nr_pages {
                    return Err(ERANGE);
                }
                hi = lo + 1;
            }
            ("page_indexes", Some(v)) => {
                let (a, b) = split_once_ascii(v, b'-').ok_or(EINVAL)?;
                lo = parse_index(a)?;
                if lo >= nr_pages {
                    return Err(ERANGE);
                }
                let last = parse_index(b)?;
                if last >= nr_pages || lo > last {
                    return Err(ERANGE);
                }
                hi = last + 1;
            }
            _ => continue,
        }
        scans.push(Scan { mode: None, lo, hi }, GFP_KERNEL)?;
    }
    Ok(scans)
}

/// Iterates the slots of a list of scans, with each one's filter.
struct Cursor<'a> {
    scans: &'a [Scan],
    scan: usize,
    next: usize,
}

impl Iterator for Cursor<'_> {
    type Item = (usize, Option<Mode>);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let sc = self.scans.get(self.scan)?;
            let i = self.next.max(sc.lo);
            if i < sc.hi {
                self.next = i + 1;
                return Some((i, sc.mode));
            }
            self.scan += 1;
            self.next = 0;
        }
    }
}

// ---------------------------------------------------------------------------
// The batched writeback.

/// What the task knows about one request.
#[derive(Clone, Copy, Default)]
struct ReqMeta {
    /// The slot whose page the request carries, while it is in use.
    index: Option<usize>,
    block: u64,
    /// The filter the slot was selected with.
    mode: Option<Mode>,
}

/// One run of `writeback`.
struct Run<'a> {
    dev: &'a Device,
    store: &'a Store,
    wb: &'a WbStore,
    batch: Batch,
    meta: KVec<ReqMeta>,
    /// The most recent bio error; writeback goes on after one.
    bio_err: Option<Error>,
    written: usize,
}

impl Run<'_> {
    /// Whether a request of this run already carries slot `index`.
    fn carrying(&self, index: usize) -> bool {
        self.meta.iter().any(|m| m.index == Some(index))
    }

    /// Copies slot `index` into request `id` if the slot qualifies, and
    /// marks it `UNDER_WB`.  `Err` stops the run (limit exhausted).
    fn fill(&mut self, id: &ReqId, index: usize, mode: Option<Mode>) -> Result<bool> {
        if self.carrying(index) {
            return Ok(false);
        }
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
        // `id` is of this run's batch, so this does not fail.
        let page = self.batch.page_mut(id).ok_or(EIO)?;
        if !self.dev.wb.charge() {
            return Err(EIO);
        }
        let r = if h.size() == kernel::page::PAGE_SIZE {
            page.with_mut(|dst| store.pool.with_object(h, |src| dst.copy_from_slice(src)));
            Ok(())
        } else {
            store.comp.get().and_then(|mut strm| {
                page.with_mut(|dst| store.pool.with_object(h, |src| strm.decompress(src, dst)))
            })
        };
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
        m.index = Some(index);
        m.mode = mode;
        Ok(true)
    }

    /// Undoes [`Run::fill`] for a request that will not be submitted.
    fn unfill(&mut self, id: ReqId) {
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
            Some(m) => ReqMeta {
                index: m.index.take(),
                ..*m
            },
            None => ReqMeta::default(),
        };
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
            self.wb.blocks.free(dev, m.block);
            dev.wb.refund();
            self.bio_err = Some(e);
            return;
        }
        inc(&dev.stats.bd_writes);
        let idle_mode = m.mode.is_some_and(Mode::idle);
        if !unchanged || (idle_mode && f & IDLE == 0) {
            // Freed, rewritten or accessed meanwhile: keep the memory copy.
            slot.set_flags(f & !UNDER_WB);
            drop(slot);
            self.wb.blocks.free(dev, m.block);
            return;
        }
        dev.free_slot(store, &mut slot);
        slot.set_flags(0);
        *slot.data() = Content::Wb(m.block);
        drop(slot);
        inc(&dev.stats.pages_stored);
        // At most one per slot: this cannot saturate.
        self.written = self.written.saturating_add(1);
    }
}

/// Writes back the selected slots; returns the number written.
fn writeback(dev: &Device, store: &Store, wb: &WbStore, scans: &[Scan]) -> Result<usize> {
    let size = dev.wb.batch_size.load(Relaxed).max(1) as usize;
    let batch = Batch::new(&wb.dev, size)?;
    let meta = KVec::from_elem(ReqMeta::default(), batch.len(), GFP_KERNEL)?;
    let mut run = Run {
        dev,
        store,
        wb,
        batch,
        meta,
        bio_err: None,
        written: 0,
    };
    let mut plug = Plug::new()?;
    let (use_plug, contig) = (crate::glue::param_wb_plug(), crate::glue::param_wb_contig());
    let mut cursor = Cursor {
        scans,
        scan: 0,
        next: 0,
    };
    let mut filled = KVec::with_capacity(run.batch.len(), GFP_KERNEL)?;
    let mut exhausted = false;
    let mut stop: Option<Error> = None;
    loop {
        // 1. Fill every free request.
        while stop.is_none() && !exhausted {
            let Some(id) = run.batch.take_idle() else {
                break;
            };
            let mut got = false;
            for (index, mode) in cursor.by_ref() {
                match run.fill(&id, index, mode) {
                    Ok(true) => {
                        got = true;
                        break;
                    }
                    Ok(false) => {}
                    Err(e) => {
                        stop = Some(e);
                        break;
                    }
                }
            }
            if got {
                filled.push(id, GFP_KERNEL)?;
            } else {
                exhausted = stop.is_none();
                run.batch.put_idle(id);
            }
        }
        // 2. Give the filled requests consecutive blocks and submit them
        //    under one plug.
        if !filled.is_empty() {
            let ids = core::mem::replace(
                &mut filled,
                KVec::with_capacity(run.batch.len(), GFP_KERNEL)?,
            );
            let mut left = ids.len();
            let mut ids = ids.into_iter();
            let _plugged = use_plug.then(|| plug.start());
            while left > 0 {
                let Some(blocks) = wb.blocks.alloc_run(dev, left, contig) else {
                    stop = Some(ENOSPC);
                    for id in ids.by_ref() {
                        run.unfill(id);
                    }
                    break;
                };
                // The run has at most `left` blocks, so `left` does not
                // saturate, and the zip takes no id past the last block.
                for (block, id) in blocks.zip(ids.by_ref()) {
                    left = left.saturating_sub(1);
                    if let Some(m) = run.meta.get_mut(id.index()) {
                        m.block = block;
                    }
                    if let Err(id) = run.batch.submit(id, block) {
                        // Not a request of this batch (never happens).
                        wb.blocks.free(dev, block);
                        run.unfill(id);
                    }
                }
            }
        }
        if run.batch.outstanding() == 0 {
            break;
        }
        // 3. Reap: sleep only if no request is free or nothing is left
        //    to fill.
        let mut wait = stop.is_some() || exhausted || run.batch.idle_count() == 0;
        while let Some((id, r)) = run.batch.reap(wait) {
            wait = false;
            run.finish(id, r);
        }
    }
    pr_debug!(
        "writeback: {} written, stop {:?}, bio error {:?}\n",
        run.written,
        stop.map(|e| e.to_errno()),
        run.bio_err.map(|e| e.to_errno())
    );
    if let Some(e) = stop {
        return Err(e);
    }
    if let Some(e) = run.bio_err {
        return Err(e);
    }
    Ok(run.written)
}

// ---------------------------------------------------------------------------
// sysfs attributes.

pub(crate) fn backing_dev_show(dev: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> Result {
    let cfg = dev.init.read();
    match cfg.backing.as_ref() {
        Some(b) => emit(buf, format_args!("{}\n", b.path.to_str().unwrap_or("?"))),
        None => emit(buf, format_args!("none\n")),
    }
}

pub(crate) fn backing_dev_store(dev: &Device, _: &DiskRef<'_>, s: &str) -> Result {
    // Opening and releasing block devices happens under `cfg_lock` only,
    // outside `init` (see the lock order in `rzram.rs`).
    let _cfg_lock = dev.cfg_lock.lock();
    if dev.init.read().store.is_some() {
        pr_info!("Can't setup backing device for initialized device\n");
        return Err(EBUSY);
    }
    if s == "none" {
        let old = dev.init.write().backing.take();
        drop(old);
        return Ok(());
    }
    let name = CString::try_from_fmt(kernel::fmt!("{s}"))?;
    let bdev = BackingDev::open(&name, dev).inspect_err(|e| {
        pr_err!("backing_dev: cannot open {}: error {}\n", s, e.to_errno());
    })?;
    // Refuse a zero-sized device (this also prevents self reference).
    if bdev.nr_pages() == 0 {
        pr_err!("backing_dev: {} has no pages\n", s);
        return Err(EINVAL);
    }
    let path = canonical_path(&name)?;
    let old = dev
        .init
        .write()
        .backing
        .replace(BackingCfg { dev: bdev, path });
    drop(old);
    pr_info!("setup backing device {}\n", s);
    Ok(())
}

pub(crate) fn writeback_store(dev: &Device, _: &DiskRef<'_>, s: &str) -> Result {
    let _serial = dev.wb_lock.lock();
    let cfg = dev.init.read();
    let store = cfg.store.as_ref().ok_or(EINVAL)?;
    let wb = store.wb.as_ref().ok_or(ENODEV)?;
    let scans = parse_selection(s, store.slots.len())?;
    writeback(dev, store, wb, &scans).map(|_| ())
}

pub(crate) fn writeback_limit_show(
    dev: &Device,
    _: &DiskRef<'_>,
    buf: &mut SysfsBuf<'_>,
) -> Result {
    let _cfg = dev.init.read();
    emit(buf, format_args!("{}\n", dev.wb.limit.load(Relaxed)))
}

pub(crate) fn writeback_limit_store(dev: &Device, _: &DiskRef<'_>, s: &str) -> Result {
    let v = parse::kstrtoull(s, 10).map_err(|_| EINVAL)?;
    let _cfg = dev.init.read();
    dev.wb.limit.store(v, Relaxed);
    Ok(())
}

pub(crate) fn writeback_limit_enable_show(
    dev: &Device,
    _: &DiskRef<'_>,
    buf: &mut SysfsBuf<'_>,
) -> Result {
    let _cfg = dev.init.read();
    emit(
        buf,
        format_args!("{}\n", dev.wb.limit_enable.load(Relaxed) as u32),
    )
}

pub(crate) fn writeback_limit_enable_store(dev: &Device, _: &DiskRef<'_>, s: &str) -> Result {
    let v = parse::kstrtoull(s, 10).map_err(|_| EINVAL)?;
    let _cfg = dev.init.read();
    dev.wb.limit_enable.store(v != 0, Relaxed);
    Ok(())
}

pub(crate) fn writeback_batch_size_show(
    dev: &Device,
    _: &DiskRef<'_>,
    buf: &mut SysfsBuf<'_>,
) -> Result {
    emit(buf, format_args!("{}\n", dev.wb.batch_size.load(Relaxed)))
}

pub(crate) fn writeback_batch_size_store(dev: &Device, _: &DiskRef<'_>, s: &str) -> Result {
    let v = parse::kstrtoull(s, 10).map_err(|_| EINVAL)?;
    let v = u32::try_from(v).map_err(|_| EINVAL)?;
    if v == 0 {
        return Err(EINVAL);
    }
    // An atomic, read when a writeback starts: no lock, so that the store
    // neither waits for a running writeback nor holds up I/O behind it.
    dev.wb.batch_size.store(v, Relaxed);
    Ok(())
}

pub(crate) fn bd_stat_show(dev: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> Result {
    let _cfg = dev.init.read();
    let s = &dev.stats;
    let four = |v: u64| v << (kernel::page::PAGE_SHIFT - 12);
    emit(
        buf,
        format_args!(
            "{:8} {:8} {:8}\n",
            four(s.bd_count.load(Relaxed)),
            four(s.bd_reads.load(Relaxed)),
            four(s.bd_writes.load(Relaxed))
        ),
    )
}
