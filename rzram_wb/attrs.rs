// SPDX-License-Identifier: GPL-2.0

//! The writeback attributes under `/sys/block/rzramN/`.

use super::{run::writeback, select::parse_selection, BackingCfg};
use crate::glue::bdev::{canonical_path, BackingDev};
use crate::glue::disk::DiskRef;
use crate::glue::sysfs::SysfsBuf;
use crate::{emit, parse, Device};
use core::sync::atomic::Ordering::Relaxed;
use kernel::{prelude::*, str::BStr};

pub(crate) fn backing_dev_show(dev: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> Result {
    let cfg = dev.init.read();
    match cfg.backing.as_ref() {
        Some(b) => emit(buf, format_args!("{}\n", b.path.to_str().unwrap_or("?"))),
        None => emit(buf, format_args!("none\n")),
    }
}

pub(crate) fn backing_dev_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    // Opening and releasing block devices happens under `cfg_lock` only,
    // outside `init` (see the lock order in `rzram.rs`).
    let _cfg_lock = dev.cfg_lock.lock();
    if dev.io.is_some() {
        pr_info!("Can't setup backing device for initialized device\n");
        return Err(EBUSY);
    }
    // As zram, the path is whatever was written, trailing newline removed
    // (`s` is that, up to a NUL); a relative one is the writer's.
    let mut name = KVec::with_capacity(s.len().saturating_add(1), GFP_KERNEL)?;
    name.extend_from_slice(s, GFP_KERNEL)?;
    name.push(0, GFP_KERNEL)?;
    // `s` has no NUL (see `glue::sysfs`), so this is its only one.
    let name = CStr::from_bytes_with_nul(&name).map_err(|_| EINVAL)?;
    let shown = BStr::from_bytes(s);
    let bdev = BackingDev::open(name).inspect_err(|e| {
        pr_err!(
            "backing_dev: cannot open {}: error {}\n",
            shown,
            e.to_errno()
        );
    })?;
    // Refuse a zero-sized device (this also prevents self reference).
    if bdev.nr_pages() == 0 {
        pr_err!("backing_dev: {} has no pages\n", shown);
        return Err(EINVAL);
    }
    let path = canonical_path(name)?;
    let old = dev
        .init
        .write()
        .backing
        .replace(BackingCfg { dev: bdev, path });
    drop(old);
    pr_info!("setup backing device {}\n", shown);
    Ok(())
}

pub(crate) fn writeback_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    // In zram 6.16's order: uninitialised, busy, no backing device, then
    // the input.
    let store = dev.io.get().ok_or(EINVAL)?;
    let _running = dev.wb.begin()?;
    let wb = store.wb.as_ref().ok_or(ENODEV)?;
    let scans = parse_selection(s, store.slots.len())?;
    writeback(dev, &store, wb, &scans).map(|_| ())
}

pub(crate) fn writeback_limit_show(
    dev: &Device,
    _: &DiskRef<'_>,
    buf: &mut SysfsBuf<'_>,
) -> Result {
    let _cfg = dev.init.read();
    emit(buf, format_args!("{}\n", dev.wb.limit.load(Relaxed)))
}

pub(crate) fn writeback_limit_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
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

pub(crate) fn writeback_limit_enable_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
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

pub(crate) fn writeback_batch_size_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    let v = parse::kstrtoull(s, 10).map_err(|_| EINVAL)?;
    let v = u32::try_from(v).map_err(|_| EINVAL)?;
    if v == 0 {
        return Err(EINVAL);
    }
    if v > super::MAX_BATCH_SIZE {
        // Each request pins a page for the whole writeback.
        pr_err!(
            "writeback_batch_size {} is above the maximum {}\n",
            v,
            super::MAX_BATCH_SIZE
        );
        return Err(EINVAL);
    }
    // An atomic, read when a writeback starts: no lock, so that the store
    // neither waits for a running writeback nor holds up I/O behind it.
    dev.wb.batch_size.store(v, Relaxed);
    Ok(())
}

/// `compressed_writeback` (Linux 7.0): `0` or `1`.
pub(crate) fn compressed_writeback_show(
    dev: &Device,
    _: &DiskRef<'_>,
    buf: &mut SysfsBuf<'_>,
) -> Result {
    let v = dev.wb.compressed.load(Relaxed);
    emit(buf, format_args!("{}\n", v as u32))
}

/// `compressed_writeback` (Linux 7.0): `kstrtobool`, then `EBUSY` once
/// initialised; applies from the next `disksize`, and reset keeps it.
pub(crate) fn compressed_writeback_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    let v = parse::kstrtobool(s)?;
    // `cfg_lock` keeps the device uninitialised until the store below.
    let _cfg_lock = dev.cfg_lock.lock();
    if dev.io.is_some() {
        return Err(EBUSY);
    }
    dev.wb.compressed.store(v, Relaxed);
    Ok(())
}

pub(crate) fn bd_stat_show(dev: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> Result {
    let s = &dev.stats;
    let count = dev
        .io
        .get()
        .and_then(|st| st.wb.as_ref().map(|wb| wb.blocks().used()))
        .unwrap_or(0);
    let four = |v: u64| v << (kernel::page::PAGE_SHIFT - 12);
    emit(
        buf,
        format_args!(
            "{:8} {:8} {:8}\n",
            four(count),
            four(s.bd_reads.load(Relaxed)),
            four(s.bd_writes.load(Relaxed))
        ),
    )
}

/// `packed_writeback` (rzram): `0` or `1`.
pub(crate) fn packed_writeback_show(
    dev: &Device,
    _: &DiskRef<'_>,
    buf: &mut SysfsBuf<'_>,
) -> Result {
    let v = dev.wb.packed.load(Relaxed);
    emit(buf, format_args!("{}\n", v as u32))
}

/// `packed_writeback` (rzram): as `compressed_writeback`, `kstrtobool`,
/// then `EBUSY` once initialised; applies from the next `disksize`, with
/// `compressed_writeback` set too, and reset keeps it.
pub(crate) fn packed_writeback_store(dev: &Device, _: &DiskRef<'_>, s: &[u8]) -> Result {
    let v = parse::kstrtobool(s)?;
    let _cfg_lock = dev.cfg_lock.lock();
    if dev.io.is_some() {
        return Err(EBUSY);
    }
    dev.wb.packed.store(v, Relaxed);
    Ok(())
}

/// `packed_stat` (rzram): the objects in packed blocks, their bytes, the
/// blocks that hold them, the sparse ones among those (which lost an
/// object), and the bytes of sparse blocks that no live object holds.
/// Zeros without packing.
pub(crate) fn packed_stat_show(dev: &Device, _: &DiskRef<'_>, buf: &mut SysfsBuf<'_>) -> Result {
    let st = dev.io.get();
    let packs = st
        .as_ref()
        .and_then(|st| st.wb.as_ref())
        .and_then(|wb| wb.packs.as_ref());
    let (o, b, n, sp, d) = packs.map_or((0, 0, 0, 0, 0), |p| {
        let s = p.stat();
        (s.objects, s.bytes, s.blocks, s.sparse, s.sparse_dead)
    });
    emit(buf, format_args!("{o:8} {b:8} {n:8} {sp:8} {d:8}\n"))
}
