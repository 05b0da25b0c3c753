// SPDX-License-Identifier: GPL-2.0

//! Reads of the backing device on behalf of rzram's own `submit_bio`.
//!
//! Two ways, neither of which allocates anything that can fail:
//!
//! - [`ReadChain`]: whole-page reads become child bios of the bio being
//!   served (`bio_inc_remaining` on the parent, completed by our own
//!   `bi_end_io`), on the caller's own pages, one child per run of
//!   consecutive backing blocks.  They come from a [`ReadSet`]'s bio_set,
//!   a mempool with a rescuer, and are dispatched when `submit_bio`
//!   returns, inside the submitter's plug, so neighbours merge.  A child
//!   may also carry compressed objects ([`ReadChain::add_obj`]): each
//!   block is read into the page of the first object it holds, and a work
//!   item of the set's `WQ_MEM_RECLAIM` workqueue decompresses them all
//!   into their pages once the read is over, before ending the parent.
//! - [`ReclaimWq::read_sync`]: a read that must be finished before the
//!   caller goes on (a partial page, or a read-modify-write).  A bio
//!   submitted from inside `submit_bio` is only dispatched after it
//!   returns, so waiting for it there would deadlock; the bio is issued and
//!   waited for by a worker of a `WQ_MEM_RECLAIM` workqueue instead.  The
//!   work item, the bio and its vec all live on the stacks of the caller
//!   and the worker.
//!
//! C header: [`include/linux/bio.h`](srctree/include/linux/bio.h)

use super::bioset::{BIO_MAX_VECS, SECTORS_PER_PAGE_SHIFT};
use super::{
    bdev::BackingDev,
    bio::Segment,
    bioset::BioSet,
    ffi,
    irqlock::IrqSpinLock,
    page::{PageMut, PagePool},
};
use core::ptr::NonNull;
use kernel::{
    bindings, c_str, error::to_result, new_condvar, page::PAGE_SIZE, prelude::*, static_lock_class,
    sync::CondVar, types::Opaque,
};

/// Bounce pages a read set keeps in reserve for partial-page reads.
const BOUNCE_RESERVE: i32 = 4;

/// Most compressed objects one child bio decompresses at completion: as
/// many as a bio of `BIO_MAX_VECS` pages asks for, so such a bio never
/// reads a block twice for want of room (16 bytes each, in the front pad).
pub(crate) const OBJ_MAX: usize = BIO_MAX_VECS;

/// `BLK_STS_IOERR` (checked by `rzram_shim.c`).
const BLK_STS_IOERR: u8 = 10;

/// Where a compressed object lies on the backing device: its block, and
/// its offset and size in it.
#[derive(Clone, Copy)]
pub(crate) struct ObjAt {
    pub(crate) block: u64,
    pub(crate) off: usize,
    pub(crate) size: usize,
}

/// What a [`ReadSet`] tells when a child bio completes.
pub(crate) trait ReadDone: Sync {
    /// Blocks `first..first + n` have been read (successfully or not).
    /// Runs in the bio's completion context, possibly in interrupt
    /// context: it must not sleep.
    fn read_done(&self, first: u64, n: u32);

    /// A child failed, and its error is the first of its parent bio (so a
    /// failed parent is reported once).  May run in interrupt context.
    fn read_failed(&self);

    /// Decompresses `src`, an object compressed at priority `prio`, into
    /// `dst` (a page), which it must fill.  Runs in a worker; must not
    /// sleep.
    fn decompress(&self, prio: usize, src: &[u8], dst: &mut [u8]) -> Result;

    /// Decompresses the `len` bytes at byte `off` of `page`, compressed at
    /// priority `prio`, into all of `page`.  As [`ReadDone::decompress`].
    fn decompress_in_place(&self, prio: usize, page: &mut [u8], off: usize, len: usize) -> Result;
}

/// A compressed object that a child bio decompresses, once read, into a
/// page of its parent.
#[repr(C)]
#[derive(Clone, Copy)]
struct Obj {
    /// The parent's page it fills, all of it.
    dst: *mut bindings::page,
    /// Its offset and size in the block of the child's vec `entry`.
    off: u16,
    size: u16,
    entry: u8,
    prio: u8,
    /// `dst` is the page that block is read into: decompressed in place,
    /// after the block's other objects.
    host: bool,
}
const _: () = assert!(core::mem::size_of::<Obj>() == 16);
// A child has at most `BIO_MAX_VECS` entries, numbered by a `u8`.
const _: () = assert!(BIO_MAX_VECS <= 256);

