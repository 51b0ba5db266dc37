//! Physical memory, from `/proc/meminfo`: how much the box has, and how much of it is free.
//!
//! "Free" in the manual (剩余空闲内存) is the kernel's `MemAvailable`: memory a new program can
//! get without swapping, page cache and reclaimable slab included. The kernel's own `MemFree`
//! (memory holding nothing at all) is always small on a box that has been up for a while,
//! because Linux keeps idle memory busy as cache, so showing it would alarm for no reason.
//! Kernels before 3.14 have no `MemAvailable`; there we estimate it as
//! `MemFree + Buffers + Cached`, which is what `free` printed as "free" in those days.

use std::path::Path;

use serde::Serialize;

use super::{parse_proc_file, ParseError, SystemError};

/// Memory figures in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Memory {
    /// `MemTotal`: usable RAM (physical RAM minus what firmware and the kernel image reserve).
    pub total_bytes: u64,
    /// `MemAvailable` (or its estimate on old kernels): the manual's "free memory".
    pub available_bytes: u64,
    /// `MemFree`: memory holding nothing at all, not even cache.
    pub unused_bytes: u64,
}

/// Parses the text of `/proc/meminfo`. `MemTotal` and `MemFree` are required; see the module
/// doc for `MemAvailable` and its fallback. Lines it does not need are ignored.
pub fn parse_meminfo(text: &str) -> Result<Memory, ParseError> {
    let mut total = None;
    let mut unused = None;
    let mut available = None;
    let mut buffers = None;
    let mut cached = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let slot = match key.trim() {
            "MemTotal" => &mut total,
            "MemFree" => &mut unused,
            "MemAvailable" => &mut available,
            "Buffers" => &mut buffers,
            "Cached" => &mut cached,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(parse_amount(key.trim(), value)?);
        }
    }
    let total_bytes = total.ok_or_else(|| ParseError::new("no MemTotal line"))?;
    let unused_bytes = unused.ok_or_else(|| ParseError::new("no MemFree line"))?;
    let available_bytes = available
        .unwrap_or_else(|| {
            unused_bytes
                .saturating_add(buffers.unwrap_or(0))
                .saturating_add(cached.unwrap_or(0))
        })
        .min(total_bytes);
    Ok(Memory {
        total_bytes,
        available_bytes,
        unused_bytes,
    })
}

/// Reads and parses `<proc_root>/meminfo` (`proc_root` is `/proc` outside tests).
pub fn read_memory(proc_root: &Path) -> Result<Memory, SystemError> {
    parse_proc_file(proc_root, "meminfo", parse_meminfo)
}

/// Parses a meminfo value such as `  999784 kB` into bytes (the kernel's "kB" is KiB).
fn parse_amount(key: &str, value: &str) -> Result<u64, ParseError> {
    let malformed = || ParseError::new(format!("{key}: cannot read the amount {:?}", value.trim()));
    let mut words = value.split_whitespace();
    let number: u64 = words
        .next()
        .and_then(|number| number.parse().ok())
        .ok_or_else(malformed)?;
    let scale = match words.next() {
        None => 1,
        Some("kB") => 1024,
        Some(_) => return Err(malformed()),
    };
    if words.next().is_some() {
        return Err(malformed());
    }
    number.checked_mul(scale).ok_or_else(malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIB: u64 = 1024;

    #[test]
    fn parses_a_1_gib_aarch64_box() {
        let memory = parse_meminfo(include_str!("fixtures/meminfo-aarch64-1g.txt")).unwrap();
        assert_eq!(
            memory,
            Memory {
                total_bytes: 999_784 * KIB,
                available_bytes: 701_208 * KIB,
                unused_bytes: 412_336 * KIB,
            }
        );
    }

    #[test]
    fn estimates_available_memory_on_kernels_without_memavailable() {
        let text = include_str!("fixtures/meminfo-kernel-3.10-no-memavailable.txt");
        let memory = parse_meminfo(text).unwrap();
        assert_eq!(memory.total_bytes, 508_136 * KIB);
        assert_eq!(memory.unused_bytes, 86_212 * KIB);
        // MemFree + Buffers + Cached
        assert_eq!(memory.available_bytes, (86_212 + 17_880 + 203_284) * KIB);
    }

    #[test]
    fn estimate_never_exceeds_total() {
        let text = "MemTotal: 100 kB\nMemFree: 60 kB\nBuffers: 30 kB\nCached: 40 kB\n";
        let memory = parse_meminfo(text).unwrap();
        assert_eq!(memory.available_bytes, 100 * KIB);
    }

    #[test]
    fn missing_buffers_and_cached_count_as_zero() {
        let memory = parse_meminfo("MemTotal: 100 kB\nMemFree: 60 kB\n").unwrap();
        assert_eq!(memory.available_bytes, 60 * KIB);
    }

    #[test]
    fn requires_memtotal_and_memfree() {
        let error = parse_meminfo("MemFree: 1 kB\nMemAvailable: 1 kB\n").unwrap_err();
        assert_eq!(error.to_string(), "no MemTotal line");
        let error = parse_meminfo("MemTotal: 1 kB\nMemAvailable: 1 kB\n").unwrap_err();
        assert_eq!(error.to_string(), "no MemFree line");
        assert!(parse_meminfo("").is_err());
    }

    #[test]
    fn rejects_a_garbled_amount_of_a_needed_key_only() {
        let error = parse_meminfo("MemTotal: lots kB\nMemFree: 1 kB\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            r#"MemTotal: cannot read the amount "lots kB""#
        );
        assert!(parse_meminfo("MemTotal: 1 MB\nMemFree: 1 kB\n").is_err());
        assert!(parse_meminfo("MemTotal: 1 kB extra\nMemFree: 1 kB\n").is_err());
        // An overflowing amount is garbled too, not silently wrapped.
        assert!(parse_meminfo("MemTotal: 18446744073709551615 kB\nMemFree: 1 kB\n").is_err());
        // Lines it does not need may be anything.
        let memory = parse_meminfo("Weird line\nMemTotal: 2 kB\nFoo: bar baz\nMemFree: 1 kB\n");
        assert_eq!(memory.unwrap().total_bytes, 2 * KIB);
    }

    #[test]
    fn read_memory_names_a_missing_file() {
        let empty = tempfile::tempdir().unwrap();
        let error = read_memory(empty.path()).unwrap_err();
        let expected = format!("cannot read {}/meminfo: ", empty.path().display());
        assert!(error.to_string().starts_with(&expected), "{error}");
    }

    #[test]
    fn read_memory_names_a_malformed_file() {
        let proc_root = tempfile::tempdir().unwrap();
        std::fs::write(proc_root.path().join("meminfo"), "MemFree: 1 kB\n").unwrap();
        let error = read_memory(proc_root.path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "cannot understand {}/meminfo: no MemTotal line",
                proc_root.path().display()
            )
        );
    }
}
