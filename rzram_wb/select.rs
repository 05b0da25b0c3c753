// SPDX-License-Identifier: GPL-2.0

//! Which slots a `writeback` request selects: its parser and the cursor
//! over the selected slots.

use crate::parse;
use crate::slots::{HUGE, IDLE, INCOMPRESSIBLE, RECLAIMED};
use kernel::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Idle,
    Huge,
    HugeIdle,
    Incompressible,
    /// Read back by `writeback_compact` (not a `writeback` mode).
    Reclaimed,
}

impl Mode {
    /// `parse_mode` of zram.
    fn parse(s: &[u8]) -> Result<Self> {
        Ok(match s {
            b"idle" => Mode::Idle,
            b"huge" => Mode::Huge,
            b"huge_idle" => Mode::HugeIdle,
            b"incompressible" => Mode::Incompressible,
            _ => return Err(EINVAL),
        })
    }

    /// Whether a slot with `flags` qualifies.
    pub(super) fn wants(self, flags: u32) -> bool {
        match self {
            Mode::Idle => flags & IDLE != 0,
            Mode::Huge => flags & HUGE != 0,
            Mode::HugeIdle => flags & (HUGE | IDLE) == HUGE | IDLE,
            Mode::Incompressible => flags & INCOMPRESSIBLE != 0,
            Mode::Reclaimed => flags & RECLAIMED != 0,
        }
    }

    pub(super) fn idle(self) -> bool {
        matches!(self, Mode::Idle | Mode::HugeIdle)
    }
}

/// One scan of a `writeback` request: the slots `lo..hi` that pass the
/// mode filter (`None`: any written slot).
#[derive(Clone, Copy)]
pub(super) struct Scan {
    pub(super) mode: Option<Mode>,
    pub(super) lo: usize,
    pub(super) hi: usize,
}

/// `kstrtoul(s, 10)` with zram's errors: `EINVAL` for a malformed number,
/// `ERANGE` for one that overflows.
fn parse_index(s: &[u8]) -> Result<usize> {
    let v = parse::kstrtoull(s, 10)?;
    usize::try_from(v).map_err(|_| ERANGE)
}

/// Parses what was written to `writeback`, as upstream zram (6.16 and
/// later) does for a device of `nr_pages` pages:
///
/// - `page_index=N` and `page_indexes=A-B` (B inclusive) each add a scan;
///   an index at or past the end, or A > B, is `ERANGE`;
/// - a mode (`idle`, `huge`, `huge_idle`, `incompressible`), bare or as
///   `type=<mode>`, scans the last range given (the whole device if none)
///   with that filter, and ends the input: later tokens are ignored;
/// - other `key=value` tokens are ignored; a bare unknown word, or a key
///   with an empty value, is `EINVAL`.
pub(super) fn parse_selection(s: &[u8], nr_pages: usize) -> Result<KVec<Scan>> {
    let mut scans = KVec::new();
    let (mut lo, mut hi) = (0, nr_pages);
    let mut args = parse::skip_spaces(s);
    while !args.is_empty() {
        let (key, val, rest) = parse::next_arg(args);
        args = rest;
        // An empty value counts as none (a bare word).
        match (key, val.filter(|v| !v.is_empty())) {
            (mode, None) | (b"type", Some(mode)) => {
                let mode = Mode::parse(mode)?;
                scans.push(
                    Scan {
                        mode: Some(mode),
                        lo,
                        hi,
                    },
                    GFP_KERNEL,
                )?;
                break;
            }
            (b"page_index", Some(v)) => {
                lo = parse_index(v)?;
                if lo >= nr_pages {
                    return Err(ERANGE);
                }
                hi = lo + 1;
            }
            (b"page_indexes", Some(v)) => {
                let dash = v.iter().position(|&c| c == b'-').ok_or(EINVAL)?;
                let (a, b) = (v.get(..dash), v.get(dash.saturating_add(1)..));
                lo = parse_index(a.unwrap_or_default())?;
                if lo >= nr_pages {
                    return Err(ERANGE);
                }
                let last = parse_index(b.unwrap_or_default())?;
                if last >= nr_pages || lo > last {
                    return Err(ERANGE);
                }
                hi = last + 1;
            }
            _ => continue,
        }
        scans.push(Scan { mode: None, lo, hi }, GFP_KERNEL)?;
    }
    Ok(scans)
}

/// Iterates the slots of a list of scans, with each one's filter.
pub(super) struct Cursor<'a> {
    pub(super) scans: &'a [Scan],
    pub(super) scan: usize,
    pub(super) next: usize,
}

impl Cursor<'_> {
    /// Gives back slot `index`, the last one returned, for the next call.
    pub(super) fn unget(&mut self, index: usize) {
        self.next = index;
    }
}

impl Iterator for Cursor<'_> {
    type Item = (usize, Option<Mode>);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let sc = self.scans.get(self.scan)?;
            let i = self.next.max(sc.lo);
            if i < sc.hi {
                self.next = i + 1;
                return Some((i, sc.mode));
            }
            self.scan += 1;
            self.next = 0;
        }
    }
}

/// A bitmap over the slots of `scans` if two of them overlap (a slot may
/// then come up twice), else `None`.
pub(super) fn overlap_map(scans: &[Scan]) -> Result<Option<KVVec<u64>>> {
    let overlap = scans.iter().enumerate().any(|(i, a)| {
        scans
            .iter()
            .skip(i.saturating_add(1))
            .any(|b| a.lo < b.hi && b.lo < a.hi)
    });
    if !overlap {
        return Ok(None);
    }
    let end = scans.iter().map(|s| s.hi).max().unwrap_or(0);
    Ok(Some(KVVec::from_elem(0, end.div_ceil(64), GFP_KERNEL)?))
}