/// Per child bio, in the bio_set's front pad, just before the bio.
///
/// `head` is written when the child is allocated; `work` is initialised,
/// and `objs[..head.nobj]` written, before it is submitted.
#[repr(C)]
struct ChildCtx {
    /// First, so that the work item's pointer is the context's.
    work: Opaque<bindings::work_struct>,
    head: ChildHead,
    objs: [core::mem::MaybeUninit<Obj>; OBJ_MAX],
}

/// The fixed part of a [`ChildCtx`].
#[repr(C)]
#[derive(Clone, Copy)]
struct ChildHead {
    set: *const Inner<()>,
    parent: *mut bindings::bio,
    first: u64,
    n: u32,
    /// Objects to decompress at completion.
    nobj: u32,
    /// For a partial-page read: `len` bytes at `src_off` of the bounce page
    /// go to `dst_off` of `dst` on completion; the bounce page then goes
    /// back to the set's pool.
    bounce: *mut bindings::page,
    dst: *mut bindings::page,
    dst_off: u32,
    src_off: u32,
    len: u32,
}

/// The front pad (a multiple of 8, so the bio after it stays aligned).
const FRONT_PAD: usize = core::mem::size_of::<ChildCtx>();
const _: () = assert!(FRONT_PAD % 8 == 0);

#[pin_data]
struct Inner<T> {
    /// Child bios in flight; the completion decrements it last.
    #[pin]
    inflight: IrqSpinLock<usize>,
    #[pin]
    idle: CondVar,
    bios: BioSet,
    /// Bounce pages of partial-page reads in flight.
    bounce: PagePool,
    bdev: BackingDev,
    target: T,
    /// Serves synchronous reads: bound, so the worker runs where the
    /// waiter waits.
    sync_wq: ReclaimWq,
    /// Decompresses children's objects: unbound, so the children of one
    /// request are decompressed on every CPU, not only the one that took
    /// their completions.  Last: dropped after the rest, it waits for a
    /// work item that has just ended its child to return.
    wq: ReclaimWq,
}

/// The bio_set and the completion target of one backing device's
/// chained reads.
///
/// # Invariants
///
/// Every child bio allocated from `inner.bios` is counted in
/// `inner.inflight` from its allocation until its completion has finished
/// with everything else it touches; `Drop` waits for the count to reach
/// zero, so the target, the bio_set and the backing device outlive them.
pub(crate) struct ReadSet<T: ReadDone> {
    inner: Pin<KBox<Inner<T>>>,
}

impl<T: ReadDone> ReadSet<T> {
    /// Chained reads of `bdev`, reporting to `target`.
    pub(crate) fn new(bdev: BackingDev, target: T) -> Result<Self> {
        let bios = BioSet::new(FRONT_PAD as u32, true)?;
        let bounce = PagePool::new(BOUNCE_RESERVE)?;
        let sync_wq = ReclaimWq::new(false)?;
        let wq = ReclaimWq::new(true)?;
        let inner = KBox::pin_init(
            pin_init!(Inner {
                inflight <- kernel::sync::lock::Lock::new(
                    0,
                    c_str!("rzram:rd_inflight"),
                    static_lock_class!(),
                ),
                idle <- new_condvar!("rzram:rd_idle"),
                bios,
                bounce,
                bdev,
                target,
                sync_wq,
                wq,
            }),
            GFP_KERNEL,
        )?;
        Ok(Self { inner })
    }

    /// The completion target.
    pub(crate) fn target(&self) -> &T {
        &self.inner.target
    }

    /// The backing device.
    pub(crate) fn bdev(&self) -> &BackingDev {
        &self.inner.bdev
    }

    /// The workqueue for reads the I/O path waits for.
    pub(crate) fn sync_wq(&self) -> &ReclaimWq {
        &self.inner.sync_wq
    }

    /// A builder of child bios for the segments of one bio, with room for
    /// up to `max_pages` pages in all.
    pub(crate) fn chain(&self, max_pages: usize) -> ReadChain<'_, T> {
        ReadChain {
            set: self,
            open: Default::default(),
            tick: 0,
            left: max_pages,
            bounced: false,
        }
    }
}

