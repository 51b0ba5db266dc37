//! HTTP `Range` handling for serving media files (voicemail audio, call recordings).
//!
//! Owns: the pure decision "which bytes of a representation of `len` bytes does this request
//! get" (RFC 9110 §14.1–14.4, §15.3.7, §15.5.17) and the matching `Content-Range` header
//! values. It does no I/O and knows nothing of HTTP frameworks: the http layer maps the
//! [`RangeDecision`] to a status (200/206/416), `Content-Length`, `Content-Range` and
//! `Accept-Ranges: bytes`, then streams `start..=end` of the file.
//!
//! Decisions (RFC 9110 leaves these to the server):
//! - Only the `bytes` unit is understood (compared case-insensitively, §14.1). Any other unit,
//!   or a header that does not parse, is **ignored** → [`RangeDecision::Full`] (§14.2: "a
//!   server MUST ignore a Range header field received with ... an unknown range unit"; an
//!   invalid ranges-specifier MAY be ignored, which we do rather than answering 416).
//! - A range-spec whose last-pos is smaller than its first-pos is invalid (§14.1.1), so the
//!   whole header is ignored → `Full`.
//! - **More than one range** (`bytes=0-1,5-9`) is answered with the whole representation
//!   (`Full`, 200): the server MAY ignore Range (§14.2), browsers' media elements only ever ask
//!   for one range, and this avoids `multipart/byteranges`. This holds even when none of the
//!   ranges is satisfiable — a 200 is always a correct answer to an ignored Range.
//! - A single satisfiable range → [`RangeDecision::Partial`] with an inclusive `end`, clamped
//!   to `len - 1` (§14.1.2: a last-pos past the end means "to the end").
//! - A single unsatisfiable range (first-pos ≥ len, or a suffix of length 0) →
//!   [`RangeDecision::Unsatisfiable`] → 416 with `Content-Range: bytes */len` (§15.5.17).
//! - Zero-length representation: per §14.1.1 only a suffix range with non-zero length is
//!   satisfiable, and since no byte can be sent we answer it with `Full` (an empty 200);
//!   `bytes=0-` on an empty file is unsatisfiable (416).
//! - Numbers too large for `u64` saturate (a huge first-pos is simply unsatisfiable, a huge
//!   last-pos or suffix-length means "all of it").
//! - Headers longer than [`MAX_RANGE_HEADER_LEN`] are ignored (→ `Full`) so that a hostile
//!   header costs nothing.
//! - `If-Range` is the caller's business: when its validator does not match, pass `None`.

/// Range headers longer than this are ignored (answered with the full representation).
pub const MAX_RANGE_HEADER_LEN: usize = 1024;

/// What to answer to a request for a representation of a known length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeDecision {
    /// 200 with the whole representation (no Range, an ignored Range, or several ranges).
    Full,
    /// 206 with bytes `start..=end` (inclusive, `start <= end < len`).
    Partial { start: u64, end: u64 },
    /// 416 with `Content-Range: bytes */len` and no body.
    Unsatisfiable,
}

impl RangeDecision {
    /// The HTTP status code to answer with: 200, 206 or 416.
    pub fn status(&self) -> u16 {
        match self {
            RangeDecision::Full => 200,
            RangeDecision::Partial { .. } => 206,
            RangeDecision::Unsatisfiable => 416,
        }
    }

    /// The number of body bytes to send (`Content-Length`) for a representation of `len`.
    pub fn content_length(&self, len: u64) -> u64 {
        match *self {
            RangeDecision::Full => len,
            RangeDecision::Partial { start, end } => end - start + 1,
            RangeDecision::Unsatisfiable => 0,
        }
    }

    /// The `Content-Range` header value to send, if any (206 and 416 only).
    pub fn content_range(&self, len: u64) -> Option<String> {
        match *self {
            RangeDecision::Full => None,
            RangeDecision::Partial { start, end } => Some(content_range(start, end, len)),
            RangeDecision::Unsatisfiable => Some(unsatisfied_content_range(len)),
        }
    }
}

/// `Content-Range` value of a 206 answer: `bytes start-end/len` (`end` inclusive).
pub fn content_range(start: u64, end: u64, len: u64) -> String {
    format!("bytes {start}-{end}/{len}")
}

/// `Content-Range` value of a 416 answer: `bytes */len`.
pub fn unsatisfied_content_range(len: u64) -> String {
    format!("bytes */{len}")
}

/// One syntactically valid byte-range-spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `first-` or `first-last`.
    FromTo { first: u64, last: Option<u64> },
    /// `-suffix`.
    Suffix(u64),
}

