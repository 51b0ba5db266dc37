//! Test helpers shared by the module's tests: a fake sysfs tree in a temporary folder, laid
//! out like the kernel's (`class/block/<name>` symlinks into `devices/…`).

use std::fs;
use std::path::Path;

use tempfile::TempDir;

/// Where the appliance's block devices sit under `/sys/devices` (a Rockchip-style SoC with a
/// USB 3 controller, a SATA port and eMMC).
pub const USB_STICK: &str =
    "platform/fc000000.usb/xhci-hcd.0.auto/usb1/1-1/1-1:1.0/host0/target0:0:0/0:0:0:0/block/sda";
pub const USB_DISK: &str =
    "platform/fc000000.usb/xhci-hcd.0.auto/usb2/2-1/2-1:1.0/host1/target1:0:0/1:0:0:0/block/sdb";
pub const USB_ARCHIVE: &str =
    "platform/fc400000.usb/xhci-hcd.1.auto/usb4/4-1/4-1:1.0/host2/target2:0:0/2:0:0:0/block/sdc";
pub const SATA_DISK: &str = "platform/fc800000.sata/ata1/host3/target3:0:0/3:0:0:0/block/sdd";
pub const USB_SUPERFLOPPY: &str =
    "platform/fc000000.usb/xhci-hcd.0.auto/usb1/1-2/1-2:1.0/host4/target4:0:0/4:0:0:0/block/sde";
pub const EMMC: &str = "platform/fe2e0000.mmc/mmc_host/mmc0/mmc0:0001/block/mmcblk0";

pub struct FakeSysfs {
    dir: TempDir,
}

impl FakeSysfs {
    pub fn empty() -> FakeSysfs {
        FakeSysfs {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The block devices behind `fixtures/mounts-appliance.txt`: sda, sdb, sdc and sde on
    /// USB, sdd on SATA, the eMMC partitions on MMC.
    pub fn appliance() -> FakeSysfs {
        let sysfs = FakeSysfs::empty();
        for (disk, partitions) in [
            (USB_STICK, &["sda1"][..]),
            (USB_DISK, &["sdb1"]),
            (USB_ARCHIVE, &["sdc1"]),
            (SATA_DISK, &["sdd1"]),
            (USB_SUPERFLOPPY, &[]),
            (EMMC, &["mmcblk0p1", "mmcblk0p2", "mmcblk0p4"]),
        ] {
            sysfs.add_block_device(disk);
            for partition in partitions {
                sysfs.add_block_device(&format!("{disk}/{partition}"));
            }
        }
        sysfs
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Creates `devices/<device_path>` and the `class/block/<last component>` link to it.
    pub fn add_block_device(&self, device_path: &str) {
        let root = self.dir.path();
        fs::create_dir_all(root.join("devices").join(device_path)).unwrap();
        let class = root.join("class/block");
        fs::create_dir_all(&class).unwrap();
        let name = Path::new(device_path).file_name().unwrap();
        std::os::unix::fs::symlink(format!("../../devices/{device_path}"), class.join(name))
            .unwrap();
    }
}