impl<T: ReadDone> Drop for ReadSet<T> {
    fn drop(&mut self) {
        let mut n = self.inner.inflight.lock();
        while *n > 0 {
            self.inner.idle.wait(&mut n);
        }
    }
}

/// A child bio being filled.
struct Child {
    bio: NonNull<bindings::bio>,
    parent: NonNull<bindings::bio>,
    first: u64,
    n: u32,
    cap: u32,
    nobj: usize,
    /// The chain's tick when it was last added to (picks the child to
    /// submit when a new one needs its place).
    used: u32,
}

impl Child {
    /// Whether this child, of `parent`, can read `block` next: it has room
    /// for a vec (and an object, if `obj`) and ends just before `block`.
    fn grows(&self, parent: NonNull<bindings::bio>, block: u64, obj: bool) -> bool {
        self.parent == parent
            && self.n < self.cap
            && (!obj || self.nobj < OBJ_MAX)
            && self.first.checked_add(u64::from(self.n)) == Some(block)
    }

    /// Whether this child, of `parent`, reads `block` and has room for
    /// another object.
    fn holds(&self, parent: NonNull<bindings::bio>, block: u64) -> bool {
        self.parent == parent
            && self.nobj < OBJ_MAX
            && block
                .checked_sub(self.first)
                .is_some_and(|i| i < u64::from(self.n))
    }
}

/// Child bios for the whole-page segments of one bio.
///
/// Up to `OPEN` children are filled at once, so a bio whose blocks
/// interleave a few runs (as packed writeback lays them out) reads each
/// run with one child and each block once.  The children left are
/// submitted on drop, in block order, so that neighbours merge.
///
/// A task that waits for a bio of the set while holding unsubmitted ones
/// could deadlock on the mempool, so a new child is first allocated
/// without waiting; only if that fails are the open children submitted
/// (the rescuer can then dispatch them) and the allocation waits.
pub(crate) struct ReadChain<'a, T: ReadDone> {
    set: &'a ReadSet<T>,
    open: [Option<Child>; OPEN],
    /// Counts additions (for `Child::used`).
    tick: u32,
    /// Pages the parent may still add (sizes the next child).
    left: usize,
    /// A bounce page was taken for this chain (see [`ReadChain::add_partial`]).
    bounced: bool,
}

/// Children a chain fills at once.
const OPEN: usize = 4;