/// Decides how to answer a request carrying `header` (the raw `Range` value, `None` when the
/// request has none) for a representation of `len` bytes. See the module doc for the rules.
pub fn parse_range(header: Option<&str>, len: u64) -> RangeDecision {
    let Some(header) = header else {
        return RangeDecision::Full;
    };
    if header.len() > MAX_RANGE_HEADER_LEN {
        return RangeDecision::Full;
    }
    let Some(specs) = parse_specs(header) else {
        return RangeDecision::Full;
    };
    if specs.len() != 1 {
        return RangeDecision::Full;
    }
    match specs[0] {
        Spec::FromTo { first, last } => {
            if first >= len {
                return RangeDecision::Unsatisfiable;
            }
            let end = last.map_or(len - 1, |last| last.min(len - 1));
            RangeDecision::Partial { start: first, end }
        }
        Spec::Suffix(0) => RangeDecision::Unsatisfiable,
        Spec::Suffix(_) if len == 0 => RangeDecision::Full,
        Spec::Suffix(suffix) => RangeDecision::Partial {
            start: len - suffix.min(len),
            end: len - 1,
        },
    }
}

/// Parses `bytes=spec[, spec…]`; `None` when the header is not a valid bytes ranges-specifier.
fn parse_specs(header: &str) -> Option<Vec<Spec>> {
    let (unit, set) = header.trim().split_once('=')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let mut specs = Vec::new();
    // range-set = 1#range-spec: empty list elements (", ,") are allowed by the list rule (§5.6.1).
    for element in set.split(',') {
        let element = element.trim_matches([' ', '\t']);
        if element.is_empty() {
            continue;
        }
        specs.push(parse_spec(element)?);
    }
    if specs.is_empty() {
        None
    } else {
        Some(specs)
    }
}

fn parse_spec(spec: &str) -> Option<Spec> {
    let (first, last) = spec.split_once('-')?;
    if first.is_empty() {
        return Some(Spec::Suffix(parse_digits(last)?));
    }
    let first = parse_digits(first)?;
    if last.is_empty() {
        return Some(Spec::FromTo { first, last: None });
    }
    let last = parse_digits(last)?;
    if last < first {
        return None;
    }
    Some(Spec::FromTo {
        first,
        last: Some(last),
    })
}

