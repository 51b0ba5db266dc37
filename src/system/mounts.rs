//! Mounted filesystems, from `/proc/mounts`, and the rule for which of them are disks.
//!
//! A *disk* here is a filesystem stored on a block device that someone could fill with
//! recordings: its device is under `/dev/` and its type is not a kernel pseudo filesystem
//! (`proc`, `sysfs`, `tmpfs`, `cgroup*`, `overlay`, …, see [`PSEUDO_FILESYSTEM_TYPES`]).
//! Network filesystems (`server:/export`) are not disks either. A read-only image that only
//! serves as the lower layer of an overlay (the `/rom` under an overlay root) is not counted
//! on its own, and a filesystem mounted in several places (bind mounts) counts once, at its
//! first mount.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

use super::{read_proc_file, SystemError};

/// Filesystem types that never hold user data on a device of their own.
pub const PSEUDO_FILESYSTEM_TYPES: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "configfs",
    "debugfs",
    "devpts",
    "devtmpfs",
    "efivarfs",
    "fusectl",
    "hugetlbfs",
    "mqueue",
    "nfsd",
    "nsfs",
    "overlay",
    "proc",
    "pstore",
    "ramfs",
    "rootfs",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "sysfs",
    "tmpfs",
    "tracefs",
];

/// One line of `/proc/mounts`, with the kernel's octal escapes (`\040` for a space, …)
/// decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// What was mounted: `/dev/sda1`, `tmpfs`, `overlay`, `server:/export`.
    pub device: String,
    /// Where it is mounted. Not necessarily UTF-8, hence a path.
    pub mount_point: PathBuf,
    /// The filesystem type: `ext4`, `vfat`, `fuseblk`, `proc`, …
    pub fs_type: String,
    /// The mount options, split at commas: `rw`, `relatime`, `lowerdir=/rom`, …
    pub options: Vec<String>,
}

impl Mount {
    /// True for a pseudo filesystem (see [`PSEUDO_FILESYSTEM_TYPES`]), including every
    /// `cgroup*` type and FUSE filesystems that are not backed by a block device
    /// (`fuse.sshfs`, …; `fuseblk`, used by NTFS and exFAT drivers, is backed by one).
    pub fn is_pseudo(&self) -> bool {
        let fs_type = self.fs_type.as_str();
        PSEUDO_FILESYSTEM_TYPES.contains(&fs_type)
            || fs_type.starts_with("cgroup")
            || fs_type == "fuse"
            || fs_type.starts_with("fuse.")
    }

    /// True when the filesystem lives on a block device: a `/dev/…` device and not pseudo.
    pub fn is_block_backed(&self) -> bool {
        self.device.starts_with("/dev/") && !self.is_pseudo()
    }

    /// The values of option `name` (`name=value`), in order.
    pub fn option_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.options.iter().filter_map(move |option| {
            option
                .split_once('=')
                .filter(|(key, _)| *key == name)
                .map(|(_, value)| value)
        })
    }

    /// For an overlay, the folders it uses as (read-only) lower layers.
    fn overlay_lower_dirs(&self) -> Vec<PathBuf> {
        if self.fs_type != "overlay" {
            return Vec::new();
        }
        // `lowerdir=/a:/b` (a literal colon is `\:`, its backslash octal-escaped in
        // /proc/mounts and decoded by now); kernels from 6.5 may also
        // list one layer per `lowerdir+=/a` option.
        self.option_values("lowerdir")
            .flat_map(split_unescaped_colons)
            .chain(self.option_values("lowerdir+").map(str::to_string))
            .map(PathBuf::from)
            .collect()
    }
}

/// Parses the text of `/proc/mounts` (`device mount_point fs_type options dump pass` per line).
/// Lines with fewer than four fields are skipped: the kernel never writes them.
pub fn parse_mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let mount = parse_mount_line(line);
            if mount.is_none() && !line.trim().is_empty() {
                log::debug!("ignoring a malformed /proc/mounts line: {line:?}");
            }
            mount
        })
        .collect()
}

/// Reads and parses `<proc_root>/mounts` (`proc_root` is `/proc` outside tests).
pub fn read_mounts(proc_root: &Path) -> Result<Vec<Mount>, SystemError> {
    read_proc_file(proc_root, "mounts").map(|text| parse_mounts(&text))
}

/// The mounts that are disks (see the module doc), in `/proc/mounts` order: block-backed,
/// not hidden under a later mount at the same place, not an overlay's lower layer, and only
/// the first mount of each device.
pub fn disk_mounts(mounts: &[Mount]) -> Vec<&Mount> {
    let lower_layers: Vec<PathBuf> = mounts.iter().flat_map(Mount::overlay_lower_dirs).collect();
    let mut seen_devices: Vec<&str> = Vec::new();
    let mut disks = Vec::new();
    for (index, mount) in mounts.iter().enumerate() {
        if !mount.is_block_backed() {
            continue;
        }
        let hidden = mounts[index + 1..]
            .iter()
            .any(|later| later.mount_point == mount.mount_point);
        if hidden {
            continue;
        }
        if seen_devices.contains(&mount.device.as_str()) {
            continue;
        }
        seen_devices.push(&mount.device);
        if lower_layers.contains(&mount.mount_point) {
            continue;
        }
        disks.push(mount);
    }
    disks
}