impl<T: ReadDone> ReadChain<'_, T> {
    /// Reads backing block `block` into the page of `seg`, a whole-page
    /// segment of the bio being served.  The parent completes only after
    /// the read, with its error if it fails; `read_done` is told when it
    /// is over.  The caller keeps `block` allocated until then.
    pub(crate) fn add(&mut self, seg: &mut Segment<'_>, block: u64) -> Result {
        let parent = seg.parent();
        let mut page = seg.whole_page().ok_or(EINVAL)?;
        let c = self.child_for(parent, block, false)?;
        // SAFETY: `c.bio` is ours and has room (`n < cap` vecs); the page
        // is the parent's, which stays live and unended until the child
        // ends it (`bio_inc_remaining` in `alloc_child`).
        unsafe { bindings::__bio_add_page(c.bio.as_ptr(), page.as_raw(), PAGE_SIZE as u32, 0) };
        c.n += 1;
        self.left = self.left.saturating_sub(1);
        Ok(())
    }

    /// The open child that reads `block` next for `parent` (with room for
    /// an object, if `obj`), or a new one starting there.
    fn child_for(
        &mut self,
        parent: NonNull<bindings::bio>,
        block: u64,
        obj: bool,
    ) -> Result<&mut Child> {
        if block >= self.set.inner.bdev.nr_pages() {
            return Err(EIO);
        }
        self.tick = self.tick.wrapping_add(1);
        let tick = self.tick;
        let i = match self.find(|c| c.grows(parent, block, obj)) {
            Some(i) => i,
            None => {
                let c = self.new_child(parent, block, self.left)?;
                self.place(c)
            }
        };
        let c = self.open[i].as_mut().ok_or(EIO)?;
        c.used = tick;
        Ok(c)
    }

    /// The index of the open child for which `f` holds.
    fn find(&self, f: impl Fn(&Child) -> bool) -> Option<usize> {
        self.open.iter().position(|c| c.as_ref().is_some_and(&f))
    }

    /// Puts `c` among the open children, submitting the least recently
    /// used one if none is free; returns its index.
    fn place(&mut self, c: Child) -> usize {
        let i = match self.open.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                let lru = (0..OPEN).max_by_key(|&i| {
                    let used = self.open[i].as_ref().map_or(self.tick, |c| c.used);
                    self.tick.wrapping_sub(used)
                });
                let i = lru.unwrap_or(0);
                self.submit(i);
                i
            }
        };
        self.open[i] = Some(c);
        i
    }

    /// A new child of `parent`, reading from block `first`, with room for
    /// `cap` pages (at most `BIO_MAX_VECS`).  Allocated without waiting
    /// if possible; otherwise the open children are submitted first, and
    /// the allocation may wait on the mempool.
    fn new_child(
        &mut self,
        parent: NonNull<bindings::bio>,
        first: u64,
        cap: usize,
    ) -> Result<Child> {
        let cap = cap.clamp(1, BIO_MAX_VECS);
        if let Some(c) = self.alloc_child(parent, first, cap, bindings::GFP_NOWAIT) {
            return Ok(c);
        }
        self.submit_all();
        // With GFP_NOIO the allocation waits on the mempool rather than
        // fail, and the rescuer submits bios parked on this task's list.
        // SAFETY: `rzram_gfp_noio` only returns a constant.
        let noio = unsafe { ffi::rzram_gfp_noio() };
        self.alloc_child(parent, first, cap, noio).ok_or(ENOMEM)
    }

    /// Allocates a child of `parent` with `gfp`, reading from block
    /// `first`, with room for `cap` pages (at most `BIO_MAX_VECS`).
    fn alloc_child(
        &self,
        parent: NonNull<bindings::bio>,
        first: u64,
        cap: usize,
        gfp: bindings::gfp_t,
    ) -> Option<Child> {
        let inner = &*self.set.inner;
        // SAFETY: `parent` is live (a segment of it is borrowed); the bdev
        // is open; the bio_set is initialised; `cap <= BIO_MAX_VECS`.
        let bio = unsafe {
            bindings::bio_alloc_bioset(
                inner.bdev.raw(),
                cap as u16,
                (*parent.as_ptr()).bi_opf,
                gfp,
                inner.bios.raw(),
            )
        };
        let bio = NonNull::new(bio)?;
        *inner.inflight.lock() += 1;
        // SAFETY: `bio` was allocated from our bio_set with `FRONT_PAD`
        // bytes before it, which we own; `parent` is live and gains one
        // completion to wait for, ended by `child_end_io`.
        unsafe {
            let ctx = ctx_of(bio.as_ptr());
            (&raw mut (*ctx).head).write(ChildHead {
                set: (inner as *const Inner<T>).cast(),
                parent: parent.as_ptr(),
                first,
                n: 0,
                nobj: 0,
                bounce: core::ptr::null_mut(),
                dst: core::ptr::null_mut(),
                dst_off: 0,
                src_off: 0,
                len: 0,
            });
            (*bio.as_ptr()).bi_iter.bi_sector = first << SECTORS_PER_PAGE_SHIFT;
            (*bio.as_ptr()).bi_end_io = Some(child_end_io::<T>);
            ffi::rzram_bio_inc_remaining(parent.as_ptr());
        }
        Some(Child {
            bio,
            parent,
            first,
            n: 0,
            cap: cap as u32,
            nobj: 0,
            used: self.tick,
        })
    }

    /// Reads backing block `block` into a bounce page, and on completion
    /// copies `len` bytes at `src_off` of it to bytes `at..at + len` of the
    /// segment `seg` of the bio being served.  `Ok(false)` if no bounce
    /// page is at hand without a wait that could deadlock: the caller then
    /// reads synchronously.  The caller keeps `block` allocated until
    /// `read_done`.
    ///
    /// Only the first bounce page of a chain may wait: pages taken later
    /// by this chain sit in children that are dispatched only when
    /// `submit_bio` returns, so waiting for them would never end.
    pub(crate) fn add_partial(
        &mut self,
        seg: &mut Segment<'_>,
        at: usize,
        len: usize,
        src_off: usize,
        block: u64,
    ) -> Result<bool> {
        let inner = &*self.set.inner;
        let (dst, bv_off) = seg.page_and_offset();
        let dst_off = (bv_off as usize).checked_add(at).ok_or(EINVAL)?;
        let fits = |o: usize| o.checked_add(len).is_some_and(|e| e <= PAGE_SIZE);
        if dst.is_null() || !fits(dst_off) || !fits(src_off) || block >= inner.bdev.nr_pages() {
            return Err(EINVAL);
        }
        let page = if self.bounced {
            match inner.bounce.try_get() {
                Some(p) => p,
                None => return Ok(false),
            }
        } else {
            // Waits only with no child of this chain unsubmitted.
            self.submit_all();
            inner.bounce.get()?
        };
        self.bounced = true;
        let bounce = page.into_raw();
        // The partial read is a child of its own, submitted at once.
        let c = match self.new_child(seg.parent(), block, 1) {
            Ok(c) => c,
            Err(e) => {
                // SAFETY: Taken from this pool above, and not used.
                unsafe { inner.bounce.put_raw(bounce) };
                return Err(e);
            }
        };
        // The bounce page is ours until `child_end_io` gives it back; `dst`
        // is the parent's page, live until the child ends the parent.
        // SAFETY: `c.bio` is ours, unsubmitted, with room for one vec, and
        // its context (in our front pad) was written by `alloc_child`.
        unsafe {
            bindings::__bio_add_page(c.bio.as_ptr(), bounce.as_ptr(), PAGE_SIZE as u32, 0);
            let ctx = &mut (*ctx_of(c.bio.as_ptr())).head;
            ctx.bounce = bounce.as_ptr();
            ctx.dst = dst;
            ctx.dst_off = dst_off as u32;
            ctx.src_off = src_off as u32;
            ctx.len = len as u32;
        }
        submit_child::<T>(Child { n: 1, cap: 1, ..c });
        Ok(true)
    }

    /// Whether an open child reads `block` for `seg`'s bio and has room
    /// for another object: then [`ReadChain::add_obj`] takes an object of
    /// that block without reading it again.
    pub(crate) fn reads(&self, seg: &Segment<'_>, block: u64) -> bool {
        let parent = seg.parent();
        self.find(|c| c.holds(parent, block)).is_some()
    }

    /// Decompresses `obj`, compressed at priority `prio`, into the page of
    /// `seg`, a whole-page segment of the bio being served, once its block
    /// is read; the parent completes only after that, with an error if the
    /// read or the decompression fails.  Unless [`ReadChain::reads`] said
    /// so, the block is read, into `seg`'s page (consecutive blocks by one
    /// child), and the caller keeps it allocated until `read_done`.
    pub(crate) fn add_obj(&mut self, seg: &mut Segment<'_>, obj: ObjAt, prio: usize) -> Result {
        let parent = seg.parent();
        let in_page = obj
            .off
            .checked_add(obj.size)
            .is_some_and(|e| e <= PAGE_SIZE);
        let (off, size, prio) = match (u16::try_from(obj.off), u16::try_from(obj.size)) {
            (Ok(off), Ok(size)) if in_page && size > 0 => (off, size, u8::try_from(prio)),
            _ => return Err(EIO),
        };
        let prio = prio.map_err(|_| EIO)?;
        let mut page = seg.whole_page().ok_or(EINVAL)?;
        let dst = page.as_raw();
        let held = self.find(|c| c.holds(parent, obj.block));
        let host = held.is_none();
        let c = match held {
            Some(i) => self.open[i].as_mut().ok_or(EIO)?,
            None => self.child_for(parent, obj.block, true)?,
        };
        let entry = u8::try_from(obj.block.wrapping_sub(c.first)).map_err(|_| EIO)?;
        // SAFETY: `c.bio` is ours and unsubmitted, so is its context.
        let objs = unsafe { &mut (*ctx_of(c.bio.as_ptr())).objs };
        // Below `OBJ_MAX`: checked by `holds`, or `grows`, or a new child.
        // The last check that can fail: the child is changed only after.
        let slot = objs.get_mut(c.nobj).ok_or(EIO)?;
        slot.write(Obj {
            dst,
            off,
            size,
            entry,
            prio,
            host,
        });
        if host {
            // SAFETY: As in `add`: `c.bio` is ours, with room for a vec;
            // the page is the parent's, live until the child ends it.
            unsafe { bindings::__bio_add_page(c.bio.as_ptr(), dst, PAGE_SIZE as u32, 0) };
            c.n += 1;
        }
        c.nobj += 1;
        self.left = self.left.saturating_sub(1);
        Ok(())
    }

    /// Submits open child `i`, if any.
    fn submit(&mut self, i: usize) {
        if let Some(c) = self.open.get_mut(i).and_then(Option::take) {
            submit_child::<T>(c);
        }
    }

    /// Submits the open children, in block order.
    fn submit_all(&mut self) {
        while let Some(i) = (0..OPEN)
            .filter(|&i| self.open[i].is_some())
            .min_by_key(|&i| self.open[i].as_ref().map_or(0, |c| c.first))
        {
            self.submit(i);
        }
    }
}

