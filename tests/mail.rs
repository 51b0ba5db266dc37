//! 邮件通知 (manual §9.2) end to end: the daemon sends through a real SMTP server on loopback
//! (aiosmtpd, `tests/smtp/sink.py`); the 测试 mail arrives with its subject and recipients; a
//! bad port or a refusal gives a clear error; refused settings change nothing and the
//! password never comes back; free space below the threshold mails once per crossing, also
//! across a restart. TLS and login are in `mail_tls.rs`.

mod common;
#[path = "smtp/sink.rs"]
mod sink;

use std::time::Duration;

use common::{TestDaemon, NEW_PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sink::{settings, SmtpSink};

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
