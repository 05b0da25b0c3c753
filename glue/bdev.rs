// SPDX-License-Identifier: GPL-2.0

//! The backing block device: exclusive open, and batched page writes with
//! reaped completions (reads are in `readback`).
//!
//! C header: [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h)
//! C header: [`include/linux/bio.h`](srctree/include/linux/bio.h)

use super::bioset::{BioSet, BIO_MAX_VECS, SECTORS_PER_PAGE_SHIFT};
use super::{ffi, irqlock::IrqSpinLock, page::OwnedPage};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use kernel::{
    bindings, c_str,
    error::{from_err_ptr, to_result},
    new_condvar,
    page::PAGE_SIZE,
    prelude::*,
    static_lock_class,
    str::CString,
    sync::{Arc, CondVar},
    types::Opaque,
};

/// An open file, released on drop.
///
/// # Invariants
///
/// The pointer is an open file that this value holds a reference to.
struct File(NonNull<bindings::file>);

impl Drop for File {
    fn drop(&mut self) {
        // SAFETY: The file is open and ours (type invariant); this drops
        // our reference once.
        unsafe { bindings::fput(self.0.as_ptr()) };
    }
}

/// An exclusively opened block device.
///
/// # Invariants
///
/// `file` is a block device file and `bdev` is its block device.
struct BdevInner {
    /// Dropped after every use of `bdev`: no bio is in flight then (every
    /// `Batch` and `ReadSet` holds an `Arc` to this, and waits for its bios
    /// before dropping it).
    _file: File,
    bdev: NonNull<bindings::block_device>,
    nr_pages: u64,
}

// SAFETY: An open block device may be used from any thread, and a file
// reference may be dropped from any thread.
unsafe impl Send for BdevInner {}
// SAFETY: As above; all uses go through thread-safe block layer calls.
unsafe impl Sync for BdevInner {}

/// The backing device of an rzram device.
#[derive(Clone)]
pub(crate) struct BackingDev {
    inner: Arc<BdevInner>,
}

impl BackingDev {
    /// Opens the block device at `path` as zram 6.12's `backing_dev_store`
    /// does: `filp_open(path, O_RDWR | O_LARGEFILE | O_EXCL)`, so the
    /// errors are the same (`ENOENT`, `EISDIR`, `EBUSY` for a device held
    /// by anyone, this device included), then `ENOTBLK` if it is not a
    /// block device.  The open file is the exclusive holder.
    pub(crate) fn open(path: &CStr) -> Result<Self> {
        let flags = bindings::O_RDWR | bindings::O_LARGEFILE | bindings::O_EXCL;
        // SAFETY: `path` is NUL-terminated; `filp_open` returns an open
        // file or an error pointer.
        let file =
            from_err_ptr(unsafe { bindings::filp_open(path.as_char_ptr(), flags as i32, 0) })?;
        // SAFETY: `from_err_ptr` succeeded, so `file` is not null.
        let file = File(unsafe { NonNull::new_unchecked(file) });
        // SAFETY: `file` is open; this reads its mapping's inode mode.
        if !unsafe { ffi::rzram_file_is_blkdev(file.0.as_ptr()) } {
            return Err(ENOTBLK);
        }
        // SAFETY: `file` is an open block device file (checked above).
        let bdev = unsafe { bindings::file_bdev(file.0.as_ptr()) };
        // SAFETY: `bdev` is the open device.
        let sectors = unsafe { ffi::rzram_bdev_nr_sectors(bdev) };
        // INVARIANT: a block device file, released (once) on drop.
        let inner = BdevInner {
            _file: file,
            // SAFETY: an open block device file has a block device.
            bdev: unsafe { NonNull::new_unchecked(bdev) },
            nr_pages: sectors >> SECTORS_PER_PAGE_SHIFT,
        };
        Ok(Self {
            inner: Arc::new(inner, GFP_KERNEL)?,
        })
    }

    /// Size of the device in pages.
    pub(crate) fn nr_pages(&self) -> u64 {
        self.inner.nr_pages
    }

