//! The admin account over real HTTPS: the factory password works only to set a new one,
//! sessions, logout, the password policy, lockout, and the operation log and audit records.

mod common;

use common::{TestDaemon, NEW_PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn stored_admin_hash(daemon: &TestDaemon) -> String {
    daemon
        .db()
        .query_row(
            "SELECT password_hash FROM accounts WHERE username='admin'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test]
async fn factory_password_only_opens_the_password_change() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();

    let answer = api.login("admin", "admin").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!({"must_change_password": true, "role": "admin"})
    );
    let cookie = answer.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.starts_with("coocenter_session="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }

    // Everything but the password change and the session itself is closed.
    let answer = api.get("/api/v1/about").await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.code(), "password_change_required");
    assert_eq!(answer.message(), "请先修改默认密码，然后才能使用控制台。");
    let answer = api.get("/api/v1/account/settings").await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = api.get("/api/v1/session").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["must_change_password"], true);
    // The recordings too (issue 10: list, audio, ZIP, note and delete answered 200).
    for (method, path, body) in [
        (Method::GET, "/api/v1/recordings", None),
        (Method::GET, "/api/v1/recordings/1/audio", None),
        (Method::GET, "/api/v1/recordings/zip?ids=1", None),
        (
            Method::PUT,
            "/api/v1/recordings/1/note",
            Some(json!({"note": "x"})),
        ),
        (Method::DELETE, "/api/v1/recordings/1", None),
    ] {
        let answer = api.send(method, path, body).await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::FORBIDDEN, "password_change_required"),
            "{path}"
        );
    }

    let answer = api.change_password("admin", NEW_PASSWORD).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = api.get("/api/v1/about").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["product"], "CooCenter");
    assert_eq!(answer.body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        answer.body["tls_fingerprint_sha256"],
        daemon.fingerprint.as_str()
    );

    // The factory password is gone for good; the new one logs in without a forced change.
    let mut other = daemon.api();
    assert_eq!(
        other.login("admin", "admin").await.status,
        StatusCode::UNAUTHORIZED
    );
    let answer = other.login("admin", NEW_PASSWORD).await;
    assert_eq!(
        answer.body,
        json!({"must_change_password": false, "role": "admin"})
    );
    daemon.stop().await;
}

#[tokio::test]
async fn failed_logins_do_not_reveal_which_part_was_wrong() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    let wrong_password = api.login("admin", "nope").await;
    let unknown_user = api.login("nobody", "nope").await;
    for answer in [&wrong_password, &unknown_user] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.code(), "invalid_credentials");
        assert_eq!(answer.message(), "用户名或密码错误。");
        assert!(answer.headers.get("set-cookie").is_none());
    }
    api.lang = "en-US,en;q=0.9";
    let answer = api.login("admin", "nope").await;
    assert_eq!(answer.message(), "Wrong user name or password.");
    assert_eq!(answer.headers["content-language"], "en");

    let answer = api.login("", "").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "missing_credentials");
    daemon.stop().await;
}