/// The mount that holds `path` (compared by path components, without touching the disk):
/// the one with the longest mount point above it, the later one when a place is mounted
/// over. `None` only when `path` is relative or nothing is mounted at `/`.
pub fn containing_mount<'m>(mounts: &'m [Mount], path: &Path) -> Option<&'m Mount> {
    let mut best: Option<(usize, &Mount)> = None;
    for mount in mounts {
        if !path.starts_with(&mount.mount_point) {
            continue;
        }
        let depth = mount.mount_point.components().count();
        if best.is_none_or(|(best_depth, _)| depth >= best_depth) {
            best = Some((depth, mount));
        }
    }
    best.map(|(_, mount)| mount)
}

fn parse_mount_line(line: &str) -> Option<Mount> {
    let mut fields = line.split_ascii_whitespace();
    let device = fields.next()?;
    let mount_point = fields.next()?;
    let fs_type = fields.next()?;
    let options = fields.next()?;
    Some(Mount {
        device: decode_lossy(device),
        mount_point: PathBuf::from(OsString::from_vec(decode_octal_escapes(mount_point))),
        fs_type: decode_lossy(fs_type),
        // Split before decoding: an escaped comma inside a value is not a separator.
        options: options.split(',').map(decode_lossy).collect(),
    })
}

fn decode_lossy(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_string(); // nearly always: one allocation, no copy through a Vec
    }
    String::from_utf8(decode_octal_escapes(field))
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// Decodes the kernel's `\ooo` escapes (three octal digits; it writes space, tab, newline and
/// backslash that way). A backslash not followed by a valid escape is kept as it is.
fn decode_octal_escapes(field: &str) -> Vec<u8> {
    let bytes = field.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'\\' {
            if let Some(byte) = bytes.get(index + 1..index + 4).and_then(octal_byte) {
                decoded.push(byte);
                index += 4;
                continue;
            }
        }
        decoded.push(bytes[index]);
        index += 1;
    }
    decoded
}

fn octal_byte(digits: &[u8]) -> Option<u8> {
    let value = digits.iter().try_fold(0u16, |value, &digit| {
        (b'0'..=b'7')
            .contains(&digit)
            .then(|| value * 8 + u16::from(digit - b'0'))
    })?;
    u8::try_from(value).ok()
}

