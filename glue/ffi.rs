// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C shim (`rzram_shim.c`).
//!
//! Each function is a one-line wrapper around a static inline function or a
//! macro that bindgen cannot translate.  The signatures here must match the
//! prototypes in `rzram_shim.c`.

use kernel::bindings;

#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rzram_num_devices() -> u32;
    pub(crate) fn rzram_wb_plug() -> bool;
    pub(crate) fn rzram_rb_chain() -> bool;
    pub(crate) fn rzram_wb_bio_pages() -> u32;
    pub(crate) fn rzram_wb_contig() -> bool;
    pub(crate) fn rzram_wb_packed() -> bool;
    pub(crate) fn rzram_dev_to_disk(dev: *mut bindings::device) -> *mut bindings::gendisk;
    pub(crate) fn rzram_disk_openers(disk: *mut bindings::gendisk) -> u32;
    pub(crate) fn rzram_bio_op(bio: *const bindings::bio) -> u32;
    pub(crate) fn rzram_bio_io_error(bio: *mut bindings::bio);
    pub(crate) fn rzram_bio_iter_iovec(
        bio: *mut bindings::bio,
        iter: bindings::bvec_iter,
    ) -> bindings::bio_vec;
    pub(crate) fn rzram_bio_advance_iter_single(
        bio: *mut bindings::bio,
        iter: *mut bindings::bvec_iter,
        bytes: u32,
    );
    pub(crate) fn rzram_kmap_local_page(page: *mut bindings::page) -> *mut core::ffi::c_void;
    pub(crate) fn rzram_kunmap_local(addr: *const core::ffi::c_void);
}

#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rzram_part_stat_clear(disk: *mut bindings::gendisk);
    pub(crate) fn rzram_disk_open_lock(disk: *mut bindings::gendisk);
    pub(crate) fn rzram_disk_open_unlock(disk: *mut bindings::gendisk);
}

/// `struct zs_pool` (opaque).
#[repr(C)]
pub(crate) struct ZsPoolRaw {
    _p: [u8; 0],
}

/// `zstd_compression_parameters` (`ZSTD_compressionParameters` in
/// `include/linux/zstd_lib.h`).  Only passed back to zstd, never read;
/// `rzram_shim.c` checks the size at build time.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct ZstdCParams {
    pub(crate) window_log: u32,
    pub(crate) chain_log: u32,
    pub(crate) hash_log: u32,
    pub(crate) search_log: u32,
    pub(crate) min_match: u32,
    pub(crate) target_length: u32,
    /// `ZSTD_strategy`, a C enum.
    pub(crate) strategy: u32,
}

/// `zstd_frame_parameters` (`ZSTD_frameParameters`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct ZstdFParams {
    pub(crate) content_size_flag: i32,
    pub(crate) checksum_flag: i32,
    pub(crate) no_dict_id_flag: i32,
}

/// `zstd_parameters` (`ZSTD_parameters`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct ZstdParams {
    pub(crate) c: ZstdCParams,
    pub(crate) f: ZstdFParams,
}

/// `zstd_cctx` (opaque).
#[repr(C)]
pub(crate) struct ZstdCctx {
    _p: [u8; 0],
}

/// `zstd_dctx` (opaque).
#[repr(C)]
pub(crate) struct ZstdDctx {
    _p: [u8; 0],
}

/// `enum zs_mapmode`.
pub(crate) const ZS_MM_RO: u32 = 1;
/// `enum zs_mapmode`.
pub(crate) const ZS_MM_WO: u32 = 2;

// Exported functions of mm/zsmalloc.c and lib/zstd, which 6.12's
// bindings do not include (`linux/zsmalloc.h` and `linux/zstd.h` are not
// in `bindings_helper.h`).  Prototypes copied from those headers.
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn zs_create_pool(name: *const u8) -> *mut ZsPoolRaw;
    pub(crate) fn zs_destroy_pool(pool: *mut ZsPoolRaw);
    pub(crate) fn zs_malloc(pool: *mut ZsPoolRaw, size: usize, flags: u32) -> usize;
    pub(crate) fn zs_free(pool: *mut ZsPoolRaw, obj: usize);
    pub(crate) fn zs_huge_class_size(pool: *mut ZsPoolRaw) -> usize;
    pub(crate) fn zs_lookup_class_index(pool: *mut ZsPoolRaw, size: u32) -> u32;
    pub(crate) fn zs_map_object(pool: *mut ZsPoolRaw, handle: usize, mm: u32) -> *mut u8;
    pub(crate) fn zs_unmap_object(pool: *mut ZsPoolRaw, handle: usize);
    pub(crate) fn zs_get_total_pages(pool: *mut ZsPoolRaw) -> usize;
    pub(crate) fn zs_compact(pool: *mut ZsPoolRaw) -> usize;
    pub(crate) fn zs_pool_stats(pool: *mut ZsPoolRaw, stats: *mut usize);

    // lib/zstd (include/linux/zstd.h), which zram 6.12's zstd backend
    // calls directly.
    pub(crate) fn zstd_default_clevel() -> i32;
    pub(crate) fn zstd_get_params(level: i32, estimated_src_size: u64) -> ZstdParams;
    pub(crate) fn zstd_cctx_workspace_bound(cparams: *const ZstdCParams) -> usize;
    pub(crate) fn zstd_init_cctx(workspace: *mut u8, workspace_size: usize) -> *mut ZstdCctx;
    pub(crate) fn zstd_compress_cctx(
        cctx: *mut ZstdCctx,
        dst: *mut u8,
        dst_capacity: usize,
        src: *const u8,
        src_size: usize,
        parameters: *const ZstdParams,
    ) -> usize;
    pub(crate) fn zstd_dctx_workspace_bound() -> usize;
    pub(crate) fn zstd_init_dctx(workspace: *mut u8, workspace_size: usize) -> *mut ZstdDctx;
    pub(crate) fn zstd_decompress_dctx(
        dctx: *mut ZstdDctx,
        dst: *mut u8,
        dst_capacity: usize,
        src: *const u8,
        src_size: usize,
    ) -> usize;
    pub(crate) fn zstd_is_error(code: usize) -> u32;

    pub(crate) fn rzram_kvzalloc(size: usize) -> *mut core::ffi::c_void;
    pub(crate) fn rzram_kvfree(addr: *mut core::ffi::c_void);
    pub(crate) fn rzram_read_file(path: *const u8, buf: *mut *mut core::ffi::c_void) -> isize;
    pub(crate) fn rzram_get_cpu() -> u32;
    pub(crate) fn rzram_put_cpu();
    pub(crate) fn rzram_nr_cpu_ids() -> u32;
    pub(crate) fn rzram_num_online_cpus() -> u32;
    pub(crate) fn rzram_cond_resched();
    pub(crate) fn rzram_preempt_disable();
    pub(crate) fn rzram_preempt_enable();
    pub(crate) fn rzram_cpu_relax();
    pub(crate) fn rzram_ktime_get_boottime_seconds() -> i64;
}

