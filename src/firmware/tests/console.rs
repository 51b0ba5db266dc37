//! The console's upgrade API over real HTTPS against the real RAUC rig: a bundle uploaded,
//! inspected (version and compatible shown before anything is written), installed into slot
//! B with progress; a bundle signed by an unknown CA refused with a clear message and nothing
//! written; a second install refused while one runs.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use super::harness::{rauc_or_skip, BundleSpec, Rig, COMPATIBLE};

struct Console {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Console {
    async fn start(
        rig: &Rig,
        dir: &std::path::Path,
    ) -> (Console, tokio_util::sync::CancellationToken) {
        let mut config = crate::demo::config("127.0.0.1:0".parse().unwrap(), dir);
        config.firmware.enabled = true;
        config.firmware.bus_address = Some(rig.bus_address.clone());
        config.firmware.keyring = rig.ca.clone();
        config.ami.port = crate::config::Bounded(1); // no PBX here
        let daemon = crate::start(config).await.unwrap();
        let addr = daemon.local_addrs()[0];
        let shutdown = tokio_util::sync::CancellationToken::new();
        tokio::spawn(daemon.serve(shutdown.clone()));
        let cert = std::fs::read(dir.join("data/tls/cert.pem")).unwrap();
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
            .resolve("localhost", addr)
            .use_preconfigured_tls({
                let mut roots = rustls::RootCertStore::empty();
                for c in rustls_pemfile::certs(&mut &cert[..]) {
                    roots.add(c.unwrap()).unwrap();
                }
                rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                    rustls::crypto::ring::default_provider(),
                ))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth()
            })
            .build()
            .unwrap();
        let base = format!("https://localhost:{}", addr.port());
        let login = client
            .post(format!("{base}/api/v1/session"))
            .json(&serde_json::json!({"username": "admin", "password": "admin"}))
            .send()
            .await
            .unwrap();
        let cookie = login.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let changed = client
            .post(format!("{base}/api/v1/account/password"))
            .header("cookie", &cookie)
            .json(
                &serde_json::json!({"old_password": "admin", "new_password": "Upgrade-test-2026"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(changed.status(), StatusCode::NO_CONTENT);
        (
            Console {
                client,
                base,
                cookie,
            },
            shutdown,
        )
    }

    async fn upload(&self, bundle: &std::path::Path) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/api/v1/firmware/bundle", self.base))
            .header("cookie", &self.cookie)
            .header("content-type", "application/octet-stream")
            .body(std::fs::read(bundle).unwrap())
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    async fn post(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn status(&self) -> Value {
        self.client
            .get(format!("{}/api/v1/firmware", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_uploads_confirms_and_installs_a_bundle_and_refuses_a_foreign_one() {
    let Some(()) = rauc_or_skip("console_upgrade") else {
        return;
    };
    let rig = Rig::start("A").await;
    let dir = tempfile::tempdir().unwrap();
    let (console, shutdown) = Console::start(&rig, dir.path()).await;

    let status = console.status().await;
    assert_eq!(status["available"], true, "{status}");
    assert_eq!(status["compatible"], COMPATIBLE);

    // Signed by a CA the box does not trust: refused, explained, nothing written.
    let (foreign, _) = rig.bundle(&BundleSpec {
        name: "foreign",
        compatible: COMPATIBLE,
        version: "9.9.9",
        format: "plain",
        image_size: 1024 * 1024,
        signer: &rig.foreign,
    });
    let before = rig.state();
    let (code, body) = console.upload(&foreign).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "bundle_unknown_ca", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("证书"),
        "{body}"
    );
    assert_eq!(
        rig.state(),
        before,
        "nothing written to a slot or the boot environment"
    );
    let (code, body) = console.post("/api/v1/firmware/install").await;
    assert_eq!(
        code,
        StatusCode::NOT_FOUND,
        "a refused bundle cannot be installed: {body}"
    );

    // A good bundle: its version and compatible are shown before anything is written.
    let (good, _) = rig.bundle(&BundleSpec {
        name: "good",
        compatible: COMPATIBLE,
        version: "2.1.0",
        format: "plain",
        image_size: 2 * 1024 * 1024,
        signer: &rig.signer,
    });
    let (code, info) = console.upload(&good).await;
    assert_eq!(code, StatusCode::OK, "{info}\n{}", rig.log());
    assert_eq!(
        (info["version"].as_str(), info["compatible"].as_str()),
        (Some("2.1.0"), Some(COMPATIBLE))
    );
    assert_eq!(rig.state(), before, "inspecting writes nothing");

    let (code, _) = console.post("/api/v1/firmware/install").await;
    assert_eq!(code, StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut percents = vec![];
    loop {
        let status = console.status().await;
        let progress = &status["progress"];
        percents.push(progress["percent"].as_u64().unwrap_or(0));
        if progress["state"] == "reboot_required" {
            assert_eq!(progress["version"], "2.1.0");
            break;
        }
        assert_ne!(progress["state"], "failed", "{status}\n{}", rig.log());
        assert!(
            Instant::now() < deadline,
            "install did not finish: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(*percents.last().unwrap(), 100);
    assert_ne!(rig.state().1, before.1, "slot B was written");
    assert_eq!(
        rig.state().0,
        before.0,
        "slot A, the running system, untouched"
    );
    shutdown.cancel();
}

/// After the reboot into the new slot, the daemon itself marks it good once HTTPS, the
/// database and the AMI session are up (Asterisk played by the simulator).
#[cfg(feature = "simulator")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_marks_the_new_slot_good_only_after_a_healthy_start() {
    let Some(()) = rauc_or_skip("daemon_mark_good") else {
        return;
    };
    let mut rig = Rig::start("B").await;
    rig.set_env("BOOT_ORDER", "B A");
    rig.set_env("BOOT_B_LEFT", "2");
    rig.start_rauc("B").await;
    let sim = crate::simulator::Simulator::start(crate::simulator::SimConfig {
        username: "coocenterd".into(),
        secret: "mark-good".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::demo::config("127.0.0.1:0".parse().unwrap(), dir.path());
    config.firmware.enabled = true;
    config.firmware.bus_address = Some(rig.bus_address.clone());
    config.firmware.keyring = rig.ca.clone();
    config.ami.port = crate::config::Bounded(u64::from(sim.addr().port()));
    config.ami.secret = "mark-good".into();
    let daemon = crate::start(config).await.unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let served = tokio::spawn(daemon.serve(shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while rig.env("BOOT_B_LEFT") != "3" {
        assert!(
            Instant::now() < deadline,
            "slot B never marked good\n{}",
            rig.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    shutdown.cancel();
    served.await.unwrap().unwrap();
    sim.shutdown();
}
