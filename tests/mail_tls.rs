//! 邮件通知 over TLS: STARTTLS with a login (and a wrong password refused with the server's
//! 535), STARTTLS refused when the server demands it and the settings say none, and TLS from
//! the first byte. The server's certificate is signed by a test CA that the daemon's TLS
//! client trusts through `SSL_CERT_FILE` (read by rustls-native-certs instead of the
//! system's store). The variable is set before the daemon starts, in this binary's only
//! test, so no other thread reads the environment meanwhile.

mod common;
#[path = "smtp/sink.rs"]
mod sink;

use common::TestDaemon;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sink::{settings, SmtpSink, TestPki};

async fn logged_in(daemon: &TestDaemon) -> common::Api {
    let mut api = daemon.api();
    api.first_login().await;
    api
}

#[tokio::test]
async fn starttls_with_login_and_implicit_tls() {
    let pki = TestPki::generate();
    std::env::set_var("SSL_CERT_FILE", &pki.ca);
    let sink = SmtpSink::tls(&pki, false, Some(("ops", "s3cret-pw")));
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

    let implicit = SmtpSink::tls(&pki, true, None);
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