    /// Most pages one bio may carry to this device: the queue's segment
    /// and size limits, and `BIO_MAX_VECS`.
    pub(crate) fn max_pages_per_bio(&self) -> usize {
        let bdev = self.inner.bdev.as_ptr();
        // SAFETY: `bdev` is open; these read its queue's limits.
        let (segs, sectors) = unsafe {
            (
                ffi::rzram_bdev_max_segments(bdev),
                ffi::rzram_bdev_max_sectors(bdev),
            )
        };
        let by_size = (sectors >> SECTORS_PER_PAGE_SHIFT) as usize;
        (segs as usize).min(by_size).clamp(1, BIO_MAX_VECS)
    }

    /// The open block device, for bios.
    pub(super) fn raw(&self) -> *mut bindings::block_device {
        self.inner.bdev.as_ptr()
    }
}

/// `LOOKUP_FOLLOW` (checked against the C value in the shim).
const LOOKUP_FOLLOW: u32 = 1;

/// The canonical absolute path of `name` (symlinks and `..` resolved), as
/// zram shows its backing device.
pub(crate) fn canonical_path(name: &CStr) -> Result<CString> {
    let mut path = core::mem::MaybeUninit::<bindings::path>::uninit();
    // SAFETY: `name` is NUL-terminated; `path` is written on success.
    to_result(unsafe { ffi::kern_path(name.as_char_ptr(), LOOKUP_FOLLOW, path.as_mut_ptr()) })?;
    let mut buf = KVec::from_elem(0u8, PAGE_SIZE, GFP_KERNEL);
    let r = match buf.as_mut() {
        // SAFETY: `path` was filled by `kern_path`; `buf` has `PAGE_SIZE`
        // writable bytes.
        Ok(b) => from_err_ptr(unsafe {
            bindings::d_path(path.as_ptr(), b.as_mut_ptr(), PAGE_SIZE as i32)
        })
        // The offset in `buf` of the string `d_path` returned.
        .map(|p| (p as usize).wrapping_sub(b.as_ptr() as usize)),
        Err(_) => Err(ENOMEM),
    };
    // SAFETY: Drops the reference `kern_path` took.
    unsafe { bindings::path_put(path.as_ptr()) };
    let off = r?;
    // On success `d_path` returned a NUL-terminated string inside `buf`.
    let s = buf
        .as_deref()
        .ok()
        .and_then(|b| b.get(off..))
        .and_then(super::cstr_prefix)
        .ok_or(EINVAL)?;
    Ok(s.to_cstring()?)
}

/// A plug: bios submitted while it is started are held back and merged,
/// then dispatched together when it finishes.
pub(crate) struct Plug {
    raw: KBox<Opaque<bindings::blk_plug>>,
}

impl Plug {
    /// Allocates a plug.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            raw: KBox::new(Opaque::uninit(), GFP_KERNEL)?,
        })
    }

    /// Starts plugging this task's bios until the guard drops.
    pub(crate) fn start(&mut self) -> Plugged<'_> {
        // SAFETY: `raw` is boxed (fixed address) and exclusively ours for
        // the guard's lifetime; `blk_start_plug` initialises it.
        unsafe { bindings::blk_start_plug(self.raw.get()) };
        Plugged { plug: self }
    }
}

/// A started [`Plug`]; finished (bios dispatched) on drop.
pub(crate) struct Plugged<'a> {
    plug: &'a mut Plug,
}

impl Drop for Plugged<'_> {
    fn drop(&mut self) {
        // SAFETY: Started by `Plug::start` in this task.
        unsafe { bindings::blk_finish_plug(self.plug.raw.get()) };
    }
}

/// A request slot of a [`Batch`], owned by whoever holds the id.  Not
/// `Clone`: while a request is in flight nobody holds its id.
#[derive(Debug)]
pub(crate) struct ReqId(usize);

impl ReqId {
    /// Position of the request in its batch (0..len).
    pub(crate) fn index(&self) -> usize {
        self.0
    }
}

/// No request (the end of a list).
const NONE: usize = usize::MAX;

