// SPDX-License-Identifier: GPL-2.0

//! A bio-based generic disk.
//!
//! 6.12's `kernel::block::mq::gen_disk` only covers blk-mq.  zram, and so
//! rzram, is bio-based: it has its own `submit_bio` and no request queue
//! machinery.  This module is the equivalent of `gen_disk.rs` for that case.
//!
//! C header: [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h)

use super::debugfs::{self, DebugRead, Dir};
use super::{bio::Bio, ffi, sysfs::AttrGroup, Shared};
use core::fmt::Write;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::{
    bindings,
    error::{from_err_ptr, to_result, Result},
    prelude::*,
    types::ScopeGuard,
};

/// `BLK_FEAT_STABLE_WRITES` (checked against the C value in the shim).
const BLK_FEAT_STABLE_WRITES: u32 = 1 << 5;
/// `BLK_FEAT_SYNCHRONOUS` (checked against the C value in the shim).
const BLK_FEAT_SYNCHRONOUS: u32 = 1 << 6;
/// Sector size of the block layer.
pub(crate) const SECTOR_SHIFT: u32 = 9;

/// The callbacks a bio-based disk's private data implements.
pub(crate) trait DiskOps: Sync + Sized {
    /// Serves one bio.  The bio must be ended, which `Bio` guarantees.
    fn submit_bio(&self, disk: &DiskRef<'_>, bio: Bio);

    /// Called with the disk's `open_mutex` held when the disk is opened.
    fn open(&self) -> Result {
        Ok(())
    }

    /// The swap layer freed the swap slot at page `index`.
    fn swap_slot_free_notify(&self, _index: u64) {}
}

/// A registered block device major number, released on drop.
///
/// # Invariants
///
/// `major` was returned by `__register_blkdev` for `name` and is not yet
/// unregistered.
pub(crate) struct Major {
    major: u32,
    name: &'static CStr,
}

impl Major {
    /// Registers a dynamically allocated major for `name`.
    pub(crate) fn register(name: &'static CStr) -> Result<Self> {
        // SAFETY: `name` is a valid NUL-terminated string that lives
        // forever; no probe function is passed.
        let ret = unsafe { bindings::__register_blkdev(0, name.as_char_ptr(), None) };
        if ret <= 0 {
            return Err(if ret < 0 {
                Error::from_errno(ret)
            } else {
                EBUSY
            });
        }
        // INVARIANT: registration just succeeded.
        Ok(Self {
            major: ret as u32,
            name,
        })
    }
}

impl Drop for Major {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the major is registered for `name`.
        unsafe { bindings::unregister_blkdev(self.major, self.name.as_char_ptr()) };
    }
}

/// The operations table for disks whose private data is `T`.
pub(crate) struct DiskVtable(Shared<bindings::block_device_operations>);

impl DiskVtable {
    /// Builds the table.  It must live in a `static` of the module, since
    /// its `owner` pins the module while a disk is open.
    pub(crate) const fn new<T: DiskOps>() -> Self {
        Self(Shared::new(bindings::block_device_operations {
            submit_bio: Some(submit_bio_callback::<T>),
            open: Some(open_callback::<T>),
            swap_slot_free_notify: Some(swap_slot_free_notify_callback::<T>),
            owner: &raw const bindings::__this_module as *mut bindings::module,
            // SAFETY: All other members are optional callbacks or pointers,
            // for which all-zeroes means "absent".
            ..unsafe { core::mem::zeroed() }
        }))
    }
}

/// Returns the private data of `disk`.
///
/// # Safety
///
/// `disk` must be a live disk created by [`Disk::new`] with data `T`.
unsafe fn disk_data<'a, T>(disk: *mut bindings::gendisk) -> &'a T {
    // SAFETY: `Disk::new` set `private_data` to a `T` that outlives the
    // gendisk's registration, and callbacks only run while it is registered.
    unsafe { &*((*disk).private_data as *const T) }
}

