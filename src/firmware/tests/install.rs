//! A good bundle through the real RAUC: into slot B, B primary, reboot, mark-good; an
//! unhealthy start left for the bootloader; one install at a time.

use std::sync::{Arc, Mutex};

use super::harness::{rauc_or_skip, BundleSpec, Rig, COMPATIBLE};
use crate::firmware::{health_check, FirmwareError, HealthOutcome, InstallState};

fn need_root(test: &str) {
    assert!(
        nix_is_root(),
        "{test}: installing a plain bundle makes RAUC loop-mount it, which needs root"
    );
}

fn nix_is_root() -> bool {
    // The owner of our own /proc entry is our uid (no libc call needed).
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_bundle_lands_in_b_and_is_marked_good_after_reboot() {
    let Some(()) = rauc_or_skip("good_bundle_lands_in_b") else {
        return;
    };
    need_root("good_bundle_lands_in_b");
    let mut rig = Rig::start("A").await;
    let (bundle, image) = rig.bundle(&BundleSpec {
        name: "good",
        compatible: COMPATIBLE,
        version: "2.0.0",
        format: "plain",
        image_size: 2 * 1024 * 1024,
        signer: &rig.signer,
    });
    let slot_a_before = super::harness::sha256_file(&rig.slot_a);
    let upgrader = rig.upgrader().await;

    // Record every progress update.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut progress = upgrader.progress();
    let recorder = {
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            while progress.changed().await.is_ok() {
                let now = progress.borrow_and_update().clone();
                let done = now.state == InstallState::RebootRequired;
                seen.lock().unwrap().push(now);
                if done {
                    break;
                }
            }
        })
    };

    let info = upgrader.install(&bundle).await.unwrap_or_else(|e| {
        panic!("install failed: {e:?}\n{}", rig.log());
    });
    assert_eq!(info.compatible, COMPATIBLE);
    assert_eq!(info.version, "2.0.0");
    assert_eq!(info.format.as_deref(), Some("plain"));
    // RAUC 1.8 has no InspectBundle and a plain bundle's manifest is inside its image: the
    // images are listed only by newer RAUC (verity bundles: see refusals.rs).
    assert!(info.images.is_empty() || info.images[0].target_slot == "rootfs.1");
    tokio::time::timeout(std::time::Duration::from_secs(5), recorder)
        .await
        .unwrap()
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.first().unwrap().state, InstallState::Verifying);
    assert!(seen.iter().any(|p| p.state == InstallState::Installing));
    let last = seen.last().unwrap();
    assert_eq!(
        (last.state, last.percent),
        (InstallState::RebootRequired, 100)
    );
    assert_eq!(last.version.as_deref(), Some("2.0.0"));

    // The image is in B, A is untouched, B boots next.
    let image_bytes = std::fs::read(&image).unwrap();
    let slot_b = std::fs::read(&rig.slot_b).unwrap();
    assert_eq!(&slot_b[..image_bytes.len()], &image_bytes[..]);
    assert_eq!(super::harness::sha256_file(&rig.slot_a), slot_a_before);
    assert_eq!(upgrader.primary_slot().await.unwrap(), "rootfs.1");
    assert!(
        rig.env("BOOT_ORDER").starts_with('B'),
        "{}",
        rig.env("BOOT_ORDER")
    );
    assert!(upgrader.reboot_pending().await.unwrap());
    drop(upgrader);

    // Reboot into B: the bootloader spent one attempt.
    rig.set_env("BOOT_B_LEFT", "2");
    rig.start_rauc("B").await;
    let upgrader = rig.upgrader().await;
    assert!(!upgrader.reboot_pending().await.unwrap());
    assert_eq!(upgrader.progress().borrow().state, InstallState::Idle);
    let checks = vec![
        health_check("https", || async { Ok(()) }),
        health_check("database", || async { Ok(()) }),
        health_check("ami", || async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok(())
        }),
    ];
    let outcome = upgrader.mark_good_if_healthy(&checks).await.unwrap();
    match outcome {
        HealthOutcome::MarkedGood { slot, .. } => assert_eq!(slot, "rootfs.1"),
        other => panic!("{other:?}"),
    }
    assert_eq!(rig.env("BOOT_B_LEFT"), "3");
    let slots = upgrader.slots().await.unwrap();
    let b = slots.iter().find(|s| s.name == "rootfs.1").unwrap();
    assert_eq!(b.state, "booted");
    assert_eq!(b.boot_status.as_deref(), Some("good"));
    assert_eq!(b.bundle_version.as_deref(), Some("2.0.0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unhealthy_start_is_left_to_the_bootloader() {
    let Some(()) = rauc_or_skip("unhealthy_start") else {
        return;
    };
    // As after an install into B and a reboot that B does not survive well.
    let rig = Rig::start("B").await;
    rig.set_env("BOOT_ORDER", "B A");
    rig.set_env("BOOT_B_LEFT", "2");
    let env_before = rig.state().2;
    let upgrader = rig.upgrader().await;
    let checks = vec![
        health_check("https", || async { Ok(()) }),
        health_check("database", || async {
            Err("cannot open coocenter.db".to_string())
        }),
    ];
    let outcome = upgrader.mark_good_if_healthy(&checks).await.unwrap();
    assert_eq!(
        outcome,
        HealthOutcome::LeftForFallback {
            failures: vec![("database".into(), "cannot open coocenter.db".into())]
        }
    );
    // Nothing marked: the attempts keep counting down towards the fallback to A.
    assert_eq!(rig.state().2, env_before);
    assert_eq!(rig.env("BOOT_B_LEFT"), "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_install_is_refused_while_one_runs() {
    let Some(()) = rauc_or_skip("a_second_install_is_refused") else {
        return;
    };
    need_root("a_second_install_is_refused");
    let rig = Rig::start("A").await;
    let (bundle, _) = rig.bundle(&BundleSpec {
        name: "first",
        compatible: COMPATIBLE,
        version: "2.0.0",
        format: "plain",
        image_size: 2 * 1024 * 1024,
        signer: &rig.signer,
    });
    let upgrader = rig.upgrader().await;
    let (first, second, inspect) = tokio::join!(
        upgrader.install(&bundle),
        upgrader.start_install(&bundle),
        upgrader.inspect(&bundle)
    );
    first.unwrap_or_else(|e| panic!("{e:?}\n{}", rig.log()));
    assert!(matches!(second, Err(FirmwareError::Busy)), "{second:?}");
    assert!(matches!(inspect, Err(FirmwareError::Busy)), "{inspect:?}");
    assert!(FirmwareError::Busy.text().zh.contains("升级"));
    // Once finished, the next one may go.
    let again = upgrader.inspect(&bundle).await.unwrap();
    assert_eq!(again.version, "2.0.0");
}