/// What `end_io` knows of one write request: its place in a bio, and the
/// outcome.
struct ReqState {
    /// The errno of the bio that carried the page (0: written).
    status: AtomicI32,
    /// The next request of the same bio, or [`NONE`].  Written by the task
    /// before the bio is submitted, read by `end_io`.
    next_in_bio: AtomicUsize,
    /// The block the page goes to.
    block: AtomicU64,
    /// Set by `end_io` when a bio of several pages failed: the task writes
    /// the page again on its own, so the error lands on the pages that
    /// really failed.
    retry: AtomicBool,
}

/// Completions published by `end_io`, reaped by the task.
#[pin_data]
struct DoneQueue {
    #[pin]
    state: IrqSpinLock<DoneState>,
    #[pin]
    cv: CondVar,
}

struct DoneState {
    /// Completed requests not yet reaped: a stack linked through `next`.
    head: usize,
    next: KVec<usize>,
    /// Requests submitted and not completed.
    inflight: usize,
    /// The task sleeps in `reap` or `drop` (only then does `end_io` wake
    /// it).
    waiting: bool,
}

/// In the front pad of each bio of a batch.
#[repr(C)]
struct BioCtx {
    batch: *const BatchShared,
    first: usize,
}

/// The front pad (a multiple of 8, so the bio after it stays aligned).
const FRONT_PAD: usize = core::mem::size_of::<BioCtx>();
const _: () = assert!(FRONT_PAD % 8 == 0);

/// What `end_io` reaches, shared with the task: only atomics and a lock.
struct BatchShared {
    queue: Pin<KBox<DoneQueue>>,
    reqs: KVec<ReqState>,
}

/// A preallocated array of page write requests to a backing device,
/// written as multi-page bios (one per run of consecutive blocks),
/// submitted by one task and completed in interrupt context.
///
/// # Invariants
///
/// - Every id `0..len` is exactly one of: idle (in `idle[..idle_len]`),
///   held by the caller as a [`ReqId`], in flight, or done (on the done
///   stack); `submitted` counts the last two.
/// - `pages[id]` is touched by the block layer only while `id` is in
///   flight, and by the task only while it holds `id`.
/// - `shared` is boxed (a fixed address that bios point to), and `Drop`
///   waits until nothing is in flight, so it outlives every bio.
pub(crate) struct Batch<'a> {
    pages: KVec<OwnedPage>,
    shared: KBox<BatchShared>,
    idle: KVec<usize>,
    idle_len: usize,
    submitted: usize,
    bios: &'a WriteBios,
    bdev: Arc<BdevInner>,
    /// Pages per bio, from the backing queue's limits.
    max_run: usize,
}

// SAFETY: The raw pointers inside point into the batch's own boxes; the
// batch may move between threads with everything it owns.
unsafe impl Send for Batch<'_> {}
// SAFETY: `end_io` shares `BatchShared` between CPUs; it holds only
// atomics and a lock.
unsafe impl Sync for BatchShared {}
// SAFETY: As above; it is moved only inside its box.
unsafe impl Send for BatchShared {}

/// The bio_set of a backing device's writeback bios, made once per device
/// (a bio_set creates a slab cache, too costly for every writeback).
pub(crate) struct WriteBios(BioSet);

impl WriteBios {
    /// A bio_set with the front pad that [`Batch`] needs.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self(BioSet::new(FRONT_PAD as u32, false)?))
    }
}

