//! Which mounted disks are USB storage (the manual's USB 挂载的外部存储).
//!
//! A disk (see [`super::mounts`]) counts as USB storage when either
//! - its block device sits on a USB bus: `/sys/class/block/<name>` links to a device path
//!   under `/sys/devices` that passes through a USB host controller's `usbN` node (this
//!   catches a stick wherever it is mounted, and card readers on USB); or
//! - its mount point starts with one of the configured prefixes (default
//!   [`DEFAULT_USB_MOUNT_PREFIXES`], where usbmount, our own automount rules and udisks put
//!   removable disks). The prefix is compared as text, so `/media/usb` covers `/media/usb0`
//!   to `/media/usb7`; this catches disks whose sysfs entry cannot be resolved (device-mapper,
//!   unusual device names).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::mounts::{disk_mounts, Mount};

/// Where removable disks are mounted by default.
pub const DEFAULT_USB_MOUNT_PREFIXES: &[&str] = &["/media/usb", "/mnt/usb", "/run/media"];

/// True when `device` (as written in `/proc/mounts`, e.g. `/dev/sda1`) is a block device on
/// a USB bus according to the sysfs tree at `sys_root` (`/sys` outside tests). A device
/// sysfs does not know is not USB.
pub fn is_usb_block_device(sys_root: &Path, device: &str) -> bool {
    let Some(name) = sysfs_block_name(device) else {
        return false;
    };
    if let Some(usb) = sysfs_block_link_mentions_usb(sys_root, &name) {
        return usb;
    }
    // `/dev/disk/by-label/…` and friends are links to the kernel's name (`/dev/sdb1`).
    let Ok(resolved) = std::fs::canonicalize(device) else {
        return false;
    };
    let resolved_name = resolved.to_str().and_then(sysfs_block_name);
    match resolved_name {
        Some(resolved_name) if resolved_name != name => {
            sysfs_block_link_mentions_usb(sys_root, &resolved_name).unwrap_or(false)
        }
        _ => false,
    }
}

/// True when `mount_point` starts (as text) with one of `prefixes`.
pub fn is_under_usb_prefix(mount_point: &Path, prefixes: &[PathBuf]) -> bool {
    let mount_point = mount_point.as_os_str().as_bytes();
    prefixes.iter().any(|prefix| {
        let prefix = prefix.as_os_str().as_bytes();
        !prefix.is_empty() && mount_point.starts_with(prefix)
    })
}

/// The disks among `mounts` (see [`disk_mounts`]) that are USB storage, by sysfs under
/// `sys_root` or by mount point under one of `usb_mount_prefixes`, in `/proc/mounts` order.
pub fn usb_storage_mounts<'m>(
    mounts: &'m [Mount],
    sys_root: &Path,
    usb_mount_prefixes: &[PathBuf],
) -> Vec<&'m Mount> {
    disk_mounts(mounts)
        .into_iter()
        .filter(|mount| {
            is_under_usb_prefix(&mount.mount_point, usb_mount_prefixes)
                || is_usb_block_device(sys_root, &mount.device)
        })
        .collect()
}

/// The name sysfs gives the device node: `/dev/sda1` → `sda1`, `/dev/cciss/c0d0` →
/// `cciss!c0d0`. `None` for anything not under `/dev/`.
fn sysfs_block_name(device: &str) -> Option<String> {
    let name = device.strip_prefix("/dev/")?;
    if name.is_empty() || name.split('/').any(|part| part.is_empty() || part == "..") {
        return None;
    }
    Some(name.replace('/', "!"))
}

