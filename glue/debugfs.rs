// SPDX-License-Identifier: GPL-2.0

//! debugfs: directories, and read-only files whose text a Rust callback
//! writes, as zram's `block_state`.
//!
//! A file's data is a disk's private data; the file lives in a directory
//! owned by that [`super::disk::Disk`], which removes it before the data
//! is dropped (see `Disk::add_debugfs`).
//!
//! C header: [`include/linux/debugfs.h`](srctree/include/linux/debugfs.h)

use super::ffi;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::{bindings, prelude::*, uaccess::UserSlice};

/// Most bytes one `read(2)` of a debugfs file returns: the buffer is
/// allocated per call, and a reader asking for more gets a short read.
const MAX_READ: usize = 64 * 1024;

/// A debugfs directory, removed with its contents on drop.
///
/// # Invariants
///
/// `dentry` is a directory made by `debugfs_create_dir`, not yet removed.
pub(crate) struct Dir {
    dentry: NonNull<bindings::dentry>,
}

// SAFETY: debugfs entries may be created under and removed from any
// thread; debugfs locks its own tree.
unsafe impl Send for Dir {}
// SAFETY: As above; `&Dir` only creates entries under it.
unsafe impl Sync for Dir {}

impl Dir {
    /// Directory `name` under `parent` (the debugfs root for `None`).
    /// `None` if debugfs is not available; as in zram, debug files are
    /// optional and their absence is not an error.
    pub(crate) fn new(name: &CStr, parent: Option<&Dir>) -> Option<Self> {
        let parent = parent.map_or(core::ptr::null_mut(), |p| p.dentry.as_ptr());
        // SAFETY: `name` is NUL-terminated; `parent` is a live directory or
        // null.  Returns a dentry or an error pointer.
        let d = unsafe { ffi::rzram_debugfs_create_dir(name.as_char_ptr(), parent) };
        // INVARIANT: a dentry that is not an error is the new directory.
        NonNull::new(d)
            .filter(|d| kernel::error::from_err_ptr(d.as_ptr()).is_ok())
            .map(|dentry| Self { dentry })
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: The directory is live (type invariant) and removed once.
        // debugfs waits for running file operations under it to finish.
        unsafe { ffi::rzram_debugfs_remove(self.dentry.as_ptr()) };
    }
}

/// Text for one `read(2)`: at most the reader's count of bytes.
pub(crate) struct ReadBuf {
    buf: KVVec<u8>,
    room: usize,
}

impl ReadBuf {
    /// Appends `line` if it fits whole; `false` (nothing appended) if not.
    pub(crate) fn push_line(&mut self, line: &[u8]) -> Result<bool> {
        if line.len() >= self.room.saturating_sub(self.buf.len()) {
            return Ok(false);
        }
        self.buf.extend_from_slice(line, GFP_KERNEL)?;
        Ok(true)
    }
}

/// What a read-only debugfs file of a disk shows.
pub(crate) trait DebugRead: Sync + 'static {
    /// Appends text at position `pos` (the file's offset, which the
    /// callback defines; zram counts slots) to `out`, and advances `pos`
    /// past what it consumed.
    fn read(&self, pos: &mut u64, out: &mut ReadBuf) -> Result;
}

struct Fops<T>(PhantomData<T>);

impl<T: DebugRead> Fops<T> {
    const OPS: &'static bindings::file_operations = &bindings::file_operations {
        open: Some(bindings::simple_open),
        read: Some(read_callback::<T>),
        llseek: Some(bindings::default_llseek),
        // SAFETY: All other members are optional; zero means absent.
        ..unsafe { core::mem::zeroed() }
    };
}

/// Adds read-only file `name` to `dir`, showing `T::read` of `data`.
///
/// # Safety
///
/// `data` must stay valid until `dir` is dropped.
pub(super) unsafe fn add_file<T: DebugRead>(dir: &Dir, name: &CStr, data: *const T) {
    // A failure leaves no file, which is allowed (see `Dir::new`).
    // SAFETY: `name` is NUL-terminated, `dir` live, the operations a static
    // table for `T`; `data` outlives the file (the caller's guarantee),
    // as `read_callback` requires.
    unsafe {
        ffi::rzram_debugfs_create_file(
            name.as_char_ptr(),
            0o400,
            dir.dentry.as_ptr(),
            data.cast_mut().cast(),
            Fops::<T>::OPS,
        )
    };
}

/// `read` of the files of [`add_file`].
///
/// # Safety
///
/// Called by the VFS for a file opened with `simple_open`, whose inode's
/// private data is the `*const T` given to [`add_file`].
unsafe extern "C" fn read_callback<T: DebugRead>(
    file: *mut bindings::file,
    buf: *mut kernel::ffi::c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    // SAFETY: `simple_open` copied the inode's private data, our `T`, to
    // the file; debugfs runs this only while the file is not removed, and
    // it is removed before `T` is dropped (`add_file`'s contract).
    let data = unsafe { &*(*file).private_data.cast::<T>() };
    // SAFETY: The VFS passes the file position, ours for this call.
    let ppos = unsafe { &mut *ppos };
    let room = count.min(MAX_READ);
    let mut out = ReadBuf {
        buf: match KVVec::with_capacity(room, GFP_KERNEL) {
            Ok(b) => b,
            Err(e) => return Error::from(e).to_errno() as isize,
        },
        room,
    };
    let mut pos = u64::try_from(*ppos).unwrap_or(0);
    if let Err(e) = data.read(&mut pos, &mut out) {
        return e.to_errno() as isize;
    }
    let n = out.buf.len();
    let mut w = UserSlice::new(buf as usize, n).writer();
    if let Err(e) = w.write_slice(&out.buf) {
        return e.to_errno() as isize;
    }
    *ppos = i64::try_from(pos).unwrap_or(i64::MAX);
    n as isize
}
