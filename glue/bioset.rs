// SPDX-License-Identifier: GPL-2.0

//! A bio_set: mempools of bios and bio_vecs, so that allocating a bio with
//! a sleeping gfp waits instead of failing.
//!
//! C header: [`include/linux/bio.h`](srctree/include/linux/bio.h)

use kernel::{bindings, error::to_result, prelude::*, types::Opaque};

/// 512-byte sectors per page.
pub(super) const SECTORS_PER_PAGE_SHIFT: u32 = kernel::page::PAGE_SHIFT as u32 - 9;
/// `BIO_MAX_VECS`: the most vecs one bio holds.
pub(super) const BIO_MAX_VECS: usize = 256;

/// Bios the bio_set keeps in reserve (`BIO_POOL_SIZE`).
const POOL_SIZE: u32 = 2;

/// A bio_set (mempools of bios and bvecs, with a rescuer), exited on drop.
///
/// # Invariants
///
/// `bs` was initialised by `bioset_init`, at a fixed heap address.
pub(crate) struct BioSet {
    bs: KBox<Opaque<bindings::bio_set>>,
}

// SAFETY: A bio_set is used only through `bio_alloc_bioset`/`bio_put`
// and the rescuer, which synchronise internally; it may move between
// threads with its owner.
unsafe impl Send for BioSet {}
// SAFETY: As above.
unsafe impl Sync for BioSet {}

impl BioSet {
    /// A bio_set with `front_pad` bytes before each bio, and a rescuer if
    /// its bios are allocated inside a `submit_bio` handler.
    pub(crate) fn new(front_pad: u32, rescuer: bool) -> Result<Self> {
        let mut flags = bindings::BIOSET_NEED_BVECS;
        if rescuer {
            flags |= bindings::BIOSET_NEED_RESCUER;
        }
        let bs = KBox::new(Opaque::<bindings::bio_set>::uninit(), GFP_KERNEL)?;
        // SAFETY: `bs` is ours, writable and boxed (it never moves).
        // `bioset_init` expects zeroed memory: on failure it undoes what
        // it did by looking at which fields are set.
        let ret = unsafe {
            core::ptr::write_bytes(bs.get(), 0, 1);
            bindings::bioset_init(bs.get(), POOL_SIZE, front_pad, flags as i32)
        };
        to_result(ret)?;
        // INVARIANT: initialised above.
        Ok(Self { bs })
    }
}

impl BioSet {
    /// The bio_set, for `bio_alloc_bioset`.
    pub(crate) fn raw(&self) -> *mut bindings::bio_set {
        self.bs.get()
    }
}

impl Drop for BioSet {
    fn drop(&mut self) {
        // SAFETY: Initialised (type invariant); the owner ensures no bio of
        // this set is still allocated (`ReadSet` and `Batch` wait for
        // theirs).
        unsafe { bindings::bioset_exit(self.bs.get()) };
    }
}
