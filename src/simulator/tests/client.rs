//! `crate::ami::Client` (the daemon's own AMI client) against the simulator: plain and MD5
//! login, a collected `QueueStatus` list, queue events as calls are driven, and reconnection
//! after an Asterisk restart.

use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use super::super::{MemberConfig, QueueConfig, SimConfig, SimHandle, Simulator, Strategy};
use crate::ami::{Action, AuthMethod, Client, Config, ConnectionState, Event};

const USER: &str = "coocenter";
const SECRET: &str = "s3cret-for-tests";

async fn start() -> SimHandle {
    let q222 = QueueConfig::new("222")
        .strategy(Strategy::RingAll)
        .member(MemberConfig::new("PJSIP/1001", "张伟"))
        .member(MemberConfig::new("PJSIP/1002", "王芳"));
    Simulator::start(SimConfig {
        username: USER.to_owned(),
        secret: SECRET.to_owned(),
        queues: vec![q222],
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn config(sim: &SimHandle, auth: AuthMethod) -> Config {
    Config {
        host: sim.addr().ip().to_string(),
        port: sim.addr().port(),
        username: USER.to_owned(),
        secret: SECRET.to_owned(),
        auth,
        reconnect_min: Duration::from_millis(20),
        reconnect_max: Duration::from_millis(200),
        ..Config::default()
    }
}

/// The next event named `name` (others are skipped).
async fn next_named(rx: &mut broadcast::Receiver<Event>, name: &str) -> Event {
    timeout(Duration::from_secs(5), async {
        loop {
            let e = rx.recv().await.expect("event stream");
            if e.event() == Some(name) {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {name} event"))
}

#[tokio::test]
async fn plain_login_and_queue_status_list() {
    let sim = start().await;
    let shutdown = CancellationToken::new();
    let (client, task) = Client::spawn(config(&sim, AuthMethod::Plain), shutdown.clone());
    let (version, epoch) = timeout(Duration::from_secs(5), client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((version.as_str(), epoch), ("11.0.0", 1));
    let status = client.send(Action::new("QueueStatus")).await.unwrap();
    assert!(status.is_success());
    let names: Vec<_> = status.events.iter().filter_map(|e| e.event()).collect();
    assert_eq!(names, ["QueueParams", "QueueMember", "QueueMember"]);
    let complete = status.complete.expect("QueueStatusComplete");
    assert_eq!(complete.get("ListItems"), Some("3"));
    assert_eq!(status.events[1].get("Name"), Some("张伟"));
    let summary = client.send(Action::new("QueueSummary")).await.unwrap();
    assert_eq!(summary.events[0].get("Available"), Some("2"));
    let login = &sim.received_actions()[0];
    assert_eq!(login.get("Secret"), Some(SECRET));
    shutdown.cancel();
    task.await.unwrap();
    sim.shutdown();
}

#[tokio::test]
async fn md5_login_sends_no_secret_and_events_flow() {
    let sim = start().await;
    let shutdown = CancellationToken::new();
    let (client, task) = Client::spawn(config(&sim, AuthMethod::Md5), shutdown.clone());
    let mut events = client.events();
    timeout(Duration::from_secs(5), client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    let actions = sim.received_actions();
    assert_eq!(actions[0].get("Action"), Some("Challenge"));
    assert_eq!(actions[1].get("AuthType"), Some("MD5"));
    assert!(actions[1].get("Key").is_some_and(|k| k.len() == 32));
    assert!(actions.iter().all(|a| a.get("Secret").is_none()));

    let call = sim.place_call("222", "13800138000", "李女士").unwrap();
    let join = next_named(&mut events, "QueueCallerJoin").await;
    assert_eq!(join.get("CallerIDName"), Some("李女士"));
    assert_eq!(join.get("Queue"), Some("222"));
    assert!(join.get("Channel").unwrap().starts_with("PJSIP/trunk-"));
    // ringall: both members are rung, their phones ring (device state 6).
    let called = next_named(&mut events, "AgentCalled").await;
    assert_eq!(called.get("Queue"), Some("222"));
    let ringing = next_named(&mut events, "QueueMemberStatus").await;
    assert_eq!(ringing.get("Status"), Some("6"));
    sim.answer(call, "PJSIP/1002").unwrap();
    let connect = next_named(&mut events, "AgentConnect").await;
    assert_eq!(connect.get("MemberName"), Some("王芳"));
    assert!(connect
        .get("DestChannel")
        .unwrap()
        .starts_with("PJSIP/1002-"));
    sim.hangup_agent(call).unwrap();
    let complete = next_named(&mut events, "AgentComplete").await;
    assert_eq!(complete.get("Reason"), Some("agent"));
    let status = client
        .send(Action::new("QueueStatus").field("Member", "PJSIP/1002"))
        .await
        .unwrap();
    let member = &status.events[1];
    assert_eq!(member.get("CallsTaken"), Some("1"));
    assert_eq!(status.events[0].get("Completed"), Some("1"));
    shutdown.cancel();
    task.await.unwrap();
    sim.shutdown();
}

#[tokio::test]
async fn restart_makes_the_client_reconnect_and_counters_reset() {
    let sim = start().await;
    let shutdown = CancellationToken::new();
    let (client, task) = Client::spawn(config(&sim, AuthMethod::Md5), shutdown.clone());
    timeout(Duration::from_secs(5), client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    let call = sim.place_call("222", "1", "").unwrap();
    sim.answer(call, "PJSIP/1001").unwrap();
    sim.hangup_caller(call).unwrap();
    let before = client.send(Action::new("QueueStatus")).await.unwrap();
    assert_eq!(before.events[0].get("Completed"), Some("1"));

    let mut state = client.state();
    sim.restart();
    let s = timeout(
        Duration::from_secs(5),
        state.wait_for(|s| matches!(s, ConnectionState::Connected { epoch: 2, .. })),
    )
    .await
    .expect("reconnected")
    .unwrap()
    .clone();
    assert!(s.is_connected());
    let after = client.send(Action::new("QueueStatus")).await.unwrap();
    assert_eq!(after.events[0].get("Completed"), Some("0"));
    assert_eq!(after.events[1].get("CallsTaken"), Some("0"));

    // And with the port closed for a while, as while Asterisk boots.
    sim.restart_with_downtime(Duration::from_millis(300))
        .await
        .unwrap();
    timeout(
        Duration::from_secs(5),
        state.wait_for(|s| matches!(s, ConnectionState::Connected { epoch: 3, .. })),
    )
    .await
    .expect("reconnected after downtime")
    .unwrap();
    shutdown.cancel();
    task.await.unwrap();
    sim.shutdown();
}

#[tokio::test]
async fn a_session_is_booted_only_after_fully_booted() {
    let sim = start().await;
    let shutdown = CancellationToken::new();
    let (client, task) = Client::spawn(config(&sim, AuthMethod::Plain), shutdown.clone());
    let mut state = client.state();
    // A booted Asterisk says FullyBooted right after the login.
    timeout(
        Duration::from_secs(5),
        state.wait_for(|s| s.booted_epoch() == Some(1)),
    )
    .await
    .expect("booted at the first login")
    .unwrap();

    sim.restart_booting();
    let s = timeout(
        Duration::from_secs(5),
        state.wait_for(|s| matches!(s, ConnectionState::Connected { epoch: 2, .. })),
    )
    .await
    .expect("reconnected")
    .unwrap()
    .clone();
    assert_eq!(s.booted_epoch(), None, "{s:?}");
    assert!(!client.is_booted());
    let early = client.send(Action::new("QueueStatus")).await.unwrap();
    assert!(!early.is_success());
    assert_eq!(
        early.message(),
        Some("Invalid/unknown command: QueueStatus. Use Action: ListCommands to show available commands.")
    );

    sim.finish_boot();
    timeout(
        Duration::from_secs(5),
        state.wait_for(|s| s.booted_epoch() == Some(2)),
    )
    .await
    .expect("booted after FullyBooted")
    .unwrap();
    let ready = client.send(Action::new("QueueStatus")).await.unwrap();
    assert!(ready.is_success());
    shutdown.cancel();
    task.await.unwrap();
    sim.shutdown();
}
