//! A real RAUC on a private bus: `dbus-daemon` with a test policy, `rauc service` with
//! `--override-boot-slot`, slots as image files, the U-Boot environment as a file, a
//! development CA (and a foreign one) made with `openssl`, bundles made with `rauc bundle`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::firmware::rauc::InstallerProxy;
use crate::firmware::{UpgradeConfig, Upgrader};

/// The compatible of the test system.
pub const COMPATIBLE: &str = "CooCenter CC-8 test";
/// Slot files are this large.
pub const SLOT_SIZE: u64 = 4 * 1024 * 1024;

/// `None` (after printing why) when `rauc` is not installed: the caller returns, skipping.
/// Any other missing tool is a failure with the package to install.
pub fn rauc_or_skip(test: &str) -> Option<()> {
    if !on_path("rauc") {
        eprintln!(
            "SKIPPED {test}: `rauc` is not installed (apt-get install rauc squashfs-tools dbus libubootenv-tool u-boot-tools e2fsprogs openssl)"
        );
        return None;
    }
    for (tool, package) in [
        ("dbus-daemon", "dbus"),
        ("mksquashfs", "squashfs-tools"),
        ("fw_printenv", "libubootenv-tool"),
        ("mkenvimage", "u-boot-tools"),
        ("mkfs.ext4", "e2fsprogs"),
        ("openssl", "openssl"),
    ] {
        assert!(
            on_path(tool),
            "{test}: `{tool}` is missing: apt-get install {package}"
        );
    }
    Some(())
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false)
}

pub fn run(cmd: &mut Command) -> String {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A signing identity: CA certificate, signing certificate and key.
pub struct Signer {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Makes a CA (ECDSA P-256) and a code-signing certificate it issues, in `dir/name-*`.
pub fn make_ca(dir: &Path, name: &str) -> (PathBuf, Signer) {
    let ca_key = dir.join(format!("{name}-ca.key.pem"));
    let ca_cert = dir.join(format!("{name}-ca.cert.pem"));
    let key = dir.join(format!("{name}-signing.key.pem"));
    let csr = dir.join(format!("{name}-signing.csr"));
    let cert = dir.join(format!("{name}-signing.cert.pem"));
    let ext = dir.join(format!("{name}-signing.ext"));
    let p = |p: &Path| p.to_str().unwrap().to_string();
    run(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "3650",
        "-keyout",
        &p(&ca_key),
        "-out",
        &p(&ca_cert),
        "-subj",
        &format!("/O=CooCenter test/CN={name} CA"),
        "-addext",
        "basicConstraints=critical,CA:true",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]));
    run(Command::new("openssl").args([
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        &p(&key),
        "-out",
        &p(&csr),
        "-subj",
        &format!("/O=CooCenter test/CN={name} signing"),
    ]));
    std::fs::write(
        &ext,
        "basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n",
    )
    .unwrap();
    run(Command::new("openssl").args([
        "x509",
        "-req",
        "-in",
        &p(&csr),
        "-CA",
        &p(&ca_cert),
        "-CAkey",
        &p(&ca_key),
        "-CAcreateserial",
        "-days",
        "365",
        "-out",
        &p(&cert),
        "-extfile",
        &p(&ext),
    ]));
    (ca_cert, Signer { cert, key })
}

/// What goes into a test bundle.
pub struct BundleSpec<'a> {
    pub name: &'a str,
    pub compatible: &'a str,
    pub version: &'a str,
    /// `plain` or `verity`.
    pub format: &'a str,
    /// Size of the ext4 rootfs image.
    pub image_size: u64,
    pub signer: &'a Signer,
}

/// Builds a bundle with one ext4 `rootfs` image (random content, so it does not compress
/// away) and returns (bundle path, image path).
pub fn make_bundle(dir: &Path, spec: &BundleSpec<'_>) -> (PathBuf, PathBuf) {
    let content = dir.join(format!("content-{}", spec.name));
    let tree = dir.join(format!("tree-{}", spec.name));
    std::fs::create_dir_all(&content).unwrap();
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("payload"), random_bytes(256 * 1024)).unwrap();
    std::fs::write(tree.join("version"), spec.version).unwrap();
    let image = content.join("rootfs.ext4");
    run(Command::new("mkfs.ext4")
        .args(["-q", "-F", "-d"])
        .arg(&tree)
        .arg(&image)
        .arg(format!("{}k", spec.image_size / 1024)));
    std::fs::write(
        content.join("manifest.raucm"),
        format!(
            "[update]\ncompatible={}\nversion={}\n\n[bundle]\nformat={}\n\n[image.rootfs]\nfilename=rootfs.ext4\n",
            spec.compatible, spec.version, spec.format
        ),
    )
    .unwrap();
    let bundle = dir.join(format!("{}.raucb", spec.name));
    run(Command::new("rauc")
        .arg("bundle")
        .arg("--cert")
        .arg(&spec.signer.cert)
        .arg("--key")
        .arg(&spec.signer.key)
        .arg(&content)
        .arg(&bundle));
    // Keep the image for comparisons, outside the (rewritten) content folder.
    let kept = dir.join(format!("{}.image", spec.name));
    std::fs::rename(&image, &kept).unwrap();
    (bundle, kept)
}

pub fn random_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|_| rand::random::<u8>()).collect()
}

pub fn sha256_file(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// A private bus with a RAUC service on it.
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub signer: Signer,
    pub foreign: Signer,
    pub bus_address: String,
    pub slot_a: PathBuf,
    pub slot_b: PathBuf,
    bus: Child,
    rauc: Option<Child>,
}