/// Submits `c`, fully set up.
fn submit_child<T: ReadDone>(c: Child) {
    // SAFETY: The child is ours and fully set up; its context gets its
    // final counts, and its work item if it has objects, before the block
    // layer owns it until `child_end_io`.
    unsafe {
        let ctx = ctx_of(c.bio.as_ptr());
        (*ctx).head.n = c.n;
        (*ctx).head.nobj = c.nobj as u32;
        if c.nobj > 0 {
            ffi::rzram_init_work((*ctx).work.get(), Some(obj_work::<T>));
        }
        bindings::submit_bio(c.bio.as_ptr());
    }
}

impl<T: ReadDone> Drop for ReadChain<'_, T> {
    fn drop(&mut self) {
        self.submit_all();
    }
}

/// The context in the front pad of a child bio.
///
/// # Safety
///
/// `bio` must have been allocated from a [`ReadSet`]'s bio_set.
unsafe fn ctx_of(bio: *mut bindings::bio) -> *mut ChildCtx {
    // SAFETY: The bio_set allocates `FRONT_PAD` bytes before each bio, in
    // the same slab object.
    unsafe { bio.cast::<u8>().sub(FRONT_PAD).cast::<ChildCtx>() }
}

/// `bi_end_io` of a child bio; may run in interrupt context.
///
/// # Safety
///
/// Called once by the block layer for a child submitted by [`ReadChain`].
unsafe extern "C" fn child_end_io<T: ReadDone>(bio: *mut bindings::bio) {
    // SAFETY: `bio` is a child of a `ReadSet<T>` (the only place this
    // function is installed); its head was written by `new_child`.
    let ctx = unsafe { (*ctx_of(bio)).head };
    // SAFETY: The set outlives its children in flight (`ReadSet`
    // invariant), and `set` was cast from an `Inner<T>`.
    let inner = unsafe { &*ctx.set.cast::<Inner<T>>() };
    // SAFETY: `bio` is completing; its status is final.
    let status = unsafe { ffi::rzram_bio_status(bio) };
    // The data is in the pages now: the blocks may go.
    inner.target.read_done(ctx.first, ctx.n);
    if let Some(bounce) = NonNull::new(ctx.bounce) {
        if status == 0 {
            // SAFETY: `add_partial` checked that both ranges lie inside
            // their pages; the destination is the parent's, which is
            // still waiting for us; local mappings nest.
            unsafe {
                let d = ffi::rzram_kmap_local_page(ctx.dst);
                let s = ffi::rzram_kmap_local_page(bounce.as_ptr());
                core::ptr::copy_nonoverlapping(
                    s.cast::<u8>().add(ctx.src_off as usize),
                    d.cast::<u8>().add(ctx.dst_off as usize),
                    ctx.len as usize,
                );
                ffi::rzram_kunmap_local(s);
                ffi::rzram_kunmap_local(d);
            }
        }
        // SAFETY: Taken by `add_partial` from this pool, given back once.
        unsafe { inner.bounce.put_raw(bounce) };
    }
    if status == 0 && ctx.nobj > 0 {
        // Decompression may not run here (an interrupt, perhaps): the
        // work item finishes the child.
        // SAFETY: `submit` initialised the work item, which is idle: the
        // child completes once.  Its memory lives until `obj_work` frees
        // the child.
        unsafe {
            bindings::queue_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as i32,
                inner.wq.wq.as_ptr(),
                (*ctx_of(bio)).work.get(),
            )
        };
        return;
    }
    // SAFETY: The child completes once, here.
    unsafe { finish(inner, bio, ctx.parent, status) };
}

