//! Shared test harness: the real daemon in-process on an ephemeral loopback port with a temp
//! data folder, and an HTTPS client that trusts exactly the certificate the daemon generated
//! (verified for the name `localhost`, one of the certificate's SANs).

#![allow(dead_code)]

pub mod pbx;

use std::net::SocketAddr;
use std::sync::Arc;

use coocenterd::config::{Bounded, Config};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};
use reqwest::{Client, Method, Response, StatusCode};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub const NEW_PASSWORD: &str = "Coo-center-2026!";

pub struct TestDaemon {
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    pub fingerprint: String,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

/// A configuration for tests: loopback, ephemeral port, everything under `dir`, and a quick
/// throttle so lockout tests do not wait.
pub fn test_config(dir: &std::path::Path) -> Config {
    let mut config = coocenterd::demo::config("127.0.0.1:0".parse().unwrap(), dir);
    config.security.failure_delay_ms = Bounded(0);
    config.security.lockout_threshold = Bounded(3);
    config.security.lockout_base_seconds = Bounded(30);
    config.security.lockout_max_seconds = Bounded(60);
    // The AGI the firmware ships: the simulator runs (its model of) this very script.
    config.paths.answer_agi = ANSWER_AGI.into();
    config
}

/// The shipped answer-prompt AGI, in this checkout.
pub const ANSWER_AGI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/rootfs/usr/lib/coocenter/agi/coocenter-answer.agi"
);

impl TestDaemon {
    pub async fn start() -> TestDaemon {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestDaemon {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, adjust).await
    }

    /// Starts a daemon on an existing data folder (to test restarts).
    pub async fn start_in(dir: tempfile::TempDir, adjust: impl FnOnce(&mut Config)) -> TestDaemon {
        let mut config = test_config(dir.path());
        adjust(&mut config);
        let daemon = coocenterd::start(config).await.expect("daemon starts");
        let addr = daemon.local_addrs()[0];
        let fingerprint = daemon.tls_fingerprint().to_string();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(daemon.serve(shutdown.clone()));
        TestDaemon {
            addr,
            dir,
            fingerprint,
            shutdown,
            task,
        }
    }

    /// Stops the daemon and hands back its data folder.
    pub async fn stop(self) -> tempfile::TempDir {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
        self.dir
    }

    pub fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{}", self.addr.port(), path)
    }

    /// TLS settings trusting only this daemon's certificate (no ALPN: a bare client).
    pub fn tls_config(&self) -> rustls::ClientConfig {
        let cert_pem = std::fs::read(self.data_dir().join("tls/cert.pem")).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut &cert_pem[..]) {
            roots.add(cert.unwrap()).unwrap();
        }
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
    }

    /// [`TestDaemon::client`] connecting from another loopback address.
    pub fn client_from(&self, local: std::net::IpAddr) -> Client {
        let mut tls = self.tls_config();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Client::builder()
            .use_preconfigured_tls(tls)
            .resolve("localhost", self.addr)
            .local_address(local)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// A client trusting only this daemon's certificate.
    pub fn client(&self) -> Client {
        let cert_pem = std::fs::read(self.data_dir().join("tls/cert.pem")).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile::certs(&mut &cert_pem[..]) {
            roots.add(cert.unwrap()).unwrap();
        }
        let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Client::builder()
            .use_preconfigured_tls(tls)
            .resolve("localhost", self.addr)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn api(&self) -> Api {
        Api {
            client: self.client(),
            base: self.url(""),
            cookie: None,
            lang: "zh-CN",
        }
    }

    /// Opens the daemon's database directly, to check what was (not) stored.
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.data_dir().join("coocenter.db")).unwrap()
    }
}

/// A browser-like API client: keeps the session cookie, sends a language.
pub struct Api {
    pub client: Client,
    pub base: String,
    pub cookie: Option<String>,
    pub lang: &'static str,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

impl Api {
    pub async fn send(&mut self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header(ACCEPT_LANGUAGE, self.lang);
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, HeaderValue::from_str(cookie).unwrap());
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.absorb(request.send().await.unwrap()).await
    }

    pub async fn absorb(&mut self, response: Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        for value in headers.get_all(SET_COOKIE) {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            if pair.ends_with('=') {
                self.cookie = None;
            } else {
                self.cookie = Some(pair.to_string());
            }
        }
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn login(&mut self, username: &str, password: &str) -> Answer {
        self.send(
            Method::POST,
            "/api/v1/session",
            Some(serde_json::json!({"username": username, "password": password})),
        )
        .await
    }

    pub async fn change_password(&mut self, old: &str, new: &str) -> Answer {
        self.send(
            Method::POST,
            "/api/v1/account/password",
            Some(serde_json::json!({"old_password": old, "new_password": new})),
        )
        .await
    }

    /// Logs in with the factory password and sets [`NEW_PASSWORD`].
    pub async fn first_login(&mut self) {
        let answer = self.login("admin", "admin").await;
        assert_eq!(answer.status, StatusCode::OK);
        let answer = self.change_password("admin", NEW_PASSWORD).await;
        assert_eq!(answer.status, StatusCode::NO_CONTENT, "{:?}", answer.body);
    }
}

/// An agent written straight into the database (tests without a PBX to create one through),
/// with its extension's password as given.
pub fn insert_agent(
    db: &rusqlite::Connection,
    (id, name, job, leader, ext): (i64, &str, &str, i64, &str),
    password: &str,
) {
    db.execute(
        "INSERT INTO agents (id, name, job_number, leader, extension, extension_password,
             extension_type, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'sip', 0, 0)",
        rusqlite::params![id, name, job, leader, ext, password],
    )
    .unwrap();
}

/// A real 8 kHz mono 16-bit WAV (what Asterisk plays and records) of `ms` milliseconds of a
/// quiet 440 Hz tone, in a folder created as needed.
pub fn write_wav(path: &std::path::Path, ms: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(8 * ms) {
        let t = f64::from(i) / 8000.0;
        writer
            .write_sample((1000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}