/// Whether `<sys_root>/class/block/<name>` links through a USB controller; `None` when there
/// is no such link.
fn sysfs_block_link_mentions_usb(sys_root: &Path, name: &str) -> Option<bool> {
    let target = std::fs::read_link(sys_root.join("class/block").join(name)).ok()?;
    // Only the part under `devices/` describes the hardware.
    let hardware = target
        .components()
        .skip_while(|component| *component != Component::Normal(OsStr::new("devices")));
    Some(hardware.into_iter().any(|component| match component {
        Component::Normal(part) => part.as_bytes().starts_with(b"usb"),
        _ => false,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::system::mounts::parse_mounts;
    use crate::system::test_support::{FakeSysfs, SATA_DISK, USB_STICK};

    fn default_prefixes() -> Vec<PathBuf> {
        DEFAULT_USB_MOUNT_PREFIXES
            .iter()
            .map(PathBuf::from)
            .collect()
    }

    fn appliance_mounts() -> Vec<Mount> {
        parse_mounts(include_str!("fixtures/mounts-appliance.txt"))
    }

    fn devices<'a>(mounts: impl IntoIterator<Item = &'a Mount>) -> Vec<&'a str> {
        mounts.into_iter().map(|m| m.device.as_str()).collect()
    }

    #[test]
    fn detects_usb_devices_by_sysfs() {
        let sysfs = FakeSysfs::appliance();
        for device in [
            "/dev/sda",
            "/dev/sda1",
            "/dev/sdb1",
            "/dev/sdc1",
            "/dev/sde",
        ] {
            assert!(is_usb_block_device(sysfs.root(), device), "{device}");
        }
        for device in [
            "/dev/sdd1",      // SATA
            "/dev/mmcblk0p4", // eMMC
            "/dev/sdz9",      // unknown to sysfs
            "/dev/root",      // the kernel's alias for the root device
            "/dev/",          // no name
            "/dev/../sda1",   // not a device name
            "sda1",           // not under /dev
            "overlay",
            "192.168.10.5:/export/backup",
        ] {
            assert!(!is_usb_block_device(sysfs.root(), device), "{device}");
        }
    }

    #[test]
    fn only_the_hardware_part_of_the_sysfs_link_counts() {
        let sysfs = FakeSysfs::empty();
        // A node whose name merely contains "usb" is not a USB bus node.
        sysfs.add_block_device("pci0000:00/0000:00:1f.2/xusb-like/ata2/host1/block/sdf");
        assert!(!is_usb_block_device(sysfs.root(), "/dev/sdf"));
        sysfs.add_block_device(USB_STICK);
        assert!(is_usb_block_device(sysfs.root(), "/dev/sda"));
        sysfs.add_block_device(SATA_DISK);
        assert!(!is_usb_block_device(sysfs.root(), "/dev/sdd"));

        // Nothing above `devices/` counts, should a link be absolute and pass through a
        // folder named like a USB node.
        let above = sysfs
            .root()
            .join("usb-tree/devices/platform/ata3/block/sdg");
        std::fs::create_dir_all(&above).unwrap();
        std::os::unix::fs::symlink(&above, sysfs.root().join("class/block/sdg")).unwrap();
        assert!(!is_usb_block_device(sysfs.root(), "/dev/sdg"));
    }

    #[test]
    fn maps_nested_device_names_the_way_sysfs_does() {
        assert_eq!(sysfs_block_name("/dev/sda1").as_deref(), Some("sda1"));
        assert_eq!(
            sysfs_block_name("/dev/cciss/c0d0").as_deref(),
            Some("cciss!c0d0")
        );
        assert_eq!(sysfs_block_name("/dev/a//b"), None);
        assert_eq!(sysfs_block_name("/devices/sda"), None);
    }

    #[test]
    fn detects_usb_mounts_by_prefix() {
        let prefixes = default_prefixes();
        for mount_point in [
            "/media/usb0",
            "/media/usb7/recordings",
            "/mnt/usb",
            "/mnt/usb-stick",
            "/run/media/admin/BACKUP DISK",
        ] {
            assert!(
                is_under_usb_prefix(Path::new(mount_point), &prefixes),
                "{mount_point}"
            );
        }
        for mount_point in ["/media", "/media/us", "/data", "/run", "/srv/usb", "/"] {
            assert!(
                !is_under_usb_prefix(Path::new(mount_point), &prefixes),
                "{mount_point}"
            );
        }
        assert!(!is_under_usb_prefix(Path::new("/media/usb0"), &[]));
        // An empty prefix (a blank config entry) does not make everything USB.
        assert!(!is_under_usb_prefix(Path::new("/data"), &[PathBuf::new()]));
        let custom = [PathBuf::from("/srv/removable")];
        assert!(is_under_usb_prefix(Path::new("/srv/removable/a"), &custom));
    }

    #[test]
    fn usb_storage_of_the_appliance_by_sysfs_and_by_prefix() {
        let mounts = appliance_mounts();
        let sysfs = FakeSysfs::appliance();
        let usb = usb_storage_mounts(&mounts, sysfs.root(), &default_prefixes());
        assert_eq!(
            devices(usb.iter().copied()),
            [
                "/dev/sda1", // sysfs and prefix; its bind mount is not listed again
                "/dev/sdb1", // sysfs and prefix
                "/dev/sdc1", // sysfs only: mounted at /srv/call archive
                "/dev/sdd1", // prefix only: a SATA disk that udisks mounted under /run/media
                "/dev/sde",  // a stick without a partition table
            ]
        );
        assert_eq!(usb[2].mount_point, Path::new("/srv/call archive"));
        // tmpfs on /mnt/usb is under a prefix but is no disk.
        assert!(usb.iter().all(|mount| mount.fs_type != "tmpfs"));
    }

    #[test]
    fn usb_storage_by_prefix_alone_when_sysfs_is_unavailable() {
        let mounts = appliance_mounts();
        let no_sysfs = FakeSysfs::empty();
        let usb = usb_storage_mounts(&mounts, no_sysfs.root(), &default_prefixes());
        assert_eq!(
            devices(usb),
            ["/dev/sda1", "/dev/sdb1", "/dev/sdd1", "/dev/sde"]
        );
    }

    #[test]
    fn usb_storage_by_sysfs_alone_without_prefixes() {
        let mounts = appliance_mounts();
        let sysfs = FakeSysfs::appliance();
        let usb = usb_storage_mounts(&mounts, sysfs.root(), &[]);
        assert_eq!(
            devices(usb),
            ["/dev/sda1", "/dev/sdb1", "/dev/sdc1", "/dev/sde"]
        );
    }

    #[test]
    fn pseudo_filesystems_under_a_usb_prefix_are_not_usb_storage() {
        let mounts = parse_mounts(
            "tmpfs /media/usb0 tmpfs rw 0 0\n\
             overlay /media/usb1 overlay rw,lowerdir=/a,upperdir=/b,workdir=/c 0 0\n\
             proc /run/media/proc proc rw 0 0\n\
             //nas/share /media/usb2 cifs rw 0 0\n",
        );
        let sysfs = FakeSysfs::appliance();
        assert!(usb_storage_mounts(&mounts, sysfs.root(), &default_prefixes()).is_empty());
    }
}
