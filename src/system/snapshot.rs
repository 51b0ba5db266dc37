//! One read of everything part 4 of the live-monitoring page shows (manual §3): system and
//! console uptime (状态), memory (内存), the system disk and each mounted USB storage (磁盘),
//! the version (版本) and the hostname. 刷新 (refresh) is a new [`snapshot()`].
//!
//! A snapshot costs a few small `/proc` reads, one `readlink` per disk and one `statvfs`
//! per measured filesystem, so it is taken per request rather than cached. It blocks; from
//! async code call it on the blocking pool.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::disk::{disk_usage, mount_root_usage};
use super::memory::read_memory;
use super::mounts::{containing_mount, read_mounts};
use super::uptime::read_uptime;
use super::usb::{usb_storage_mounts, DEFAULT_USB_MOUNT_PREFIXES};
use super::{hostname, SystemError};

/// Where a snapshot looks. [`Default`] is the real system with `/` as the system disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemPaths {
    /// procfs, `/proc`.
    pub proc_root: PathBuf,
    /// sysfs, `/sys`.
    pub sys_root: PathBuf,
    /// A path on the system disk, the filesystem the manual's 系统磁盘 figures describe: `/`,
    /// or the data folder (`/var/lib/coocenter`) when data lives on its own partition, as
    /// on a read-only root.
    pub system_disk: PathBuf,
    /// Mount-point prefixes that mark a disk as USB storage (see [`super::usb`]).
    pub usb_prefixes: Vec<PathBuf>,
}

impl Default for SystemPaths {
    fn default() -> SystemPaths {
        SystemPaths {
            proc_root: PathBuf::from("/proc"),
            sys_root: PathBuf::from("/sys"),
            system_disk: PathBuf::from("/"),
            usb_prefixes: DEFAULT_USB_MOUNT_PREFIXES
                .iter()
                .map(PathBuf::from)
                .collect(),
        }
    }
}

/// What the monitoring page shows about the box. Serialized as JSON with these field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SystemSnapshot {
    /// The box's hostname.
    pub hostname: String,
    /// The daemon's version (呼叫中心版本).
    pub version: String,
    /// Seconds since the system booted (系统运行时间).
    pub system_uptime_seconds: u64,
    /// Seconds since the daemon, which serves the web console, started (呼叫中心 web 运行时间).
    pub console_uptime_seconds: u64,
    /// Memory (内存).
    pub memory: MemoryStatus,
    /// The system disk (系统磁盘空间).
    pub disk: DiskStatus,
    /// Mounted USB storage, in mount order; empty when none is plugged in.
    pub usb: Vec<UsbStorage>,
}

/// Total and free memory in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MemoryStatus {
    pub total_bytes: u64,
    /// The kernel's `MemAvailable` (see [`super::memory`]), not `MemFree`.
    pub free_bytes: u64,
}

/// The system disk: where it is mounted, its size and free space in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DiskStatus {
    /// The mount point of the filesystem holding [`SystemPaths::system_disk`].
    pub mount: String,
    pub total_bytes: u64,
    /// Space the daemon and Asterisk can still use (see [`super::disk`]).
    pub free_bytes: u64,
}

/// One mounted USB storage device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UsbStorage {
    /// The block device, e.g. `/dev/sda1`.
    pub device: String,
    /// Where it is mounted, e.g. `/media/usb0`.
    pub mount: String,
    /// Its filesystem, e.g. `vfat`, `ext4`, `exfat`.
    pub fs_type: String,
    pub total_bytes: u64,
    pub free_bytes: u64,
}