/// `submit_bio` of our disks.
///
/// # Safety
///
/// Called by the block layer with a live bio of a disk created by
/// [`Disk::new`] with data `T`.
unsafe extern "C" fn submit_bio_callback<T: DiskOps>(bio: *mut bindings::bio) {
    // SAFETY: The block layer passes a live bio whose `bi_bdev` belongs to
    // one of our disks.
    let gendisk = unsafe { (*(*bio).bi_bdev).bd_disk };
    // SAFETY: `gendisk` is one of our live disks with data `T`.
    let data = unsafe { disk_data::<T>(gendisk) };
    // SAFETY: The block layer handed us this bio to complete.
    if let Some(bio) = unsafe { Bio::from_raw(bio) } {
        // INVARIANT: `gendisk` is live for the duration of the callback.
        let disk = DiskRef {
            // SAFETY: `gendisk` is not null, it came from a live bdev.
            ptr: unsafe { NonNull::new_unchecked(gendisk) },
            _p: PhantomData,
        };
        data.submit_bio(&disk, bio);
    }
}

/// `open` of our disks.
///
/// # Safety
///
/// Called by the block layer, `open_mutex` held, for a live disk created by
/// [`Disk::new`] with data `T`.
unsafe extern "C" fn open_callback<T: DiskOps>(
    disk: *mut bindings::gendisk,
    _mode: bindings::blk_mode_t,
) -> kernel::ffi::c_int {
    // SAFETY: The block layer opens only live disks, ours carry data `T`.
    let data = unsafe { disk_data::<T>(disk) };
    match data.open() {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `swap_slot_free_notify` of our disks.
///
/// # Safety
///
/// Called by the swap layer with an open block device of a disk created by
/// [`Disk::new`] with data `T`.
unsafe extern "C" fn swap_slot_free_notify_callback<T: DiskOps>(
    bdev: *mut bindings::block_device,
    offset: kernel::ffi::c_ulong,
) {
    // SAFETY: The swap layer passes an open bdev of one of our disks.
    let data = unsafe { disk_data::<T>((*bdev).bd_disk) };
    data.swap_slot_free_notify(offset as u64);
}

/// A borrowed, registered disk, as seen from inside a callback.
///
/// # Invariants
///
/// `ptr` points to a live gendisk for `'a`.
pub(crate) struct DiskRef<'a> {
    ptr: NonNull<bindings::gendisk>,
    _p: PhantomData<&'a ()>,
}

impl DiskRef<'_> {
    /// The disk's name, such as `rzram0`.
    pub(crate) fn name(&self) -> &CStr {
        // SAFETY: The disk is live (type invariant); `disk_name` is set
        // before the disk was added and not changed afterwards, and its
        // `c_char`s have the size and alignment of `u8`.
        let name = unsafe {
            let name = &(*self.ptr.as_ptr()).disk_name;
            core::slice::from_raw_parts(name.as_ptr().cast::<u8>(), name.len())
        };
        // `NameWriter` leaves the last byte NUL, so the fallback is never
        // taken.
        super::cstr_prefix(name).unwrap_or(kernel::c_str!(""))
    }

    /// Runs `f` with the disk's `open_mutex` held and the number of current
    /// openers.  Opens wait for `f` to finish, so state that `f` sets (such
    /// as a claim that [`DiskOps::open`] checks) is seen by every later open.
    pub(crate) fn with_open_lock<R>(&self, f: impl FnOnce(u32) -> R) -> R {
        let disk = self.ptr.as_ptr();
        // SAFETY: The disk is live (type invariant).
        unsafe { ffi::rzram_disk_open_lock(disk) };
        // SAFETY: `open_mutex` is held, as `disk_openers` requires for a
        // stable answer.
        let openers = unsafe { ffi::rzram_disk_openers(disk) };
        let r = f(openers);
        // SAFETY: Locked above by this thread.
        unsafe { ffi::rzram_disk_open_unlock(disk) };
        r
    }
}

/// Queue limits and identity of a new disk.
pub(crate) struct DiskConfig<'a> {
    pub(crate) major: &'a Major,
    pub(crate) first_minor: u32,
    /// Limit on discard and write-zeroes sizes, in sectors (0: unsupported).
    pub(crate) max_discard_sectors: u32,
    pub(crate) block_size: u32,
}