/// The work function of a child with objects: decompresses them into
/// their pages, then finishes the child.
///
/// # Safety
///
/// `work` must be the work item of a completed child of a `ReadSet<T>`,
/// queued by `child_end_io`.
unsafe extern "C" fn obj_work<T: ReadDone>(work: *mut bindings::work_struct) {
    // The work item is the first field of the context (`repr(C)`), which
    // lies just before its bio.
    let ctx = work.cast::<ChildCtx>();
    // SAFETY: So the bio is `FRONT_PAD` bytes on, in the same object.
    let bio = unsafe { ctx.cast::<u8>().add(FRONT_PAD).cast::<bindings::bio>() };
    // SAFETY: The child is ours again (completed), with its head and its
    // `nobj` objects written before it was submitted.
    let (head, objs) = unsafe {
        let head = (*ctx).head;
        let n = (head.nobj as usize).min(OBJ_MAX);
        let objs = core::slice::from_raw_parts((*ctx).objs.as_ptr().cast::<Obj>(), n);
        (head, objs)
    };
    // SAFETY: As in `child_end_io`.
    let inner = unsafe { &*head.set.cast::<Inner<T>>() };
    // The objects sharing a block's page first, then the one in it.
    let mut ok = true;
    let shared = objs.iter().filter(|o| !o.host);
    for o in Iterator::chain(shared, objs.iter().filter(|o| o.host)) {
        // SAFETY: The child is completed and not yet put: its vecs are
        // as built, and the parent's pages are waiting for us.
        ok &= unsafe { decompress_obj(&inner.target, bio, o) }.is_ok();
    }
    let status = if ok { 0 } else { BLK_STS_IOERR };
    // SAFETY: The child completes once, here.
    unsafe { finish(inner, bio, head.parent, status) };
}

