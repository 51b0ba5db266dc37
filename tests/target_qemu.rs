//! The target test: the aarch64 release binary, run under `qemu-aarch64` (binfmt is not set
//! up on the build machines, so qemu is spawned explicitly), serves its login page and the
//! login API over HTTPS on loopback, and exits cleanly on SIGTERM. Run by `scripts/test`
//! after `scripts/build-aarch64` with `COOCENTERD_TARGET_BIN` set; ignored otherwise.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Api;
use reqwest::StatusCode;

#[tokio::test]
#[ignore = "needs the aarch64 build: run through scripts/test"]
async fn aarch64_binary_serves_the_console_under_qemu() {
    let binary = std::env::var("COOCENTERD_TARGET_BIN").expect("COOCENTERD_TARGET_BIN is set");
    let identify = Command::new("file").arg(&binary).output().unwrap();
    let kind = String::from_utf8_lossy(&identify.stdout).to_string();
    assert!(kind.contains("ARM aarch64"), "{kind}");

    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("coocenterd.toml");
    std::fs::write(
        &config_path,
        format!(
            "[http]\nlisten = [\"127.0.0.1:0\"]\n[storage]\ndata_dir = \"{}\"\n[log]\nlevel = \"info\"\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let started = Instant::now();
    let mut child = Command::new("qemu-aarch64")
        .args(["-L", "/usr/aarch64-linux-gnu", &binary, "serve", "--config"])
        .arg(&config_path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-aarch64 runs");
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let port: u16 = loop {
        let line = stderr.next().expect("daemon prints its address").unwrap();
        if let Some(rest) = line
            .split("serving the console on https://127.0.0.1:")
            .nth(1)
        {
            break rest.trim_end_matches('/').parse().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no address printed"
        );
    };
    // Keep draining the log so the daemon never blocks on a full pipe.
    std::thread::spawn(move || for _ in stderr {});
    eprintln!(
        "aarch64 daemon under qemu serving after {:?}",
        started.elapsed()
    );

    let cert_pem = std::fs::read(dir.path().join("data/tls/cert.pem")).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut &cert_pem[..]) {
        roots.add(cert.unwrap()).unwrap();
    }
    let tls = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let client = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .resolve("localhost", ([127, 0, 0, 1], port).into())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");

    let page = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("<html"), "{html}");

    let mut api = Api {
        client,
        base,
        cookie: None,
        lang: "zh-CN",
    };
    let answer = api.login("admin", "wrong").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.message(), "用户名或密码错误。");
    let answer = api.login("admin", "admin").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["must_change_password"], true);

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
}
