// SPDX-License-Identifier: GPL-2.0
/*
 * rzram C shim: one-line wrappers for static inline functions and macros
 * that bindgen cannot reach.  No logic lives here; see glue/ffi.rs for the
 * Rust declarations and the safe wrappers above them.
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/part_stat.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

/* Module parameter: the Rust `module!` macro of 6.12 has no params. */
static unsigned int num_devices = 1;
module_param(num_devices, uint, 0);
MODULE_PARM_DESC(num_devices, "Number of pre-created rzram devices");

/* zram takes its default algorithm from CONFIG_ZRAM_DEF_COMP. */
static char *default_algorithm = "lzo-rle";
module_param(default_algorithm, charp, 0444);
MODULE_PARM_DESC(default_algorithm, "Compression algorithm of new and reset devices (default lzo-rle)");

const char *rzram_default_algorithm(void);
const char *rzram_default_algorithm(void) { return default_algorithm; }

unsigned int rzram_num_devices(void);
unsigned int rzram_num_devices(void) { return num_devices; }

/* Writeback design knobs, for benchmarking the alternatives in one boot. */
static bool wb_plug = true;
module_param(wb_plug, bool, 0644);
MODULE_PARM_DESC(wb_plug, "Submit writeback batches under a blk_plug (default: on)");

static bool wb_contig = true;
module_param(wb_contig, bool, 0644);
MODULE_PARM_DESC(wb_contig, "Give a writeback batch consecutive backing blocks (default: on)");

static bool rb_chain = true;
module_param(rb_chain, bool, 0644);
MODULE_PARM_DESC(rb_chain, "Read written-back pages as child bios of the request (default: on; off: one synchronous worker read per page)");

bool rzram_rb_chain(void);
bool rzram_rb_chain(void) { return READ_ONCE(rb_chain); }

static unsigned int wb_bio_pages;
module_param(wb_bio_pages, uint, 0644);
MODULE_PARM_DESC(wb_bio_pages, "Most pages per writeback bio (default 0: the backing queue's limits; 1: one bio per page)");

unsigned int rzram_wb_bio_pages(void);
unsigned int rzram_wb_bio_pages(void) { return READ_ONCE(wb_bio_pages); }

bool rzram_wb_plug(void);
bool rzram_wb_plug(void) { return READ_ONCE(wb_plug); }

bool rzram_wb_contig(void);
bool rzram_wb_contig(void) { return READ_ONCE(wb_contig); }

static bool wb_packed;
module_param(wb_packed, bool, 0444);
MODULE_PARM_DESC(wb_packed, "New devices start with compressed_writeback and packed_writeback set (default: off; for running the writeback tests packed)");

bool rzram_wb_packed(void);
bool rzram_wb_packed(void) { return READ_ONCE(wb_packed); }

struct gendisk *rzram_dev_to_disk(struct device *dev);
struct gendisk *rzram_dev_to_disk(struct device *dev) { return dev_to_disk(dev); }

unsigned int rzram_disk_openers(struct gendisk *disk);
unsigned int rzram_disk_openers(struct gendisk *disk) { return disk_openers(disk); }

unsigned int rzram_bio_op(const struct bio *bio);
unsigned int rzram_bio_op(const struct bio *bio) { return bio_op(bio); }

void rzram_bio_io_error(struct bio *bio);
void rzram_bio_io_error(struct bio *bio) { bio_io_error(bio); }

struct bio_vec rzram_bio_iter_iovec(struct bio *bio, struct bvec_iter iter);
struct bio_vec rzram_bio_iter_iovec(struct bio *bio, struct bvec_iter iter) { return bio_iter_iovec(bio, iter); }

void rzram_bio_advance_iter_single(struct bio *bio, struct bvec_iter *iter, unsigned int bytes);
void rzram_bio_advance_iter_single(struct bio *bio, struct bvec_iter *iter, unsigned int bytes) { bio_advance_iter_single(bio, iter, bytes); }

void *rzram_kmap_local_page(struct page *page);
void *rzram_kmap_local_page(struct page *page) { return kmap_local_page(page); }

void rzram_kunmap_local(const void *addr);
void rzram_kunmap_local(const void *addr) { kunmap_local(addr); }

/* Feature bits glue/disk.rs hard-codes; checked here at build time. */
static_assert(BLK_FEAT_STABLE_WRITES == (1u << 5));
static_assert(BLK_FEAT_SYNCHRONOUS == (1u << 6));

void rzram_part_stat_clear(struct gendisk *disk);
void rzram_part_stat_clear(struct gendisk *disk) { part_stat_set_all(disk->part0, 0); }

void rzram_disk_open_lock(struct gendisk *disk);
void rzram_disk_open_lock(struct gendisk *disk) { mutex_lock(&disk->open_mutex); }

void rzram_disk_open_unlock(struct gendisk *disk);
void rzram_disk_open_unlock(struct gendisk *disk) { mutex_unlock(&disk->open_mutex); }

#include <linux/zstd.h>
#include <linux/lzo.h>
#include <linux/lz4.h>
#include <linux/zlib.h>
#include <linux/sw842.h>
#include <linux/stddef.h>
#include <linux/slab.h>

