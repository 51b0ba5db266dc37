//! Factory provisioning and factory reset through the command line, and what the console
//! then does with them: the provisioned password (never admin/admin) works only to set a new
//! one, a second provisioning is refused without --force, and a factory reset returns the box
//! to its provisioned state.

mod common;

use std::process::Command;

use common::{TestDaemon, NEW_PASSWORD};
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_coocenterd");

fn config_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("coocenterd.toml");
    std::fs::write(
        &path,
        format!(
            "[storage]\ndata_dir = \"{d}/data\"\n[paths]\nprompts_dir = \"{d}/sounds\"\nrecordings_dirs = [\"{d}/monitor\"]\nvoicemail_dir = \"{d}/voicemail\"\nasterisk_config_dir = \"{d}/asterisk\"\n",
            d = dir.display()
        ),
    )
    .unwrap();
    path
}

fn provision(config: &std::path::Path, force: bool) -> std::process::Output {
    let mut command = Command::new(BIN);
    command.args(["provision", "--config"]).arg(config).args([
        "--serial",
        "CC2026110001",
        "--mac",
        "00:1a:2b:3c:4d:5e",
        "--model",
        "CooCenter-100",
    ]);
    if force {
        command.arg("--force");
    }
    command.output().unwrap()
}

fn printed_password(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.split("shown only now): ").nth(1).map(str::to_string))
        .expect("password printed")
}

#[tokio::test]
async fn provisioned_password_forces_a_change_and_survives_a_factory_reset() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path());
    let first = provision(&config, false);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let password = printed_password(&first);
    assert_eq!(password.len(), 19, "XXXX-XXXX-XXXX-XXXX: {password}");
    assert!(!password.contains("CC2026") && !password.to_lowercase().contains("3c4d"));

    // Provisioning again is refused without --force, and changes nothing.
    let identity = std::fs::read(dir.path().join("data/identity.json")).unwrap();
    let again = provision(&config, false);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("use force"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(
        std::fs::read(dir.path().join("data/identity.json")).unwrap(),
        identity
    );

    // The console: admin/admin is no more; the label's password only opens the change.
    let daemon = TestDaemon::start_in(dir, |_| {}).await;
    let mut api = daemon.api();
    assert_eq!(
        api.login("admin", "admin").await.status,
        StatusCode::UNAUTHORIZED
    );
    let answer = api.login("admin", &password).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["must_change_password"], true);
    assert_eq!(
        api.change_password(&password, NEW_PASSWORD).await.status,
        StatusCode::NO_CONTENT
    );
    // The certificate served is the provisioned one.
    let fingerprint = String::from_utf8_lossy(&first.stdout)
        .lines()
        .find_map(|l| {
            l.strip_prefix("TLS certificate SHA-256: ")
                .map(str::to_string)
        })
        .unwrap();
    assert_eq!(daemon.fingerprint, fingerprint);
    let dir = daemon.stop().await;

    // Factory reset: the database goes, the identity, key and provisioned password stay.
    let reset = Command::new(BIN)
        .args(["factory-reset", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    assert!(!dir.path().join("data/coocenter.db").exists());
    assert_eq!(
        std::fs::read(dir.path().join("data/identity.json")).unwrap(),
        identity
    );
    let daemon = TestDaemon::start_in(dir, |_| {}).await;
    assert_eq!(daemon.fingerprint, fingerprint);
    let mut api = daemon.api();
    assert_eq!(
        api.login("admin", NEW_PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    let answer = api.login("admin", &password).await;
    assert_eq!(
        answer.body["must_change_password"], true,
        "the provisioned password must be changed again"
    );
    daemon.stop().await;
}