/// Decompresses object `o` of the completed child `bio` into its page.
///
/// # Safety
///
/// `bio` must be a completed, unput child whose vecs were built by
/// [`ReadChain`], and `o.dst` a page of its parent, still waiting.
unsafe fn decompress_obj<T: ReadDone>(target: &T, bio: *mut bindings::bio, o: &Obj) -> Result {
    // SAFETY: The caller's guarantee: the vec table is as built.
    let src = unsafe {
        if u16::from(o.entry) >= (*bio).bi_vcnt {
            return Err(EIO);
        }
        (*(*bio).bi_io_vec.add(usize::from(o.entry))).bv_page
    };
    let (off, len, prio) = (usize::from(o.off), usize::from(o.size), usize::from(o.prio));
    // SAFETY: Both pages are the parent's, which no one else uses until it
    // ends; each mapping covers its page.  The same page twice (a bio may
    // name one twice) is decompressed in place, never through two slices.
    unsafe {
        let d = ffi::rzram_kmap_local_page(o.dst).cast::<u8>();
        let dst = core::slice::from_raw_parts_mut(d, PAGE_SIZE);
        let r = if src == o.dst {
            target.decompress_in_place(prio, dst, off, len)
        } else {
            let s = ffi::rzram_kmap_local_page(src).cast::<u8>();
            let obj = core::slice::from_raw_parts(s, PAGE_SIZE).get(off..off + len);
            let r = obj.map_or(Err(EIO), |obj| target.decompress(prio, obj, dst));
            ffi::rzram_kunmap_local(s.cast());
            r
        };
        ffi::rzram_kunmap_local(d.cast());
        r
    }
}

/// Frees the child `bio` and ends its parent, with `status` if it is the
/// first error.
///
/// # Safety
///
/// `bio` must be a completed child of `inner`'s set, of `parent`, finished
/// once.
unsafe fn finish<T: ReadDone>(
    inner: &Inner<T>,
    bio: *mut bindings::bio,
    parent: *mut bindings::bio,
    status: u8,
) {
    // SAFETY: The child is ours again and freed once; nothing of its
    // context is read after this.
    unsafe { bindings::bio_put(bio) };
    // SAFETY: The parent waits for this completion (`bio_inc_remaining`),
    // so it is live.  Its status is a byte that other children complete
    // concurrently; as `bio_chain_endio`, the first error is kept.
    unsafe {
        if status != 0 && super::bio::set_first_status(parent, status) {
            inner.target.read_failed();
        }
        bindings::bio_endio(parent);
    }
    // Last: once the count is zero the set may be freed.  The wakeup is
    // issued under the lock, and nothing is touched after its release.
    let mut n = inner.inflight.lock();
    *n = n.saturating_sub(1);
    inner.idle.notify_all();
    drop(n);
}

/// A workqueue with a rescuer (`WQ_MEM_RECLAIM`), for reads that the I/O
/// path must wait for.  Destroyed (after draining) on drop.
///
/// # Invariants
///
/// `wq` is a workqueue from `alloc_workqueue`, destroyed once, on drop.
pub(crate) struct ReclaimWq {
    wq: NonNull<bindings::workqueue_struct>,
}