/// 1*DIGIT, saturating at `u64::MAX`.
fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |acc, b| {
        acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeDecision::{Full, Partial, Unsatisfiable};

    fn p(h: &str, len: u64) -> RangeDecision {
        parse_range(Some(h), len)
    }

    #[test]
    fn no_header_is_full() {
        assert_eq!(parse_range(None, 100), Full);
        assert_eq!(parse_range(None, 0), Full);
    }

    #[test]
    fn first_last() {
        assert_eq!(p("bytes=0-0", 100), Partial { start: 0, end: 0 });
        assert_eq!(p("bytes=0-99", 100), Partial { start: 0, end: 99 });
        assert_eq!(p("bytes=10-19", 100), Partial { start: 10, end: 19 });
        assert_eq!(p("bytes=99-99", 100), Partial { start: 99, end: 99 });
    }

    #[test]
    fn last_past_end_is_clamped() {
        assert_eq!(p("bytes=50-1000", 100), Partial { start: 50, end: 99 });
        assert_eq!(
            p("bytes=0-99999999999999999999999999", 100),
            Partial { start: 0, end: 99 }
        );
    }

    #[test]
    fn open_ended() {
        assert_eq!(p("bytes=0-", 100), Partial { start: 0, end: 99 });
        assert_eq!(p("bytes=42-", 100), Partial { start: 42, end: 99 });
        assert_eq!(p("bytes=99-", 100), Partial { start: 99, end: 99 });
    }

    #[test]
    fn suffix() {
        assert_eq!(p("bytes=-1", 100), Partial { start: 99, end: 99 });
        assert_eq!(p("bytes=-10", 100), Partial { start: 90, end: 99 });
        assert_eq!(p("bytes=-100", 100), Partial { start: 0, end: 99 });
        assert_eq!(p("bytes=-500", 100), Partial { start: 0, end: 99 });
        assert_eq!(
            p("bytes=-99999999999999999999999", 100),
            Partial { start: 0, end: 99 }
        );
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(p("bytes=100-", 100), Unsatisfiable);
        assert_eq!(p("bytes=100-200", 100), Unsatisfiable);
        assert_eq!(p("bytes=1000-", 100), Unsatisfiable);
        assert_eq!(p("bytes=99999999999999999999999-", 100), Unsatisfiable);
        assert_eq!(p("bytes=-0", 100), Unsatisfiable);
    }

    #[test]
    fn zero_length_representation() {
        assert_eq!(p("bytes=0-", 0), Unsatisfiable);
        assert_eq!(p("bytes=0-10", 0), Unsatisfiable);
        assert_eq!(p("bytes=-0", 0), Unsatisfiable);
        assert_eq!(p("bytes=-5", 0), Full);
    }

    #[test]
    fn malformed_is_ignored() {
        for h in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=1-a",
            "bytes=--5",
            "bytes=5",
            "bytes=+5-10",
            "bytes=5-+10",
            "bytes=1 -5",
            "bytes=1- 5",
            "bytes=0x10-20",
            "bytes=10-5",
            "bytes=1-2-3",
            "bytes=,",
            "bytes=1.5-2",
            "bits=0-10",
            "items=0-1",
            "=0-10",
            "0-10",
            "bytes 0-10",
            "bytes=0-10;x",
            "bytes=-5-",
        ] {
            assert_eq!(p(h, 100), Full, "{h:?}");
        }
    }

    #[test]
    fn unit_is_case_insensitive_and_whitespace_tolerated() {
        assert_eq!(p("Bytes=0-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(p("BYTES=0-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(p("  bytes=0-9  ", 100), Partial { start: 0, end: 9 });
        assert_eq!(p("bytes= 0-9", 100), Partial { start: 0, end: 9 });
        assert_eq!(p("bytes=0-9 ,", 100), Partial { start: 0, end: 9 });
        assert_eq!(p("bytes=, 0-9", 100), Partial { start: 0, end: 9 });
        // No whitespace inside the unit token or around '=' before the set.
        assert_eq!(p("by tes=0-9", 100), Full);
        assert_eq!(p("bytes =0-9", 100), Full);
    }

    #[test]
    fn multiple_ranges_are_answered_in_full() {
        assert_eq!(p("bytes=0-1,5-9", 100), Full);
        assert_eq!(p("bytes=0-1, -5", 100), Full);
        assert_eq!(p("bytes=200-300, 400-", 100), Full);
        // One bad element invalidates the whole header: still Full.
        assert_eq!(p("bytes=0-1, x", 100), Full);
    }

    #[test]
    fn huge_header_is_ignored() {
        let h = format!("bytes=0-1{}", ",".repeat(MAX_RANGE_HEADER_LEN));
        assert_eq!(p(&h, 100), Full);
        let h = format!("bytes={}0-1", " ".repeat(MAX_RANGE_HEADER_LEN));
        assert_eq!(p(&h, 100), Full);
    }

    #[test]
    fn leading_zeros_are_digits() {
        assert_eq!(p("bytes=0010-0019", 100), Partial { start: 10, end: 19 });
    }

    #[test]
    fn status_length_and_content_range() {
        let len = 64044;
        let d = p("bytes=0-", len);
        assert_eq!(d.status(), 206);
        assert_eq!(d.content_length(len), len);
        assert_eq!(d.content_range(len).as_deref(), Some("bytes 0-64043/64044"));

        let d = p("bytes=100-199", len);
        assert_eq!(d.content_length(len), 100);
        assert_eq!(d.content_range(len).as_deref(), Some("bytes 100-199/64044"));

        let d = p("bytes=70000-", len);
        assert_eq!(d.status(), 416);
        assert_eq!(d.content_length(len), 0);
        assert_eq!(d.content_range(len).as_deref(), Some("bytes */64044"));

        let d = parse_range(None, len);
        assert_eq!(d.status(), 200);
        assert_eq!(d.content_length(len), len);
        assert_eq!(d.content_range(len), None);
    }

    #[test]
    fn header_helpers() {
        assert_eq!(content_range(0, 0, 1), "bytes 0-0/1");
        assert_eq!(unsatisfied_content_range(0), "bytes */0");
    }

    #[test]
    fn partial_is_always_within_bounds() {
        // A small exhaustive sweep: every Partial lies inside the representation.
        for len in 0..6u64 {
            for a in 0..8u64 {
                for b in a..8u64 {
                    for h in [
                        format!("bytes={a}-{b}"),
                        format!("bytes={a}-"),
                        format!("bytes=-{a}"),
                    ] {
                        if let Partial { start, end } = p(&h, len) {
                            assert!(start <= end && end < len, "{h} len={len}");
                        }
                    }
                }
            }
        }
    }
}
