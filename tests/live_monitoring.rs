//! Live monitoring end to end: the daemon in-process, the PBX simulator on loopback speaking
//! Asterisk 22's wire format, and an HTTPS client reading the dashboard and its event stream.
//! Covers the path from an AMI event to the browser, an Asterisk restart mid-call, a refused
//! AMI login, and the CLI console.

mod common;

use std::time::{Duration, Instant};

use common::pbx::{wait_connected, AMI_USER};
use common::TestDaemon;
use coocenterd::simulator::{MemberConfig, QueueConfig, SimConfig, SimHandle, Simulator, Strategy};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const AMI_SECRET: &str = "test-ami-secret";

async fn simulator() -> SimHandle {
    Simulator::start(SimConfig {
        username: AMI_USER.into(),
        secret: AMI_SECRET.into(),
        queues: vec![QueueConfig::new("222")
            .strategy(Strategy::RingAll)
            .member(MemberConfig::new("PJSIP/1001", "张伟"))
            .member(MemberConfig::new("PJSIP/1002", "王芳"))],
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

/// Reads `text/event-stream` frames from a response.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    async fn open(daemon: &TestDaemon, cookie: &str) -> EventStream {
        let response = daemon
            .client()
            .get(daemon.url("/api/v1/events"))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in frame.lines() {
                    if let Some(value) = line.strip_prefix("event: ") {
                        name = value.to_string();
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data.push_str(value);
                    }
                }
                if name.is_empty() {
                    continue; // keep-alive comment
                }
                return Some((name, serde_json::from_str(&data).unwrap()));
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Waits for an event `name` whose data satisfies `test`; returns it and how long it took.
    async fn wait_for(
        &mut self,
        name: &str,
        within: Duration,
        test: impl Fn(&Value) -> bool,
    ) -> (Value, Duration) {
        let started = Instant::now();
        let found = tokio::time::timeout(within, async {
            loop {
                let (event, data) = self.next().await.expect("stream open");
                if std::env::var("SSE_DEBUG").is_ok() {
                    eprintln!("{event}: {data}");
                }
                if event == name && test(&data) {
                    return data;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no matching `{name}` event within {within:?}"));
        (found, started.elapsed())
    }
}

fn agent<'a>(live: &'a Value, extension: &str) -> &'a Value {
    live["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["extension"] == extension)
        .unwrap_or_else(|| panic!("agent {extension} in {live}"))
}

fn queue<'a>(view: &'a Value, name: &str) -> &'a Value {
    view["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["queue"] == name)
        .unwrap()
}

#[tokio::test]
async fn ami_events_reach_the_event_stream_within_a_second() {
    let sim = simulator().await;
    let daemon = common::pbx::daemon_for(&sim, AMI_SECRET).await;
    let mut api = daemon.api();
    api.first_login().await;
    let mut stream = EventStream::open(&daemon, api.cookie.as_deref().unwrap()).await;

    let (live, _) = stream
        .wait_for("live", Duration::from_secs(10), |v| {
            v["pbx"]["connected"] == true && !v["agents"].as_array().unwrap().is_empty()
        })
        .await;
    assert_eq!(live["pbx"]["version"], "22.10.1");
    assert_eq!(agent(&live, "1001")["name"], "张伟");
    assert_eq!(agent(&live, "1001")["status"], "idle");
    assert_eq!(queue(&live, "222")["strategy"], "ringall");

    let call = sim.place_call("222", "13800138000", "李先生").unwrap();
    let (live, took) = stream
        .wait_for("live", Duration::from_secs(5), |v| {
            !v["callers"].as_array().unwrap().is_empty()
        })
        .await;
    assert!(took < Duration::from_secs(1), "caller shown after {took:?}");
    assert_eq!(live["callers"][0]["number"], "13800138000");
    assert_eq!(live["callers"][0]["name"], "李先生");
    assert_eq!(live["callers"][0]["position"], 1);
    assert_eq!(queue(&live, "222")["waiting"], 1);

    sim.answer(call, "PJSIP/1001").unwrap();
    let (live, took) = stream
        .wait_for("live", Duration::from_secs(5), |v| {
            agent(v, "1001")["status"] == "busy"
        })
        .await;
    assert!(
        took < Duration::from_secs(1),
        "agent busy shown after {took:?}"
    );
    assert!(live["callers"].as_array().unwrap().is_empty());

    sim.hangup_caller(call).unwrap();
    let (live, _) = stream
        .wait_for("live", Duration::from_secs(5), |v| {
            queue(v, "222")["completed"] == 1
        })
        .await;
    assert_eq!(queue(&live, "222")["abandoned"], 0);
    let (stats, _) = stream
        .wait_for("stats", Duration::from_secs(5), |v| {
            v["trend"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["answered"] == 1)
        })
        .await;
    assert_eq!(stats["trend"].as_array().unwrap().len(), 24);
    let hour = chrono::Timelike::hour(&chrono::Local::now());
    assert_eq!(stats["trend"][hour as usize]["answered"], 1);

    // The snapshot API agrees with the stream.
    let dashboard = api.get("/api/v1/dashboard").await.body;
    assert_eq!(queue(&dashboard, "222")["completed"], 1);
    assert_eq!(dashboard["counts"]["queues"], 1);
    // 坐席 counts the configured agents (manual §3); this PBX's members are not configured.
    assert_eq!(dashboard["counts"]["agents"], 0);
    assert_eq!(dashboard["agents"].as_array().unwrap().len(), 2);
    daemon.stop().await;
    sim.shutdown();
}

#[tokio::test]
async fn an_asterisk_restart_mid_call_is_shown_resynced_and_keeps_the_counts() {
    let sim = simulator().await;
    let daemon = common::pbx::daemon_for(&sim, AMI_SECRET).await;
    let mut api = daemon.api();
    api.first_login().await;
    let mut stream = EventStream::open(&daemon, api.cookie.as_deref().unwrap()).await;
    stream
        .wait_for("live", Duration::from_secs(10), |v| {
            v["pbx"]["connected"] == true && !v["agents"].as_array().unwrap().is_empty()
        })
        .await;

    // One call completed, one abandoned, one still talking when Asterisk goes away.
    let first = sim.place_call("222", "13800000001", "").unwrap();
    sim.answer(first, "PJSIP/1001").unwrap();
    sim.hangup_agent(first).unwrap();
    let gone = sim.place_call("222", "13800000002", "").unwrap();
    stream
        .wait_for("live", Duration::from_secs(5), |v| {
            !v["callers"].as_array().unwrap().is_empty()
        })
        .await;
    sim.abandon(gone).unwrap();
    let talking = sim.place_call("222", "13800000003", "").unwrap();
    sim.answer(talking, "PJSIP/1002").unwrap();
    stream
        .wait_for("live", Duration::from_secs(5), |v| {
            agent(v, "1002")["status"] == "busy"
                && queue(v, "222")["completed"] == 1
                && queue(v, "222")["abandoned"] == 1
        })
        .await;

    let restart = tokio::spawn({
        let sim = sim.clone();
        async move { sim.restart_with_downtime(Duration::from_millis(800)).await }
    });
    let (down, _) = stream
        .wait_for("live", Duration::from_secs(5), |v| {
            v["pbx"]["connected"] == false
        })
        .await;
    // The last known state stays visible while Asterisk is away.
    assert_eq!(agent(&down, "1002")["status"], "busy");
    restart.await.unwrap().unwrap();
    let (up, took) = stream
        .wait_for("live", Duration::from_secs(15), |v| {
            v["pbx"]["connected"] == true
        })
        .await;
    eprintln!("resynchronised {took:?} after the restart");
    // Resynchronised from QueueStatus: nobody talking any more, Asterisk's counters restarted
    // at zero, ours kept (the interrupted call counts as answered).
    assert_eq!(agent(&up, "1002")["status"], "idle");
    assert_eq!(queue(&up, "222")["completed"], 2);
    assert_eq!(queue(&up, "222")["abandoned"], 1);
    let rows: Vec<(String, String)> = {
        let db = daemon.db();
        let mut stmt = db
            .prepare("SELECT caller_number, outcome FROM queue_calls ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows
    };
    assert_eq!(
        rows,
        vec![
            ("13800000001".into(), "answered".into()),
            ("13800000002".into(), "abandoned".into()),
            ("13800000003".into(), "answered".into()),
        ]
    );
    // Asterisk's own counter restarted: proof that the console's figure is ours.
    let status = sim_queue_status_completed(&sim).await;
    assert_eq!(status, 0);
    daemon.stop().await;
    sim.shutdown();
}

/// Asterisk 22 accepts a manager login some 80 ms before app_queue is loaded (seen on a real
/// 22.10.1 across `core restart now`); `QueueStatus` then answers `Invalid/unknown command`.
/// A daemon that resynchronised on that login showed an empty dashboard for good. It must
/// wait for `FullyBooted` and be complete as soon as Asterisk is.
#[tokio::test]
async fn a_login_while_asterisk_boots_waits_for_fully_booted_and_resyncs_completely() {
    let sim = simulator().await;
    let daemon = common::pbx::daemon_for(&sim, AMI_SECRET).await;
    let mut api = daemon.api();
    api.first_login().await;
    let mut stream = EventStream::open(&daemon, api.cookie.as_deref().unwrap()).await;
    stream
        .wait_for("live", Duration::from_secs(10), |v| {
            v["pbx"]["connected"] == true && !v["agents"].as_array().unwrap().is_empty()
        })
        .await;
    let logins = common::pbx::received(&sim, "Login").len();
    let queue_status = common::pbx::received(&sim, "QueueStatus").len();

    sim.restart_booting();
    stream
        .wait_for("live", Duration::from_secs(5), |v| {
            v["pbx"]["connected"] == false
        })
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while common::pbx::received(&sim, "Login").len() == logins {
        assert!(
            Instant::now() < deadline,
            "the daemon never logged in again"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Give a daemon that does not wait for FullyBooted the time to read the empty PBX.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        common::pbx::received(&sim, "QueueStatus").len(),
        queue_status,
        "QueueStatus sent before FullyBooted"
    );
    let booting = api.get("/api/v1/dashboard").await.body;
    assert_eq!(booting["pbx"]["connected"], false, "{booting}");

    let booted = Instant::now();
    sim.finish_boot();
    let (up, _) = stream
        .wait_for("live", Duration::from_secs(5), |v| {
            v["pbx"]["connected"] == true && v["agents"].as_array().unwrap().len() == 2
        })
        .await;
    let took = booted.elapsed();
    eprintln!("complete {took:?} after FullyBooted");
    assert_eq!(queue(&up, "222")["strategy"], "ringall");
    assert_eq!(agent(&up, "1001")["status"], "idle");
    assert_eq!(agent(&up, "1002")["status"], "idle");
    daemon.stop().await;
    sim.shutdown();
}

/// `Completed` of queue 222 as the simulator's own QueueStatus reports it.
async fn sim_queue_status_completed(sim: &SimHandle) -> u64 {
    let (client, task, shutdown) = common::pbx::manager_client(sim, AMI_SECRET).await;
    let status = client
        .send(coocenterd::ami::Action::new("QueueStatus").field("Queue", "222"))
        .await
        .unwrap();
    let completed = status
        .events
        .iter()
        .find(|e| e.event() == Some("QueueParams"))
        .and_then(|e| e.get("Completed"))
        .unwrap()
        .parse()
        .unwrap();
    shutdown.cancel();
    task.await.unwrap();
    completed
}

#[tokio::test]
async fn a_refused_ami_login_is_shown_and_not_retried_in_a_loop() {
    let sim = simulator().await;
    let daemon = common::pbx::daemon_for(&sim, "wrong-secret").await;
    let mut api = daemon.api();
    api.first_login().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let dashboard = api.get("/api/v1/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert_eq!(
        dashboard.body["pbx"],
        json!({"connected": false, "version": null})
    );
    let logins = sim
        .received_actions()
        .iter()
        .filter(|a| {
            a.get("Action")
                .is_some_and(|n| n.eq_ignore_ascii_case("login"))
        })
        .count();
    assert_eq!(
        logins, 1,
        "one refused login, then a long pause (no retry storm)"
    );
    daemon.stop().await;
    sim.shutdown();
}

#[tokio::test]
async fn console_runs_cli_commands_and_confirms_restarts() {
    let sim = simulator().await;
    let daemon = common::pbx::daemon_for(&sim, AMI_SECRET).await;
    let mut api = daemon.api();
    api.first_login().await;
    wait_connected(&mut api).await;
    let run = |command: &str, confirmed: bool| json!({"command": command, "confirmed": confirmed});

    let answer = api
        .send(
            Method::POST,
            "/api/v1/console/command",
            Some(run("core show version", false)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["ok"], true);
    assert!(answer.body["output"][0]
        .as_str()
        .unwrap()
        .starts_with("Asterisk 22.10.1"));

    let answer = api
        .send(
            Method::POST,
            "/api/v1/console/command",
            Some(run("no such thing", false)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["ok"], false);
    assert!(
        answer.body["output"][0]
            .as_str()
            .unwrap()
            .contains("No such command"),
        "{}",
        answer.body
    );

    // Stopping Asterisk needs a confirmation; unconfirmed, nothing reaches it.
    let answer = api
        .send(
            Method::POST,
            "/api/v1/console/command",
            Some(run("core restart now", false)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.code(), "confirmation_required");
    assert!(answer.message().contains("core restart now"));
    let commands_sent = || {
        sim.received_actions()
            .iter()
            .filter_map(|a| a.get("Command").map(str::to_string))
            .collect::<Vec<_>>()
    };
    assert_eq!(commands_sent(), vec!["core show version", "no such thing"]);

    // A command that changes the PBX asks first too; one that can run shell code or unload
    // a module is refused outright (issue 10, item 10).
    let answer = api
        .send(
            Method::POST,
            "/api/v1/console/command",
            Some(run("channel request hangup all", false)),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (StatusCode::CONFLICT, "confirmation_required")
    );
    for refused in [
        "module unload app_queue.so",
        "dialplan add extension 1,1,System(id) into x",
    ] {
        let answer = api
            .send(
                Method::POST,
                "/api/v1/console/command",
                Some(run(refused, true)),
            )
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::FORBIDDEN, "command_refused"),
            "{refused}"
        );
    }
    assert_eq!(commands_sent().len(), 2, "none of them reached Asterisk");

    for (bad, code) in [
        ("   ", "empty_command"),
        ("core show\r\nAction: Logoff", "invalid_command"),
    ] {
        let answer = api
            .send(
                Method::POST,
                "/api/v1/console/command",
                Some(run(bad, false)),
            )
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        assert_eq!(answer.code(), code);
    }
    assert_eq!(commands_sent().len(), 2, "refused commands reach nothing");

    let audited: Vec<String> = {
        let db = daemon.db();
        let mut stmt = db
            .prepare("SELECT target FROM audit WHERE action = 'console.command' ORDER BY id")
            .unwrap();
        let rows = stmt
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows
    };
    assert_eq!(audited, vec!["core show version", "no such thing"]);

    // With Asterisk gone, the console says so.
    sim.shutdown();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = api
            .send(
                Method::POST,
                "/api/v1/console/command",
                Some(run("core show version", false)),
            )
            .await;
        if answer.status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(answer.code(), "pbx_unavailable");
            assert_eq!(answer.message(), "无法连接 PBX（Asterisk），请稍后重试。");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never reported the PBX as unavailable"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    daemon.stop().await;
}
