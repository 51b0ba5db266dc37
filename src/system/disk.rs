//! How big a filesystem is and how much of it is free, through `statvfs(3)`.
//!
//! Figures are what `df` shows: *free* is `f_bavail × f_frsize`, the space an unprivileged
//! process (the daemon, Asterisk writing recordings) can still use; the blocks ext4 reserves
//! for root are neither free nor used, so `used + free` can be a few percent short of
//! `total`.

use std::fs::OpenOptions;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use nix::fcntl::OFlag;
use nix::sys::statvfs::{fstatvfs, statvfs, Statvfs};
use serde::Serialize;

use super::SystemError;

/// Size figures of one filesystem, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DiskUsage {
    /// The filesystem's size (`f_blocks × f_frsize`).
    pub total_bytes: u64,
    /// What a non-root process can still write (`f_bavail × f_frsize`).
    pub free_bytes: u64,
    /// What is in use (`(f_blocks − f_bfree) × f_frsize`).
    pub used_bytes: u64,
}

impl DiskUsage {
    /// Computes the figures from `statvfs` counts. `fragment_size` is `f_frsize`, the unit of
    /// the block counts; when a filesystem leaves it 0, `block_size` (`f_bsize`) is used, as
    /// `df` does.
    pub fn from_block_counts(
        fragment_size: u64,
        block_size: u64,
        blocks: u64,
        blocks_free: u64,
        blocks_available: u64,
    ) -> DiskUsage {
        let unit = if fragment_size != 0 {
            fragment_size
        } else {
            block_size
        };
        DiskUsage {
            total_bytes: blocks.saturating_mul(unit),
            free_bytes: blocks_available.saturating_mul(unit),
            used_bytes: blocks.saturating_sub(blocks_free).saturating_mul(unit),
        }
    }

    fn from_statvfs(stat: &Statvfs) -> DiskUsage {
        DiskUsage::from_block_counts(
            widen(stat.fragment_size()),
            widen(stat.block_size()),
            widen(stat.blocks()),
            widen(stat.blocks_free()),
            widen(stat.blocks_available()),
        )
    }
}

/// The figures of the filesystem holding `path` (any file or folder on it).
pub fn disk_usage(path: &Path) -> Result<DiskUsage, SystemError> {
    statvfs(path)
        .map(|stat| DiskUsage::from_statvfs(&stat))
        .map_err(|errno| SystemError::Measure {
            path: path.to_path_buf(),
            source: errno.into(),
        })
}

/// The figures of the filesystem mounted at `mount_point`, checking that it is still mounted
/// there: once a disk is unmounted, its mount point is a plain folder of the filesystem
/// below and `statvfs` would report that one instead ([`SystemError::NotMounted`]). Holding
/// the folder open while measuring keeps the disk from being unmounted in between.
pub fn mount_root_usage(mount_point: &Path) -> Result<DiskUsage, SystemError> {
    let measure_error = |source: std::io::Error| SystemError::Measure {
        path: mount_point.to_path_buf(),
        source,
    };
    // O_PATH: needs no read permission on the folder, only the search permission statvfs
    // needs too.
    let folder = OpenOptions::new()
        .read(true)
        .custom_flags((OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC).bits())
        .open(mount_point)
        .map_err(measure_error)?;
    let own_device = folder.metadata().map_err(measure_error)?.dev();
    // `..` of a mount's root folder is the folder it is mounted on, in the filesystem below.
    let parent_device = std::fs::metadata(mount_point.join(".."))
        .map_err(measure_error)?
        .dev();
    if own_device == parent_device {
        return Err(SystemError::NotMounted {
            path: mount_point.to_path_buf(),
        });
    }
    fstatvfs(&folder)
        .map(|stat| DiskUsage::from_statvfs(&stat))
        .map_err(|errno| measure_error(errno.into()))
}

/// `statvfs` counts are `c_ulong`/`fsblkcnt_t`: 64 bits on the appliance, possibly 32 bits
/// elsewhere.
fn widen<T: Into<u64>>(count: T) -> u64 {
    count.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_df_figures_from_block_counts() {
        // A 14.6 GiB vfat stick: 4 KiB clusters, no reserved blocks.
        let stick = DiskUsage::from_block_counts(4096, 4096, 3_830_000, 2_900_000, 2_900_000);
        assert_eq!(stick.total_bytes, 3_830_000 * 4096);
        assert_eq!(stick.free_bytes, 2_900_000 * 4096);
        assert_eq!(stick.used_bytes, 930_000 * 4096);
        // ext4 with 5 % reserved for root: free (non-root) is less than total minus used.
        let ext4 = DiskUsage::from_block_counts(4096, 4096, 1_000_000, 400_000, 350_000);
        assert_eq!(ext4.free_bytes, 350_000 * 4096);
        assert_eq!(ext4.used_bytes, 600_000 * 4096);
        assert!(ext4.used_bytes + ext4.free_bytes < ext4.total_bytes);
    }

    #[test]
    fn falls_back_to_the_block_size_and_never_overflows() {
        let usage = DiskUsage::from_block_counts(0, 1024, 10, 5, 4);
        assert_eq!(usage.total_bytes, 10 * 1024);
        let huge = DiskUsage::from_block_counts(u64::MAX, 1, 2, 0, 2);
        assert_eq!(huge.total_bytes, u64::MAX);
        assert_eq!(huge.free_bytes, u64::MAX);
        // Inconsistent counts (free above total) do not wrap.
        assert_eq!(DiskUsage::from_block_counts(1, 1, 5, 9, 9).used_bytes, 0);
    }

    #[test]
    fn measures_the_real_root_filesystem() {
        let root = disk_usage(Path::new("/")).unwrap();
        assert!(root.total_bytes > root.free_bytes, "{root:?}");
        assert!(root.free_bytes > 0, "{root:?}");
        assert!(root.used_bytes > 0, "{root:?}");
        assert!(root.used_bytes <= root.total_bytes, "{root:?}");
    }

    #[test]
    fn a_missing_path_is_an_error_naming_it() {
        let error = disk_usage(Path::new("/nonexistent/usb0")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("cannot measure the filesystem at /nonexistent/usb0: "),
            "{error}"
        );
        let error = mount_root_usage(Path::new("/nonexistent/usb0")).unwrap_err();
        assert!(matches!(error, SystemError::Measure { .. }), "{error}");
    }

    #[test]
    fn a_plain_folder_is_not_a_mount_root() {
        // What a USB mount point looks like once the stick has been unmounted.
        let folder = tempfile::tempdir().unwrap();
        let error = mount_root_usage(folder.path()).unwrap_err();
        assert!(matches!(error, SystemError::NotMounted { .. }), "{error}");
        assert_eq!(
            error.to_string(),
            format!("{} is no longer a mount point", folder.path().display())
        );
    }

    #[test]
    fn a_real_mount_root_is_measured() {
        // /proc is a mount root on every Linux system (its figures are zeros).
        assert!(mount_root_usage(Path::new("/proc")).is_ok());
    }
}