extern "C" {
    pub(crate) fn rzram_gfp_zs_fast() -> u32;
    pub(crate) fn rzram_gfp_zs_slow() -> u32;
}

// fs/namei.c (namei.h is not in 6.12's bindings).
#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn kern_path(
        name: *const kernel::ffi::c_char,
        flags: u32,
        path: *mut bindings::path,
    ) -> kernel::ffi::c_int;
}

#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rzram_init_rwsem(sem: *mut bindings::rw_semaphore);
    pub(crate) fn rzram_alloc_page_kernel() -> *mut bindings::page;
}

#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rzram_spin_lock_irqsave(lock: *mut bindings::spinlock_t) -> usize;
    pub(crate) fn rzram_spin_unlock_irqrestore(lock: *mut bindings::spinlock_t, flags: usize);
    pub(crate) fn rzram_bdev_nr_sectors(bdev: *mut bindings::block_device) -> u64;
    pub(crate) fn rzram_file_is_blkdev(file: *mut bindings::file) -> bool;
    pub(crate) fn rzram_warn_leak();
    pub(crate) fn rzram_default_algorithm() -> *const kernel::ffi::c_char;
    pub(crate) fn rzram_debugfs_create_dir(
        name: *const kernel::ffi::c_char,
        parent: *mut bindings::dentry,
    ) -> *mut bindings::dentry;
    pub(crate) fn rzram_debugfs_create_file(
        name: *const kernel::ffi::c_char,
        mode: bindings::umode_t,
        parent: *mut bindings::dentry,
        data: *mut core::ffi::c_void,
        fops: *const bindings::file_operations,
    );
    pub(crate) fn rzram_debugfs_remove(dentry: *mut bindings::dentry);
    pub(crate) fn rzram_opf_write() -> bindings::blk_opf_t;
    pub(crate) fn rzram_opf_read() -> bindings::blk_opf_t;
    pub(crate) fn rzram_bio_status(bio: *const bindings::bio) -> u8;
    pub(crate) fn rzram_blk_sts_ioerr() -> u8;
    pub(crate) fn rzram_blk_status_to_errno(status: u8) -> i32;
}

extern "C" {
    pub(crate) fn rzram_memalloc_noio_save() -> u32;
    pub(crate) fn rzram_memalloc_noio_restore(flags: u32);
    pub(crate) fn rzram_gfp_noio() -> u32;
}

#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rzram_blk_alloc_disk(lim: *mut bindings::queue_limits) -> *mut bindings::gendisk;
}

#[allow(improper_ctypes)]
extern "C" {
    pub(crate) fn rzram_bio_inc_remaining(bio: *mut bindings::bio);
    pub(crate) fn rzram_percpu_ref_tryget_live(r: *mut bindings::percpu_ref) -> bool;
    pub(crate) fn rzram_percpu_ref_put(r: *mut bindings::percpu_ref);
    pub(crate) fn rzram_bdev_max_segments(bdev: *mut bindings::block_device) -> u32;
    pub(crate) fn rzram_bdev_max_sectors(bdev: *mut bindings::block_device) -> u32;
    pub(crate) fn rzram_alloc_reclaim_wq(
        name: *const u8,
        flags: u32,
    ) -> *mut bindings::workqueue_struct;
    pub(crate) fn rzram_init_work_onstack(
        work: *mut bindings::work_struct,
        func: bindings::work_func_t,
    );
    pub(crate) fn rzram_init_work(work: *mut bindings::work_struct, func: bindings::work_func_t);
    pub(crate) fn rzram_destroy_work_on_stack(work: *mut bindings::work_struct);
}