/// Reads everything [`SystemSnapshot`] holds. `daemon_started` is when the daemon started.
///
/// Fails, naming the file or path, when a `/proc` file cannot be read or understood or the
/// system disk cannot be measured. A USB disk that cannot be measured (pulled out or
/// unmounted since `/proc/mounts` was read, or failing) is left out and logged instead.
pub fn snapshot(
    paths: &SystemPaths,
    daemon_started: Instant,
) -> Result<SystemSnapshot, SystemError> {
    let system_uptime = read_uptime(&paths.proc_root)?;
    let memory = read_memory(&paths.proc_root)?;
    let (disk, usb) = measure_disks(paths)?;

    Ok(SystemSnapshot {
        hostname: hostname(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        system_uptime_seconds: system_uptime.as_secs(),
        console_uptime_seconds: daemon_started.elapsed().as_secs(),
        memory: MemoryStatus {
            total_bytes: memory.total_bytes,
            free_bytes: memory.available_bytes,
        },
        disk,
        usb,
    })
}

/// The system disk and every mounted USB storage, measured: what [`snapshot()`] shows and
/// what the free-space mail notification watches. Fails when `/proc/mounts` cannot be read
/// or the system disk cannot be measured; a USB disk that cannot be measured (pulled out or
/// unmounted meanwhile, or failing) is left out and logged.
pub fn measure_disks(paths: &SystemPaths) -> Result<(DiskStatus, Vec<UsbStorage>), SystemError> {
    let mounts = read_mounts(&paths.proc_root)?;
    let system_usage = disk_usage(&paths.system_disk)?;
    let system_mount = containing_mount(&mounts, &paths.system_disk);

    let usb = usb_storage_mounts(&mounts, &paths.sys_root, &paths.usb_prefixes)
        .into_iter()
        // Should the box run from a USB disk, that disk is the system disk, not external storage.
        .filter(|mount| system_mount.is_none_or(|system| system.device != mount.device))
        .filter_map(|mount| match mount_root_usage(&mount.mount_point) {
            Ok(usage) => Some(UsbStorage {
                device: mount.device.clone(),
                mount: display(&mount.mount_point),
                fs_type: mount.fs_type.clone(),
                total_bytes: usage.total_bytes,
                free_bytes: usage.free_bytes,
            }),
            Err(error) => {
                log::warn!("USB storage {} left out: {error}", mount.device);
                None
            }
        })
        .collect();
    let disk = DiskStatus {
        mount: display(system_mount.map_or(&paths.system_disk, |m| &m.mount_point)),
        total_bytes: system_usage.total_bytes,
        free_bytes: system_usage.free_bytes,
    };
    Ok((disk, usb))
}

/// A path as text for the UI (non-UTF-8 bytes shown as U+FFFD).
fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::test_support::FakeSysfs;
    use std::fs;
    use std::time::Duration;

    /// A fake /proc with the appliance fixtures, plus `extra_mounts` lines.
    fn fake_proc(extra_mounts: &str) -> tempfile::TempDir {
        let proc_root = tempfile::tempdir().unwrap();
        let dir = proc_root.path();
        fs::write(dir.join("uptime"), include_str!("fixtures/uptime.txt")).unwrap();
        fs::write(
            dir.join("meminfo"),
            include_str!("fixtures/meminfo-aarch64-1g.txt"),
        )
        .unwrap();
        let mounts = include_str!("fixtures/mounts-appliance.txt").to_string() + extra_mounts;
        fs::write(dir.join("mounts"), mounts).unwrap();
        proc_root
    }

    fn paths(proc_root: &Path, sys_root: &Path) -> SystemPaths {
        SystemPaths {
            proc_root: proc_root.to_path_buf(),
            sys_root: sys_root.to_path_buf(),
            ..SystemPaths::default()
        }
    }

    #[test]
    fn snapshot_of_the_fixture_appliance() {
        // `/proc` stands in for a mounted stick: it is a mount root on every Linux system.
        let proc_root = fake_proc("/dev/sdf1 /proc vfat rw 0 0\n");
        let sysfs = FakeSysfs::appliance();
        sysfs.add_block_device("platform/fc000000.usb/xhci-hcd.0.auto/usb1/1-3/1-3:1.0/host5/target5:0:0/5:0:0:0/block/sdf/sdf1");
        let started = Instant::now() - Duration::from_secs(90);

        let snapshot = snapshot(&paths(proc_root.path(), sysfs.root()), started).unwrap();

        assert_eq!(snapshot.system_uptime_seconds, 352_817);
        assert!((90..100).contains(&snapshot.console_uptime_seconds));
        assert_eq!(
            snapshot.memory,
            MemoryStatus {
                total_bytes: 999_784 * 1024,
                free_bytes: 701_208 * 1024,
            }
        );
        // The fixture's `/` is the overlay; the figures are this machine's.
        assert_eq!(snapshot.disk.mount, "/");
        assert!(snapshot.disk.total_bytes > snapshot.disk.free_bytes);
        // The fixture's USB disks are not plugged into this machine: /media/usb0 and the
        // others do not exist here, so they are left out, and only the stand-in is listed.
        assert_eq!(
            snapshot.usb,
            [UsbStorage {
                device: "/dev/sdf1".into(),
                mount: "/proc".into(),
                fs_type: "vfat".into(),
                total_bytes: 0,
                free_bytes: 0,
            }]
        );
        assert_eq!(snapshot.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(snapshot.hostname, hostname());
    }

    #[test]
    fn a_usb_disk_that_vanished_is_left_out_not_fatal() {
        // A folder under a USB prefix that /proc/mounts still lists but that is a plain
        // folder now: the stick was unmounted between reading /proc/mounts and statvfs.
        let media = tempfile::tempdir().unwrap();
        let usb0 = media.path().join("usb0");
        fs::create_dir(&usb0).unwrap();
        let proc_root = fake_proc(&format!("/dev/sdg1 {} vfat rw 0 0\n", usb0.display()));
        let sysfs = FakeSysfs::appliance();
        let mut paths = paths(proc_root.path(), sysfs.root());
        paths.usb_prefixes.push(media.path().to_path_buf());

        let snapshot = snapshot(&paths, Instant::now()).unwrap();
        assert!(snapshot.usb.is_empty(), "{:?}", snapshot.usb);
    }

    #[test]
    fn the_system_disk_is_never_listed_as_usb() {
        // The box booted from a USB disk mounted at `/`, bind-mounted under /media/usb0.
        let proc_root = tempfile::tempdir().unwrap();
        fs::write(proc_root.path().join("uptime"), "10.00 20.00\n").unwrap();
        fs::write(
            proc_root.path().join("meminfo"),
            "MemTotal: 1024 kB\nMemFree: 512 kB\n",
        )
        .unwrap();
        fs::write(
            proc_root.path().join("mounts"),
            "/dev/sda1 / ext4 rw 0 0\n/dev/sda1 /media/usb0 ext4 rw 0 0\n",
        )
        .unwrap();
        let sysfs = FakeSysfs::appliance();
        let snapshot = snapshot(&paths(proc_root.path(), sysfs.root()), Instant::now()).unwrap();
        assert!(snapshot.usb.is_empty(), "{:?}", snapshot.usb);
        assert_eq!(snapshot.disk.mount, "/");
    }

    #[test]
    fn system_disk_reports_the_mount_holding_the_configured_folder() {
        let proc_root = fake_proc("");
        let sysfs = FakeSysfs::appliance();
        let mut paths = paths(proc_root.path(), sysfs.root());
        // Exists on every Linux system; the fixture says /proc is mounted at /proc.
        paths.system_disk = PathBuf::from("/proc/self");
        let snapshot = snapshot(&paths, Instant::now()).unwrap();
        assert_eq!(snapshot.disk.mount, "/proc");
    }

    #[test]
    fn unreadable_inputs_are_errors_naming_them() {
        let sysfs = FakeSysfs::appliance();
        for missing in ["uptime", "meminfo", "mounts"] {
            let proc_root = fake_proc("");
            fs::remove_file(proc_root.path().join(missing)).unwrap();
            let error = snapshot(&paths(proc_root.path(), sysfs.root()), Instant::now())
                .unwrap_err()
                .to_string();
            let expected = format!("cannot read {}/{missing}: ", proc_root.path().display());
            assert!(error.starts_with(&expected), "{error}");
        }

        let proc_root = fake_proc("");
        let mut paths = paths(proc_root.path(), sysfs.root());
        paths.system_disk = PathBuf::from("/nonexistent/data");
        let error = snapshot(&paths, Instant::now()).unwrap_err().to_string();
        assert!(
            error.starts_with("cannot measure the filesystem at /nonexistent/data: "),
            "{error}"
        );
    }

    #[test]
    fn serializes_to_the_documented_json_shape() {
        let snapshot = SystemSnapshot {
            hostname: "coocenter".into(),
            version: "0.1.0".into(),
            system_uptime_seconds: 352_817,
            console_uptime_seconds: 86_400,
            memory: MemoryStatus {
                total_bytes: 1_023_778_816,
                free_bytes: 718_036_992,
            },
            disk: DiskStatus {
                mount: "/".into(),
                total_bytes: 7_516_192_768,
                free_bytes: 5_368_709_120,
            },
            usb: vec![UsbStorage {
                device: "/dev/sda1".into(),
                mount: "/media/usb0".into(),
                fs_type: "vfat".into(),
                total_bytes: 15_682_240_512,
                free_bytes: 11_878_400_000,
            }],
        };
        let json = serde_json::to_value(&snapshot).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "hostname": "coocenter",
                "version": "0.1.0",
                "system_uptime_seconds": 352817,
                "console_uptime_seconds": 86400,
                "memory": { "total_bytes": 1023778816u64, "free_bytes": 718036992u64 },
                "disk": {
                    "mount": "/",
                    "total_bytes": 7516192768u64,
                    "free_bytes": 5368709120u64
                },
                "usb": [{
                    "device": "/dev/sda1",
                    "mount": "/media/usb0",
                    "fs_type": "vfat",
                    "total_bytes": 15682240512u64,
                    "free_bytes": 11878400000u64
                }]
            })
        );
    }

    /// Sanity of this machine's real /proc and root filesystem.
    #[test]
    fn reads_this_machine() {
        let real = SystemPaths::default();
        let memory = read_memory(&real.proc_root).unwrap();
        assert!(memory.total_bytes > memory.available_bytes, "{memory:?}");
        assert!(memory.available_bytes > 0, "{memory:?}");
        assert!(memory.total_bytes > 16 * 1024 * 1024, "{memory:?}");
        assert!(read_uptime(&real.proc_root).unwrap() > Duration::ZERO);
        assert!(!read_mounts(&real.proc_root).unwrap().is_empty());

        let snapshot = snapshot(&real, Instant::now()).unwrap();
        assert!(snapshot.system_uptime_seconds > 0);
        assert!(snapshot.memory.total_bytes > snapshot.memory.free_bytes);
        assert!(snapshot.memory.free_bytes > 0);
        assert_eq!(snapshot.disk.mount, "/");
        assert!(snapshot.disk.total_bytes > snapshot.disk.free_bytes);
        assert!(snapshot.disk.free_bytes > 0);
        for usb in &snapshot.usb {
            assert!(usb.total_bytes >= usb.free_bytes, "{usb:?}");
        }
        println!(
            "this machine: {}",
            serde_json::to_string_pretty(&snapshot).unwrap()
        );
    }

    /// Prints (never asserts) what one snapshot of this machine costs, and its parts.
    #[test]
    fn per_call_cost() {
        fn per_call<T>(what: &str, mut call: impl FnMut() -> T) {
            const CALLS: u32 = 500;
            std::hint::black_box(call()); // warm up
            let clock = Instant::now();
            for _ in 0..CALLS {
                std::hint::black_box(call());
            }
            println!(
                "{what}: {:?} per call over {CALLS} calls",
                clock.elapsed() / CALLS
            );
        }
        let real = SystemPaths::default();
        let started = Instant::now();
        per_call("snapshot()", || snapshot(&real, started).unwrap());
        per_call("  read_uptime()", || read_uptime(&real.proc_root).unwrap());
        per_call("  read_memory()", || read_memory(&real.proc_root).unwrap());
        per_call("  read_mounts()", || read_mounts(&real.proc_root).unwrap());
        per_call("  disk_usage(/)", || disk_usage(&real.system_disk).unwrap());
        per_call("  hostname()", hostname);
    }
}