impl<'a> Batch<'a> {
    /// Allocates up to `n` requests; fewer if memory is short, failing with
    /// `ENOMEM` only if none could be allocated.
    pub(crate) fn new(bdev: &BackingDev, bios: &'a WriteBios, n: usize) -> Result<Self> {
        let mut pages = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            let Ok(page) = OwnedPage::alloc() else { break };
            // Capacity reserved above: this push does not allocate.
            pages.push(page, GFP_KERNEL)?;
        }
        if pages.is_empty() {
            return Err(ENOMEM);
        }
        let len = pages.len();
        let mut reqs = KVec::with_capacity(len, GFP_KERNEL)?;
        let mut idle = KVec::with_capacity(len, GFP_KERNEL)?;
        for id in 0..len {
            reqs.push(
                ReqState {
                    status: AtomicI32::new(0),
                    next_in_bio: AtomicUsize::new(NONE),
                    block: AtomicU64::new(0),
                    retry: AtomicBool::new(false),
                },
                GFP_KERNEL,
            )?;
            // Handed out from the top: id 0 first.
            idle.push(len - 1 - id, GFP_KERNEL)?;
        }
        let next = KVec::from_elem(NONE, len, GFP_KERNEL)?;
        let queue = KBox::pin_init(
            pin_init!(DoneQueue {
                state <- kernel::sync::lock::Lock::new(
                    DoneState { head: NONE, next, inflight: 0, waiting: false },
                    c_str!("rzram:wb_done"),
                    static_lock_class!(),
                ),
                cv <- new_condvar!("rzram:wb_done"),
            }),
            GFP_KERNEL,
        )?;
        Ok(Self {
            pages,
            shared: KBox::new(BatchShared { queue, reqs }, GFP_KERNEL)?,
            idle,
            idle_len: len,
            submitted: 0,
            bios,
            max_run: bdev.max_pages_per_bio(),
            bdev: bdev.inner.clone(),
        })
    }

    /// Number of requests.
    pub(crate) fn len(&self) -> usize {
        self.pages.len()
    }

    /// Most pages that one bio of this batch carries.
    pub(crate) fn max_run(&self) -> usize {
        self.max_run
    }

    /// Requests neither in flight nor held.
    pub(crate) fn idle_count(&self) -> usize {
        self.idle_len
    }

    /// Takes an idle request, if any.
    pub(crate) fn take_idle(&mut self) -> Option<ReqId> {
        let i = self.idle_len.checked_sub(1)?;
        let id = *self.idle.get(i)?;
        self.idle_len = i;
        Some(ReqId(id))
    }

    /// Returns a request that is not in flight.
    pub(crate) fn put_idle(&mut self, id: ReqId) {
        // At most `len` ids exist, so there is room.
        if let Some(e) = self.idle.get_mut(self.idle_len) {
            *e = id.0;
            self.idle_len += 1;
        }
    }

    /// The page of a request the caller holds; `None` only for an id that
    /// is not of this batch.
    pub(crate) fn page_mut(&mut self, id: &ReqId) -> Option<&mut OwnedPage> {
        // The caller holds `id`: the page is not in flight (invariant).
        self.pages.get_mut(id.0)
    }

    /// Requests submitted and not yet reaped (in flight, or completed and
    /// waiting for [`Batch::reap`]).
    pub(crate) fn outstanding(&self) -> usize {
        self.submitted
    }

    /// Writes the pages of up to `n` requests (at most
    /// [`Batch::max_run`]), taken from `next` in order, to consecutive
    /// blocks from `first`, as one bio.  If the bio cannot be built the
    /// requests complete at once with `ENOMEM`, so every id taken is
    /// reaped either way.  Returns how many were taken.
    pub(crate) fn submit_run(
        &mut self,
        first: u64,
        n: usize,
        mut next: impl FnMut() -> Option<ReqId>,
    ) -> usize {
        let n = n.min(self.max_run).min(BIO_MAX_VECS);
        if n == 0 {
            return 0;
        }
        // SAFETY: The bdev is open and the bio_set initialised; with
        // GFP_NOIO in task context the mempool allocation waits for a bio
        // rather than fail.
        let bio = NonNull::new(unsafe {
            bindings::bio_alloc_bioset(
                self.bdev.bdev.as_ptr(),
                n as u16,
                ffi::rzram_opf_write(),
                ffi::rzram_gfp_noio(),
                self.bios.0.raw(),
            )
        });
        let (mut head, mut prev, mut count) = (NONE, NONE, 0);
        while count < n {
            let Some(ReqId(id)) = next() else { break };
            self.link(id, NONE, if bio.is_some() { 0 } else { ENOMEM.to_errno() });
            if let Some(r) = self.shared.reqs.get(id) {
                // `count < n`, and the caller's run has `n` blocks.
                r.block
                    .store(first.wrapping_add(count as u64), Ordering::Relaxed);
            }
            match self.shared.reqs.get(prev) {
                Some(p) => p.next_in_bio.store(id, Ordering::Relaxed),
                None => head = id,
            }
            prev = id;
            count += 1;
            if let (Some(bio), Some(page)) = (bio, self.pages.get(id)) {
                // SAFETY: `bio` has room for `n` vecs; the page stays
                // alive, and untouched by the task, until it is reaped.
                unsafe {
                    bindings::__bio_add_page(bio.as_ptr(), page.as_raw(), PAGE_SIZE as u32, 0)
                };
            }
        }
        self.submitted += count;
        self.send(bio, first, head, count);
        count
    }

    /// Submits `bio`, carrying the `count` requests linked from `head`, to
    /// block `first`; without a bio, completes them (their status is set).
    fn send(&mut self, bio: Option<NonNull<bindings::bio>>, first: u64, head: usize, count: usize) {
        let sh: *const BatchShared = &*self.shared;
        {
            let mut st = self.shared.queue.state.lock();
            st.inflight = st.inflight.saturating_add(count);
        }
        match bio {
            Some(bio) if count > 0 => {
                // SAFETY: `bio` has `FRONT_PAD` bytes before it from our
                // bio_set; `sh` outlives the bio (`Drop` waits for it).
                unsafe {
                    let ctx = bio.as_ptr().cast::<u8>().sub(FRONT_PAD).cast::<BioCtx>();
                    ctx.write(BioCtx {
                        batch: sh,
                        first: head,
                    });
                    (*bio.as_ptr()).bi_iter.bi_sector = first << SECTORS_PER_PAGE_SHIFT;
                    (*bio.as_ptr()).bi_end_io = Some(end_io);
                    bindings::submit_bio(bio.as_ptr());
                }
            }
            Some(bio) => {
                // SAFETY: Ours, never submitted.
                unsafe { bindings::bio_put(bio.as_ptr()) };
            }
            // SAFETY: `sh` is our shared state; no bio carries these ids.
            None => unsafe { complete_list(sh, head) },
        }
    }

    /// Writes request `id`'s page again, alone, to its block.
    fn resubmit(&mut self, id: usize) {
        let Some(block) = self
            .shared
            .reqs
            .get(id)
            .map(|r| r.block.load(Ordering::Relaxed))
        else {
            return;
        };
        // SAFETY: As in `submit_run`.
        let bio = NonNull::new(unsafe {
            bindings::bio_alloc_bioset(
                self.bdev.bdev.as_ptr(),
                1,
                ffi::rzram_opf_write(),
                ffi::rzram_gfp_noio(),
                self.bios.0.raw(),
            )
        });
        self.link(id, NONE, if bio.is_some() { 0 } else { ENOMEM.to_errno() });
        if let (Some(bio), Some(page)) = (bio, self.pages.get(id)) {
            // SAFETY: `bio` has room for one vec; the page is the
            // request's, in flight again until reaped.
            unsafe { bindings::__bio_add_page(bio.as_ptr(), page.as_raw(), PAGE_SIZE as u32, 0) };
        }
        self.send(bio, block, id, 1);
    }

    /// Sets request `id`'s bio link and status before it is submitted.
    fn link(&self, id: usize, next: usize, status: i32) {
        if let Some(req) = self.shared.reqs.get(id) {
            req.next_in_bio.store(next, Ordering::Relaxed);
            req.status.store(status, Ordering::Relaxed);
        }
    }

    /// Takes a completed request, sleeping until one completes if `wait`.
    /// Returns `None` if none is done (and, when waiting, none in flight).
    pub(crate) fn reap(&mut self, wait: bool) -> Option<(ReqId, Result)> {
        loop {
            let (id, r) = self.reap_one(wait)?;
            let retry = self
                .shared
                .reqs
                .get(id)
                .is_some_and(|r| r.retry.swap(false, Ordering::Relaxed));
            if !retry {
                return Some((ReqId(id), r));
            }
            self.resubmit(id);
        }
    }

    /// Pops a completed request, as [`Batch::reap`], retry or not.
    fn reap_one(&mut self, wait: bool) -> Option<(usize, Result)> {
        let id = {
            let mut st = self.shared.queue.state.lock();
            loop {
                if st.head != NONE {
                    let id = st.head;
                    st.head = st.next.get(id).copied().unwrap_or(NONE);
                    break id;
                }
                if !wait || st.inflight == 0 {
                    return None;
                }
                st.waiting = true;
                self.shared.queue.cv.wait(&mut st);
                st.waiting = false;
            }
        };
        // Published under the queue lock, which we took after `end_io`.
        let req = self.shared.reqs.get(id)?;
        let status = req.status.load(Ordering::Relaxed);
        if !req.retry.load(Ordering::Relaxed) {
            self.submitted = self.submitted.saturating_sub(1);
        }
        let r = if status == 0 {
            Ok(())
        } else {
            Err(Error::from_errno(status))
        };
        Some((id, r))
    }
}