/// A bio-based gendisk that owns its private data `T`.
///
/// # Invariants
///
/// - `gendisk` points to a valid gendisk that was added with
///   `device_add_disk`, whose `private_data` points to `*data` and whose
///   `fops` is a `DiskVtable` built for `T`.
/// - `data` outlives the registration: `Drop` deletes the disk before the
///   data is dropped.
pub(crate) struct Disk<T: DiskOps> {
    gendisk: NonNull<bindings::gendisk>,
    data: Pin<KBox<T>>,
    /// The disk's debugfs directory, whose files point to `data`: removed
    /// first on drop.
    debug: Option<Dir>,
}

// SAFETY: The gendisk pointer may be used from any thread, and `T` is
// `Sync` (required by `DiskOps`) and owned.
unsafe impl<T: DiskOps + Send> Send for Disk<T> {}
// SAFETY: Shared access only reaches `T` by `&` and the gendisk through
// its own locking.
unsafe impl<T: DiskOps + Send> Sync for Disk<T> {}

impl<T: DiskOps> Disk<T> {
    /// Allocates a disk named by `name`, capacity 0, attaches `data`, the
    /// operations `vtable` (built for `T`) and the sysfs `groups`, and adds
    /// it to the system.
    pub(crate) fn new(
        cfg: DiskConfig<'_>,
        name: core::fmt::Arguments<'_>,
        vtable: &'static DiskVtable,
        groups: &'static AttrGroup<T>,
        data: Pin<KBox<T>>,
    ) -> Result<Self> {
        // SAFETY: `queue_limits` is a C struct of plain integers for which
        // all-zeroes means "use the default".
        let mut lim: bindings::queue_limits = unsafe { core::mem::zeroed() };
        lim.logical_block_size = cfg.block_size;
        lim.physical_block_size = cfg.block_size;
        lim.io_min = cfg.block_size;
        lim.io_opt = cfg.block_size;
        lim.max_hw_discard_sectors = cfg.max_discard_sectors;
        lim.max_write_zeroes_sectors = cfg.max_discard_sectors;
        lim.features = BLK_FEAT_STABLE_WRITES | BLK_FEAT_SYNCHRONOUS;

        // SAFETY: `lim` is a valid limits struct, copied by the callee.
        let gendisk = from_err_ptr(unsafe { ffi::rzram_blk_alloc_disk(&mut lim) })?;
        let cleanup = ScopeGuard::new_with_data(gendisk, |gendisk| {
            // SAFETY: `gendisk` came from `__blk_alloc_disk` and was not
            // added on this failure path.
            unsafe { bindings::put_disk(gendisk) };
        });

        // SAFETY: `gendisk` is valid and not yet visible to anyone else, so
        // we have exclusive access to its fields.
        let raw = unsafe { &mut *gendisk };
        raw.major = cfg.major.major as i32;
        raw.first_minor = cfg.first_minor as i32;
        raw.minors = 1;
        raw.flags |= bindings::GENHD_FL_NO_PART as i32;
        raw.fops = vtable.0.get();
        raw.private_data = (&*data as *const T).cast_mut().cast();
        let mut w = NameWriter {
            buf: &mut raw.disk_name,
            pos: 0,
        };
        w.write_fmt(name)?;

        // SAFETY: `gendisk` is valid; capacity 0 until the driver sets one.
        unsafe { bindings::set_capacity(gendisk, 0) };

        // SAFETY: `gendisk` is fully set up; `groups` is a static,
        // NULL-terminated group list that outlives the disk.
        to_result(unsafe {
            bindings::device_add_disk(core::ptr::null_mut(), gendisk, groups.as_raw())
        })?;
        cleanup.dismiss();

        // INVARIANT: added above with `private_data` pointing into `data`.
        Ok(Self {
            // SAFETY: `from_err_ptr` succeeded, so `gendisk` is not null.
            gendisk: unsafe { NonNull::new_unchecked(gendisk) },
            data,
            debug: None,
        })
    }

