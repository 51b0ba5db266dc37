//! 录音列表 over HTTPS against real files: recordings written into the folders (flash and a
//! "USB disk") are indexed by the reconcile at start, searched with every filter, played with
//! ranges, downloaded alone and as a ZIP, annotated and deleted; the team leader's and the
//! agent's scopes follow the manual case by case; files added, removed and a USB disk
//! unplugged while the daemon was stopped are noticed at the next start; and bad ids, paths
//! and ranges change nothing.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Api, TestDaemon};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A recording named as our dialplan names them (`<type>-<day>-<time>-<queue>-<job>-<number>-<uniqueid>`),
/// in its date folder.
fn recording(root: &Path, stem: &str) -> PathBuf {
    let day = stem.split('-').nth(1).unwrap();
    let path = root
        .join(&day[..4])
        .join(&day[4..6])
        .join(&day[6..])
        .join(format!("{stem}.wav"));
    common::write_wav(&path, 1000);
    path
}

fn roots(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("monitor"), dir.join("usb0/recordings"))
}

/// The team of the scoping rules: 8001 leads 222 (a member of it) and used to be in 333;
/// 8002 is in 222; 8003 left 222; 8004 is in 333 only.
fn add_agents(db: &rusqlite::Connection) {
    for (id, name, job, leader, ext) in [
        (1, "组长甲", "8001", 1, "1001"),
        (2, "坐席乙", "8002", 0, "1002"),
        (3, "坐席丙", "8003", 0, "1003"),
        (4, "坐席丁", "8004", 0, "1004"),
    ] {
        common::insert_agent(db, (id, name, job, leader, ext), &format!("pw-{ext}"));
    }
    for (queue, agent) in [("222", 1), ("222", 2), ("333", 4)] {
        db.execute(
            "INSERT INTO queue_members (queue, agent_id, added_at) VALUES (?1, ?2, 0)",
            rusqlite::params![queue, agent],
        )
        .unwrap();
    }
}

/// The files of the scoping cases, on flash, and two on the USB disk.
fn write_cases(dir: &Path) {
    let (flash, usb) = roots(dir);
    recording(&flash, "in-20261101-090000-222-8002-13800000001-1.1");
    recording(&flash, "in-20261102-090000-222-8003-13800000002-1.2");
    recording(&flash, "out-20261103-090000-dout-8003-13800000003-1.3");
    recording(&flash, "out-20261104-090000-dout-8002-13800000004-1.4");
    recording(&flash, "in-20261105-090000-333-8001-13800000005-1.5");
    recording(&flash, "in-20261106-090000-333-8004-13800000006-1.6");
    recording(&usb, "in-20261107-090000-222-8002-13900000007-1.7");
    recording(&usb, "auto-20261108-090000-222-x-13900000008-1.8");
}

async fn start(dir: tempfile::TempDir) -> TestDaemon {
    TestDaemon::start_in(dir, |config| {
        let (flash, usb) = roots(config.storage.data_dir.parent().unwrap());
        config.paths.recordings_dirs = vec![flash, usb];
    })
    .await
}

async fn admin(daemon: &TestDaemon) -> Api {
    let mut api = daemon.api();
    api.first_login().await;
    api
}

