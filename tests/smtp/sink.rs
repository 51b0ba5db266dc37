//! The SMTP side of the mail tests: a real aiosmtpd (`tests/smtp/sink.py`) on loopback, and a
//! test PKI (a CA and a certificate for 127.0.0.1) for its TLS. Included by the mail test
//! files with `#[path]`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A Python that has aiosmtpd (`python3` first, then Debian's own, which
/// `apt-get install python3-aiosmtpd` equips).
pub fn python() -> &'static str {
    static PYTHON: OnceLock<String> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let candidates = std::env::var("COOCENTER_TEST_PYTHON")
            .into_iter()
            .chain(["python3".to_string(), "/usr/bin/python3".to_string()]);
        for candidate in candidates {
            let ok = Command::new(&candidate)
                .args(["-c", "import aiosmtpd"])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return candidate;
            }
        }
        panic!("no Python with aiosmtpd: apt-get install python3-aiosmtpd (scripts/test does)");
    })
}

/// A test CA (`ca`) and a server certificate for 127.0.0.1 it signed (`cert`, `key`), as
/// PEM files in a folder of their own.
pub struct TestPki {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestPki {
    pub fn generate() -> TestPki {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "coocenterd test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
        TestPki {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
            dir: tmp,
        }
    }
}

/// A running aiosmtpd; stopped (its stdin closed, then killed) when dropped.
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    pub fn start(extra: &[&str]) -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp/sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg("--dir")
            .arg(dir.path())
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
        SmtpSink { child, port, dir }
    }

    /// A server with TLS from `pki`: STARTTLS required, or TLS from the first byte with
    /// `implicit`; with `login`, that user and password required.
    pub fn tls(pki: &TestPki, implicit: bool, login: Option<(&str, &str)>) -> SmtpSink {
        let (cert, key) = (
            pki.cert.to_str().unwrap().to_string(),
            pki.key.to_str().unwrap().to_string(),
        );
        let mut args = vec!["--tls-cert", &cert, "--tls-key", &key];
        if implicit {
            args.push("--implicit-tls");
        }
        if let Some((user, password)) = login {
            args.extend(["--user", user, "--password", password]);
        }
        SmtpSink::start(&args)
    }

    /// The messages received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        let mut names: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        names
            .into_iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits (10 s at most) until `count` messages have arrived.
    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let messages = self.messages();
            if messages.len() >= count || Instant::now() > deadline {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Mail settings for the API pointing at 127.0.0.1:`port`.
pub fn settings(port: u16, security: &str) -> Value {
    json!({
        "enabled": false,
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "username": "",
        "sender": "呼叫中心 <cc@coocenter.test>",
        "recipients": ["ops@coocenter.test", "boss@coocenter.test"],
        "threshold": { "unit": "percent", "value": 10 },
    })
}
