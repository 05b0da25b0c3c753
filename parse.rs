// SPDX-License-Identifier: GPL-2.0

//! Parsers with the semantics of the kernel's `memparse` and `kstrto*`,
//! which zram's sysfs attributes use.  Inputs are bytes, as C sees them:
//! up to the first NUL, with at most one trailing newline already removed
//! (see `glue::sysfs::store_input`).  They need not be UTF-8.

use kernel::prelude::*;

/// Parses the leading unsigned number of `s` like `simple_strtoull(s, &end,
/// base)`: base 0 means auto (`0x` hex, leading `0` octal, else decimal).
/// Returns the value and the unparsed rest; `None` if no digit was read.
fn strtoull(s: &[u8], base: u32) -> Option<(u64, &[u8])> {
    let b = s;
    let (base, mut i) = match base {
        0 if b.len() >= 2
            && b[0] == b'0'
            && (b[1] | 0x20) == b'x'
            && b.get(2).is_some_and(|c| c.is_ascii_hexdigit()) =>
        {
            (16, 2)
        }
        0 if b.first() == Some(&b'0') => (8, 0),
        0 => (10, 0),
        16 if b.len() >= 2 && b[0] == b'0' && (b[1] | 0x20) == b'x' => (16, 2),
        base => (base, 0),
    };
    let start = i;
    let mut v: u64 = 0;
    while let Some(d) = b.get(i).and_then(|c| digit(*c, base)) {
        // simple_strtoull wraps silently; kstrto* reject overflow (below).
        v = v.wrapping_mul(base as u64).wrapping_add(d as u64);
        i += 1;
    }
    if i == start {
        return None;
    }
    Some((v, s.get(i..)?))
}

/// The value of ASCII digit `c` in `radix`, as the kernel's `_parse_integer`
/// reads digits (`0-9`, then `a-z` or `A-Z`); `None` if it is not one.
/// Unlike `char::to_digit`, it cannot panic for any radix.
fn digit(c: u8, radix: u32) -> Option<u32> {
    // One subtraction per arm, of a constant no larger than the arm's
    // lowest byte, so no arm can overflow (`c - b'a' + 10` left the
    // compiler an overflow check on the addition).
    let d = match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'z' => c - (b'a' - 10),
        b'A'..=b'Z' => c - (b'A' - 10),
        _ => return None,
    };
    (u32::from(d) < radix).then_some(u32::from(d))
}

/// `memparse`: a number with an optional K, M, G, T, P or E suffix (any
/// case).  Trailing text after the suffix is ignored, as in C.  `None` when
/// no number could be read.
pub(crate) fn memparse(s: &[u8]) -> Option<u64> {
    let (v, rest) = strtoull(s, 0)?;
    let shift = match rest.first().map(|c| c.to_ascii_uppercase()) {
        Some(b'E') => 60,
        Some(b'P') => 50,
        Some(b'T') => 40,
        Some(b'G') => 30,
        Some(b'M') => 20,
        Some(b'K') => 10,
        _ => 0,
    };
    Some(v.wrapping_shl(shift))
}

/// `kstrtoull(s, base)`: the whole string must be a number that fits.
pub(crate) fn kstrtoull(s: &[u8], base: u32) -> Result<u64> {
    let s = s.strip_prefix(b"+").unwrap_or(s);
    let (_, rest) = strtoull(s, base).ok_or(EINVAL)?;
    if !rest.is_empty() {
        return Err(EINVAL);
    }
    // Re-parse with overflow checks.
    let b = s;
    let (digits, radix) = match base {
        0 | 16 if b.len() > 2 && b[0] == b'0' && (b[1] | 0x20) == b'x' => (b.get(2..), 16),
        0 if b.len() > 1 && b[0] == b'0' => (b.get(1..), 8),
        0 => (Some(b), 10),
        base => (Some(b), base),
    };
    let mut v: u64 = 0;
    for c in digits.ok_or(EINVAL)? {
        let d = u64::from(digit(*c, radix).ok_or(EINVAL)?);
        v = v
            .checked_mul(radix as u64)
            .and_then(|v| v.checked_add(d))
            .ok_or(ERANGE)?;
    }
    Ok(v)
}

/// `kstrtoint(s, 10)`: an optional sign, then a number that fits `i32`.
pub(crate) fn kstrtoint(s: &[u8]) -> Result<i32> {
    let (neg, digits) = match s.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, s),
    };
    // As `kstrtoll`: only `kstrtoull` skips a `+`, so `-+1` is malformed.
    if neg && digits.first() == Some(&b'+') {
        return Err(EINVAL);
    }
    let v = kstrtoull(digits, 10)?;
    let v = if neg { -(v as i128) } else { v as i128 };
    i32::try_from(v).map_err(|_| ERANGE)
}

/// `kstrtou16(s, 10)`.
pub(crate) fn kstrtou16(s: &[u8]) -> Result<u16> {
    u16::try_from(kstrtoull(s, 10)?).map_err(|_| ERANGE)
}

/// `sysfs_streq(a, b)` with `a` already stripped of one newline.
pub(crate) fn streq(a: &[u8], b: &str) -> bool {
    a == b.as_bytes()
}

/// The kernel's `isspace` (lib/ctype.c): ASCII space, `\t` to `\r`, and
/// Latin-1's non-breaking space 0xA0.
pub(crate) fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t'..=b'\r' | 0xa0)
}