/// Waits until the start-up reconcile has indexed `n` recordings.
async fn wait_indexed(api: &mut Api, n: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = api.get("/api/v1/recordings?per_page=100").await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        if page.body["total"] == n {
            return page.body;
        }
        assert!(
            Instant::now() < deadline,
            "never indexed {n}: {:?}",
            page.body["total"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn numbers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["customer_number"].as_str().unwrap().to_string())
        .collect()
}

fn id_of(page: &Value, number: &str) -> i64 {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["customer_number"] == number)
        .unwrap_or_else(|| panic!("{number} not in {page}"))["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn search_filters_newest_first_with_paging() {
    let dir = tempfile::tempdir().unwrap();
    write_cases(dir.path());
    let daemon = start(dir).await;
    add_agents(&daemon.db());
    let mut api = admin(&daemon).await;
    let all = wait_indexed(&mut api, 8).await;
    assert_eq!(
        numbers(&all),
        [
            "13900000008",
            "13900000007",
            "13800000006",
            "13800000005",
            "13800000004",
            "13800000003",
            "13800000002",
            "13800000001"
        ],
        "newest first"
    );
    let first = &all["items"][7];
    assert_eq!(first["queue"], "222");
    assert_eq!(first["agent_job_number"], "8002");
    assert_eq!(first["agent_name"], "坐席乙", "named from the agents table");
    assert_eq!(first["call_type"], "inbound");
    assert_eq!(first["duration_seconds"], 1);
    assert_eq!(first["available"], true);
    assert!(first["started_at"]
        .as_str()
        .unwrap()
        .starts_with("2026-11-01T09:00:00"));

    let cases: [(&str, &[&str]); 9] = [
        (
            "customer=0000000",
            &[
                "13900000008",
                "13900000007",
                "13800000006",
                "13800000005",
                "13800000004",
                "13800000003",
                "13800000002",
                "13800000001",
            ],
        ),
        ("customer=9000000", &["13900000008", "13900000007"]),
        (
            "customer=13800000002&customer_match=exact",
            &["13800000002"],
        ),
        ("customer=1380000000&customer_match=exact", &[]),
        ("number=13800000005", &["13800000005"]),
        ("queue=333", &["13800000006", "13800000005"]),
        ("agent=8003", &["13800000003", "13800000002"]),
        (
            "from=2026-11-03&to=2026-11-04",
            &["13800000004", "13800000003"],
        ),
        ("call_type=manual_outbound", &["13800000004", "13800000003"]),
    ];
    for (query, expected) in cases {
        let page = api.get(&format!("/api/v1/recordings?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}: {:?}", page.body);
        assert_eq!(numbers(&page.body), expected, "{query}");
        assert_eq!(page.body["total"], expected.len(), "{query}");
    }
    let auto = api
        .get("/api/v1/recordings?call_type=auto_outbound&queue=222")
        .await;
    assert_eq!(numbers(&auto.body), ["13900000008"]);

    let page2 = api
        .get("/api/v1/recordings?per_page=10&page=1&agent=8002")
        .await;
    assert_eq!(page2.body["total"], 3);
    let page = api.get("/api/v1/recordings?per_page=10&page=2").await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 0);
    assert_eq!(page.body["total"], 8);

    for (query, field) in [
        ("per_page=7", "per_page"),
        ("page=0", "page"),
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-11-05&to=2026-11-01", "to"),
        ("call_type=fax", "call_type"),
        ("customer=13", "customer"),
    ] {
        let answer = api.get(&format!("/api/v1/recordings?{query}")).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            answer.body["error"]["field"], field,
            "{query}: {:?}",
            answer.body
        );
    }
    let english = {
        let mut en = daemon.api();
        en.cookie = api.cookie.clone();
        en.lang = "en";
        en.get("/api/v1/recordings?call_type=fax").await
    };
    assert_eq!(english.message(), "Unknown call type: fax");
    daemon.stop().await;
}

