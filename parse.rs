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
    let (radix, digits) = fixup_radix(s, base);
    // simple_strtoull wraps silently; kstrto* reject overflow.
    let (v, n, _) = parse_integer(digits, radix);
    if n == 0 {
        return None;
    }
    Some((v, digits.get(n..)?))
}

/// The kernel's `_parse_integer`: the leading digits of `s` in `radix`, as
/// (value, digits read, overflowed); the value wraps on overflow.
fn parse_integer(s: &[u8], radix: u32) -> (u64, usize, bool) {
    let (mut v, mut n, mut overflow) = (0u64, 0usize, false);
    while let Some(d) = s.get(n).and_then(|c| digit(*c, radix)) {
        let (m, o1) = v.overflowing_mul(u64::from(radix));
        let (a, o2) = m.overflowing_add(u64::from(d));
        v = a;
        overflow |= o1 || o2;
        n += 1;
    }
    (v, n, overflow)
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
/// nothing was consumed; as in C, a bare suffix (no digits) is 0.
pub(crate) fn memparse(s: &[u8]) -> Option<u64> {
    let (v, rest) = strtoull(s, 0).unwrap_or((0, s));
    let shift = match rest.first().map(|c| c.to_ascii_uppercase()) {
        Some(b'E') => 60,
        Some(b'P') => 50,
        Some(b'T') => 40,
        Some(b'G') => 30,
        Some(b'M') => 20,
        Some(b'K') => 10,
        // No digit and no suffix: C's `endptr == buf`.
        _ if rest.len() == s.len() => return None,
        _ => 0,
    };
    Some(v.wrapping_shl(shift))
}

/// The radix and digits of `s` for `kstrto*(s, base)`, as the kernel's
/// `_parse_integer_fixup_radix`: base 0 reads `0x` + a hex digit as hex, a
/// leading `0` as octal, else decimal; base 16 skips a `0x`.
fn fixup_radix(s: &[u8], base: u32) -> (u32, &[u8]) {
    let hex_prefix = s.len() >= 2 && s[0] == b'0' && (s[1] | 0x20) == b'x';
    match base {
        0 if hex_prefix && s.get(2).is_some_and(|c| c.is_ascii_hexdigit()) => {
            (16, s.get(2..).unwrap_or_default())
        }
        0 if s.first() == Some(&b'0') => (8, s),
        0 => (10, s),
        16 if hex_prefix => (16, s.get(2..).unwrap_or_default()),
        base => (base, s),
    }
}

/// `kstrtoull(s, base)`: the whole string must be a number that fits.  As
/// the kernel's `_kstrtoull`, an overflow is `ERANGE` before trailing text
/// is looked at, then no digit or trailing text is `EINVAL`.  (The one
/// newline the kernel also skips was removed with the input's.)
pub(crate) fn kstrtoull(s: &[u8], base: u32) -> Result<u64> {
    let s = s.strip_prefix(b"+").unwrap_or(s);
    let (radix, digits) = fixup_radix(s, base);
    let (v, n, overflow) = parse_integer(digits, radix);
    if overflow {
        return Err(ERANGE);
    }
    if n == 0 || digits.len() != n {
        return Err(EINVAL);
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

/// `kstrtouint(s, 10)`.
pub(crate) fn kstrtouint(s: &[u8]) -> Result<u32> {
    u32::try_from(kstrtoull(s, 10)?).map_err(|_| ERANGE)
}

/// `kstrtobool(s)`: by its first bytes, `y`/`Y`/`t`/`T`/`1` and `on` are
/// true, `n`/`N`/`f`/`F`/`0` and `off` false (case-insensitive `o`);
/// anything else, or nothing, is `EINVAL`.
pub(crate) fn kstrtobool(s: &[u8]) -> Result<bool> {
    match s {
        [b'y' | b'Y' | b't' | b'T' | b'1', ..] => Ok(true),
        [b'n' | b'N' | b'f' | b'F' | b'0', ..] => Ok(false),
        [b'o' | b'O', b'n' | b'N', ..] => Ok(true),
        [b'o' | b'O', b'f' | b'F', ..] => Ok(false),
        _ => Err(EINVAL),
    }
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

/// `s` without its leading spaces (`skip_spaces`).
pub(crate) fn skip_spaces(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&c| is_space(c)).count();
    s.get(n..).unwrap_or_default()
}

/// `s` without one trailing `"`.
fn unquote_end(s: &[u8]) -> &[u8] {
    s.strip_suffix(b"\"").unwrap_or(s)
}

/// One token of `args` (which starts with no space), as the kernel's
/// `next_arg`: `(param, value, rest)`.  A token ends at a space outside
/// double quotes; it splits at its first `=` past the first byte; quotes
/// around the token or the value are dropped.
pub(crate) fn next_arg(args: &[u8]) -> (&[u8], Option<&[u8]>, &[u8]) {
    let (args, quoted) = match args.strip_prefix(b"\"") {
        Some(a) => (a, true),
        None => (args, false),
    };
    let (mut in_quote, mut equals, mut end) = (quoted, None, args.len());
    for (i, &c) in args.iter().enumerate() {
        if is_space(c) && !in_quote {
            end = i;
            break;
        }
        if equals.is_none() && c == b'=' && i > 0 {
            equals = Some(i);
        }
        if c == b'"' {
            in_quote = !in_quote;
        }
    }
    let tok = args.get(..end).unwrap_or_default();
    // Past the token and the one space that ended it, then past spaces.
    let rest = skip_spaces(args.get(end.saturating_add(1)..).unwrap_or_default());
    let Some(eq) = equals else {
        return (if quoted { unquote_end(tok) } else { tok }, None, rest);
    };
    let param = tok.get(..eq).unwrap_or_default();
    let val = tok.get(eq.saturating_add(1)..).unwrap_or_default();
    // One trailing quote goes, for a quoted value or a quoted token.
    let val = match val.strip_prefix(b"\"") {
        Some(v) => unquote_end(v),
        None if quoted => unquote_end(val),
        None => val,
    };
    (param, Some(val), rest)
}

/// Calls `f(key, value)` for each `key=value` token of `s`, as zram 6.12's
/// `algorithm_params`, `recomp_algorithm` and `recompress` stores walk
/// their input with `next_arg`: a token without a value, or with an empty
/// one, is `EINVAL`; the first error ends the walk.
pub(crate) fn for_each_param<'a>(
    s: &'a [u8],
    mut f: impl FnMut(&'a [u8], &'a [u8]) -> Result,
) -> Result {
    let mut args = skip_spaces(s);
    while !args.is_empty() {
        let (key, val, rest) = next_arg(args);
        args = rest;
        let val = val.filter(|v| !v.is_empty()).ok_or(EINVAL)?;
        f(key, val)?;
    }
    Ok(())
}
