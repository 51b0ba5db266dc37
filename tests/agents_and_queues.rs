//! Agents, queues, agent sign-in and the operation log, applied to the (simulated) Asterisk
//! over AMI: what reached Asterisk, what the generated include holds, the reconcile after an
//! Asterisk restart, and every refusal leaving the database and Asterisk unchanged.

mod common;

use std::time::{Duration, Instant};

use common::pbx::{received, wait_connected, AMI_USER};
use common::{Api, TestDaemon};
use coocenterd::simulator::{MemberConfig, QueueConfig, SimConfig, SimHandle, Strategy};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const AMI_SECRET: &str = "agents-test-secret";

/// The simulated PBX and its configuration folder (queues.conf as the PBX UI writes it).
async fn simulator() -> (SimHandle, tempfile::TempDir) {
    common::pbx::simulator_with_asterisk_dir(SimConfig {
        username: AMI_USER.into(),
        secret: AMI_SECRET.into(),
        queues: vec![
            QueueConfig::new("222")
                .strategy(Strategy::RingAll)
                .member(MemberConfig::new("PJSIP/1001", "张伟")),
            QueueConfig::new("333").strategy(Strategy::RrMemory),
        ],
        endpoints: vec!["1002".into(), "1003".into()],
        ..SimConfig::default()
    })
    .await
}

async fn admin(daemon: &TestDaemon) -> Api {
    let mut api = daemon.api();
    api.first_login().await;
    wait_connected(&mut api).await;
    api
}

fn agent_body(name: &str, job: &str, ext: &str) -> Value {
    json!({"name": name, "job_number": job, "leader": false, "extension": ext, "password": "ext-pass-1", "extension_type": "sip"})
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn queue_row<'a>(dashboard: &'a Value, queue: &str) -> &'a Value {
    dashboard["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == queue)
        .unwrap_or_else(|| panic!("queue {queue} in {dashboard}"))
}