#[tokio::test]
async fn play_download_zip_note_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    write_cases(dir.path());
    let daemon = start(dir).await;
    add_agents(&daemon.db());
    let mut api = admin(&daemon).await;
    let all = wait_indexed(&mut api, 8).await;
    let id = id_of(&all, "13800000001");
    let (flash, _) = roots(daemon.dir.path());
    let file = flash.join("2026/11/01/in-20261101-090000-222-8002-13800000001-1.1.wav");
    let bytes = std::fs::read(&file).unwrap();

    // 播放: ranges, the right type, seeking.
    let cookie = api.cookie.clone().unwrap();
    let client = daemon.client();
    let part = client
        .get(daemon.url(&format!("/api/v1/recordings/{id}/audio")))
        .header("cookie", &cookie)
        .header("range", "bytes=44-99")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-type"], "audio/wav");
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 44-99/{}", bytes.len())
    );
    assert_eq!(part.bytes().await.unwrap(), &bytes[44..100]);
    let past = client
        .get(daemon.url(&format!("/api/v1/recordings/{id}/audio")))
        .header("cookie", &cookie)
        .header("range", format!("bytes={}-", bytes.len() + 10))
        .send()
        .await
        .unwrap();
    assert_eq!(past.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // 下载: the whole file, as an attachment, audited.
    let download = client
        .get(daemon.url(&format!("/api/v1/recordings/{id}/audio?download=1")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"20261101-090000_13800000001_222_8002.wav\""));
    assert_eq!(download.bytes().await.unwrap(), bytes);

    // A ZIP of two, streamed; 21 refused.
    let other = id_of(&all, "13900000007");
    let zip = client
        .get(daemon.url(&format!("/api/v1/recordings/zip?ids={id},{other}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), StatusCode::OK);
    assert_eq!(zip.headers()["content-type"], "application/zip");
    let body = zip.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body.to_vec())).unwrap();
    assert_eq!(archive.len(), 2);
    let mut first = Vec::new();
    archive
        .by_index(0)
        .unwrap()
        .read_to_end(&mut first)
        .unwrap();
    assert_eq!(first, bytes);
    assert_eq!(
        archive.by_index(1).unwrap().name().unwrap(),
        "20261107-090000_13900000007_222_8002.wav"
    );
    let ids: Vec<String> = (1..=21).map(|n| n.to_string()).collect();
    let refused = api
        .get(&format!("/api/v1/recordings/zip?ids={}", ids.join(",")))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.code(), "too_many_recordings");
    assert!(refused.message().contains("20"), "{}", refused.message());
    let refused = api.get("/api/v1/recordings/zip?ids=").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let refused = api.get("/api/v1/recordings/zip?ids=1,x").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let refused = api.get("/api/v1/recordings/zip?ids=99999").await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    // 批注 by the admin; too long refused and nothing changed.
    let noted = api
        .send(
            Method::PUT,
            &format!("/api/v1/recordings/{id}/note"),
            Some(json!({"note": " 开场白很好 "})),
        )
        .await;
    assert_eq!(noted.status, StatusCode::OK, "{:?}", noted.body);
    assert_eq!(noted.body["note"], "开场白很好");
    assert_eq!(noted.body["note_by"], "admin");
    let long = "好".repeat(501);
    let refused = api
        .send(
            Method::PUT,
            &format!("/api/v1/recordings/{id}/note"),
            Some(json!({"note": long})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let again = api.get("/api/v1/recordings?number=13800000001").await;
    assert_eq!(again.body["items"][0]["note"], "开场白很好");

    // 删除: file and row together.
    let deleted = api
        .send(Method::DELETE, &format!("/api/v1/recordings/{id}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body["file_was_missing"], false);
    assert!(!file.exists());
    assert_eq!(api.get("/api/v1/recordings").await.body["total"], 7);
    let gone = api
        .send(Method::DELETE, &format!("/api/v1/recordings/{id}"), None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    // A file deleted behind our back: playing it says so and cleans the list.
    let vanished = id_of(&all, "13800000002");
    std::fs::remove_file(flash.join("2026/11/02/in-20261102-090000-222-8003-13800000002-1.2.wav"))
        .unwrap();
    let missing = api
        .get(&format!("/api/v1/recordings/{vanished}/audio"))
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "recording_file_missing");
    assert_eq!(api.get("/api/v1/recordings").await.body["total"], 6);
    // …and deleting one whose file vanished cleans the row and says so.
    let vanished = id_of(&all, "13800000003");
    std::fs::remove_file(
        flash.join("2026/11/03/out-20261103-090000-dout-8003-13800000003-1.3.wav"),
    )
    .unwrap();
    let deleted = api
        .send(
            Method::DELETE,
            &format!("/api/v1/recordings/{vanished}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK);
    assert_eq!(deleted.body["file_was_missing"], true);

    // The audit trail has the downloads, the note and the deletions.
    let trail = api.get("/api/v1/audit?per_page=100").await;
    let actions: Vec<&str> = trail.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "recording.downloaded",
        "recording.zip_downloaded",
        "recording.noted",
        "recording.deleted",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
    daemon.stop().await;
}

#[tokio::test]
async fn bad_ids_and_paths_touch_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_cases(dir.path());
    // A symlink out of the folder and a file outside it: neither is ever served.
    let (flash, _) = roots(dir.path());
    let flash = flash.canonicalize().unwrap();
    let secret = dir.path().join("secret.wav");
    common::write_wav(&secret, 100);
    std::os::unix::fs::symlink(&secret, flash.join("1777190960.0.wav")).unwrap();
    let daemon = start(dir).await;
    let mut api = admin(&daemon).await;
    wait_indexed(&mut api, 8).await;
    for path in [
        "/api/v1/recordings/..%2F..%2Fsecret.wav/audio",
        "/api/v1/recordings/%2Fetc%2Fpasswd/audio",
        "/api/v1/recordings/-1/audio",
        "/api/v1/recordings/1.5/audio",
        "/api/v1/recordings/99999/audio",
    ] {
        let answer = api.get(path).await;
        assert!(
            answer.status == StatusCode::NOT_FOUND || answer.status == StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.status
        );
    }
    let deleted = api
        .send(Method::DELETE, "/api/v1/recordings/..%2Fsecret.wav", None)
        .await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);
    assert!(secret.exists());
    // A row pointing through a symlink (planted behind our back) is refused, file untouched.
    let db = daemon.db();
    db.execute(
        "UPDATE recordings SET dir = ?1, file = '1777190960.0.wav' WHERE uniqueid = '1.1'",
        [flash.to_string_lossy()],
    )
    .unwrap();
    let id: i64 = db
        .query_row(
            "SELECT id FROM recordings WHERE uniqueid = '1.1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        api.get(&format!("/api/v1/recordings/{id}/audio"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let deleted = api
        .send(Method::DELETE, &format!("/api/v1/recordings/{id}"), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NOT_FOUND);
    assert!(secret.exists());
    assert_eq!(api.get("/api/v1/recordings").await.body["total"], 8);
    daemon.stop().await;
}

#[tokio::test]
async fn changes_while_stopped_are_found_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    write_cases(dir.path());
    let daemon = start(dir).await;
    let mut api = admin(&daemon).await;
    wait_indexed(&mut api, 8).await;
    let dir = daemon.stop().await;

    // While stopped: one recording written, one deleted, and the USB disk unplugged.
    let (flash, usb) = roots(dir.path());
    recording(&flash, "in-20261109-100000-444-8004-13700000009-1.9");
    std::fs::remove_file(flash.join("2026/11/06/in-20261106-090000-333-8004-13800000006-1.6.wav"))
        .unwrap();
    let parked = dir.path().join("parked-usb");
    std::fs::rename(usb.parent().unwrap(), &parked).unwrap();

    let daemon = start(dir).await;
    let mut api = daemon.api();
    api.login("admin", common::NEW_PASSWORD).await;
    let page = wait_indexed(&mut api, 8).await;
    let listed = numbers(&page);
    assert!(
        listed.contains(&"13700000009".to_string()),
        "new file found"
    );
    assert!(
        !listed.contains(&"13800000006".to_string()),
        "deleted file gone"
    );
    let on_usb: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["customer_number"].as_str().unwrap().starts_with("139"))
        .collect();
    assert_eq!(
        on_usb.len(),
        2,
        "the USB disk's recordings are still listed"
    );
    assert!(on_usb.iter().all(|i| i["available"] == false));
    let id = on_usb[0]["id"].as_i64().unwrap();
    let refused = api.get(&format!("/api/v1/recordings/{id}/audio")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "recording_unavailable");
    let refused = api
        .send(Method::DELETE, &format!("/api/v1/recordings/{id}"), None)
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(api.get("/api/v1/recordings").await.body["total"], 8);
    let dir = daemon.stop().await;

    // Plugged back in: available again.
    let (_, usb) = roots(dir.path());
    std::fs::rename(&parked, usb.parent().unwrap()).unwrap();
    let daemon = start(dir).await;
    let mut api = daemon.api();
    api.login("admin", common::NEW_PASSWORD).await;
    let page = wait_indexed(&mut api, 8).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut page = page;
    while page["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["available"] == false)
    {
        assert!(Instant::now() < deadline, "USB recordings never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
        page = api.get("/api/v1/recordings?per_page=100").await.body;
    }
    let played = api.get(&format!("/api/v1/recordings/{id}/audio")).await;
    assert_eq!(played.status, StatusCode::OK);
    daemon.stop().await;
}

#[tokio::test]
async fn leaders_and_agents_see_what_the_manual_says() {
    let dir = tempfile::tempdir().unwrap();
    write_cases(dir.path());
    let daemon = start(dir).await;
    add_agents(&daemon.db());
    let mut admin = admin(&daemon).await;
    let all = wait_indexed(&mut admin, 8).await;

    // The leader (8001, leads 222): every recording of 222 (whoever made it), their own in
    // 333 (no longer theirs), and the DOUT of agents now in 222 — not 8003's DOUT (left),
    // not 8004's in 333.
    let mut leader = daemon.api();
    assert_eq!(leader.login("8001", "pw-1001").await.status, StatusCode::OK);
    let page = leader.get("/api/v1/recordings").await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    assert_eq!(
        numbers(&page.body),
        [
            "13900000008",
            "13900000007",
            "13800000005",
            "13800000004",
            "13800000002",
            "13800000001"
        ]
    );
    assert_eq!(
        page.body["queues"],
        json!([{"key": "222", "name": "222", "removed": false}, {"key": "333", "name": "333", "removed": true}])
    );
    assert_eq!(
        page.body["agents"],
        json!([
            {"key": "8001", "name": "组长甲", "removed": false},
            {"key": "8002", "name": "坐席乙", "removed": false},
            {"key": "8003", "name": "坐席丙", "removed": true}
        ])
    );
    assert_eq!(page.body["can_delete"], true);
    // 【删除】 queue: only their own; 【删除】 agent: only queue recordings.
    let queue333 = leader.get("/api/v1/recordings?queue=333").await;
    assert_eq!(numbers(&queue333.body), ["13800000005"]);
    let agent8003 = leader.get("/api/v1/recordings?agent=8003").await;
    assert_eq!(numbers(&agent8003.body), ["13800000002"]);
    // Outside the scope does not exist for them.
    let foreign = id_of(&all, "13800000006");
    assert_eq!(
        leader
            .get(&format!("/api/v1/recordings/{foreign}/audio"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        leader
            .send(
                Method::DELETE,
                &format!("/api/v1/recordings/{foreign}"),
                None
            )
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // The leader annotates an agent's recording…
    let own_of_8002 = id_of(&all, "13800000004");
    let noted = leader
        .send(
            Method::PUT,
            &format!("/api/v1/recordings/{own_of_8002}/note"),
            Some(json!({"note": "请注意礼貌用语"})),
        )
        .await;
    assert_eq!(noted.status, StatusCode::OK, "{:?}", noted.body);

    // …which the agent sees on their page, with their own recordings only.
    let mut agent = daemon.api();
    assert_eq!(agent.login("8002", "pw-1002").await.status, StatusCode::OK);
    let mine = agent.get("/api/v1/recordings").await;
    assert_eq!(
        numbers(&mine.body),
        ["13900000007", "13800000004", "13800000001"]
    );
    let noted_row = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == own_of_8002)
        .unwrap();
    assert_eq!(noted_row["note"], "请注意礼貌用语");
    assert_eq!(noted_row["note_by"], "8001");
    assert_eq!(mine.body["can_delete"], false);
    assert_eq!(mine.body["can_annotate"], false);
    assert_eq!(
        agent
            .get(&format!("/api/v1/recordings/{own_of_8002}/audio"))
            .await
            .status,
        StatusCode::OK
    );
    // Agents neither annotate nor delete.
    let refused = agent
        .send(
            Method::PUT,
            &format!("/api/v1/recordings/{own_of_8002}/note"),
            Some(json!({"note": "x"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = agent
        .send(
            Method::DELETE,
            &format!("/api/v1/recordings/{own_of_8002}"),
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.get("/api/v1/recordings").await.body["total"], 8);

    // 隐藏电话号码: the agent sees masked numbers, the leader and the admin full ones.
    daemon
        .db()
        .execute(
            "INSERT INTO settings (key, value, updated_at) VALUES ('call_flow', '{\"hide_numbers\": true}', 0)",
            [],
        )
        .unwrap();
    assert_eq!(
        numbers(&agent.get("/api/v1/recordings").await.body),
        ["139****0007", "138****0004", "138****0001"]
    );
    assert_eq!(
        numbers(&leader.get("/api/v1/recordings?agent=8002").await.body)[0],
        "13900000007"
    );
    assert_eq!(
        numbers(&admin.get("/api/v1/recordings?agent=8002").await.body)[0],
        "13900000007"
    );
    // …and in every other place a number reaches them: the download's name, the ZIP's entry
    // names, and the search, where the hidden digits match nothing.
    let masked_id = id_of(&all, "13900000007");
    let download = agent
        .get(&format!("/api/v1/recordings/{masked_id}/audio?download=1"))
        .await;
    let disposition = download.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.contains("_139xxxx0007_222_8002.wav") && !disposition.contains("13900000007"),
        "{disposition}"
    );
    let zip = agent
        .client
        .get(daemon.url(&format!(
            "/api/v1/recordings/zip?ids={masked_id},{own_of_8002}"
        )))
        .header("cookie", agent.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), StatusCode::OK);
    let body = zip.bytes().await.unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body.to_vec())).unwrap();
    let entry_names: Vec<String> = (0..archive.len())
        .map(|i| archive.by_index(i).unwrap().name().unwrap().to_string())
        .collect();
    assert!(
        entry_names.iter().all(|n| n.contains("xxxx")) && entry_names.len() == 2,
        "{entry_names:?}"
    );
    for hidden in [
        "customer=0000",
        "customer=13900000007&customer_match=exact",
        "number=13900000007",
    ] {
        let found = agent.get(&format!("/api/v1/recordings?{hidden}")).await;
        assert_eq!(found.status, StatusCode::OK, "{hidden}");
        assert_eq!(found.body["total"], 0, "{hidden} finds the hidden digits");
    }
    let shown = agent.get("/api/v1/recordings?customer=0007").await;
    assert_eq!(numbers(&shown.body), ["139****0007"]);
    // The leader searching the same digits still finds them.
    assert_eq!(
        leader
            .get("/api/v1/recordings?agent=8002&customer=13900000007&customer_match=exact")
            .await
            .body["total"],
        1
    );
    daemon.stop().await;
}

#[tokio::test]
async fn a_recorded_queue_call_is_indexed_from_ami_with_its_agent_and_length() {
    use coocenterd::simulator::{MemberConfig, QueueConfig, SimConfig, Simulator, Strategy};
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let mut queue = QueueConfig::new("222")
        .strategy(Strategy::RingAll)
        .member(MemberConfig::new("PJSIP/1002", "坐席乙"));
    queue.record = Some("wav".into());
    let sim = Simulator::start(SimConfig {
        username: common::pbx::AMI_USER.into(),
        secret: "rec-secret".into(),
        queues: vec![queue],
        spool_dir: spool.to_string_lossy().into(),
        write_recordings: true,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let port = sim.addr().port();
    let monitor = spool.join("monitor");
    let daemon = TestDaemon::start_in(dir, move |config| {
        config.ami.port = coocenterd::config::Bounded(u64::from(port));
        config.ami.username = common::pbx::AMI_USER.into();
        config.ami.secret = "rec-secret".into();
        config.paths.recordings_dirs = vec![monitor];
    })
    .await;
    add_agents(&daemon.db());
    let mut api = admin(&daemon).await;
    common::pbx::wait_connected(&mut api).await;

    let call = sim.place_call("222", "13800138000", "李先生").unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    sim.answer(call, "PJSIP/1002").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let row = loop {
        let page = api.get("/api/v1/recordings").await.body;
        if let Some(row) = page["items"].as_array().unwrap().first() {
            if row["agent_job_number"] == "8002" {
                break row.clone();
            }
        }
        assert!(Instant::now() < deadline, "never indexed: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(row["customer_number"], "13800138000");
    assert_eq!(row["customer_name"], "李先生");
    assert_eq!(row["queue"], "222");
    assert_eq!(row["agent_name"], "坐席乙");
    assert_eq!(row["call_type"], "inbound");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sim.hangup_caller(call).unwrap();
    // After the call the file's real size and length are read.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = api.get("/api/v1/recordings").await.body;
        let row = &page["items"][0];
        if row["size_bytes"].as_i64().unwrap_or(0) > 44 {
            assert!(row["duration_seconds"].as_i64().unwrap() >= 1, "{row}");
            break;
        }
        assert!(Instant::now() < deadline, "size never read: {row}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let id = row["id"].as_i64().unwrap();
    assert_eq!(
        api.get(&format!("/api/v1/recordings/{id}/audio"))
            .await
            .status,
        StatusCode::OK
    );
    daemon.stop().await;
    sim.shutdown();
}