impl Rig {
    /// Everything set up, RAUC running as booted from `boot_slot` (`A` or `B`).
    pub async fn start(boot_slot: &str) -> Rig {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let (ca, signer) = make_ca(&root, "dev");
        let (_, foreign) = make_ca(&root, "foreign");

        let slot_a = root.join("slot-a.img");
        let slot_b = root.join("slot-b.img");
        for slot in [&slot_a, &slot_b] {
            std::fs::write(slot, random_bytes(SLOT_SIZE as usize)).unwrap();
        }

        // The U-Boot environment in a file, read and written by libubootenv's tools.
        let env_txt = root.join("uboot-env.txt");
        std::fs::write(&env_txt, "BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n").unwrap();
        run(Command::new("mkenvimage")
            .args(["-s", "0x4000", "-o"])
            .arg(root.join("uboot.env"))
            .arg(&env_txt));
        std::fs::write(
            root.join("fw_env.config"),
            format!("{} 0x0000 0x4000\n", root.join("uboot.env").display()),
        )
        .unwrap();
        let bin = root.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        for tool in ["fw_printenv", "fw_setenv"] {
            let path = bin.join(tool);
            std::fs::write(
                &path,
                format!(
                    "#!/bin/sh\nexec {} -c {} \"$@\"\n",
                    which(tool).display(),
                    root.join("fw_env.config").display()
                ),
            )
            .unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }

        // Test-only: plain bundles allowed (verity ones need device-mapper to install).
        std::fs::write(
            root.join("system.conf"),
            format!(
                "[system]\ncompatible={COMPATIBLE}\nbootloader=uboot\nbundle-formats=plain verity\n\
                 statusfile={status}\n\n\
                 [keyring]\npath={ca}\ncheck-purpose=codesign\n\n\
                 [slot.rootfs.0]\ndevice={a}\ntype=ext4\nbootname=A\n\n\
                 [slot.rootfs.1]\ndevice={b}\ntype=ext4\nbootname=B\n",
                status = root.join("central.raucs").display(),
                ca = ca.display(),
                a = slot_a.display(),
                b = slot_b.display(),
            ),
        )
        .unwrap();
        std::fs::create_dir_all(root.join("mnt")).unwrap();

        // The bus: RAUC's own policy would allow only root to own its name; here anyone may.
        let socket = root.join("bus.sock");
        std::fs::write(
            root.join("bus.conf"),
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
                socket.display()
            ),
        )
        .unwrap();
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", root.join("bus.conf").display()))
            .args(["--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting dbus-daemon");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let bus_address = line.trim().to_string();
        assert!(
            bus_address.starts_with("unix:"),
            "dbus-daemon said {line:?}"
        );

        let mut rig = Rig {
            dir,
            ca,
            signer,
            foreign,
            bus_address,
            slot_a,
            slot_b,
            bus,
            rauc: None,
        };
        rig.start_rauc(boot_slot).await;
        rig
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// (Re)starts `rauc service` as if booted from `boot_slot`: a simulated reboot.
    pub async fn start_rauc(&mut self, boot_slot: &str) {
        self.stop_rauc();
        let root = self.dir.path();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("rauc.log"))
            .unwrap();
        let path = format!(
            "{}:{}",
            root.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let child = Command::new("rauc")
            .arg(format!("--conf={}", root.join("system.conf").display()))
            .arg(format!("--mount={}", root.join("mnt").display()))
            .arg("service")
            .arg(format!("--override-boot-slot={boot_slot}"))
            .env("DBUS_SYSTEM_BUS_ADDRESS", &self.bus_address)
            .env("PATH", path)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting rauc service");
        self.rauc = Some(child);
        // Ready once it answers on the bus.
        let connection = crate::firmware::rauc::connect(Some(&self.bus_address))
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let proxy = InstallerProxy::builder(&connection)
                .cache_properties(zbus::proxy::CacheProperties::No)
                .build()
                .await
                .unwrap();
            if let Ok(slot) = proxy.boot_slot().await {
                assert_eq!(slot, boot_slot);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "rauc service did not come up: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops `rauc service` (as if it crashed).
    pub fn stop_rauc(&mut self) {
        if let Some(mut child) = self.rauc.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.path("rauc.log")).unwrap_or_default()
    }

    pub fn config(&self) -> UpgradeConfig {
        UpgradeConfig {
            bus_address: Some(self.bus_address.clone()),
            keyring: self.ca.clone(),
            ..UpgradeConfig::default()
        }
    }

    pub async fn upgrader(&self) -> Upgrader {
        Upgrader::connect(self.config()).await.unwrap()
    }

    /// A U-Boot variable, through the same wrapper RAUC uses.
    pub fn env(&self, name: &str) -> String {
        run(Command::new(self.path("bin/fw_printenv")).args(["-n", name]))
            .trim()
            .to_string()
    }

    pub fn set_env(&self, name: &str, value: &str) {
        run(Command::new(self.path("bin/fw_setenv")).args([name, value]));
    }

    pub fn bundle(&self, spec: &BundleSpec<'_>) -> (PathBuf, PathBuf) {
        make_bundle(self.dir.path(), spec)
    }

    /// Fingerprints of everything an install could change: both slots and the boot env.
    pub fn state(&self) -> (String, String, String) {
        (
            sha256_file(&self.slot_a),
            sha256_file(&self.slot_b),
            sha256_file(&self.path("uboot.env")),
        )
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.stop_rauc();
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

fn which(tool: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{tool} not found"))
}