/// Splits an overlay `lowerdir` list at the colons that are not escaped as `\:`.
fn split_unescaped_colons(list: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = list.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => current.extend(chars.next()),
            ':' => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts.retain(|part| !part.is_empty());
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn appliance_mounts() -> Vec<Mount> {
        parse_mounts(include_str!("fixtures/mounts-appliance.txt"))
    }

    fn mount_points<'a>(mounts: impl IntoIterator<Item = &'a Mount>) -> Vec<String> {
        mounts
            .into_iter()
            .map(|mount| mount.mount_point.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn parses_every_line_of_the_appliance_fixture() {
        let mounts = appliance_mounts();
        assert_eq!(mounts.len(), 33);
        assert_eq!(
            mounts[0],
            Mount {
                device: "rootfs".into(),
                mount_point: "/".into(),
                fs_type: "rootfs".into(),
                options: vec!["rw".into()],
            }
        );
        let stick = mounts.iter().find(|m| m.device == "/dev/sda1").unwrap();
        assert_eq!(stick.mount_point, Path::new("/media/usb0"));
        assert_eq!(stick.fs_type, "vfat");
        assert_eq!(stick.options.len(), 13);
        assert_eq!(stick.options[0], "rw");
        assert_eq!(stick.option_values("uid").collect::<Vec<_>>(), ["998"]);
    }

    #[test]
    fn decodes_escaped_spaces_in_mount_points() {
        let mounts = appliance_mounts();
        let archive = mounts.iter().find(|m| m.device == "/dev/sdc1").unwrap();
        assert_eq!(archive.mount_point, Path::new("/srv/call archive"));
        let backup = mounts.iter().find(|m| m.device == "/dev/sdd1").unwrap();
        assert_eq!(
            backup.mount_point,
            Path::new("/run/media/admin/BACKUP DISK")
        );
        assert_eq!(backup.fs_type, "fuseblk");
    }

    #[test]
    fn decodes_every_escape_the_kernel_writes() {
        let mounts = parse_mounts(
            "/dev/sda1 /media/a\\040b\\011c\\012d\\134e vfat rw,x=1\\0542 0 0\n\
             /dev/sdb1 /media/\\303\\251t\\303\\251 vfat rw 0 0\n\
             /dev/sdc1 /media/\\377 vfat rw 0 0\n",
        );
        assert_eq!(mounts[0].mount_point, Path::new("/media/a b\tc\nd\\e"));
        // An escaped comma stays inside its option.
        assert_eq!(mounts[0].options, ["rw", "x=1,2"]);
        // UTF-8 names arrive byte by byte.
        assert_eq!(mounts[1].mount_point, Path::new("/media/été"));
        // Mount points need not be UTF-8.
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(mounts[2].mount_point.as_os_str().as_bytes(), b"/media/\xff");
    }

    #[test]
    fn keeps_backslashes_that_are_not_escapes() {
        assert_eq!(decode_octal_escapes(r"a\b"), br"a\b");
        assert_eq!(decode_octal_escapes(r"a\04"), br"a\04");
        assert_eq!(decode_octal_escapes(r"a\089"), br"a\089");
        assert_eq!(decode_octal_escapes(r"\777"), br"\777"); // over 255
        assert_eq!(decode_octal_escapes("\\"), b"\\");
        assert_eq!(decode_octal_escapes(r"\134040"), br"\040");
    }

    #[test]
    fn skips_malformed_lines() {
        let mounts = parse_mounts("\n/dev/sda1 /media/usb0\nproc /proc proc rw\n   \n");
        assert_eq!(mount_points(&mounts), ["/proc"]);
    }

    #[test]
    fn pseudo_filesystems_are_not_disks() {
        let mounts = appliance_mounts();
        for mount in &mounts {
            let pseudo = !matches!(
                mount.fs_type.as_str(),
                "ext4" | "vfat" | "squashfs" | "fuseblk" | "nfs4"
            );
            assert_eq!(mount.is_pseudo(), pseudo, "{mount:?}");
        }
        let fuse = |fs_type: &str| Mount {
            device: "/dev/fuse".into(),
            mount_point: "/mnt/x".into(),
            fs_type: fs_type.into(),
            options: vec![],
        };
        assert!(fuse("fuse.sshfs").is_pseudo());
        assert!(fuse("cgroup").is_pseudo());
        assert!(!fuse("fuseblk").is_pseudo());
        assert!(!fuse("exfat").is_pseudo());
    }

    #[test]
    fn disk_mounts_of_the_appliance() {
        let mounts = appliance_mounts();
        assert_eq!(
            mount_points(disk_mounts(&mounts)),
            [
                // not /rom: the overlay root's lower layer
                "/data", // its bind mounts under /var are not counted again
                "/boot",
                "/media/usb0", // its bind mount into the monitor folder is not counted again
                "/media/usb1",
                "/srv/call archive",
                "/run/media/admin/BACKUP DISK",
                "/media/usb2",
            ]
        );
    }

    #[test]
    fn a_mount_hidden_by_a_later_one_at_the_same_place_is_not_a_disk() {
        let mounts =
            parse_mounts("/dev/sda1 /media/usb0 vfat rw 0 0\n/dev/sdb1 /media/usb0 ext4 rw 0 0\n");
        let disks = disk_mounts(&mounts);
        assert_eq!(disks.len(), 1);
        assert_eq!(disks[0].device, "/dev/sdb1");
    }

    #[test]
    fn overlay_lower_layers_in_every_notation() {
        let mounts = parse_mounts(
            "/dev/sda1 /lower/a ext4 ro 0 0\n\
             /dev/sdb1 /lower/b:c ext4 ro 0 0\n\
             /dev/sdc1 /lower/d ext4 ro 0 0\n\
             /dev/sdd1 /upper ext4 rw 0 0\n\
             overlay /merged overlay rw,lowerdir=/lower/a:/lower/b\\134:c,upperdir=/upper/u,workdir=/upper/w 0 0\n\
             overlay /merged2 overlay rw,lowerdir+=/lower/d,upperdir=/upper/u2,workdir=/upper/w2 0 0\n",
        );
        assert_eq!(mount_points(disk_mounts(&mounts)), ["/upper"]);
    }

    #[test]
    fn finds_the_mount_holding_a_path() {
        let mounts = appliance_mounts();
        let holder = |path: &str| {
            containing_mount(&mounts, Path::new(path))
                .map(|m| (m.device.as_str(), m.fs_type.as_str()))
        };
        // The overlay mounted over rootfs wins for `/`.
        assert_eq!(holder("/"), Some(("overlay", "overlay")));
        assert_eq!(holder("/etc/asterisk"), Some(("overlay", "overlay")));
        assert_eq!(
            holder("/var/lib/coocenter"),
            Some(("/dev/mmcblk0p4", "ext4"))
        );
        assert_eq!(
            holder("/var/lib/coocenter/db"),
            Some(("/dev/mmcblk0p4", "ext4"))
        );
        assert_eq!(holder("/media/usb0/rec"), Some(("/dev/sda1", "vfat")));
        // Component-wise: /media/usb01 is not under /media/usb0.
        assert_eq!(holder("/media/usb01"), Some(("overlay", "overlay")));
        assert_eq!(holder("relative/path"), None);
        assert_eq!(containing_mount(&[], Path::new("/")), None);
    }

    #[test]
    fn read_mounts_names_a_missing_file() {
        let empty = tempfile::tempdir().unwrap();
        let error = read_mounts(empty.path()).unwrap_err();
        let expected = format!("cannot read {}/mounts: ", empty.path().display());
        assert!(error.to_string().starts_with(&expected), "{error}");
    }
}