fn count(daemon: &TestDaemon, sql: &str) -> i64 {
    daemon.db().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn agents_are_created_on_pbx_extensions_and_every_refusal_changes_nothing() {
    let (sim, asterisk_dir) = simulator().await;
    let daemon = common::pbx::daemon_with_asterisk_dir(&sim, AMI_SECRET, asterisk_dir.path()).await;
    let mut api = admin(&daemon).await;

    let extensions = api.get("/api/v1/pbx/extensions").await.body;
    let offered: Vec<&str> = extensions
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extension"].as_str().unwrap())
        .collect();
    assert_eq!(offered, ["1001", "1002", "1003"]);
    assert_eq!(extensions[0]["interface"], "PJSIP/1001");

    let created = api
        .send(
            Method::POST,
            "/api/v1/agents",
            Some(agent_body("王芳", "8002", "1002")),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["job_number"], "8002");
    assert!(
        created.body.get("password").is_none(),
        "the password is never in a listing"
    );

    let refusals = [
        (
            json!({"name": " ", "job_number": "8009", "extension": "1003", "password": "p", "extension_type": "sip"}),
            StatusCode::BAD_REQUEST,
            "name",
            "name_required",
            "请填写坐席名。",
        ),
        (
            agent_body("李娜", "", "1003"),
            StatusCode::BAD_REQUEST,
            "job_number",
            "job_number_required",
            "请填写工号。",
        ),
        (
            agent_body("李娜", "80 03", "1003"),
            StatusCode::BAD_REQUEST,
            "job_number",
            "job_number_invalid",
            "工号只能包含字母、数字、“-”和“_”，最多 16 个字符。",
        ),
        (
            agent_body("李娜", "admin", "1003"),
            StatusCode::BAD_REQUEST,
            "job_number",
            "job_number_reserved",
            "“admin”是管理员账号，不能用作工号。",
        ),
        (
            agent_body("李娜", "8002", "1003"),
            StatusCode::CONFLICT,
            "job_number",
            "job_number_taken",
            "工号 8002 已被坐席“王芳”使用。",
        ),
        (
            agent_body("李娜", "8003", "1002"),
            StatusCode::CONFLICT,
            "extension",
            "extension_taken",
            "分机 1002 已被坐席“王芳”使用。",
        ),
        (
            agent_body("李娜", "8003", "1099"),
            StatusCode::BAD_REQUEST,
            "extension",
            "extension_unknown",
            "PBX 中没有分机 1099，请先在 PBX 设置中创建。",
        ),
        (
            json!({"name": "李娜", "job_number": "8003", "extension": "1003", "extension_type": "sip"}),
            StatusCode::BAD_REQUEST,
            "password",
            "password_required",
            "请填写分机密码。",
        ),
        // The extension's password is the agent's console password: the admin's policy.
        (
            json!({"name": "李娜", "job_number": "8003", "extension": "1003", "password": "12", "extension_type": "sip"}),
            StatusCode::BAD_REQUEST,
            "password",
            "weak_password",
            "新密码至少需要 8 个字符。",
        ),
        (
            json!({"name": "李娜", "job_number": "8003", "extension": "1003", "password": "demo1003", "extension_type": "sip"}),
            StatusCode::BAD_REQUEST,
            "password",
            "weak_password",
            "新密码不能包含用户名（工号或分机号）。",
        ),
        (
            json!({"name": "李娜", "job_number": "8003", "extension": "1003", "password": "P@ssw0rd", "extension_type": "sip"}),
            StatusCode::BAD_REQUEST,
            "password",
            "weak_password",
            "新密码过于常见（常用密码加数字、符号或字母替换也算），容易被猜到，请换一个。",
        ),
        (
            json!({"name": "李娜", "job_number": "8003", "extension": "1003", "password": "p", "extension_type": "fax"}),
            StatusCode::BAD_REQUEST,
            "extension_type",
            "extension_type_invalid",
            "分机类型只能是 web 分机、sip 分机或模拟分机。",
        ),
        (
            json!({"name": "李娜", "job_number": "8003", "extension": "1003", "password": "ext-pass-1", "extension_type": "analog"}),
            StatusCode::BAD_REQUEST,
            "extension_type",
            "extension_type_mismatch",
            "该分机不是模拟分机，请选择 web 分机或 sip 分机。",
        ),
    ];
    let actions_before = sim.received_actions().len();
    for (body, status, field, code, message) in refusals {
        let answer = api.send(Method::POST, "/api/v1/agents", Some(body)).await;
        assert_eq!(answer.status, status, "{code}");
        assert_eq!(answer.code(), code);
        assert_eq!(answer.body["error"]["field"], field, "{code}");
        assert_eq!(answer.message(), message);
    }
    assert_eq!(
        count(&daemon, "SELECT COUNT(*) FROM agents"),
        1,
        "no refused agent was saved"
    );
    let changing: Vec<String> = sim.received_actions()[actions_before..]
        .iter()
        .filter_map(|a| a.get("Action").map(str::to_string))
        .filter(|a| a.starts_with("Queue"))
        .collect();
    assert!(
        changing.is_empty(),
        "refusals reached Asterisk: {changing:?}"
    );

    // English, for the English UI.
    api.lang = "en";
    let answer = api
        .send(
            Method::POST,
            "/api/v1/agents",
            Some(agent_body("李娜", "8002", "1003")),
        )
        .await;
    assert_eq!(
        answer.message(),
        "Job number 8002 is already used by agent “王芳”."
    );
    api.lang = "zh-CN";

    // Edit keeps the password when none is given; reveal is audited.
    let id = created.body["id"].as_i64().unwrap();
    let mut edit = agent_body("王芳芳", "8002", "1002");
    edit.as_object_mut().unwrap().remove("password");
    let answer = api
        .send(Method::PUT, &format!("/api/v1/agents/{id}"), Some(edit))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["name"], "王芳芳");
    let revealed = api.get(&format!("/api/v1/agents/{id}/password")).await;
    assert_eq!(revealed.body["password"], "ext-pass-1");
    let actions: Vec<String> = {
        let db = daemon.db();
        let mut stmt = db.prepare("SELECT action || ' ' || coalesce(before, '') || ' ' || coalesce(after, '') FROM audit WHERE action LIKE 'agent.%' ORDER BY id").unwrap();
        let rows = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows
    };
    assert_eq!(actions.len(), 3);
    assert!(actions[0].starts_with("agent.created"));
    assert!(actions[1].starts_with("agent.updated") && actions[1].contains("王芳芳"));
    assert!(actions[2].starts_with("agent.password_revealed"));
    assert!(
        actions.iter().all(|a| !a.contains("ext-pass-1")),
        "the password is never audited"
    );

    let missing = api.send(Method::DELETE, "/api/v1/agents/999", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    daemon.stop().await;
    sim.shutdown();
}

#[tokio::test]
async fn membership_and_strategy_reach_asterisk_and_survive_its_restart() {
    let (sim, asterisk_dir) = simulator().await;
    let daemon = common::pbx::daemon_with_asterisk_dir(&sim, AMI_SECRET, asterisk_dir.path()).await;
    let mut api = admin(&daemon).await;
    let agent = api
        .send(
            Method::POST,
            "/api/v1/agents",
            Some(agent_body("王芳", "8002", "1002")),
        )
        .await
        .body;
    let id = agent["id"].as_i64().unwrap();

    let answer = api
        .send(
            Method::POST,
            "/api/v1/queues/222/members",
            Some(json!({"agent_id": id})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["members"][0]["name"], "王芳");
    assert_eq!(
        received(&sim, "QueueAdd"),
        vec![pairs(&[
            ("Queue", "222"),
            ("Interface", "PJSIP/1002"),
            ("MemberName", "王芳"),
            ("StateInterface", "PJSIP/1002"),
            ("Penalty", "0"),
            ("Paused", "false")
        ])]
    );
    let again = api
        .send(
            Method::POST,
            "/api/v1/queues/222/members",
            Some(json!({"agent_id": id})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_member");
    let unknown = api
        .send(
            Method::POST,
            "/api/v1/queues/999/members",
            Some(json!({"agent_id": id})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.message(), "队列 999 不存在。");
    assert_eq!(
        received(&sim, "QueueAdd").len(),
        1,
        "refusals reach nothing"
    );

    // Display name and strategy.
    let answer = api
        .send(
            Method::PUT,
            "/api/v1/queues/222",
            Some(json!({"name": "售后", "strategy": "rrmemory"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        (
            answer.body["name"].as_str(),
            answer.body["strategy"].as_str(),
            answer.body["pending"].as_bool()
        ),
        (Some("售后"), Some("rrmemory"), Some(false))
    );
    let include =
        std::fs::read_to_string(asterisk_dir.path().join("queues_coocenter.conf")).unwrap();
    let lines: Vec<&str> = include
        .lines()
        .filter(|l| !l.starts_with(';') && !l.is_empty())
        .collect();
    assert_eq!(lines, ["[222](+)", "strategy=rrmemory"]);
    // Asterisk 22 rings with the first `strategy` of a queue's section: the console took the
    // PBX UI's own line over, so the one it asked for is the one Asterisk rings with.
    assert_eq!(sim.queue_strategy("222"), Some(Strategy::RrMemory));
    let queues_conf = std::fs::read_to_string(asterisk_dir.path().join("queues.conf")).unwrap();
    assert!(
        queues_conf.contains("\n[222]\n;strategy = ringall ; 振铃方式由 coocenterd 控制台设置"),
        "{queues_conf}"
    );
    assert!(
        queues_conf.contains("\n[333]\nstrategy = rrmemory\n"),
        "other queues untouched: {queues_conf}"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while queue_row(&api.get("/api/v1/dashboard").await.body, "222")["strategy"] != "rrmemory" {
        assert!(
            Instant::now() < deadline,
            "the dashboard kept the old strategy"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        received(&sim, "QueueReload"),
        vec![pairs(&[
            ("Queue", "222"),
            ("Members", "no"),
            ("Rules", "no"),
            ("Parameters", "yes")
        ])]
    );
    let bad = api
        .send(
            Method::PUT,
            "/api/v1/queues/222",
            Some(json!({"name": "改了", "strategy": "loudest"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        (bad.code(), bad.body["error"]["field"].as_str()),
        ("strategy_invalid", Some("strategy"))
    );
    let queues = api.get("/api/v1/queues").await.body;
    assert_eq!(
        queues["queues"][0]["name"], "售后",
        "a refused change changes nothing"
    );
    assert_eq!(
        std::fs::read_to_string(asterisk_dir.path().join("queues_coocenter.conf")).unwrap(),
        include
    );

    // The owner saves queue 222 in the PBX UI (its strategy line is back), and Asterisk
    // restarts, forgetting the dynamic member: the reconcile puts both back.
    std::fs::write(
        asterisk_dir.path().join("queues.conf"),
        coocenterd::simulator::pbx_ui_queues_conf(&[
            QueueConfig::new("222").member(MemberConfig::new("PJSIP/1001", "张伟"))
        ]),
    )
    .unwrap();
    sim.restart_with_downtime(Duration::from_millis(300))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while received(&sim, "QueueAdd").len() < 2 {
        assert!(Instant::now() < deadline, "the member was not put back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(received(&sim, "QueueAdd")[1], received(&sim, "QueueAdd")[0]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while sim.queue_strategy("222") != Some(Strategy::RrMemory) {
        assert!(
            Instant::now() < deadline,
            "the strategy was not taken over again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dashboard = api.get("/api/v1/dashboard").await.body;
    assert!(dashboard["agents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["extension"] == "1002" && a["queue"] == "222" && a["job_number"] == "8002"));

    // A strategy change while Asterisk is away is saved, pending, and applied on reconnect.
    sim.shutdown();
    let deadline = Instant::now() + Duration::from_secs(10);
    while api.get("/api/v1/dashboard").await.body["pbx"]["connected"] == true {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answer = api
        .send(
            Method::PUT,
            "/api/v1/queues/222",
            Some(json!({"strategy": "linear"})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["pending"], true);
    let include =
        std::fs::read_to_string(asterisk_dir.path().join("queues_coocenter.conf")).unwrap();
    assert!(include.contains("[222](+)\nstrategy=linear\n"), "{include}");

    // Removing a member.
    let removed = api
        .send(
            Method::DELETE,
            &format!("/api/v1/queues/222/members/{id}"),
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    assert!(removed.body["members"].as_array().unwrap().is_empty());
    daemon.stop().await;
}

#[tokio::test]
async fn agents_sign_in_pause_with_a_reason_and_the_operation_log_shows_it() {
    let (sim, asterisk_dir) = simulator().await;
    let daemon = common::pbx::daemon_with_asterisk_dir(&sim, AMI_SECRET, asterisk_dir.path()).await;
    let mut api = admin(&daemon).await;
    let agent = api
        .send(
            Method::POST,
            "/api/v1/agents",
            Some(agent_body("王芳", "8002", "1002")),
        )
        .await
        .body;
    let id = agent["id"].as_i64().unwrap();
    api.send(
        Method::POST,
        "/api/v1/queues/222/members",
        Some(json!({"agent_id": id})),
    )
    .await;
    api.send(
        Method::POST,
        "/api/v1/queues/333/members",
        Some(json!({"agent_id": id})),
    )
    .await;

    let mut agent_api = daemon.api();
    let login = agent_api.login("8002", "wrong").await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login.message(), "用户名或密码错误。");
    // Job number or extension, with the extension's password.
    let login = agent_api.login("1002", "ext-pass-1").await;
    assert_eq!(
        login.body,
        json!({"must_change_password": false, "role": "agent"})
    );
    let me = agent_api.get("/api/v1/me").await.body;
    assert_eq!(me["agent"]["job_number"], "8002");
    assert_eq!(me["queues"], json!(["222", "333"]));
    assert_eq!(me["status"], "idle");
    // The admin's pages are closed to agents.
    assert_eq!(
        agent_api.get("/api/v1/agents").await.status,
        StatusCode::FORBIDDEN
    );

    let refused = agent_api
        .send(
            Method::POST,
            "/api/v1/me/pause",
            Some(json!({"reason": "打游戏"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.code(), "unknown_reason");
    assert!(received(&sim, "QueuePause").is_empty());

    let paused = agent_api
        .send(
            Method::POST,
            "/api/v1/me/pause",
            Some(json!({"reason": "午休"})),
        )
        .await;
    assert_eq!(paused.status, StatusCode::OK);
    assert_eq!(
        received(&sim, "QueuePause"),
        vec![pairs(&[
            ("Interface", "PJSIP/1002"),
            ("Paused", "true"),
            ("Reason", "午休")
        ])]
    );
    // Paused in every queue, as Asterisk reports (QueueMemberPause per queue).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let dashboard = api.get("/api/v1/dashboard").await.body;
        let rows: Vec<&Value> = dashboard["agents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["extension"] == "1002")
            .collect();
        if rows.len() == 2
            && rows
                .iter()
                .all(|a| a["paused"] == true && a["pause_reason"] == "午休")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "dashboard never showed the pause: {dashboard}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    agent_api
        .send(Method::POST, "/api/v1/me/unpause", None)
        .await;
    agent_api
        .send(
            Method::POST,
            "/api/v1/me/pause",
            Some(json!({"reason": ""})),
        )
        .await;
    agent_api
        .send(Method::POST, "/api/v1/me/unpause", None)
        .await;
    assert_eq!(
        agent_api
            .send(Method::DELETE, "/api/v1/session", None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    // A pause made elsewhere (a phone's feature code) is picked up from the events, and
    // logged like the console's own: one row for the agent, not one per queue (manual §8).
    sim.set_paused("PJSIP/1002", None, true, "会议").unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !api.get("/api/v1/dashboard").await.body["agents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["extension"] == "1002" && a["pause_reason"] == "会议")
    {
        assert!(
            Instant::now() < deadline,
            "the outside pause was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let log = api.get("/api/v1/oplog?q=8002").await.body;
    let rows: Vec<(String, String, String, String, String)> = log["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let f = |k: &str| r[k].as_str().unwrap().to_string();
            (
                f("agent_name"),
                f("job_number"),
                f("extension"),
                f("event_type"),
                f("detail"),
            )
        })
        .collect();
    let row = |event: &str, detail: &str| {
        (
            "王芳".to_string(),
            "8002".to_string(),
            "1002".to_string(),
            event.to_string(),
            detail.to_string(),
        )
    };
    assert_eq!(
        rows,
        vec![
            row("pause", "会议"),
            row("logout", "127.0.0.1"),
            row("unpause", ""),
            row("pause", "未知"),
            row("unpause", ""),
            row("pause", "午休"),
            row("login", "127.0.0.1"),
        ],
        "newest first"
    );
    assert_eq!(api.get("/api/v1/oplog?q=忙").await.body["total"], 3);
    let paging = api.get("/api/v1/oplog?per_page=10&page=1").await.body;
    assert_eq!(paging["per_page"], 10);
    let bad = api.get("/api/v1/oplog?per_page=7").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "invalid_page_size");
    let audit = api.get("/api/v1/audit?q=queue.member_added").await.body;
    assert_eq!(audit["total"], 2);
    daemon.stop().await;
    sim.shutdown();
}
