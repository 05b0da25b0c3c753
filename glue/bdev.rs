// SPDX-License-Identifier: GPL-2.0

//! The backing block device: exclusive open, and batched page writes with
//! reaped completions (reads are in `readback`).
//!
//! C header: [`include/linux/blkdev.h`](srctree/include/linux/blkdev.h)
//! C header: [`include/linux/bio.h`](srctree/include/linux/bio.h)

use super::{ffi, irqlock::IrqSpinLock, page::OwnedPage};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicI32, Ordering};
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

const SECTORS_PER_PAGE_SHIFT: u32 = kernel::page::PAGE_SHIFT as u32 - 9;

/// An exclusively opened block device.
///
/// # Invariants
///
/// `file` is a block device file from `bdev_file_open_by_path`, released
/// on drop, and `bdev` is its block device.
struct BdevInner {
    file: NonNull<bindings::file>,
    bdev: NonNull<bindings::block_device>,
    nr_pages: u64,
}

// SAFETY: An open block device may be used from any thread.
unsafe impl Send for BdevInner {}
// SAFETY: As above; all uses go through thread-safe block layer calls.
unsafe impl Sync for BdevInner {}

impl Drop for BdevInner {
    fn drop(&mut self) {
        // SAFETY: `file` is open (type invariant) and released once; no bio
        // is in flight (every `Batch` and `ReadSet` holds an `Arc` to us,
        // and waits for its bios before dropping it).
        unsafe { bindings::fput(self.file.as_ptr()) };
    }
}

/// The backing device of an rzram device.
#[derive(Clone)]
pub(crate) struct BackingDev {
    inner: Arc<BdevInner>,
}