impl Drop for Batch<'_> {
    fn drop(&mut self) {
        // The requests and the queue must outlive every bio in flight.
        let mut st = self.shared.queue.state.lock();
        while st.inflight > 0 {
            st.waiting = true;
            self.shared.queue.cv.wait(&mut st);
        }
    }
}

/// Publishes the requests linked from `first` as done, and wakes the task
/// if it waits.  Touches nothing after releasing the queue lock.
///
/// # Safety
///
/// `sh` must be a live batch's shared state, and the requests from
/// `first` must be in flight, linked by `next_in_bio`.
unsafe fn complete_list(sh: *const BatchShared, first: usize) {
    // SAFETY: Live until the task sees `inflight == 0`, which it can only
    // after we release the lock below.
    let sh = unsafe { &*sh };
    let mut st = sh.queue.state.lock();
    let mut id = first;
    while let Some(req) = sh.reqs.get(id) {
        let next = req.next_in_bio.load(Ordering::Relaxed);
        let head = st.head;
        if let Some(n) = st.next.get_mut(id) {
            *n = head;
        }
        st.head = id;
        st.inflight = st.inflight.saturating_sub(1);
        id = next;
    }
    // Wake while holding the lock: the task frees the batch only after it
    // has taken the lock and seen `inflight == 0`.
    if st.waiting {
        sh.queue.cv.notify_all();
    }
    drop(st);
}