// SAFETY: A workqueue may be used from any thread.
unsafe impl Send for ReclaimWq {}
// SAFETY: As above; queueing and flushing synchronise internally.
unsafe impl Sync for ReclaimWq {}

impl ReclaimWq {
    /// A new workqueue with the rescuer that the block I/O path needs,
    /// `unbound` (`WQ_UNBOUND`) or per CPU.
    pub(crate) fn new(unbound: bool) -> Result<Self> {
        let flags = bindings::wq_flags_WQ_MEM_RECLAIM
            | if unbound {
                bindings::wq_flags_WQ_UNBOUND
            } else {
                0
            };
        let name = if unbound {
            c_str!("rzram_dec")
        } else {
            c_str!("rzram_rd")
        };
        // SAFETY: The name is a NUL-terminated literal.
        let wq = unsafe { ffi::rzram_alloc_reclaim_wq(name.as_char_ptr(), flags) };
        // INVARIANT: a non-null result is a new workqueue.
        NonNull::new(wq).map(|wq| Self { wq }).ok_or(ENOMEM)
    }

    /// Reads block `block` of `bdev` into `dst`, and waits.  Callable from
    /// a `submit_bio` handler.  Allocates nothing.
    pub(crate) fn read_sync(&self, bdev: &BackingDev, block: u64, dst: &mut PageMut<'_>) -> Result {
        if block >= bdev.nr_pages() {
            return Err(EIO);
        }
        // `dst` stays borrowed, so unused by anyone else, until the read
        // is over.
        let mut job = SyncRead {
            work: Opaque::uninit(),
            bdev: bdev.raw(),
            page: dst.as_raw(),
            sector: block << SECTORS_PER_PAGE_SHIFT,
            result: 0,
        };
        // The worker reaches the whole job through this pointer (the work
        // item is its first field), so it is taken from the whole job.
        let work = (&raw mut job).cast::<bindings::work_struct>();
        // `flush_work` returns only after `sync_read_work` has returned,
        // and orders its write of `result` before our read.
        // SAFETY: `job` stays on this frame, unmoved, until the work has
        // run and been flushed; only then is the work item destroyed.
        unsafe {
            ffi::rzram_init_work_onstack(work, Some(sync_read_work));
            bindings::queue_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as i32,
                self.wq.as_ptr(),
                work,
            );
            bindings::flush_work(work);
            ffi::rzram_destroy_work_on_stack(work);
        }
        to_result(job.result)
    }
}

impl Drop for ReclaimWq {
    fn drop(&mut self) {
        // SAFETY: Created by `new`; drains the queue before freeing it.
        unsafe { bindings::destroy_workqueue(self.wq.as_ptr()) };
    }
}

/// A synchronous read, on the waiting task's stack.
#[repr(C)]
struct SyncRead {
    /// First, so the work pointer is the job pointer.
    work: Opaque<bindings::work_struct>,
    bdev: *mut bindings::block_device,
    page: *mut bindings::page,
    sector: u64,
    result: i32,
}

/// The work function of [`ReclaimWq::read_sync`].
///
/// # Safety
///
/// `work` must be the `work` field of a live [`SyncRead`].
unsafe extern "C" fn sync_read_work(work: *mut bindings::work_struct) {
    // SAFETY: `work` is the first field of a `SyncRead` (repr(C)) whose
    // owner waits in `flush_work` until we return.
    let job = unsafe { &mut *work.cast::<SyncRead>() };
    let mut bio = core::mem::MaybeUninit::<bindings::bio>::uninit();
    let mut bvec = core::mem::MaybeUninit::<bindings::bio_vec>::uninit();
    let bio = bio.as_mut_ptr();
    // A worker, not a `submit_bio` handler: the wait below completes.
    // SAFETY: the bio and its one vec live here until `bio_uninit`; the
    // page is valid and the waiter's until woken.
    job.result = unsafe {
        bindings::bio_init(bio, job.bdev, bvec.as_mut_ptr(), 1, ffi::rzram_opf_read());
        (*bio).bi_iter.bi_sector = job.sector;
        bindings::__bio_add_page(bio, job.page, PAGE_SIZE as u32, 0);
        let r = bindings::submit_bio_wait(bio);
        bindings::bio_uninit(bio);
        r
    };
}
