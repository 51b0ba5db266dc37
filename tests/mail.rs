//! 邮件通知 (manual §9.2) end to end: the daemon sends through a real SMTP server on loopback
//! (aiosmtpd, `tests/smtp/sink.py`), plain, with STARTTLS and login, and with TLS from the
//! first byte; the 测试 mail arrives with its subject and recipients; a bad port or a refusal
//! gives a clear error; refused settings change nothing and the password never comes back;
//! free space below the threshold mails once per crossing, also across a restart.
//!
//! The server's certificate is signed by a test CA given to the daemon's TLS client through
//! `SSL_CERT_FILE` (read by rustls-native-certs instead of the system's store).

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{TestDaemon, NEW_PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A Python that has aiosmtpd (`python3` first, then Debian's own, which
/// `apt-get install python3-aiosmtpd` equips).
fn python() -> &'static str {
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

/// The test CA and a server certificate for 127.0.0.1, written once; `SSL_CERT_FILE`
/// points at the CA for the whole test binary.
struct TestPki {
    cert: PathBuf,
    key: PathBuf,
}

fn pki() -> &'static TestPki {
    static PKI: OnceLock<TestPki> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
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
        std::env::set_var("SSL_CERT_FILE", dir.join("ca.pem"));
        TestPki {
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        }
    })
}

/// A running aiosmtpd; stopped (its stdin closed, then killed) when dropped.
struct SmtpSink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    fn start(extra: &[&str]) -> SmtpSink {
        pki();
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

