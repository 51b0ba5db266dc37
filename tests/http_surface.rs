//! The HTTP surface as a client sees it: TLS identity, embedded assets and their caching,
//! security headers, the JSON error answers for every kind of bad request, cross-site
//! refusal, the plain-HTTP redirect, and the OpenAPI document covering every route.

mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

use common::{TestDaemon, NEW_PASSWORD};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_TYPE, IF_NONE_MATCH, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn generated_identity_is_private_and_reused_across_restarts() {
    let daemon = TestDaemon::start().await;
    let first = daemon.fingerprint.clone();
    assert_eq!(first.len(), 32 * 3 - 1);
    let key = daemon.data_dir().join("tls/key.pem");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir = daemon.stop().await;
    let daemon = TestDaemon::start_in(dir, |_| {}).await;
    assert_eq!(
        daemon.fingerprint, first,
        "the certificate is reused, not regenerated"
    );
    // The client verifies the certificate for `localhost`: a SAN of the generated cert.
    assert_eq!(
        daemon
            .client()
            .get(daemon.url("/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    daemon.stop().await;
}

#[tokio::test]
async fn generated_certificate_names_the_factory_addresses() {
    let daemon = TestDaemon::start().await;
    let pem = std::fs::read(daemon.data_dir().join("tls/cert.pem")).unwrap();
    let der = rustls_pemfile::certs(&mut &pem[..])
        .next()
        .unwrap()
        .unwrap();
    // The SAN extension holds the IPs as raw octets (tag 0x87, length 4).
    for ip in [[192u8, 168, 1, 100], [192, 168, 10, 100], [127, 0, 0, 1]] {
        let needle = [&[0x87u8, 4][..], &ip[..]].concat();
        assert!(
            der.windows(6).any(|w| w == needle.as_slice()),
            "SAN {ip:?} missing"
        );
    }
    assert!(der.windows(9).any(|w| w == b"localhost"));
    daemon.stop().await;
}

#[tokio::test]
async fn owner_supplied_certificate_paths_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path());
    config.http.tls_cert = Some(dir.path().join("missing-cert.pem"));
    config.http.tls_key = Some(dir.path().join("missing-key.pem"));
    let err = coocenterd::start(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(err.contains("missing-cert.pem"), "{err}");
    assert!(
        !dir.path().join("missing-key.pem").exists(),
        "nothing generated in their place"
    );
}

#[tokio::test]
async fn index_and_assets_are_served_compressed_with_validators() {
    let daemon = TestDaemon::start().await;
    let client = daemon.client();
    let index = client
        .get(daemon.url("/"))
        .header(ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(index.status(), 200);
    let headers = index.headers().clone();
    assert_eq!(headers[CONTENT_TYPE], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self';") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert!(
        headers.get("strict-transport-security").is_none(),
        "no HSTS with a self-signed cert"
    );
    let etag = headers["etag"].to_str().unwrap().to_string();

    // Revalidation answers 304 without a body.
    let again = client
        .get(daemon.url("/index.html"))
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());

    // The page references its content-hashed bundle, served immutable and precompressed.
    let html = client
        .get(daemon.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let script = html
        .split('"')
        .find(|part| part.starts_with("/assets/") && part.ends_with(".js"))
        .expect("index.html references a hashed script under /assets/")
        .to_string();
    let raw = client.get(daemon.url(&script)).send().await.unwrap();
    assert_eq!(
        raw.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(raw.headers().get("content-encoding").is_none());
    let raw_len = raw.bytes().await.unwrap().len();
    let br = client
        .get(daemon.url(&script))
        .header(ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["vary"], "Accept-Encoding");
    assert!(br.bytes().await.unwrap().len() < raw_len);

    let missing = client.get(daemon.url("/nope.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    daemon.stop().await;
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    let daemon =
        TestDaemon::start_with(|c| c.http.max_body_bytes = coocenterd::config::Bounded(2048)).await;
    let client = daemon.client();
    let url = daemon.url("/api/v1/session");

    let malformed = client
        .post(&url)
        .header(CONTENT_TYPE, "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = malformed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "malformed_json");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("请求内容不是有效的 JSON"));

    let not_json = client
        .post(&url)
        .body("username=admin")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: serde_json::Value = not_json.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unsupported_media_type");

    let huge = json!({"username": "admin", "password": "x".repeat(4096)});
    let too_large = client.post(&url).json(&huge).send().await.unwrap();
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = too_large.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");

    let mut api = daemon.api();
    let unknown = api.get("/api/v1/no-such-thing").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.code(), "no_such_route");
    assert_eq!(unknown.headers[CONTENT_TYPE], "application/json");
    assert_eq!(api.get("/api").await.status, StatusCode::NOT_FOUND);

    let wrong_method = api.send(Method::PATCH, "/api/v1/session", None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.code(), "method_not_allowed");

    let no_session = api.get("/api/v1/about").await;
    assert_eq!(no_session.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_session.message(), "未登录或登录已过期，请重新登录。");
    assert_eq!(no_session.headers["cache-control"], "no-store");

    api.cookie = Some("coocenter_session=forged-token".into());
    assert_eq!(
        api.get("/api/v1/session").await.status,
        StatusCode::UNAUTHORIZED
    );

    // None of it logged anyone in or wrote anything.
    let oplog: i64 = daemon
        .db()
        .query_row("SELECT COUNT(*) FROM oplog", [], |r| r.get(0))
        .unwrap();
    assert_eq!(oplog, 0);
    daemon.stop().await;
}

#[tokio::test]
async fn bad_query_strings_get_json_errors_in_every_search() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    api.first_login().await;
    for path in [
        "/api/v1/oplog?page=-1",
        "/api/v1/audit?per_page=x",
        "/api/v1/recordings?page=-1",
        "/api/v1/voicemail?page=abc",
        // A NUL in a search: refused before it reaches SQLite's full-text index.
        "/api/v1/recordings?customer=%00138",
        "/api/v1/oplog?q=a%00b",
        "/api/v1/audit?q=%00",
        "/api/v1/voicemail?q=%01",
    ] {
        let answer = api.get(path).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {:?}",
            answer.body
        );
        assert_eq!(answer.headers[CONTENT_TYPE], "application/json", "{path}");
        assert_eq!(answer.code(), "invalid_query", "{path}");
        assert!(
            answer.message().starts_with("查询参数"),
            "{path}: {}",
            answer.message()
        );
    }
    api.lang = "en";
    let answer = api.get("/api/v1/oplog?q=%00").await;
    assert!(
        answer
            .message()
            .starts_with("The query parameter q contains a control character"),
        "{}",
        answer.message()
    );
    daemon.stop().await;
}

#[tokio::test]
async fn cross_site_state_changes_are_refused_and_change_nothing() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    api.first_login().await;
    let cookie = api.cookie.clone().unwrap();
    let client = daemon.client();
    let attempts = [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
    ];
    for (header, value) in attempts {
        let answer = client
            .put(daemon.url("/api/v1/account/settings"))
            .header("cookie", &cookie)
            .header(header, value)
            .json(&json!({"platform_enabled": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{header}: {value}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "cross_site_request");
        assert_eq!(body["error"]["message"], "拒绝来自其他网站的请求。");
    }
    // A logout forged from another site does not end the session either.
    let answer = client
        .delete(daemon.url("/api/v1/session"))
        .header("cookie", &cookie)
        .header(ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        api.get("/api/v1/account/settings").await.body,
        json!({"platform_enabled": false})
    );
    // The same request from the console's own origin passes.
    let own_origin = format!("https://localhost:{}", daemon.addr.port());
    let answer = client
        .put(daemon.url("/api/v1/account/settings"))
        .header("cookie", &cookie)
        .header(ORIGIN, own_origin)
        .json(&json!({"platform_enabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    daemon.stop().await;
}

#[tokio::test]
async fn plain_http_is_redirected_to_https() {
    let daemon = TestDaemon::start().await;
    let mut stream = tokio::net::TcpStream::connect(daemon.addr).await.unwrap();
    let host = format!("127.0.0.1:{}", daemon.addr.port());
    stream
        .write_all(format!("GET /index.html HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 301 "), "{answer}");
    assert!(
        answer.contains(&format!("Location: https://{host}/index.html\r\n")),
        "{answer}"
    );
    daemon.stop().await;
}

#[tokio::test]
async fn http2_is_offered() {
    let daemon = TestDaemon::start().await;
    let response = daemon.client().get(daemon.url("/")).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    daemon.stop().await;
}

/// Over HTTP/2 a refused upload still gets its answer: the refusal was a stream reset.
#[tokio::test]
async fn http2_uploads_over_the_limit_get_413_and_refused_uploads_their_answer() {
    let daemon =
        TestDaemon::start_with(|c| c.http.max_body_bytes = coocenterd::config::Bounded(4096)).await;
    let client = daemon.client();
    let huge = json!({"username": "admin", "password": "x".repeat(3_000_000)});
    let too_large = client
        .post(daemon.url("/api/v1/session"))
        .json(&huge)
        .send()
        .await
        .expect("an answer, not a stream reset");
    assert_eq!(too_large.version(), reqwest::Version::HTTP_2);
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = too_large.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    // curl, like a client that stops at the reset, got no answer at all before the fix.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.json");
    std::fs::write(&file, huge.to_string()).unwrap();
    let curl = tokio::process::Command::new("curl")
        .args([
            "-sk",
            "--http2",
            "-o",
            "-",
            "-w",
            "\n%{http_code} %{http_version}",
        ])
        .args(["-H", "content-type: application/json", "--data-binary"])
        .arg(format!("@{}", file.display()))
        .arg(daemon.url("/api/v1/session"))
        .output()
        .await
        .expect("curl is installed by scripts/test");
    let out = String::from_utf8_lossy(&curl.stdout);
    assert!(curl.status.success(), "curl: {:?} {out}", curl.status);
    assert!(
        out.ends_with("413 2") && out.contains("payload_too_large"),
        "{out}"
    );
    // An upload without a session is refused before its body is read.
    let unauthenticated = client
        .post(daemon.url("/api/v1/prompts"))
        .header(CONTENT_TYPE, "multipart/form-data; boundary=x")
        .body(vec![b'a'; 2_000_000])
        .send()
        .await
        .expect("an answer, not a stream reset");
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    // The connection is still good for the next request.
    let next = client.get(daemon.url("/")).send().await.unwrap();
    assert_eq!(next.status(), StatusCode::OK);
    daemon.stop().await;
}

/// Every route in the OpenAPI document answers (none is the 404/405 fallback), and the routes
/// other programs script against are all in it.
#[tokio::test]
async fn openapi_documents_every_route() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    let document = api.get("/api/v1/openapi.json").await;
    assert_eq!(document.status, StatusCode::OK);
    assert!(document.body["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = BTreeSet::new();
    for (path, item) in document.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let fixed = [
        ("POST", "/api/v1/session"),
        ("GET", "/api/v1/session"),
        ("DELETE", "/api/v1/session"),
        ("POST", "/api/v1/account/password"),
        ("GET", "/api/v1/account/settings"),
        ("PUT", "/api/v1/account/settings"),
        ("GET", "/api/v1/about"),
        ("GET", "/api/v1/dashboard"),
        ("GET", "/api/v1/system"),
        ("GET", "/api/v1/events"),
        ("POST", "/api/v1/console/command"),
        ("GET", "/api/v1/agents"),
        ("POST", "/api/v1/agents"),
        ("PUT", "/api/v1/agents/{id}"),
        ("DELETE", "/api/v1/agents/{id}"),
        ("GET", "/api/v1/pbx/extensions"),
        ("GET", "/api/v1/queues"),
        ("PUT", "/api/v1/queues/{queue}"),
        ("POST", "/api/v1/queues/{queue}/members"),
        ("DELETE", "/api/v1/queues/{queue}/members/{agent_id}"),
        ("GET", "/api/v1/oplog"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/firmware"),
        ("POST", "/api/v1/firmware/bundle"),
        ("POST", "/api/v1/firmware/install"),
        ("GET", "/api/v1/manuals/pbx"),
        ("GET", "/api/v1/voicemail"),
        ("GET", "/api/v1/voicemail/{id}/audio"),
        ("DELETE", "/api/v1/voicemail/{id}"),
        ("GET", "/api/v1/recordings"),
        ("GET", "/api/v1/recordings/zip"),
        ("GET", "/api/v1/recordings/{id}/audio"),
        ("DELETE", "/api/v1/recordings/{id}"),
        ("PUT", "/api/v1/recordings/{id}/note"),
        // CRM
        ("GET", "/api/v1/custom-fields"),
        ("POST", "/api/v1/custom-fields"),
        ("PUT", "/api/v1/custom-fields/{id}"),
        ("DELETE", "/api/v1/custom-fields/{id}"),
        ("GET", "/api/v1/data-deletion"),
        ("DELETE", "/api/v1/data-deletion/{kind}"),
        ("GET", "/api/v1/mail-settings"),
        ("PUT", "/api/v1/mail-settings"),
        ("POST", "/api/v1/mail-settings/test"),
        ("GET", "/api/v1/settings/call-flow"),
        ("PUT", "/api/v1/settings/call-flow"),
        ("GET", "/api/v1/reports/survey"),
        ("GET", "/api/v1/prompts"),
        ("POST", "/api/v1/prompts"),
        ("GET", "/api/v1/prompts/{name}/audio"),
        ("DELETE", "/api/v1/prompts/{name}"),
        ("POST", "/api/v1/tts"),
    ];
    for (method, path) in fixed {
        assert!(
            documented.contains(&(method.to_string(), path.to_string())),
            "{method} {path}"
        );
    }
    api.first_login().await;
    for (method, path) in &documented {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        if path == "/api/v1/events" {
            // An endless stream: check it opens, then hang up.
            let response = api
                .client
                .get(format!("{}{}", api.base, path))
                .header("cookie", api.cookie.clone().unwrap())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");
            continue;
        }
        let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
        let concrete = path
            .replace("{id}", "1")
            .replace("{agent_id}", "1")
            .replace("{queue}", "222");
        let answer = api.send(method.clone(), &concrete, body).await;
        assert!(
            !matches!(answer.code(), "no_such_route" | "method_not_allowed"),
            "{method} {path} is documented but not routed"
        );
        if method == Method::DELETE {
            api.login("admin", NEW_PASSWORD).await;
        }
    }
    daemon.stop().await;
}

/// The dashboard's system part, read from this machine's kernel.
#[tokio::test]
async fn system_part_reads_the_kernel() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    assert_eq!(
        api.get("/api/v1/system").await.status,
        StatusCode::UNAUTHORIZED
    );
    api.first_login().await;
    let system = api.get("/api/v1/system").await.body;
    let total = system["memory"]["total_bytes"].as_u64().unwrap();
    let free = system["memory"]["free_bytes"].as_u64().unwrap();
    assert!(total > free && free > 0, "{system}");
    assert_eq!(system["disk"]["mount"], "/");
    assert!(
        system["disk"]["total_bytes"].as_u64().unwrap()
            > system["disk"]["free_bytes"].as_u64().unwrap()
    );
    assert!(
        system["system_uptime_seconds"].as_u64().unwrap()
            >= system["console_uptime_seconds"].as_u64().unwrap()
    );
    assert_eq!(system["version"], env!("CARGO_PKG_VERSION"));
    assert!(system["usb"].is_array());
    daemon.stop().await;
}

/// PBX手册: the PBX's manual when installed, otherwise a clear 404 the page explains.
#[tokio::test]
async fn pbx_manual_is_served_when_installed() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    api.first_login().await;
    let missing = api.get("/api/v1/manuals/pbx").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "pbx_manual_missing");
    assert!(missing.message().contains("9999"));
    std::fs::write(
        daemon.dir.path().join("pbx-manual.pdf"),
        b"%PDF-1.4 test manual",
    )
    .unwrap();
    let shown = api.get("/api/v1/manuals/pbx").await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.headers[CONTENT_TYPE], "application/pdf");
    assert!(shown.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    let download = api.get("/api/v1/manuals/pbx?download=1").await;
    assert!(download.headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    daemon.stop().await;
}

/// Issue 10: 600 TLS connections that finished the handshake and sent nothing held 512
/// places for minutes and kept the admin out. Such a connection is closed now, and one
/// address cannot hold more than its share.
#[tokio::test]
async fn idle_connections_are_closed_and_one_address_cannot_take_every_place() {
    let daemon = TestDaemon::start().await;
    // Handshake, then silence: the server closes it (the headers are due within 10 s).
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(daemon.tls_config()));
    let tcp = tokio::net::TcpStream::connect(daemon.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut silent = connector.connect(name, tcp).await.unwrap();
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(std::time::Duration::from_secs(30), silent.read(&mut byte))
        .await
        .expect("the server closes a silent connection");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");

    // One address holds its share; its next connection is closed at once, and another
    // address still gets the console.
    let limit = coocenterd::http::server::per_address_limit(512);
    let mut held = vec![];
    for _ in 0..limit {
        held.push(tokio::net::TcpStream::connect(daemon.addr).await.unwrap());
    }
    let mut extra = tokio::net::TcpStream::connect(daemon.addr).await.unwrap();
    let refused = tokio::time::timeout(std::time::Duration::from_secs(5), extra.read(&mut byte))
        .await
        .expect("the connection over the share is closed at once");
    assert!(matches!(refused, Ok(0) | Err(_)), "{refused:?}");
    let other = daemon.client_from("127.0.0.2".parse().unwrap());
    let answer = other
        .post(daemon.url("/api/v1/session"))
        .json(&json!({"username": "admin", "password": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    drop(held);
    daemon.stop().await;
}
