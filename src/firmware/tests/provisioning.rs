//! Factory provisioning and factory reset on temp dirs.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::accounts::password;
use crate::firmware::provision::{
    ami_secret, apply_pending_factory_reset, generate_password, provisioned_admin_hash,
    read_identity, request_factory_reset, ResetReport,
};
use crate::firmware::{factory_reset, provision, DeviceIdentity, DevicePaths, ProvisionError};

fn identity() -> DeviceIdentity {
    DeviceIdentity {
        serial: "CC8-2026-000123".into(),
        mac: "00:1A:2B:3C:4D:5E".into(),
        model: "CooCenter CC-8".into(),
    }
}

fn paths(root: &Path) -> DevicePaths {
    DevicePaths {
        data_dir: root.join("var/lib/coocenter"),
        prompts_dir: root.join("sounds/coocenter"),
        recordings_dirs: vec![root.join("monitor"), root.join("usb/recordings")],
        voicemail_dir: root.join("voicemail"),
        ami_secret_include: Some(root.join("etc/asterisk/manager.d/coocenterd-secret.inc")),
    }
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn provisioning_writes_identity_key_password_and_secret() {
    let root = tempfile::tempdir().unwrap();
    let paths = paths(root.path());
    std::fs::create_dir_all(paths.ami_secret_include.as_ref().unwrap().parent().unwrap()).unwrap();
    let done = provision(&paths, &identity(), false).unwrap();
    let data = &paths.data_dir;

    // The label password: 4 groups of 4 from the unambiguous alphabet; only its hash stored.
    let pw = &done.admin_password;
    assert_eq!(pw.len(), 19, "{pw}");
    for (i, c) in pw.chars().enumerate() {
        if i % 5 == 4 {
            assert_eq!(c, '-');
        } else {
            assert!("23456789ABCDEFGHJKMNPQRSTUVWXYZ".contains(c), "{pw}");
        }
    }
    assert!(
        !format!("{done:?}").contains(pw.as_str()),
        "Debug must hide the password"
    );
    let hash = provisioned_admin_hash(data).unwrap().unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(password::verify(pw, &hash));
    assert!(password::check_policy(&["admin"], pw).is_ok());
    assert_eq!(mode(&data.join("provisioned-admin.phc")), 0o600);
    let on_disk: String = walk(data).join("\n");
    assert!(
        !on_disk.contains(pw.as_str()),
        "the password must not be stored in clear"
    );

    // TLS: key 0600, certificate's fingerprint recorded in the identity.
    assert_eq!(mode(&data.join("tls/key.pem")), 0o600);
    assert_eq!(mode(data), 0o700);
    let cert_pem = std::fs::read_to_string(data.join("tls/cert.pem")).unwrap();
    let key_pem = std::fs::read_to_string(data.join("tls/key.pem")).unwrap();
    assert!(key_pem.contains("PRIVATE KEY"));
    let der = pem_body(&cert_pem);
    let fingerprint = Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    assert_eq!(done.tls_fingerprint_sha256, fingerprint);
    // The certificate names the box's serial-based hostname and the factory addresses.
    assert!(find(&der, b"coocenter-cc8-2026-000123").is_some());
    assert!(find(&der, &[192, 168, 1, 100]).is_some());
    assert!(find(&der, &[192, 168, 10, 100]).is_some());

    // The identity, normalised.
    let record = read_identity(data).unwrap().unwrap();
    assert_eq!(record.identity.serial, "CC8-2026-000123");
    assert_eq!(record.identity.mac, "00:1a:2b:3c:4d:5e");
    assert_eq!(record.tls_fingerprint_sha256, fingerprint);

    // The AMI secret, for the daemon and for Asterisk's manager include.
    let secret = ami_secret(data).unwrap().unwrap();
    assert_eq!(secret.len(), 48);
    assert_eq!(mode(&data.join("ami-secret")), 0o600);
    let include = paths.ami_secret_include.as_ref().unwrap();
    assert_eq!(
        std::fs::read_to_string(include)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
        format!("secret = {secret}")
    );
    assert_eq!(mode(include), 0o640);
}

#[test]
fn an_existing_identity_is_kept_unless_forced() {
    let root = tempfile::tempdir().unwrap();
    let mut paths = paths(root.path());
    paths.ami_secret_include = None;
    let first = provision(&paths, &identity(), false).unwrap();
    let key_before = std::fs::read(paths.data_dir.join("tls/key.pem")).unwrap();
    let identity_before = std::fs::read(paths.data_dir.join("identity.json")).unwrap();

    let other = DeviceIdentity {
        serial: "CC8-2026-999999".into(),
        ..identity()
    };
    match provision(&paths, &other, false) {
        Err(ProvisionError::AlreadyProvisioned(path)) => {
            assert_eq!(path, paths.data_dir.join("identity.json"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read(paths.data_dir.join("tls/key.pem")).unwrap(),
        key_before
    );
    assert_eq!(
        std::fs::read(paths.data_dir.join("identity.json")).unwrap(),
        identity_before
    );
    assert!(password::verify(
        &first.admin_password,
        &provisioned_admin_hash(&paths.data_dir).unwrap().unwrap()
    ));

    let forced = provision(&paths, &other, true).unwrap();
    assert_ne!(forced.admin_password, first.admin_password);
    assert_ne!(forced.tls_fingerprint_sha256, first.tls_fingerprint_sha256);
    assert_ne!(
        std::fs::read(paths.data_dir.join("tls/key.pem")).unwrap(),
        key_before
    );
    assert_eq!(
        read_identity(&paths.data_dir)
            .unwrap()
            .unwrap()
            .identity
            .serial,
        "CC8-2026-999999"
    );
}

#[test]
fn passwords_are_unique_and_not_derived_from_the_identity() {
    // The same identity provisioned twice (two data folders) gets different passwords, keys
    // and secrets: nothing is a function of the serial or the MAC.
    let mut passwords = std::collections::HashSet::new();
    let mut fingerprints = std::collections::HashSet::new();
    let mut secrets = std::collections::HashSet::new();
    for _ in 0..2 {
        let root = tempfile::tempdir().unwrap();
        let mut paths = paths(root.path());
        paths.ami_secret_include = None;
        let done = provision(&paths, &identity(), false).unwrap();
        passwords.insert(done.admin_password);
        fingerprints.insert(done.tls_fingerprint_sha256);
        secrets.insert(ami_secret(&paths.data_dir).unwrap().unwrap());
    }
    assert_eq!(
        (passwords.len(), fingerprints.len(), secrets.len()),
        (2, 2, 2)
    );
    // And many generated passwords never repeat.
    let many: std::collections::HashSet<String> = (0..2000).map(|_| generate_password()).collect();
    assert_eq!(many.len(), 2000);
}

#[test]
fn invalid_identities_are_refused_and_nothing_written() {
    let root = tempfile::tempdir().unwrap();
    let paths = paths(root.path());
    for bad in [
        DeviceIdentity {
            serial: "".into(),
            ..identity()
        },
        DeviceIdentity {
            serial: "../etc".into(),
            ..identity()
        },
        DeviceIdentity {
            mac: "00:1a:2b:3c:4d".into(),
            ..identity()
        },
        DeviceIdentity {
            mac: "zz:1a:2b:3c:4d:5e".into(),
            ..identity()
        },
        DeviceIdentity {
            model: " ".into(),
            ..identity()
        },
    ] {
        assert!(matches!(
            provision(&paths, &bad, false),
            Err(ProvisionError::InvalidIdentity(_))
        ));
    }
    assert!(!paths.data_dir.exists());
}

#[test]
fn factory_reset_keeps_the_identity_and_erases_the_rest() {
    let root = tempfile::tempdir().unwrap();
    let mut paths = paths(root.path());
    paths.ami_secret_include = None;
    let done = provision(&paths, &identity(), false).unwrap();
    let data = &paths.data_dir;
    let kept_before: Vec<(String, Vec<u8>)> = [
        "identity.json",
        "provisioned-admin.phc",
        "ami-secret",
        "tls/key.pem",
        "tls/cert.pem",
    ]
    .iter()
    .map(|f| (f.to_string(), std::fs::read(data.join(f)).unwrap()))
    .collect();

    // User data everywhere.
    for f in ["coocenter.db", "coocenter.db-wal", "coocenter.db-shm"] {
        std::fs::write(data.join(f), b"data").unwrap();
    }
    std::fs::create_dir_all(data.join("firmware")).unwrap();
    std::fs::write(data.join("firmware/upload.raucb"), b"bundle").unwrap();
    std::fs::create_dir_all(&paths.prompts_dir).unwrap();
    std::fs::write(paths.prompts_dir.join("welcome.wav"), b"RIFF").unwrap();
    std::os::unix::fs::symlink(root.path(), paths.prompts_dir.join("link")).unwrap();
    for dir in &paths.recordings_dirs {
        std::fs::create_dir_all(dir.join("2026/05")).unwrap();
        std::fs::write(dir.join("2026/05/call.wav"), b"RIFF").unwrap();
    }
    std::fs::create_dir_all(paths.voicemail_dir.join("default/8001/INBOX")).unwrap();
    std::fs::write(
        paths.voicemail_dir.join("default/8001/INBOX/msg0000.txt"),
        b"x",
    )
    .unwrap();

    // Without recordings: recordings and voicemail stay.
    let report = factory_reset(&paths, false).unwrap();
    assert_eq!(
        report,
        ResetReport {
            data_entries: 4,
            prompts: 2,
            recordings: 0,
            voicemail: 0
        }
    );
    for (file, bytes) in &kept_before {
        assert_eq!(
            &std::fs::read(data.join(file)).unwrap(),
            bytes,
            "{file} changed"
        );
    }
    assert!(!data.join("coocenter.db").exists());
    assert!(!data.join("firmware").exists());
    assert!(paths.prompts_dir.is_dir());
    assert_eq!(std::fs::read_dir(&paths.prompts_dir).unwrap().count(), 0);
    assert!(root.path().exists(), "the symlink's target must survive");
    assert!(paths.recordings_dirs[0].join("2026/05/call.wav").exists());
    assert!(paths
        .voicemail_dir
        .join("default/8001/INBOX/msg0000.txt")
        .exists());
    // The label password still works: the daemon seeds admin from it again.
    assert!(password::verify(
        &done.admin_password,
        &provisioned_admin_hash(data).unwrap().unwrap()
    ));

    // With recordings, through the at-next-start marker.
    request_factory_reset(data, true).unwrap();
    let report = apply_pending_factory_reset(&paths).unwrap().unwrap();
    assert_eq!((report.recordings, report.voicemail), (2, 1));
    for dir in &paths.recordings_dirs {
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 0);
    }
    assert!(!data.join("factory-reset.pending").exists());
    assert_eq!(apply_pending_factory_reset(&paths).unwrap(), None);
    assert!(read_identity(data).unwrap().is_some());
}

#[test]
fn reset_of_a_box_never_provisioned_is_harmless() {
    let root = tempfile::tempdir().unwrap();
    let paths = paths(root.path());
    assert_eq!(factory_reset(&paths, true).unwrap(), ResetReport::default());
    assert_eq!(provisioned_admin_hash(&paths.data_dir).unwrap(), None);
    assert_eq!(read_identity(&paths.data_dir).unwrap(), None);
}

fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Every file's content under `dir`, as lossy text.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned());
        }
    }
    out
}
