//! Every refusal against the real RAUC service, each leaving both slots and the boot
//! environment exactly as they were.

use std::path::Path;

use super::harness::{rauc_or_skip, BundleSpec, Rig, COMPATIBLE, SLOT_SIZE};
use crate::firmware::rauc::InstallerProxy;
use crate::firmware::{FirmwareError, InstallState, UpgradeConfig, Upgrader};

/// Tries to install `bundle`; returns the refusal after checking nothing changed.
async fn refused(rig: &Rig, upgrader: &Upgrader, bundle: &Path) -> FirmwareError {
    let before = rig.state();
    let error = upgrader
        .start_install(bundle)
        .await
        .expect_err("the bundle should be refused");
    // Give a (wrongly) started install time to write something.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        rig.state(),
        before,
        "a refused bundle changed a slot or the boot env"
    );
    assert_eq!(upgrader.progress().borrow().state, InstallState::Idle);
    assert!(error.is_client_error(), "{error:?}");
    let text = error.text();
    assert!(!text.zh.is_empty() && !text.en.is_empty());
    error
}

/// Flips one byte of a file in place.
fn flip_byte(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0xFF;
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_bundle_is_refused_and_nothing_is_written() {
    let Some(()) = rauc_or_skip("every_bad_bundle_is_refused") else {
        return;
    };
    let rig = Rig::start("A").await;
    let upgrader = rig.upgrader().await;
    let spec = |name, compatible, format, image_size, signer| BundleSpec {
        name,
        compatible,
        version: "2.0.0",
        format,
        image_size,
        signer,
    };

    // Another product's bundle, properly signed.
    let (other, _) = rig.bundle(&spec(
        "other",
        "Other Vendor PBX",
        "plain",
        1 << 20,
        &rig.signer,
    ));
    match refused(&rig, &upgrader, &other).await {
        FirmwareError::OtherProduct { bundle, system } => {
            assert_eq!(bundle, "Other Vendor PBX");
            assert_eq!(system, COMPATIBLE);
        }
        e => panic!("{e:?}"),
    }

    // Signed by a CA the keyring does not hold.
    let (foreign, _) = rig.bundle(&spec("foreign", COMPATIBLE, "plain", 1 << 20, &rig.foreign));
    let e = refused(&rig, &upgrader, &foreign).await;
    assert!(matches!(e, FirmwareError::UnknownCa), "{e:?}");
    assert!(e.text().zh.contains("不受本设备信任"));

    // Altered after signing: a plain bundle's payload, and a verity bundle's signed manifest.
    let (tampered, _) = rig.bundle(&spec("tampered", COMPATIBLE, "plain", 1 << 20, &rig.signer));
    flip_byte(&tampered, 20_000);
    let e = refused(&rig, &upgrader, &tampered).await;
    assert!(matches!(e, FirmwareError::BadSignature(_)), "{e:?}");
    let (tampered_v, _) = rig.bundle(&spec(
        "tampered-v",
        COMPATIBLE,
        "verity",
        1 << 20,
        &rig.signer,
    ));
    let bytes = std::fs::read(&tampered_v).unwrap();
    let at = find(&bytes, b"version=2.0.0").expect("inline manifest") + "version=".len();
    flip_byte(&tampered_v, at);
    let e = refused(&rig, &upgrader, &tampered_v).await;
    assert!(matches!(e, FirmwareError::BadSignature(_)), "{e:?}");

    // An image larger than the slot: refused before RAUC writes anything (RAUC itself would
    // grow a file slot, or fail half-way through a partition).
    let (large, _) = rig.bundle(&spec(
        "large",
        COMPATIBLE,
        "verity",
        SLOT_SIZE + (1 << 20),
        &rig.signer,
    ));
    match refused(&rig, &upgrader, &large).await {
        FirmwareError::TooLargeForSlot {
            image_size,
            slot,
            slot_size,
            ..
        } => {
            assert_eq!(image_size, SLOT_SIZE + (1 << 20));
            assert_eq!(slot, "rootfs.1");
            assert_eq!(slot_size, SLOT_SIZE);
        }
        e => panic!("{e:?}"),
    }

    // A truncated upload, at several cut points; RAUC refuses it too.
    let (good, _) = rig.bundle(&spec("good", COMPATIBLE, "plain", 1 << 20, &rig.signer));
    let full = std::fs::read(&good).unwrap();
    for cut in [full.len() / 2, full.len() - 100, full.len() - 1, 4096, 50] {
        let truncated = rig.path(&format!("truncated-{cut}.raucb"));
        std::fs::write(&truncated, &full[..cut]).unwrap();
        let e = refused(&rig, &upgrader, &truncated).await;
        assert!(
            matches!(e, FirmwareError::Truncated(_)),
            "cut at {cut}: {e:?}"
        );
        assert!(e.text().en.contains("incomplete"));
    }
    let connection = crate::firmware::rauc::connect(Some(&rig.bus_address))
        .await
        .unwrap();
    let proxy = InstallerProxy::new(&connection).await.unwrap();
    let truncated = rig.path(&format!("truncated-{}.raucb", full.len() / 2));
    assert!(proxy.info(truncated.to_str().unwrap()).await.is_err());

    // Not a bundle at all, and an upload over the limit.
    let text = rig.path("notes.raucb");
    std::fs::write(&text, "hello ".repeat(2000)).unwrap();
    assert!(matches!(
        refused(&rig, &upgrader, &text).await,
        FirmwareError::NotABundle
    ));
    let small_limit = Upgrader::connect(UpgradeConfig {
        max_bundle_bytes: 10_000,
        ..rig.config()
    })
    .await
    .unwrap();
    assert!(matches!(
        refused(&rig, &small_limit, &good).await,
        FirmwareError::UploadTooLarge { max: 10_000, .. }
    ));

    // The good bundle still checks out after all that (nothing is stuck).
    let info = upgrader.inspect(&good).await.unwrap();
    assert_eq!(info.format.as_deref(), Some("plain"));
    assert_eq!(info.compatible, COMPATIBLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verity_bundle_is_inspected_with_its_image_size() {
    let Some(()) = rauc_or_skip("verity_bundle_is_inspected") else {
        return;
    };
    let mut rig = Rig::start("A").await;
    let upgrader = rig.upgrader().await;
    let (bundle, _) = rig.bundle(&BundleSpec {
        name: "verity",
        compatible: COMPATIBLE,
        version: "3.1.0",
        format: "verity",
        image_size: 3 << 20,
        signer: &rig.signer,
    });
    let before = rig.state();
    let info = upgrader.inspect(&bundle).await.unwrap();
    assert_eq!(info.version, "3.1.0");
    assert_eq!(info.format.as_deref(), Some("verity"));
    let image = &info.images[0];
    assert_eq!(image.slot_class, "rootfs");
    assert_eq!(image.size, Some(3 << 20));
    assert_eq!(image.target_slot, "rootfs.1");
    assert_eq!(image.slot_size, Some(SLOT_SIZE));
    assert_eq!(rig.state(), before);
    assert_eq!(upgrader.system_compatible().await.unwrap(), COMPATIBLE);
    assert_eq!(upgrader.boot_slot().await.unwrap(), "A");

    // Without RAUC on the bus the service is unavailable (a 5xx), not a bad bundle.
    rig.stop_rauc();
    let e = upgrader.inspect(&bundle).await.unwrap_err();
    assert!(matches!(e, FirmwareError::Unavailable(_)), "{e:?}");
    assert!(!e.is_client_error());
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
