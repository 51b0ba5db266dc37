//! The authorization matrix: every route of the OpenAPI document, asked by no session, by
//! an administrator who has not yet changed the factory password, by an agent, by a team
//! leader and by the administrator. Each route's class (who may use it) is written here,
//! and a route missing from the table fails the test, so a new route must say who it is
//! for. "Allowed" means the guard let the request through (any answer but 401 and 403);
//! the requests carry ids that do not exist and empty bodies, so nothing is changed.

mod common;

use common::TestDaemon;
use reqwest::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// Who a route is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Logging in.
    Public,
    /// Any session, also one that must still change its password.
    AnySession,
    /// Every role, once the password is its own.
    Active,
    /// The administrator and team leaders (a business rule of the route).
    LeaderOrAdmin,
    /// Agents and team leaders: their own page.
    AgentOnly,
    Admin,
}

fn class_of(method: &str, path: &str) -> Option<Class> {
    use Class::*;
    Some(match (method, path) {
        ("POST", "/api/v1/session") => Public,
        ("GET" | "DELETE", "/api/v1/session") | ("POST", "/api/v1/account/password") => AnySession,
        (
            "GET",
            "/api/v1/recordings" | "/api/v1/recordings/zip" | "/api/v1/recordings/{id}/audio",
        ) => Active,
        ("DELETE", "/api/v1/recordings/{id}") | ("PUT", "/api/v1/recordings/{id}/note") => {
            LeaderOrAdmin
        }
        (_, "/api/v1/me" | "/api/v1/me/pause" | "/api/v1/me/unpause") => AgentOnly,
        (_, p) if p.starts_with("/api/v1/") => Admin,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Nobody,
    BeforeChange,
    Agent,
    Leader,
    Admin,
}

fn expected(class: Class, who: Who) -> Result<(), (StatusCode, &'static str)> {
    use Class::*;
    let unauthorized = Err((StatusCode::UNAUTHORIZED, "not_logged_in"));
    let change_first = Err((StatusCode::FORBIDDEN, "password_change_required"));
    let forbidden = Err((StatusCode::FORBIDDEN, "forbidden"));
    match (class, who) {
        (Public, _) => Ok(()),
        (_, Who::Nobody) => unauthorized,
        (AnySession, _) => Ok(()),
        (_, Who::BeforeChange) => change_first,
        (Active, _) => Ok(()),
        (LeaderOrAdmin, Who::Agent) => forbidden,
        (LeaderOrAdmin, _) => Ok(()),
        (AgentOnly, Who::Admin) => forbidden,
        (AgentOnly, _) => Ok(()),
        (Admin, Who::Admin) => Ok(()),
        (Admin, _) => forbidden,
    }
}

/// A path with its parameters filled by values that name nothing.
fn concrete(path: &str) -> String {
    path.replace("{id}", "999999")
        .replace("{agent_id}", "999999")
        .replace("{queue}", "999")
        .replace("{name}", "no-such-prompt")
        .replace("{kind}", "no-such-kind")
}

async fn login(daemon: &TestDaemon, username: &str, password: &str) -> String {
    let mut api = daemon.api();
    let answer = api.login(username, password).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "{username}: {:?}",
        answer.body
    );
    api.cookie.unwrap()
}

#[tokio::test]
async fn every_route_answers_each_role_as_its_class_says() {
    let daemon = TestDaemon::start().await;
    let db = daemon.db();
    for (id, name, job, leader, ext) in [
        (1, "组长甲", "8001", 1, "1001"),
        (2, "坐席乙", "8002", 0, "1002"),
    ] {
        common::insert_agent(&db, (id, name, job, leader, ext), &format!("Matrix-pw{id}"));
    }
    let document: Value = daemon
        .client()
        .get(daemon.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut routes: Vec<(String, String)> = Vec::new();
    for (path, operations) in document["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let method = method.to_uppercase();
            if ["GET", "POST", "PUT", "DELETE", "PATCH"].contains(&method.as_str()) {
                routes.push((method, path.clone()));
            }
        }
    }
    assert!(routes.len() >= 50, "{} routes", routes.len());
    // Logging out ends the session the other requests use: it goes last.
    routes.sort_by_key(|(method, path)| {
        (
            method == "DELETE" && path == "/api/v1/session",
            path.clone(),
        )
    });

    // The password change ends the account's other sessions, so the factory password's
    // column is asked first.
    let mut wrong = Vec::new();
    let before_change = login(&daemon, "admin", "admin").await;
    let first = [
        (Who::Nobody, None),
        (Who::BeforeChange, Some(before_change)),
    ];
    ask(&daemon, &routes, &first, &mut wrong).await;
    let admin = {
        let mut api = daemon.api();
        api.first_login().await;
        api.cookie.unwrap()
    };
    let then = [
        (Who::Agent, Some(login(&daemon, "8002", "Matrix-pw2").await)),
        (
            Who::Leader,
            Some(login(&daemon, "8001", "Matrix-pw1").await),
        ),
        (Who::Admin, Some(admin)),
    ];
    ask(&daemon, &routes, &then, &mut wrong).await;
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    daemon.stop().await;
}

/// Sends every route as each of `sessions`, noting each answer that is not the expected one.
async fn ask(
    daemon: &TestDaemon,
    routes: &[(String, String)],
    sessions: &[(Who, Option<String>)],
    wrong: &mut Vec<String>,
) {
    let client = daemon.client();
    for (method, path) in routes {
        let class = class_of(method, path)
            .unwrap_or_else(|| panic!("{method} {path}: add the route to the matrix"));
        for (who, cookie) in sessions {
            let mut request = client
                .request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    daemon.url(&concrete(path)),
                )
                .header(ACCEPT_LANGUAGE, "zh-CN");
            if let Some(cookie) = cookie {
                request = request.header(COOKIE, cookie);
            }
            if method != "GET" && method != "DELETE" {
                request = request.header(CONTENT_TYPE, "application/json").body("{}");
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            // Only refusals are read: a granted /events is an endless stream.
            let code = if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                let body: Value = response.json().await.unwrap_or(Value::Null);
                body["error"]["code"].as_str().unwrap_or("").to_string()
            } else {
                drop(response);
                String::new()
            };
            let got = if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                Err((status, code.as_str()))
            } else {
                Ok(())
            };
            let want = expected(class, *who);
            if got != want {
                wrong.push(format!(
                    "{method} {path} as {who:?}: got {got:?}, want {want:?}"
                ));
            }
        }
    }
}
