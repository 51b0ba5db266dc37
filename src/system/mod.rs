//! Facts about the box itself, read from the kernel: its identity (hostname), memory, the
//! system disk and any mounted USB storage, and how long the system and the daemon have been
//! up. This is the data behind part 4 of the live-monitoring page (manual §3: 状态, 内存,
//! 磁盘, 版本; 刷新 simply asks again).
//!
//! The module owns the parsing of `/proc/meminfo`, `/proc/uptime` and `/proc/mounts`, the
//! sysfs lookup that tells a USB block device from the others, and the `statvfs` calls that
//! measure filesystems. It calls nothing else in the daemon; services and the http layer call
//! it, usually through [`snapshot()`].
//!
//! Layout: the parsers are pure functions over file contents (tested on fixture copies in
//! `fixtures/`); the `read_*` functions and [`snapshot()`] take the `/proc` and `/sys` roots as
//! parameters (see [`SystemPaths`]) so tests can point them at fake trees. Every call is
//! blocking (small file reads and `statvfs`, well under a millisecond); from async code run
//! [`snapshot()`] on the blocking pool, as a USB stick that has gone bad can make `statvfs`
//! slow.

pub mod disk;
pub mod memory;
pub mod mounts;
pub mod snapshot;
pub mod uptime;
pub mod usb;

#[cfg(test)]
mod test_support;

use std::path::{Path, PathBuf};

pub use disk::{disk_usage, mount_root_usage, DiskUsage};
pub use memory::{parse_meminfo, read_memory, Memory};
pub use mounts::{containing_mount, disk_mounts, parse_mounts, read_mounts, Mount};
pub use snapshot::{
    measure_disks, snapshot, DiskStatus, MemoryStatus, SystemPaths, SystemSnapshot, UsbStorage,
};
pub use uptime::{parse_uptime, read_uptime};
pub use usb::{
    is_under_usb_prefix, is_usb_block_device, usb_storage_mounts, DEFAULT_USB_MOUNT_PREFIXES,
};

/// The kernel's hostname, or `coocenter` when it cannot be read.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "coocenter".to_string())
}

/// A failure to read a fact about the box. Each variant names the file or path involved.
#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    /// A kernel file (`/proc/meminfo`, …) is missing or unreadable.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A kernel file was read but does not have the expected shape.
    #[error("cannot understand {}: {source}", path.display())]
    Malformed { path: PathBuf, source: ParseError },
    /// `statvfs` (or opening the folder to measure) failed for a filesystem.
    #[error("cannot measure the filesystem at {}: {source}", path.display())]
    Measure {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A folder that `/proc/mounts` listed as a mount point is no longer one (the disk was
    /// unmounted in the meantime), so measuring it would report its parent's filesystem.
    #[error("{} is no longer a mount point", path.display())]
    NotMounted { path: PathBuf },
}

/// Why the text of a kernel file could not be understood (the caller adds the file name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(String);

impl ParseError {
    pub(crate) fn new(reason: impl Into<String>) -> ParseError {
        ParseError(reason.into())
    }
}

/// Reads `<proc_root>/<name>` whole; a failure names the file.
fn read_proc_file(proc_root: &Path, name: &str) -> Result<String, SystemError> {
    let path = proc_root.join(name);
    std::fs::read_to_string(&path).map_err(|source| SystemError::Read { path, source })
}

/// Parses `<proc_root>/<name>` with `parse`; a failure names the file.
fn parse_proc_file<T>(
    proc_root: &Path,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, ParseError>,
) -> Result<T, SystemError> {
    let text = read_proc_file(proc_root, name)?;
    parse(&text).map_err(|source| SystemError::Malformed {
        path: proc_root.join(name),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostname_is_never_empty() {
        assert!(!hostname().is_empty());
    }

    #[test]
    fn errors_name_the_file() {
        let missing = Path::new("/nonexistent-proc-root");
        let error = read_proc_file(missing, "meminfo").unwrap_err();
        assert!(matches!(error, SystemError::Read { .. }));
        assert!(
            error
                .to_string()
                .starts_with("cannot read /nonexistent-proc-root/meminfo: "),
            "{error}"
        );
    }
}