/* The constants and layouts glue/comp/ spells out. */
static_assert(LZO1X_MEM_COMPRESS == 8192 * 2);
static_assert(LZ4_MEM_COMPRESS == 16416 && sizeof(LZ4_stream_t) == LZ4_MEM_COMPRESS);
static_assert(LZ4HC_MEM_COMPRESS == 262192 && sizeof(LZ4_streamHC_t) == LZ4HC_MEM_COMPRESS);
static_assert(sizeof(LZ4_streamDecode_t) == 4 * sizeof(u64));
static_assert(__alignof__(LZ4_stream_t) <= 8 && __alignof__(LZ4_streamHC_t) <= 8);
static_assert(LZ4_ACCELERATION_DEFAULT == 1 && LZ4HC_DEFAULT_CLEVEL == 9);
static_assert(SW842_MEM_COMPRESS == 0xf000);
static_assert(MAX_MEM_LEVEL == 8 && Z_DEFAULT_COMPRESSION == -1 && Z_DEFLATED == 8);
static_assert(Z_OK == 0 && Z_STREAM_END == 1 && Z_SYNC_FLUSH == 3 && Z_FINISH == 5);
static_assert(Z_DEFAULT_STRATEGY == 0);
static_assert(sizeof(struct z_stream_s) == 96);
static_assert(offsetof(struct z_stream_s, next_out) == 24);
static_assert(offsetof(struct z_stream_s, total_out) == 40);
static_assert(offsetof(struct z_stream_s, workspace) == 64);
static_assert(offsetof(struct z_stream_s, data_type) == 72);
static_assert(offsetof(struct z_stream_s, reserved) == 88);
static_assert(sizeof(zstd_custom_mem) == 3 * sizeof(void *));

/* Layout of zstd_parameters as glue/ffi.rs spells it. */
static_assert(sizeof(zstd_compression_parameters) == 7 * sizeof(u32));
static_assert(sizeof(ZSTD_strategy) == sizeof(u32));
static_assert(offsetof(zstd_parameters, fParams) == 7 * sizeof(u32));
static_assert(sizeof(zstd_parameters) == 10 * sizeof(u32));
#include <linux/smp.h>
#include <linux/preempt.h>
#include <linux/ktime.h>

/* zstd's allocator for dictionaries (glue/comp/zstd.rs), zram's kvzalloc. */
void *rzram_kvzalloc(size_t size);
void *rzram_kvzalloc(size_t size) { return kvzalloc(size, GFP_KERNEL); }

void rzram_kvfree(void *addr);
void rzram_kvfree(void *addr) { kvfree(addr); }

/* comp_params_store's read of a dictionary (the enum constant is a macro's). */
#include <linux/kernel_read_file.h>
ssize_t rzram_read_file(const char *path, void **buf);
ssize_t rzram_read_file(const char *path, void **buf)
{
	return kernel_read_file_from_path(path, 0, buf, INT_MAX, NULL, READING_POLICY);
}

unsigned int rzram_get_cpu(void);
unsigned int rzram_get_cpu(void) { return get_cpu(); }

void rzram_put_cpu(void);
void rzram_put_cpu(void) { put_cpu(); }

unsigned int rzram_num_online_cpus(void);
unsigned int rzram_num_online_cpus(void) { return num_online_cpus(); }

void rzram_cond_resched(void);
void rzram_cond_resched(void) { cond_resched(); }

unsigned int rzram_nr_cpu_ids(void);
unsigned int rzram_nr_cpu_ids(void) { return nr_cpu_ids; }

void rzram_preempt_disable(void);
void rzram_preempt_disable(void) { preempt_disable(); }

void rzram_preempt_enable(void);
void rzram_preempt_enable(void) { preempt_enable(); }

void rzram_cpu_relax(void);
void rzram_cpu_relax(void) { cpu_relax(); }

s64 rzram_ktime_get_boottime_seconds(void);
s64 rzram_ktime_get_boottime_seconds(void) { return ktime_get_boottime_seconds(); }

/* zram's two zs_malloc modes: no direct reclaim (under a compression
 * stream), and the sleeping slow path. */
gfp_t rzram_gfp_zs_fast(void);
gfp_t rzram_gfp_zs_fast(void) { return __GFP_KSWAPD_RECLAIM | __GFP_NOWARN | __GFP_HIGHMEM | __GFP_MOVABLE; }

gfp_t rzram_gfp_zs_slow(void);
gfp_t rzram_gfp_zs_slow(void) { return GFP_NOIO | __GFP_HIGHMEM | __GFP_MOVABLE; }

#include <linux/rwsem.h>
#include <linux/gfp.h>

/* One lock class for every rzram device's init lock, as zram has. */
void rzram_init_rwsem(struct rw_semaphore *sem);
void rzram_init_rwsem(struct rw_semaphore *sem) { init_rwsem(sem); }

struct page *rzram_alloc_page_kernel(void);
struct page *rzram_alloc_page_kernel(void) { return alloc_page(GFP_KERNEL | __GFP_NOWARN); }

#include <linux/spinlock.h>

