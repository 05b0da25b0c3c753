// SPDX-License-Identifier: GPL-2.0

//! Recompression, as zram 6.12 with `CONFIG_ZRAM_MULTI_COMP`: up to three
//! secondary algorithms (`recomp_algorithm`, priorities 1 to 3), and
//! `recompress`, which compresses stored pages again with them.
//!
//! A slot records the priority of the algorithm that compressed it in its
//! flags (see `slots`), so a read decompresses it with the right one.  A
//! slot that no secondary algorithm made smaller is marked
//! `INCOMPRESSIBLE`, which `recompress` then skips and the
//! `incompressible` writeback mode selects.
//!
//! # Locks
//!
//! `recompress` runs as a post-processing action: it shares zram's
//! `pp_in_progress` with writeback (`EAGAIN` if either runs), and holds
//! the store's I/O reference for its whole run, so a reset waits for it.
//! It recompresses one slot at a time under that slot's lock, as zram
//! does, and allocates the new object without direct reclaim.

use crate::glue::comp::{self, Compressor, MAX_COMPS};
use crate::glue::racy::Racy;
use crate::glue::sysfs::SysfsBuf;
use crate::glue::zsmalloc::ZsGfp;
use crate::glue::{self, disk::DiskRef};
use crate::slots::{self, Content, Slot, HUGE, IDLE, INCOMPRESSIBLE, UNDER_WB};
use crate::{emit, inc, parse, Config, Device, Store};
use core::sync::atomic::Ordering::Relaxed;
use kernel::prelude::*;

/// Secondary algorithms: one per priority 1 to 3.
const SECONDARIES: usize = MAX_COMPS - 1;