/// `bi_end_io` of the bios of a [`Batch`]; may run in interrupt context.
///
/// # Safety
///
/// Called once by the block layer for a bio submitted by
/// [`Batch::submit_run`].
unsafe extern "C" fn end_io(bio: *mut bindings::bio) {
    // SAFETY: The bio came from the batch's bio_set, with its context in
    // the front pad.
    let ctx = unsafe { bio.cast::<u8>().sub(FRONT_PAD).cast::<BioCtx>().read() };
    // SAFETY: `bio` is completing; its status is final.
    let status = unsafe { ffi::rzram_bio_status(bio) };
    let errno = if status == 0 {
        0
    } else {
        // SAFETY: Pure conversion.
        unsafe { ffi::rzram_blk_status_to_errno(status) }
    };
    // SAFETY: The batch outlives its bios (it waits in `Drop`).
    let sh = unsafe { &*ctx.batch };
    // A failed bio of several pages: each is written again alone.
    let several = sh
        .reqs
        .get(ctx.first)
        .is_some_and(|r| r.next_in_bio.load(Ordering::Relaxed) != NONE);
    let mut id = ctx.first;
    while let Some(req) = sh.reqs.get(id) {
        req.status.store(errno, Ordering::Relaxed);
        req.retry.store(errno != 0 && several, Ordering::Relaxed);
        id = req.next_in_bio.load(Ordering::Relaxed);
    }
    // SAFETY: Ours again; the context was copied out above.
    unsafe { bindings::bio_put(bio) };
    // SAFETY: `ctx.batch` is live and the list is this bio's requests.
    unsafe { complete_list(ctx.batch, ctx.first) };
}