unsigned long rzram_spin_lock_irqsave(spinlock_t *lock);
unsigned long rzram_spin_lock_irqsave(spinlock_t *lock) { unsigned long f; spin_lock_irqsave(lock, f); return f; }

void rzram_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);
void rzram_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags) { spin_unlock_irqrestore(lock, flags); }

sector_t rzram_bdev_nr_sectors(struct block_device *bdev);
sector_t rzram_bdev_nr_sectors(struct block_device *bdev) { return bdev_nr_sectors(bdev); }

#include <linux/debugfs.h>

struct dentry *rzram_debugfs_create_dir(const char *name, struct dentry *parent);
struct dentry *rzram_debugfs_create_dir(const char *name, struct dentry *parent) { return debugfs_create_dir(name, parent); }

void rzram_debugfs_create_file(const char *name, umode_t mode, struct dentry *parent, void *data, const struct file_operations *fops);
void rzram_debugfs_create_file(const char *name, umode_t mode, struct dentry *parent, void *data, const struct file_operations *fops) { debugfs_create_file(name, mode, parent, data, fops); }

void rzram_debugfs_remove(struct dentry *dentry);
void rzram_debugfs_remove(struct dentry *dentry) { debugfs_remove_recursive(dentry); }

void rzram_warn_leak(void);
void rzram_warn_leak(void) { WARN_ON_ONCE(1); }

bool rzram_file_is_blkdev(struct file *file);
bool rzram_file_is_blkdev(struct file *file) { return S_ISBLK(file->f_mapping->host->i_mode); }

blk_opf_t rzram_opf_write(void);
blk_opf_t rzram_opf_write(void) { return REQ_OP_WRITE | REQ_SYNC; }

blk_opf_t rzram_opf_read(void);
blk_opf_t rzram_opf_read(void) { return REQ_OP_READ; }

blk_status_t rzram_blk_sts_ioerr(void);
blk_status_t rzram_blk_sts_ioerr(void) { return BLK_STS_IOERR; }

blk_status_t rzram_bio_status(const struct bio *bio);
blk_status_t rzram_bio_status(const struct bio *bio) { return bio->bi_status; }

int rzram_blk_status_to_errno(blk_status_t status);
int rzram_blk_status_to_errno(blk_status_t status) { return blk_status_to_errno(status); }

#include <linux/sched/mm.h>

unsigned int rzram_memalloc_noio_save(void);
unsigned int rzram_memalloc_noio_save(void) { return memalloc_noio_save(); }

void rzram_memalloc_noio_restore(unsigned int flags);
void rzram_memalloc_noio_restore(unsigned int flags) { memalloc_noio_restore(flags); }

gfp_t rzram_gfp_noio(void);
gfp_t rzram_gfp_noio(void) { return GFP_NOIO; }

struct gendisk *rzram_blk_alloc_disk(struct queue_limits *lim);
struct gendisk *rzram_blk_alloc_disk(struct queue_limits *lim) { return blk_alloc_disk(lim, NUMA_NO_NODE); }

#include <linux/namei.h>

/* glue/bdev.rs passes this flag to kern_path(). */
static_assert(LOOKUP_FOLLOW == 1);

#include <linux/workqueue.h>

void rzram_bio_inc_remaining(struct bio *bio);
void rzram_bio_inc_remaining(struct bio *bio) { bio_inc_remaining(bio); }

struct workqueue_struct *rzram_alloc_reclaim_wq(const char *name, unsigned int flags);
struct workqueue_struct *rzram_alloc_reclaim_wq(const char *name, unsigned int flags) { return alloc_workqueue("%s", flags, 0, name); }

void rzram_init_work_onstack(struct work_struct *work, work_func_t func);
void rzram_init_work_onstack(struct work_struct *work, work_func_t func) { INIT_WORK_ONSTACK(work, func); }

void rzram_init_work(struct work_struct *work, work_func_t func);
void rzram_init_work(struct work_struct *work, work_func_t func) { INIT_WORK(work, func); }

/* glue/readback.rs fails a decompression with this status. */
static_assert(BLK_STS_IOERR == 10);

void rzram_destroy_work_on_stack(struct work_struct *work);
void rzram_destroy_work_on_stack(struct work_struct *work) { destroy_work_on_stack(work); }

unsigned int rzram_bdev_max_segments(struct block_device *bdev);
unsigned int rzram_bdev_max_segments(struct block_device *bdev) { return queue_max_segments(bdev_get_queue(bdev)); }

unsigned int rzram_bdev_max_sectors(struct block_device *bdev);
unsigned int rzram_bdev_max_sectors(struct block_device *bdev) { return queue_max_sectors(bdev_get_queue(bdev)); }

#include <linux/percpu-refcount.h>

bool rzram_percpu_ref_tryget_live(struct percpu_ref *ref);
bool rzram_percpu_ref_tryget_live(struct percpu_ref *ref) { return percpu_ref_tryget_live(ref); }

void rzram_percpu_ref_put(struct percpu_ref *ref);
void rzram_percpu_ref_put(struct percpu_ref *ref) { percpu_ref_put(ref); }