/// The configured `recomp_algorithm` names, by priority 1 to 3.
pub(crate) type Names = [Option<&'static CStr>; SECONDARIES];

/// The secondary compressors of an initialised device.
#[derive(Default)]
pub(crate) struct Secondaries([Option<Compressor>; SECONDARIES]);

/// What `disksize` builds the secondaries from: each configured name, with
/// a copy of its priority's `algorithm_params`.
pub(crate) struct Plan([Option<(&'static CStr, comp::Params)>; SECONDARIES]);

impl Plan {
    /// The plan of `cfg`'s secondaries.
    pub(crate) fn of(cfg: &Config) -> Result<Self> {
        let mut plan = Plan(Default::default());
        let named = cfg.recomp_algs.iter().zip(cfg.comp_params.iter().skip(1));
        for (dst, (name, params)) in plan.0.iter_mut().zip(named) {
            if let Some(name) = name {
                *dst = Some((*name, params.try_clone()?));
            }
        }
        Ok(plan)
    }
}

impl Secondaries {
    /// Builds the compressors of `plan`, as zram's `disksize_store` does
    /// for every configured priority.
    pub(crate) fn new(plan: Plan) -> Result<Self> {
        let mut comps = Secondaries::default();
        for (dst, entry) in comps.0.iter_mut().zip(plan.0) {
            if let Some((name, params)) = entry {
                let c = Compressor::new(name, params).inspect_err(|_| {
                    pr_err!("Cannot initialise {} compressing backend\n", name);
                })?;
                *dst = Some(c);
            }
        }
        Ok(comps)
    }

    /// The compressor of priority `prio` (1 to 3), if configured.
    pub(crate) fn get(&self, prio: usize) -> Option<&Compressor> {
        self.0.get(prio.checked_sub(1)?)?.as_ref()
    }

    /// How many secondaries there are (zram's `num_active_comps - 1`).
    fn count(&self) -> usize {
        self.0.iter().filter(|c| c.is_some()).count()
    }
}

/// `recomp_algorithm` (read): `#P: ` and the algorithm list for every
/// configured priority.
pub(crate) fn recomp_algorithm_show(
    dev: &Device,
    _: &DiskRef<'_>,
    buf: &mut SysfsBuf<'_>,
) -> Result {
    let cfg = dev.init.read();
    for (i, name) in cfg.recomp_algs.iter().enumerate() {
        if let Some(name) = name {
            emit(buf, format_args!("#{}: ", i + 1))?;
            crate::algorithms_show(buf, name)?;
        }
    }
    Ok(())
}

/// `recomp_algorithm` (write), as zram 6.12: `algo=NAME` (required) and
/// `priority=N` (1 to 3, default 1); `EBUSY` once initialised.
pub(crate) fn recomp_algorithm_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    let (mut prio, mut alg) = (1i32, None);
    parse::for_each_param(s, |key, val| {
        match key {
            b"algo" => alg = Some(val),
            b"priority" => prio = parse::kstrtoint(val)?,
            _ => {}
        }
        Ok(())
    })?;
    let alg = alg.ok_or(EINVAL)?;
    let idx = usize::try_from(prio)
        .ok()
        .and_then(|p| p.checked_sub(1))
        .filter(|&i| i < SECONDARIES)
        .ok_or(EINVAL)?;
    let alg = crate::find_algorithm(alg)?;
    let _cfg_lock = dev.cfg_lock.lock();
    // As `comp_algorithm_store`: refused without waiting on `init`.
    if dev.io.is_some() {
        pr_info!("Can't change algorithm for initialized device\n");
        return Err(EBUSY);
    }
    if let Some(dst) = dev.init.write().recomp_algs.get_mut(idx) {
        *dst = Some(alg);
    }
    Ok(())
}

/// The priority of the algorithm named `name`, primary first, as zram's
/// lookup in `algorithm_params_store`.
pub(crate) fn priority_of(cfg: &Config, name: &[u8]) -> Option<usize> {
    if cfg.comp_alg.as_bytes() == name {
        return Some(0);
    }
    let i = cfg
        .recomp_algs
        .iter()
        .position(|a| a.is_some_and(|a| a.as_bytes() == name))?;
    Some(i + 1)
}

/// Which slots `recompress` takes (`type=`).
#[derive(Clone, Copy, Default)]
struct Mode {
    /// Only slots marked idle.
    idle: bool,
    /// Only huge (stored raw) slots.
    huge: bool,
}

/// A parsed `recompress` request.
struct Request<'a> {
    /// `type=`; both false: every slot.
    mode: Mode,
    /// Pages left to try (`max_pages=`, unlimited by default).
    budget: u64,
    /// Only objects at least this large, and only results below it.
    threshold: usize,
    /// `algo=`: only the secondary so named.
    algo: Option<&'a [u8]>,
    /// Priorities `prio..prio_max` are tried.
    prio: usize,
    prio_max: usize,
}

impl<'a> Request<'a> {
    /// Parses as zram 6.12's `recompress_store`: unknown keys and `type`
    /// values are ignored, a key without a value is `EINVAL`.
    fn parse(s: &'a [u8]) -> Result<Self> {
        let mut r = Request {
            mode: Mode::default(),
            budget: u64::MAX,
            threshold: 0,
            algo: None,
            prio: 1,
            prio_max: MAX_COMPS,
        };
        parse::for_each_param(s, |key, val| {
            match key {
                b"type" => {
                    let (idle, huge) = match val {
                        b"idle" => (true, false),
                        b"huge" => (false, true),
                        b"huge_idle" => (true, true),
                        _ => (r.mode.idle, r.mode.huge),
                    };
                    r.mode = Mode { idle, huge };
                }
                b"max_pages" => r.budget = parse::kstrtoull(val, 10)?,
                b"threshold" => r.threshold = parse::kstrtouint(val)? as usize,
                b"algo" => r.algo = Some(val),
                b"priority" => {
                    r.prio = (parse::kstrtouint(val)? as usize).max(1);
                    r.prio_max = r.prio.saturating_add(1).min(MAX_COMPS);
                }
                _ => {}
            }
            Ok(())
        })?;
        Ok(r)
    }

    /// Narrows the priorities to the algorithm named by `algo=`, searched
    /// from `prio` on: `EINVAL` if no secondary at or above it has it.
    fn resolve_algo(&mut self, cfg: &Config) -> Result {
        let Some(algo) = self.algo else {
            return Ok(());
        };
        let found = (self.prio..MAX_COMPS).find(|&p| {
            let name = p.checked_sub(1).and_then(|i| cfg.recomp_algs.get(i));
            name.copied()
                .flatten()
                .is_some_and(|n| n.as_bytes() == algo)
        });
        let p = found.ok_or(EINVAL)?;
        self.prio = p;
        self.prio_max = (p + 1).min(MAX_COMPS);
        Ok(())
    }
}

/// `recompress` (write), as zram 6.12's `recompress_store`.
pub(crate) fn recompress_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    let mut req = Request::parse(s)?;
    // zram checks the threshold against the huge class size before it
    // knows whether the device is initialised; both are `EINVAL`.
    let store = dev.io.get().ok_or(EINVAL)?;
    if req.threshold >= store.huge_class_size {
        return Err(EINVAL);
    }
    let _running = dev.wb.begin()?;
    req.resolve_algo(&dev.init.read())?;
    let mut bounce = store.bounce.get()?;
    let mut page = bounce.page_mut();
    for index in 0..store.slots.len() {
        if req.budget == 0 {
            break;
        }
        let slot = store.slots.lock(index)?;
        let f = slot.flags();
        let skip = !matches!(slot.data_ref(), Content::Zs(_))
            || (req.mode.idle && f & IDLE == 0)
            || (req.mode.huge && f & HUGE == 0)
            || f & (UNDER_WB | INCOMPRESSIBLE) != 0;
        if !skip {
            // Unlocks the slot.
            page.with_mut(|buf| dev.recompress_slot(&store, slot, buf, &mut req))?;
        } else {
            drop(slot);
        }
        // The slot lock (which disables preemption) is dropped by now.
        glue::cond_resched();
    }
    Ok(())
}

impl Device {
    /// Recompresses the locked `Zs` slot, as zram's `zram_recompress`:
    /// decompresses it into `buf` (a page), then tries the secondaries of
    /// `req`'s priorities above the slot's own, in order, until one puts
    /// it in a smaller size class (and under the threshold, if any).
    fn recompress_slot(
        &self,
        store: &Store,
        mut slot: Slot<'_>,
        buf: &mut [u8],
        req: &mut Request<'_>,
    ) -> Result {
        let flags = slot.flags();
        let Content::Zs(h) = slot.data_ref() else {
            return Err(EINVAL);
        };
        let old_len = h.size();
        if old_len < req.threshold {
            return Ok(());
        }
        store.decompress(flags, h, buf)?;
        // Touched: no longer idle, so another post-processing pass does
        // not pick it by a stale mark.
        slot.set_flags(flags & !IDLE);
        let class_old = store.pool.class_index(old_len);
        let (mut tried, mut progress) = (0, false);
        for prio in req.prio..req.prio_max {
            let Some(comp) = store.comps.recomp.get(prio) else {
                continue;
            };
            // Already compressed by this priority or a later one.
            if prio <= slots::priority(flags) {
                continue;
            }
            tried += 1;
            let mut strm = comp.get()?;
            let out = strm.compress(Racy::from_slice(buf))?;
            progress = store.pool.class_index(out.len()) < class_old;
            if !progress || (req.threshold != 0 && out.len() >= req.threshold) {
                continue;
            }
            // Taken by the write below, after which `out` is not used.
            req.budget = req.budget.saturating_sub(1);
            let h = store.pool.malloc(out.len(), ZsGfp::NoReclaim)?;
            if let Err(e) = store.pool.write(&h, Racy::from_slice(out)) {
                store.pool.free(h);
                return Err(e);
            }
            drop(strm);
            self.free_slot(store, &mut slot);
            self.stats
                .compr_data_size
                .fetch_add(h.size() as u64, Relaxed);
            *slot.data() = Content::Zs(h);
            slot.set_flags(slots::with_priority(0, prio));
            inc(&self.stats.pages_stored);
            return Ok(());
        }
        if tried == 0 {
            return Ok(());
        }
        // Tried, and no attempt was kept: it still counts against
        // `max_pages`.
        req.budget = req.budget.saturating_sub(1);
        // Every secondary tried without saving a size class.
        if !progress && tried == store.comps.recomp.count() {
            let f = slot.flags();
            slot.set_flags(f | INCOMPRESSIBLE);
        }
        Ok(())
    }
}