    fn tls(implicit: bool, login: Option<(&str, &str)>) -> SmtpSink {
        let pki = pki();
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
    fn messages(&self) -> Vec<Value> {
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
    async fn wait_for(&self, count: usize) -> Vec<Value> {
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

fn settings(port: u16, security: &str) -> Value {
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

async fn logged_in(daemon: &TestDaemon) -> common::Api {
    let mut api = daemon.api();
    api.first_login().await;
    api
}

#[tokio::test]
async fn the_test_mail_reaches_the_smtp_server() {
    let sink = SmtpSink::start(&[]);
    let daemon = TestDaemon::start().await;
    let mut api = logged_in(&daemon).await;

    let answer = api
        .send(
            Method::POST,
            "/api/v1/mail-settings/test",
            Some(settings(sink.port, "none")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    // The SMTP server's own answer comes back.
    assert_eq!(answer.body["code"], "250");
    let said = answer.body["message"].to_string();
    assert!(said.contains("queued as sink-0001"), "{said}");

    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert_eq!(mail["mail_from"], "cc@coocenter.test");
    assert_eq!(
        mail["rcpt_tos"],
        json!(["ops@coocenter.test", "boss@coocenter.test"])
    );
    assert_eq!(mail["subject"], "[CooCenter] 测试邮件 / Test mail");
    assert!(
        mail["from"].as_str().unwrap().contains("呼叫中心"),
        "{mail}"
    );
    let body = mail["body"].as_str().unwrap();
    assert!(
        body.contains("测试邮件") && body.contains("test mail"),
        "{body}"
    );
    assert!(body.find("测试邮件").unwrap() < body.find("test mail").unwrap());

    // Testing stores nothing, and it is in the audit trail.
    let stored = api.get("/api/v1/mail-settings").await.body;
    assert_eq!(stored["host"], "", "{stored}");
    let audit = api.get("/api/v1/audit?q=mail.test_sent").await.body;
    assert_eq!(audit["total"], 1, "{audit}");
    daemon.stop().await;
}

#[tokio::test]
async fn starttls_with_login_and_implicit_tls() {
    let sink = SmtpSink::tls(false, Some(("ops", "s3cret-pw")));
    let daemon = TestDaemon::start().await;
    let mut api = logged_in(&daemon).await;

    let mut with_login = settings(sink.port, "starttls");
    with_login["username"] = json!("ops");
    with_login["password"] = json!("s3cret-pw");
    let answer = api
        .send(
            Method::POST,
            "/api/v1/mail-settings/test",
            Some(with_login.clone()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(sink.wait_for(1).await.len(), 1);

    // A wrong password: the server's refusal, with its code, in the message.
    with_login["password"] = json!("wrong");
    let answer = api
        .send(Method::POST, "/api/v1/mail-settings/test", Some(with_login))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
    assert_eq!(answer.code(), "smtp_refused");
    assert!(answer.message().contains("535"), "{}", answer.message());

    // No STARTTLS where the server demands it: refused too, not silently sent in clear.
    let answer = api
        .send(
            Method::POST,
            "/api/v1/mail-settings/test",
            Some(settings(sink.port, "none")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
    assert_eq!(sink.messages().len(), 1);

    let implicit = SmtpSink::tls(true, None);
    let answer = api
        .send(
            Method::POST,
            "/api/v1/mail-settings/test",
            Some(settings(implicit.port, "tls")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(implicit.wait_for(1).await.len(), 1);
    daemon.stop().await;
}

#[tokio::test]
async fn a_bad_port_or_recipient_gives_a_clear_error() {
    let sink = SmtpSink::start(&[]);
    let daemon = TestDaemon::start().await;
    let mut api = logged_in(&daemon).await;

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let answer = api
        .send(
            Method::POST,
            "/api/v1/mail-settings/test",
            Some(settings(closed_port, "none")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
    assert_eq!(answer.code(), "smtp_unreachable");
    assert!(
        answer
            .message()
            .contains(&format!("无法连接邮件服务器 127.0.0.1:{closed_port}")),
        "{}",
        answer.message()
    );

    // TLS spoken to a plain server.
    let answer = api
        .send(
            Method::POST,
            "/api/v1/mail-settings/test",
            Some(settings(sink.port, "tls")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
    assert!(answer.code().starts_with("smtp_"), "{}", answer.body);

    // A recipient the server does not know: its 550 and words, in English on request.
    api.lang = "en";
    let mut unknown = settings(sink.port, "none");
    unknown["recipients"] = json!(["reject-me@coocenter.test"]);
    let answer = api
        .send(Method::POST, "/api/v1/mail-settings/test", Some(unknown))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
    assert_eq!(answer.code(), "smtp_refused");
    assert!(
        answer.message().contains("550") && answer.message().contains("User unknown"),
        "{}",
        answer.message()
    );
    assert!(sink.messages().is_empty());

    // An incomplete form is refused before any connection, naming the field.
    let mut no_recipient = settings(sink.port, "none");
    no_recipient["recipients"] = json!([]);
    let answer = api
        .send(
            Method::POST,
            "/api/v1/mail-settings/test",
            Some(no_recipient),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.body["error"]["field"], "recipients");
    daemon.stop().await;
}

#[tokio::test]
async fn refused_settings_change_nothing_and_the_password_stays_secret() {
    let daemon = TestDaemon::start().await;
    let mut api = logged_in(&daemon).await;

    let mut good = settings(2525, "starttls");
    good["enabled"] = json!(true);
    good["username"] = json!("ops");
    good["password"] = json!("Very-Secret-123");
    let answer = api
        .send(Method::PUT, "/api/v1/mail-settings", Some(good.clone()))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["password_set"], true);
    assert!(answer.body.get("password").is_none());
    let saved = api.get("/api/v1/mail-settings").await.body;
    assert!(!saved.to_string().contains("Very-Secret-123"));
    let stored_before: String = daemon
        .db()
        .query_row("SELECT value FROM settings WHERE key = 'mail'", [], |r| {
            r.get(0)
        })
        .unwrap();

    let refusals: Vec<(&str, Value, &str)> = vec![
        ("host", json!(""), "host"),
        ("host", json!("smtp server"), "host"),
        ("port", json!(0), "port"),
        ("sender", json!("nobody"), "sender"),
        ("recipients", json!([]), "recipients"),
        (
            "recipients",
            json!(["ops@coocenter.test", "bad@"]),
            "recipients",
        ),
        (
            "threshold",
            json!({"unit": "percent", "value": 0}),
            "threshold",
        ),
        ("threshold", json!({"unit": "mb", "value": 0}), "threshold"),
        ("username", json!(""), "username"),
    ];
    for (key, value, field) in refusals {
        let mut bad = good.clone();
        bad[key] = value.clone();
        let answer = api
            .send(Method::PUT, "/api/v1/mail-settings", Some(bad))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{key}={value}");
        assert_eq!(answer.body["error"]["field"], field, "{key}={value}");
        assert!(!answer.message().is_empty());
        assert_eq!(api.get("/api/v1/mail-settings").await.body, saved);
    }
    // Malformed JSON and an unknown security mode are refused too.
    let mut bad = good.clone();
    bad["security"] = json!("ssl3");
    let answer = api
        .send(Method::PUT, "/api/v1/mail-settings", Some(bad))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let stored_after: String = daemon
        .db()
        .query_row("SELECT value FROM settings WHERE key = 'mail'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored_after, stored_before, "refusals stored nothing");

    // Leaving the password out keeps it; the audit trail never has it.
    let mut keep = good.clone();
    keep.as_object_mut().unwrap().remove("password");
    keep["host"] = json!("smtp2.coocenter.test");
    let answer = api
        .send(Method::PUT, "/api/v1/mail-settings", Some(keep))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["password_set"], true);
    let audit = api.get("/api/v1/audit?q=mail_settings").await.body;
    assert_eq!(audit["total"], 2, "{audit}");
    assert!(!audit.to_string().contains("Very-Secret-123"), "{audit}");
    assert!(audit.to_string().contains("password changed"), "{audit}");
    daemon.stop().await;
}

/// Mails whose subject names the system disk's mount point `/`.
fn system_disk_mails(sink: &SmtpSink) -> Vec<String> {
    sink.messages()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .filter(|s| s.ends_with(": /"))
        .collect()
}

#[tokio::test]
async fn low_free_space_mails_once_per_crossing_across_restarts() {
    let sink = SmtpSink::start(&[]);
    let daemon = TestDaemon::start().await;
    let mut api = logged_in(&daemon).await;

    // A threshold above the free space the system disk has now: it is "low".
    let mut low = settings(sink.port, "none");
    low["enabled"] = json!(true);
    low["threshold"] = json!({"unit": "percent", "value": 99});
    let answer = api
        .send(Method::PUT, "/api/v1/mail-settings", Some(low.clone()))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    sink.wait_for(1).await;
    let mails = system_disk_mails(&sink);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("磁盘空间不足"), "{mails:?}");
    let body = sink.messages()[0]["body"].as_str().unwrap().to_string();
    assert!(body.contains("99 %"), "{body}");

    // Saving again checks again: still low, no second mail.
    api.send(Method::PUT, "/api/v1/mail-settings", Some(low))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(system_disk_mails(&sink).len(), 1);

    // A restart checks at once, and remembers the mail went out.
    let dir = daemon.stop().await;
    let daemon = TestDaemon::start_in(dir, |_| {}).await;
    let mut api = daemon.api();
    assert_eq!(
        api.login("admin", NEW_PASSWORD).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(system_disk_mails(&sink).len(), 1);

    // Back above the threshold (1 %, with its margin): one recovery mail.
    let mut fine = settings(sink.port, "none");
    fine["enabled"] = json!(true);
    fine["threshold"] = json!({"unit": "percent", "value": 1});
    let answer = api
        .send(Method::PUT, "/api/v1/mail-settings", Some(fine))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    sink.wait_for(2).await;
    let mails = system_disk_mails(&sink);
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(mails[1].contains("磁盘空间已恢复"), "{mails:?}");
    daemon.stop().await;
}
