//! 客户留言 over HTTPS on real Asterisk spools (copied from `../shared/ami-traces` into a temp
//! folder): the table with search, sort and paging, playing with HTTP ranges, download, and
//! delete with the folder renumbered as Asterisk does; bad ids and ranges change nothing.

mod common;

use std::path::Path;
use std::time::Duration;

use common::TestDaemon;
use reqwest::{Method, StatusCode};

const SPOOLS: [&str; 2] = [
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/ami-traces/asterisk-22.10.1-queue-scenario/spool/voicemail"
    ),
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/ami-traces/wazo-calld/integration_tests/assets/asterisk-voicemail"
    ),
];

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

async fn daemon_with_spool() -> TestDaemon {
    let daemon = TestDaemon::start_with(|config| {
        for spool in SPOOLS {
            copy_tree(Path::new(spool), &config.paths.voicemail_dir);
        }
    })
    .await;
    daemon
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn voicemail_table_play_download_and_delete() {
    let daemon = daemon_with_spool().await;
    let mut api = daemon.api();
    assert_eq!(
        api.get("/api/v1/voicemail").await.status,
        StatusCode::UNAUTHORIZED
    );
    api.first_login().await;

    let all = api.get("/api/v1/voicemail?per_page=100").await.body;
    assert_eq!(all["total"], 8, "{all}");
    let rows = all["rows"].as_array().unwrap();
    // Newest first by default: the 22.10.1 capture's messages (Nov 2026) lead.
    assert_eq!(rows[0]["number"], "5550101");
    assert_eq!(rows[0]["name"], "Urgent Caller");
    assert_eq!(rows[0]["duration"], "0:04");

    // The manual's search: one box over every column as shown.
    let hits = api.get("/api/v1/voicemail?search=5550101").await.body;
    assert_eq!(hits["total"], 1);
    let sorted = api
        .get("/api/v1/voicemail?sort=number&dir=asc&per_page=100")
        .await
        .body;
    let numbers: Vec<&str> = sorted["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect();
    let mut expected = numbers.clone();
    expected.sort();
    assert_eq!(numbers, expected);
    let bad = api.get("/api/v1/voicemail?per_page=7").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "invalid_query");

    // Play with ranges, and download.
    let id = rows[0]["id"].as_str().unwrap().to_string();
    let client = &api.client;
    let cookie = api.cookie.clone().unwrap();
    let url = format!("{}/api/v1/voicemail/{id}/audio", api.base);
    let full = client
        .get(&url)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(full.headers()["content-type"], "audio/wav");
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    let len: u64 = full.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = full.bytes().await.unwrap();
    assert_eq!(body.len() as u64, len);
    assert_eq!(&body[..4], b"RIFF");
    let part = client
        .get(&url)
        .header("cookie", &cookie)
        .header("range", "bytes=4-11")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 4-11/{len}").as_str()
    );
    assert_eq!(part.bytes().await.unwrap(), body[4..12]);
    let past = client
        .get(&url)
        .header("cookie", &cookie)
        .header("range", format!("bytes={}-", len + 10))
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        past.headers()["content-range"],
        format!("bytes */{len}").as_str()
    );
    let download = client
        .get(format!("{url}?download=1"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));

    // Ids are looked up in the index, never used as paths.
    let spool = daemon.dir.path().join("voicemail");
    let before = names(&spool.join("default/8001/INBOX"));
    for bad in ["..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "msg0000"] {
        let answer = api
            .send(Method::DELETE, &format!("/api/v1/voicemail/{bad}"), None)
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(answer.code(), "voicemail_not_found");
    }
    assert_eq!(names(&spool.join("default/8001/INBOX")), before);

    // Delete the first of 8001's three messages: the other two are renumbered 0000, 0001.
    let mailbox = api
        .get("/api/v1/voicemail?search=8001&sort=date&dir=asc&per_page=100")
        .await
        .body;
    let first = mailbox["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mailbox"] == "8001@default")
        .unwrap();
    let first_id = first["id"].as_str().unwrap().to_string();
    let answer = api
        .send(
            Method::DELETE,
            &format!("/api/v1/voicemail/{first_id}"),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    let after = names(&spool.join("default/8001/INBOX"));
    assert_eq!(
        after.iter().filter(|n| n.ends_with(".txt")).count(),
        before.iter().filter(|n| n.ends_with(".txt")).count() - 1
    );
    assert!(
        after.contains(&"msg0000.txt".to_string()) && after.contains(&"msg0001.txt".to_string()),
        "{after:?}"
    );
    assert!(!after.contains(&"msg0002.txt".to_string()), "{after:?}");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        api.get("/api/v1/voicemail?per_page=100").await.body["total"],
        7
    );
    let again = api
        .send(
            Method::DELETE,
            &format!("/api/v1/voicemail/{first_id}"),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let audited: i64 = daemon
        .db()
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE action = 'voicemail.deleted'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(audited, 1);
    daemon.stop().await;
}