#[tokio::test]
async fn repeated_failures_lock_the_address_out() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    for _ in 0..3 {
        assert_eq!(
            api.login("admin", "guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Locked now: even the right password is refused, with how long to wait.
    let answer = api.login("admin", "admin").await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.code(), "locked_out");
    let retry_after: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert!(
        answer.message().starts_with("登录失败次数过多，请在 "),
        "{}",
        answer.message()
    );
    assert!(api.cookie.is_none());
    // The lockout is in the audit trail, with the address.
    let (action, address): (String, String) = daemon
        .db()
        .query_row("SELECT action, address FROM audit", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(action, "login.lockout");
    assert_eq!(address, "127.0.0.1");
    daemon.stop().await;
}

#[tokio::test]
async fn weak_reused_or_unauthenticated_password_changes_change_nothing() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    let before = stored_admin_hash(&daemon);

    // No session at all.
    let answer = api.change_password("admin", NEW_PASSWORD).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "not_logged_in");

    api.login("admin", "admin").await;
    let cases = [
        (
            "wrong-old",
            NEW_PASSWORD,
            "wrong_old_password",
            "当前密码不正确。",
        ),
        (
            "admin",
            "admin",
            "weak_password",
            "新密码至少需要 8 个字符。",
        ),
        (
            "admin",
            "short1!",
            "weak_password",
            "新密码至少需要 8 个字符。",
        ),
        // The findings: a common password dressed up, or the user name inside.
        (
            "admin",
            "P@ssw0rd",
            "weak_password",
            "新密码过于常见（常用密码加数字、符号或字母替换也算），容易被猜到，请换一个。",
        ),
        (
            "admin",
            "Passw0rd!",
            "weak_password",
            "新密码过于常见（常用密码加数字、符号或字母替换也算），容易被猜到，请换一个。",
        ),
        (
            "admin",
            "admin12345",
            "weak_password",
            "新密码不能包含用户名（工号或分机号）。",
        ),
        (
            "admin",
            "Admin-admin",
            "weak_password",
            "新密码不能包含用户名（工号或分机号）。",
        ),
        (
            "admin",
            "onlyletters",
            "weak_password",
            "新密码需包含字母、数字、符号中的至少两类。",
        ),
    ];
    for (old, new, code, message) in cases {
        let answer = api.change_password(old, new).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{new}");
        assert_eq!(answer.code(), code, "{new}");
        assert_eq!(answer.message(), message, "{new}");
        assert_eq!(stored_admin_hash(&daemon), before, "{new} changed the hash");
    }
    let answer = api
        .send(
            Method::POST,
            "/api/v1/account/password",
            Some(json!({"old_password": "admin"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "invalid_fields");

    // Still forced to change, and the factory password still works for that.
    assert_eq!(api.get("/api/v1/about").await.status, StatusCode::FORBIDDEN);
    api.change_password("admin", NEW_PASSWORD).await;
    // Reusing the current or a recent password is refused.
    for reused in [NEW_PASSWORD, "admin"] {
        let answer = api.change_password(NEW_PASSWORD, reused).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.code(), "weak_password");
    }
    let answer = api.change_password(NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(answer.message(), "新密码不能与当前或最近使用过的密码相同。");
    daemon.stop().await;
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    api.first_login().await;
    let stolen = api.cookie.clone();
    let answer = api.send(Method::DELETE, "/api/v1/session", None).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(api.cookie.is_none(), "the cookie is cleared");
    // The old token no longer works, even if someone kept it.
    api.cookie = stolen;
    let answer = api.get("/api/v1/session").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.code(), "not_logged_in");
    daemon.stop().await;
}

#[tokio::test]
async fn password_change_logs_out_the_other_sessions() {
    let daemon = TestDaemon::start().await;
    let mut first = daemon.api();
    first.first_login().await;
    let mut second = daemon.api();
    second.login("admin", NEW_PASSWORD).await;
    assert_eq!(second.get("/api/v1/about").await.status, StatusCode::OK);
    let answer = first.change_password(NEW_PASSWORD, "Another-pass-99").await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert_eq!(first.get("/api/v1/about").await.status, StatusCode::OK);
    assert_eq!(
        second.get("/api/v1/about").await.status,
        StatusCode::UNAUTHORIZED
    );
    daemon.stop().await;
}

#[tokio::test]
async fn admin_logins_and_logouts_are_in_the_operation_log() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    api.first_login().await;
    api.send(Method::DELETE, "/api/v1/session", None).await;
    api.login("admin", "wrong").await;
    let rows: Vec<(String, String, String, String, String)> = {
        let db = daemon.db();
        let mut stmt = db
            .prepare("SELECT agent_name, job_number, extension, event_type, detail FROM oplog ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows
    };
    let admin = "管理员".to_string();
    assert_eq!(
        rows,
        vec![
            (
                admin.clone(),
                admin.clone(),
                admin.clone(),
                "login".into(),
                "127.0.0.1".into()
            ),
            (
                admin.clone(),
                admin.clone(),
                admin.clone(),
                "logout".into(),
                "127.0.0.1".into()
            ),
        ],
        "a failed login is not an operation"
    );
    let actions: Vec<String> = {
        let db = daemon.db();
        let mut stmt = db.prepare("SELECT action FROM audit ORDER BY id").unwrap();
        let rows = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows
    };
    assert_eq!(actions, vec!["account.password_changed"]);
    daemon.stop().await;
}

#[tokio::test]
async fn account_settings_round_trip_and_are_audited() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    api.first_login().await;
    assert_eq!(
        api.get("/api/v1/account/settings").await.body,
        json!({"platform_enabled": false})
    );
    let answer = api
        .send(
            Method::PUT,
            "/api/v1/account/settings",
            Some(json!({"platform_enabled": true})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, json!({"platform_enabled": true}));
    // A bad body is refused and changes nothing.
    for bad in [
        json!({"platform_enabled": "yes"}),
        json!({"platform": true}),
        json!({}),
    ] {
        let answer = api
            .send(Method::PUT, "/api/v1/account/settings", Some(bad.clone()))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(answer.code(), "invalid_fields");
        assert!(
            answer.message().starts_with("请求字段有误"),
            "{}",
            answer.message()
        );
    }
    assert_eq!(
        api.get("/api/v1/account/settings").await.body,
        json!({"platform_enabled": true})
    );
    let (before, after): (String, String) = daemon
        .db()
        .query_row(
            "SELECT before, after FROM audit WHERE action='account.settings_changed'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((before.as_str(), after.as_str()), ("false", "true"));
    daemon.stop().await;
}

#[tokio::test]
async fn secrets_never_reach_the_database_in_clear() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    api.first_login().await;
    let hash = stored_admin_hash(&daemon);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let dump: String = daemon
        .db()
        .query_row(
            "SELECT group_concat(coalesce(before,'') || coalesce(after,'') || target) FROM audit",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!dump.contains(NEW_PASSWORD));
    daemon.stop().await;
}

/// Issue 10: 60 concurrent logins from one address, 59 wrong and one right, all answered 401
/// then 200 and never 429: the throttle was checked before the queued hash and failures
/// counted after it. Attempts now count when they arrive.
#[tokio::test]
async fn concurrent_guesses_from_one_address_are_throttled_as_they_arrive() {
    let daemon = TestDaemon::start().await;
    let mut attempts = vec![];
    for n in 0..60 {
        let mut api = daemon.api();
        let password = if n == 30 { "admin" } else { "guess" };
        attempts.push(tokio::spawn(async move {
            api.login("admin", password).await.status
        }));
    }
    let mut statuses = std::collections::BTreeMap::new();
    for attempt in attempts {
        *statuses.entry(attempt.await.unwrap().as_u16()).or_insert(0) += 1;
    }
    eprintln!("60 concurrent attempts: {statuses:?}");
    let wrong_checked = statuses.get(&401).copied().unwrap_or(0);
    // The test policy's threshold is 3: no more guesses than that are ever checked.
    assert!(wrong_checked <= 3, "{statuses:?}");
    assert!(
        statuses.get(&429).copied().unwrap_or(0) >= 56,
        "{statuses:?}"
    );
    daemon.stop().await;
}