    /// Gives the disk a debugfs directory named as the disk under
    /// `parent`, holding read-only file `file` that shows `T::read`.  As
    /// zram, nothing happens if debugfs cannot make them.
    pub(crate) fn add_debugfs(&mut self, parent: &Dir, file: &CStr)
    where
        T: DebugRead,
    {
        let disk = self.disk();
        let Some(dir) = Dir::new(disk.name(), Some(parent)) else {
            return;
        };
        // SAFETY: `data` is boxed (its address is fixed) and dropped only
        // after `dir`: `Drop` removes the directory first.
        unsafe { debugfs::add_file(&dir, file, &*self.data as *const T) };
        self.debug = Some(dir);
    }

    /// The disk's private data.
    pub(crate) fn data(&self) -> &T {
        &self.data
    }

    /// The disk itself.
    pub(crate) fn disk(&self) -> DiskRef<'_> {
        // INVARIANT: the gendisk is live while `self` is.
        DiskRef {
            ptr: self.gendisk,
            _p: PhantomData,
        }
    }
}

impl<T: DiskOps> Drop for Disk<T> {
    fn drop(&mut self) {
        // The debug files go first: they read `data`.
        drop(self.debug.take());
        // SAFETY: By the type invariant the disk was added.  `del_gendisk`
        // removes sysfs attributes (waiting for running callbacks) and
        // stops new I/O before `data` is dropped after this function.
        unsafe { bindings::del_gendisk(self.gendisk.as_ptr()) };
        // SAFETY: Drops the reference from `__blk_alloc_disk`.
        unsafe { bindings::put_disk(self.gendisk.as_ptr()) };
    }
}

/// Writes a disk name into the fixed-size, NUL-terminated `disk_name`.
struct NameWriter<'a> {
    buf: &'a mut [kernel::ffi::c_char; 32],
    pos: usize,
}

impl Write for NameWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        // Keep room for the terminating NUL (the array starts zeroed).
        let Some((_, room)) = self.buf.split_last_mut() else {
            return Err(core::fmt::Error);
        };
        for &b in s.as_bytes() {
            let Some(c) = room.get_mut(self.pos) else {
                return Err(core::fmt::Error);
            };
            *c = b as kernel::ffi::c_char;
            self.pos += 1;
        }
        Ok(())
    }
}

/// Returns the data of the disk whose `struct device` is `dev`.
///
/// # Safety
///
/// `dev` must be the device of a live disk created by [`Disk::new`] with
/// data `T` (as it is in the sysfs callbacks of its attribute groups).
pub(super) unsafe fn dev_data<'a, T: DiskOps>(dev: *mut bindings::device) -> (&'a T, DiskRef<'a>) {
    // SAFETY: By the caller's guarantee, `dev` is embedded in a gendisk.
    let gendisk = unsafe { ffi::rzram_dev_to_disk(dev) };
    // SAFETY: That gendisk is live and carries data `T`.
    let data = unsafe { disk_data::<T>(gendisk) };
    // INVARIANT: the gendisk is live while its sysfs callback runs.
    let disk = DiskRef {
        // SAFETY: `dev_to_disk` of a disk's device is not null.
        ptr: unsafe { NonNull::new_unchecked(gendisk) },
        _p: PhantomData,
    };
    (data, disk)
}

impl DiskRef<'_> {
    /// Sets the capacity in sectors and tells user space about the change.
    pub(crate) fn set_capacity_and_notify(&self, sectors: u64) {
        // SAFETY: The disk is live (type invariant); the function takes
        // its own locks.
        unsafe { bindings::set_capacity_and_notify(self.ptr.as_ptr(), sectors) };
    }

    /// Zeroes the disk's I/O statistics (`/sys/block/<disk>/stat`), as
    /// zram's reset does with `part_stat_set_all`.
    pub(crate) fn clear_io_stats(&self) {
        // SAFETY: The disk is live (type invariant), so `part0` and its
        // per-CPU statistics exist.
        unsafe { ffi::rzram_part_stat_clear(self.ptr.as_ptr()) };
    }

    /// Writes back and waits for the disk's dirty page cache
    /// (`sync_blockdev(disk->part0)`).
    pub(crate) fn sync(&self) -> Result {
        // SAFETY: The disk is live, so `part0` is its valid whole-disk
        // block device.
        to_result(unsafe { bindings::sync_blockdev((*self.ptr.as_ptr()).part0) })
    }
}
