//! How long the system has been up, from `/proc/uptime` (the manual's 系统运行时间). The
//! daemon's own uptime (呼叫中心 web 运行时间) needs no kernel file: [`super::snapshot()`] takes
//! the `Instant` the daemon started.

use std::path::Path;
use std::time::Duration;

use super::{parse_proc_file, ParseError, SystemError};

/// Parses the text of `/proc/uptime` (`"352817.42 1298301.67\n"`: seconds since boot, then
/// idle seconds summed over all CPUs) into the time since boot.
pub fn parse_uptime(text: &str) -> Result<Duration, ParseError> {
    let first = text.split_whitespace().next().unwrap_or("");
    let malformed = || ParseError::new(format!("cannot read the uptime {first:?}"));
    let (seconds, fraction) = first.split_once('.').unwrap_or((first, ""));
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if seconds.is_empty() || !all_digits(seconds) || !all_digits(fraction) {
        return Err(malformed());
    }
    let seconds: u64 = seconds.parse().map_err(|_| malformed())?;
    // Digits past nanoseconds are dropped; the kernel prints two.
    let nanos = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .fold(0u32, |nanos, digit| nanos * 10 + u32::from(digit - b'0'));
    Ok(Duration::new(seconds, nanos))
}

/// Reads and parses `<proc_root>/uptime` (`proc_root` is `/proc` outside tests).
pub fn read_uptime(proc_root: &Path) -> Result<Duration, SystemError> {
    parse_proc_file(proc_root, "uptime", parse_uptime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_fixture() {
        let uptime = parse_uptime(include_str!("fixtures/uptime.txt")).unwrap();
        assert_eq!(uptime, Duration::from_millis(352_817_420));
    }

    #[test]
    fn parses_odd_but_valid_forms() {
        assert_eq!(parse_uptime("5 9").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_uptime("0.00 0.00\n").unwrap(), Duration::ZERO);
        assert_eq!(parse_uptime("7.").unwrap(), Duration::from_secs(7));
        assert_eq!(
            parse_uptime("1.1234567899").unwrap(),
            Duration::new(1, 123_456_789)
        );
    }

    #[test]
    fn rejects_garbage() {
        for text in [
            "",
            "\n",
            "-1.00 2.00",
            "abc 1",
            ".5 1",
            "1.2.3 4",
            "1e3 4",
            "+1 2",
        ] {
            assert!(parse_uptime(text).is_err(), "{text:?} was accepted");
        }
        assert_eq!(
            parse_uptime("x 1").unwrap_err().to_string(),
            r#"cannot read the uptime "x""#
        );
    }

    #[test]
    fn read_uptime_names_a_missing_file() {
        let empty = tempfile::tempdir().unwrap();
        let error = read_uptime(empty.path()).unwrap_err();
        let expected = format!("cannot read {}/uptime: ", empty.path().display());
        assert!(error.to_string().starts_with(&expected), "{error}");
    }
}