impl BackingDev {
    /// Opens the block device at `path` for reading and writing,
    /// exclusively with `holder` as the holder.  `ENOTBLK` if `path` is
    /// not a block device.
    pub(crate) fn open<H: Sync>(path: &CStr, holder: &H) -> Result<Self> {
        // SAFETY: `path` is NUL-terminated; `holder` is only compared by
        // address by the block layer, and no holder ops are given.
        let file = from_err_ptr(unsafe {
            bindings::bdev_file_open_by_path(
                path.as_char_ptr(),
                ffi::rzram_blk_open_rw(),
                (holder as *const H).cast_mut().cast(),
                core::ptr::null(),
            )
        })?;
        // SAFETY: `file` is a block device file we just opened.
        let bdev = unsafe { bindings::file_bdev(file) };
        // SAFETY: `bdev` is the open device.
        let sectors = unsafe { ffi::rzram_bdev_nr_sectors(bdev) };
        // INVARIANT: opened above; `fput` on drop.
        let inner = BdevInner {
            // SAFETY: `from_err_ptr` succeeded, so `file` is not null.
            file: unsafe { NonNull::new_unchecked(file) },
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

/// One write request: a page, a bio and its one vec.
///
/// # Invariants
///
/// While in flight, only the block layer and `end_io` touch `bio` and
/// `page`; `queue` points to the batch's queue, which outlives it.
#[pin_data]
struct Req {
    #[pin]
    bio: Opaque<bindings::bio>,
    #[pin]
    bvec: Opaque<bindings::bio_vec>,
    page: OwnedPage,
    id: usize,
    status: AtomicI32,
    queue: *const DoneQueue,
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
    /// `done[id]`: request `id` completed and is not reaped yet.
    done: KVec<bool>,
    inflight: usize,
}

/// A preallocated array of single-page write requests to a backing
/// device, submitted by one task and completed in interrupt context.
///
/// # Invariants
///
/// Every id `0..reqs.len()` is exactly one of: idle (`idle[id]`), held by
/// the caller as a [`ReqId`], in flight, or done (`queue.state.done[id]`).
/// `Drop` waits until nothing is in flight.
pub(crate) struct Batch {
    queue: Pin<KBox<DoneQueue>>,
    reqs: KVec<Pin<KBox<Req>>>,
    idle: KVec<bool>,
    bdev: Arc<BdevInner>,
}

// SAFETY: The raw pointers inside point to the batch's own boxed queue;
// the batch may move between threads with everything it owns.
unsafe impl Send for Batch {}

/// How many of `flags` are set.  Unlike `filter().count()`, whose sum
/// carries an overflow check, this cannot panic (nor saturate: the count
/// is at most `flags.len()`).
fn count_set(flags: &[bool]) -> usize {
    flags
        .iter()
        .fold(0, |n: usize, &f| n.saturating_add(usize::from(f)))
}

impl Batch {
    /// Allocates up to `n` requests; fewer if memory is short, failing with
    /// `ENOMEM` only if none could be allocated.
    pub(crate) fn new(bdev: &BackingDev, n: usize) -> Result<Self> {
        let done = KVec::from_elem(false, n, GFP_KERNEL)?;
        let queue = KBox::pin_init(
            pin_init!(DoneQueue {
                state <- kernel::sync::lock::Lock::new(
                    DoneState { done, inflight: 0 },
                    c_str!("rzram:wb_done"),
                    static_lock_class!(),
                ),
                cv <- new_condvar!("rzram:wb_done"),
            }),
            GFP_KERNEL,
        )?;
        let mut reqs = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut idle = KVec::with_capacity(n, GFP_KERNEL)?;
        let qptr: *const DoneQueue = &*queue;
        for id in 0..n {
            let Ok(page) = OwnedPage::alloc() else { break };
            let Ok(req) = KBox::pin_init(
                pin_init!(Req {
                    bio: Opaque::uninit(),
                    bvec: Opaque::uninit(),
                    page,
                    id,
                    status: AtomicI32::new(0),
                    queue: qptr,
                }),
                GFP_KERNEL,
            ) else {
                break;
            };
            // Capacity reserved above: these pushes do not allocate.
            reqs.push(req, GFP_KERNEL)?;
            idle.push(true, GFP_KERNEL)?;
        }
        if reqs.is_empty() {
            return Err(ENOMEM);
        }
        Ok(Self {
            queue,
            reqs,
            idle,
            bdev: bdev.inner.clone(),
        })
    }

    /// Number of requests.
    pub(crate) fn len(&self) -> usize {
        self.reqs.len()
    }

    /// Requests neither in flight nor held.
    pub(crate) fn idle_count(&self) -> usize {
        count_set(&self.idle)
    }

    /// Takes an idle request, if any.
    pub(crate) fn take_idle(&mut self) -> Option<ReqId> {
        let id = self.idle.iter().position(|i| *i)?;
        if let Some(idle) = self.idle.get_mut(id) {
            *idle = false;
        }
        Some(ReqId(id))
    }

    /// Returns a request that is not in flight.
    pub(crate) fn put_idle(&mut self, id: ReqId) {
        // Every `ReqId` comes from this batch, so the lookup succeeds.
        if let Some(idle) = self.idle.get_mut(id.0) {
            *idle = true;
        }
    }

    /// The page of a request the caller holds; `None` only for an id that
    /// is not of this batch.
    pub(crate) fn page_mut(&mut self, id: &ReqId) -> Option<&mut OwnedPage> {
        let req = self.reqs.get_mut(id.0)?;
        // SAFETY: The caller holds `id`, so the request is not in flight
        // and nobody else accesses it; we never move the pinned request.
        Some(unsafe { &mut Pin::get_unchecked_mut(req.as_mut()).page })
    }

    /// Requests submitted and not yet reaped (in flight, or completed and
    /// waiting for [`Batch::reap`]).
    pub(crate) fn outstanding(&self) -> usize {
        let st = self.queue.state.lock();
        // Both are at most the number of requests: this cannot saturate.
        st.inflight.saturating_add(count_set(&st.done))
    }

    /// Submits the request's page as a write of block `block`.  Hands `id`
    /// back, without submitting, only if it is not of this batch.
    pub(crate) fn submit(&mut self, id: ReqId, block: u64) -> core::result::Result<(), ReqId> {
        let bdev = self.bdev.bdev.as_ptr();
        let Some(req) = self.reqs.get(id.0) else {
            return Err(id);
        };
        let req: &Req = req;
        let bio = req.bio.get();
        // The caller held `id`, so the request is not in flight; `bio` and
        // `bvec` are our own memory, initialised here for one page.
        // SAFETY: As above; `end_io` and `bi_private` stay valid until
        // completion because `Drop` waits for it.
        unsafe {
            bindings::bio_init(bio, bdev, req.bvec.get(), 1, ffi::rzram_opf_write());
            (*bio).bi_iter.bi_sector = block << SECTORS_PER_PAGE_SHIFT;
            bindings::__bio_add_page(bio, req.page.as_raw(), PAGE_SIZE as u32, 0);
            (*bio).bi_end_io = Some(end_io);
            (*bio).bi_private = (req as *const Req).cast_mut().cast();
        }
        // At most the number of requests: this cannot saturate.
        let mut st = self.queue.state.lock();
        st.inflight = st.inflight.saturating_add(1);
        drop(st);
        // SAFETY: `bio` is fully set up; the block layer owns it until
        // `end_io`.
        unsafe { bindings::submit_bio(bio) };
        Ok(())
    }

    /// Takes a completed request, sleeping until one completes if `wait`.
    /// Returns `None` if none is done (and, when waiting, none in flight).
    pub(crate) fn reap(&mut self, wait: bool) -> Option<(ReqId, Result)> {
        let id = {
            let mut st = self.queue.state.lock();
            loop {
                if let Some(id) = st.done.iter().position(|d| *d) {
                    if let Some(done) = st.done.get_mut(id) {
                        *done = false;
                    }
                    break id;
                }
                if !wait || st.inflight == 0 {
                    return None;
                }
                self.queue.cv.wait(&mut st);
            }
        };
        // Only requests of this batch complete, so the lookup succeeds.
        let req: &Req = self.reqs.get(id)?;
        // SAFETY: The request completed and was published under the
        // queue lock, which we took after `end_io` released it; its bio
        // is ours again and is torn down before reuse.
        unsafe { bindings::bio_uninit(req.bio.get()) };
        let status = req.status.load(Ordering::Relaxed);
        let r = if status == 0 {
            Ok(())
        } else {
            Err(Error::from_errno(status))
        };
        Some((ReqId(id), r))
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        // Requests and queue must outlive every bio in flight.
        let mut st = self.queue.state.lock();
        while st.inflight > 0 {
            self.queue.cv.wait(&mut st);
        }
        // `done` may be longer than `reqs` (if `new` ran short of memory);
        // the entries past the requests are never set.
        for (done, req) in st.done.iter_mut().zip(self.reqs.iter()) {
            if core::mem::replace(done, false) {
                // SAFETY: A completed request whose bio was not yet torn
                // down; nothing is in flight any more.
                unsafe { bindings::bio_uninit(req.bio.get()) };
            }
        }
        drop(st);
    }
}

/// `bi_end_io` of the requests of a [`Batch`]; may run in interrupt context.
///
/// # Safety
///
/// Called once by the block layer for a bio submitted by [`Batch::submit`].
unsafe extern "C" fn end_io(bio: *mut bindings::bio) {
    // SAFETY: `bi_private` was set by `Batch::submit` to the request, which
    // stays alive until published and reaped (`Batch` invariants).
    let req = unsafe { &*((*bio).bi_private as *const Req) };
    // SAFETY: `bio` is the completing bio.
    let status = unsafe { ffi::rzram_bio_status(bio) };
    let errno = if status == 0 {
        0
    } else {
        // SAFETY: Pure conversion.
        unsafe { ffi::rzram_blk_status_to_errno(status) }
    };
    req.status.store(errno, Ordering::Relaxed);
    // SAFETY: The queue outlives every request in flight (`Batch` waits
    // for `inflight == 0` under this lock before freeing anything).
    let queue = unsafe { &*req.queue };
    let mut st = queue.state.lock();
    // `req.id` indexes `done` (`Batch::new` sizes it for every request),
    // and this request was counted in flight by `Batch::submit`: neither
    // the lookup fails nor the count saturates.
    if let Some(done) = st.done.get_mut(req.id) {
        *done = true;
    }
    st.inflight = st.inflight.saturating_sub(1);
    // Wake the task while still holding the lock: the task can only see
    // `inflight == 0` and free the queue after we release it, and we
    // touch nothing after the release.
    queue.cv.notify_all();
    drop(st);
}
