//! The AMI client against the scripted loopback server of [`super::server`].
//!
//! Owns no production code. Real TCP on 127.0.0.1 with real (short) timers; every wait is
//! bounded so a regression fails instead of hanging.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::{sleep, timeout};
use tokio_util::sync::CancellationToken;

use super::server::{event, reply, FakeAmi, SECRET, USER};
use crate::ami::{
    Action, AmiError, AuthMethod, Client, Config, ConnectionState, DisconnectReason, Event,
    Message, MessageKind,
};

const LIMIT: Duration = Duration::from_secs(5);

fn config(addr: SocketAddr, auth: AuthMethod) -> Config {
    Config {
        host: "127.0.0.1".to_owned(),
        port: addr.port(),
        username: USER.to_owned(),
        secret: SECRET.to_owned(),
        auth,
        connect_timeout: Duration::from_secs(2),
        login_timeout: Duration::from_secs(2),
        action_timeout: Duration::from_secs(2),
        ping_interval: Duration::from_secs(60),
        ping_timeout: Duration::from_secs(2),
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_secs(1),
        auth_retry_delay: Some(Duration::from_secs(60)),
        logoff_timeout: Duration::from_secs(1),
        ..Config::default()
    }
}

/// Waits (bounded) until the state satisfies `pred`; returns that state.
async fn wait_state(client: &Client, pred: impl Fn(&ConnectionState) -> bool) -> ConnectionState {
    let mut rx = client.state();
    let state = timeout(LIMIT, rx.wait_for(|s| pred(s)))
        .await
        .expect("state not reached in time")
        .expect("runner gone");
    state.clone()
}

/// The next broadcast event other than `FullyBooted` (bounded).
async fn next_event(rx: &mut broadcast::Receiver<Event>) -> Event {
    loop {
        let e = timeout(LIMIT, rx.recv())
            .await
            .expect("no event in time")
            .expect("event channel closed");
        if e.event() != Some("FullyBooted") {
            return e;
        }
    }
}

struct Running {
    client: Client,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    fn start(config: Config) -> Running {
        let shutdown = CancellationToken::new();
        let (client, task) = Client::spawn(config, shutdown.clone());
        Running {
            client,
            shutdown,
            task,
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        timeout(LIMIT, self.task)
            .await
            .expect("runner did not stop")
            .expect("runner panicked");
    }
}

#[tokio::test]
async fn plain_login_then_actions() {
    let server = FakeAmi::start(|mut conn, _| async move {
        if conn.login().await {
            conn.serve_basic().await;
        }
    })
    .await;
    let run = Running::start(config(server.addr, AuthMethod::Plain));
    let (version, epoch) = timeout(LIMIT, run.client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((version.as_str(), epoch), ("11.0.0", 1));

    let pong = run.client.send(Action::new("Ping")).await.unwrap();
    assert_eq!(pong.get("Ping"), Some("Pong"));
    assert!(pong.is_success());

    let login = &server.actions()[0];
    assert_eq!(login.get("Action"), Some("Login"));
    assert_eq!(login.get("Username"), Some(USER));
    assert_eq!(login.get("Secret"), Some(SECRET));
    assert_eq!(login.get("Events"), Some("on"));
    assert!(login.action_id().is_some());
    run.stop().await;
}

#[tokio::test]
async fn md5_login_never_sends_the_secret() {
    let server = FakeAmi::start(|mut conn, _| async move {
        if conn.login().await {
            conn.serve_basic().await;
        }
    })
    .await;
    let run = Running::start(config(server.addr, AuthMethod::Md5));
    timeout(LIMIT, run.client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    let actions = server.actions();
    assert_eq!(actions[0].get("Action"), Some("Challenge"));
    assert_eq!(actions[0].get("AuthType"), Some("MD5"));
    assert_eq!(actions[1].get("Action"), Some("Login"));
    assert_eq!(actions[1].get("AuthType"), Some("MD5"));
    assert!(actions[1].get("Key").is_some());
    assert!(actions
        .iter()
        .all(|a| a.get("Secret").is_none() && a.fields().iter().all(|(_, v)| v != SECRET)));
    run.stop().await;
}

#[tokio::test]
async fn refused_login_is_auth_failed_without_retry_storm() {
    let server = FakeAmi::start(|mut conn, _| async move {
        // A refused login: Asterisk answers and closes the socket.
        let _ = conn.login().await;
    })
    .await;
    let mut cfg = config(server.addr, AuthMethod::Md5);
    cfg.secret = "wrong".to_owned();
    cfg.reconnect_min = Duration::from_millis(10);
    cfg.reconnect_max = Duration::from_millis(10);
    let run = Running::start(cfg);
    let state = wait_state(&run.client, |s| {
        matches!(s, ConnectionState::Disconnected { .. })
    })
    .await;
    assert_eq!(
        state,
        ConnectionState::Disconnected {
            reason: DisconnectReason::AuthFailed("Authentication failed".to_owned())
        }
    );
    // The fast reconnect schedule does not apply: one attempt in a second, not ~100.
    sleep(Duration::from_secs(1)).await;
    assert_eq!(server.connections(), 1);
    let err = run.client.send(Action::new("Ping")).await.unwrap_err();
    assert!(
        matches!(err, AmiError::AuthFailed(ref m) if m == "Authentication failed"),
        "{err}"
    );
    // Shutdown is prompt even during the long wait.
    run.stop().await;
}

#[tokio::test]
async fn refused_login_with_retries_disabled_stays_down() {
    let server = FakeAmi::start(|mut conn, _| async move {
        let _ = conn.login().await;
    })
    .await;
    let mut cfg = config(server.addr, AuthMethod::Plain);
    cfg.secret = "wrong".to_owned();
    cfg.auth_retry_delay = None;
    let run = Running::start(cfg);
    wait_state(&run.client, |s| {
        matches!(
            s,
            ConnectionState::Disconnected {
                reason: DisconnectReason::AuthFailed(_)
            }
        )
    })
    .await;
    sleep(Duration::from_millis(300)).await;
    assert_eq!(server.connections(), 1);
    run.stop().await;
}

#[tokio::test]
async fn replies_are_correlated_with_interleaved_events() {
    let server = FakeAmi::start(|mut conn, _| async move {
        if !conn.login().await {
            return;
        }
        let first = conn.read_action().await.unwrap();
        let second = conn.read_action().await.unwrap();
        let (id1, id2) = (first.action_id().unwrap(), second.action_id().unwrap());
        assert_ne!(id1, id2);
        // Answer in reverse order with events in between.
        conn.send(
            &event("Newchannel")
                .with("Privilege", "call,all")
                .with("Channel", "Local/1"),
        )
        .await;
        conn.send(&reply(id2, "Success").with("Message", "for second"))
            .await;
        conn.send(
            &event("Hangup")
                .with("Privilege", "call,all")
                .with("Channel", "Local/1"),
        )
        .await;
        conn.send(&reply(id1, "Error").with("Message", "for first"))
            .await;
        conn.serve_basic().await;
    })
    .await;
    let run = Running::start(config(server.addr, AuthMethod::Plain));
    timeout(LIMIT, run.client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    let mut events = run.client.events();

    let (r1, r2) = tokio::join!(
        run.client
            .send(Action::new("First").field("Queue", "sales")),
        run.client.send(Action::new("Second")),
    );
    let (r1, r2) = (r1.unwrap(), r2.unwrap());
    assert_eq!(r1.message(), Some("for first"));
    assert!(!r1.is_success());
    assert!(matches!(r1.into_result(), Err(AmiError::ActionFailed(m)) if m == "for first"));
    assert_eq!(r2.message(), Some("for second"));
    assert!(r2.events.is_empty() && r2.complete.is_none());

    assert_eq!(next_event(&mut events).await.event(), Some("Newchannel"));
    assert_eq!(next_event(&mut events).await.event(), Some("Hangup"));
    let names = server.action_names();
    assert_eq!(names[1..3], ["First", "Second"]);
    run.stop().await;
}

#[tokio::test]
async fn event_list_is_collected_with_interleaved_events() {
    let server = FakeAmi::start(|mut conn, _| async move {
        if !conn.login().await {
            return;
        }
        // Asterisk 12+ list.
        let a = conn.read_action().await.unwrap();
        let id = a.action_id().unwrap().to_owned();
        conn.send(
            &reply(&id, "Success")
                .with("EventList", "start")
                .with("Message", "Queue status will follow"),
        )
        .await;
        conn.send(
            &event("QueueParams")
                .with("Queue", "sales")
                .with("ActionID", &id),
        )
        .await;
        conn.send(&event("Newchannel").with("Privilege", "call,all"))
            .await;
        conn.send(
            &event("QueueMember")
                .with("Queue", "sales")
                .with("Name", "Alice")
                .with("ActionID", &id),
        )
        .await;
        // Another client's list item (same event name, other ActionID): not ours.
        conn.send(&event("QueueMember").with("ActionID", "other-client-7"))
            .await;
        conn.send(
            &event("QueueStatusComplete")
                .with("ActionID", &id)
                .with("EventList", "Complete")
                .with("ListItems", "2"),
        )
        .await;
        // Asterisk 11 list: no EventList headers at all.
        let a = conn.read_action().await.unwrap();
        let id = a.action_id().unwrap().to_owned();
        conn.send(&reply(&id, "Success").with("Message", "Queue status will follow"))
            .await;
        conn.send(
            &event("QueueParams")
                .with("Queue", "old")
                .with("ActionID", &id),
        )
        .await;
        conn.send(&event("QueueMemberStatus").with("Privilege", "agent,all"))
            .await;
        conn.send(&event("QueueStatusComplete").with("ActionID", &id))
            .await;
        conn.serve_basic().await;
    })
    .await;
    let run = Running::start(config(server.addr, AuthMethod::Plain));
    timeout(LIMIT, run.client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    let mut events = run.client.events();

    let status = run.client.send(Action::new("QueueStatus")).await.unwrap();
    let names: Vec<_> = status.events.iter().map(|e| e.event().unwrap()).collect();
    assert_eq!(names, ["QueueParams", "QueueMember"]);
    assert_eq!(status.events[1].get("Name"), Some("Alice"));
    let complete = status.complete.as_ref().unwrap();
    assert_eq!(complete.event(), Some("QueueStatusComplete"));
    assert_eq!(complete.get("ListItems"), Some("2"));
    assert_eq!(status.message(), Some("Queue status will follow"));

    let old = run.client.send(Action::new("QueueStatus")).await.unwrap();
    assert_eq!(old.events.len(), 1);
    assert_eq!(old.events[0].get("Queue"), Some("old"));
    assert!(old.complete.is_some());

    assert_eq!(next_event(&mut events).await.event(), Some("Newchannel"));
    let foreign = next_event(&mut events).await;
    assert_eq!(foreign.action_id(), Some("other-client-7"));
    assert_eq!(
        next_event(&mut events).await.event(),
        Some("QueueMemberStatus")
    );
    run.stop().await;
}

#[tokio::test]
async fn events_with_our_action_id_after_the_reply_are_broadcast() {
    let server = FakeAmi::start(|mut conn, _| async move {
        if !conn.login().await {
            return;
        }
        let a = conn.read_action().await.unwrap();
        let id = a.action_id().unwrap().to_owned();
        conn.send(&reply(&id, "Success").with("Message", "Originate successfully queued"))
            .await;
        conn.send(
            &event("OriginateResponse")
                .with("Privilege", "call,all")
                .with("ActionID", &id)
                .with("Response", "Success"),
        )
        .await;
        conn.serve_basic().await;
    })
    .await;
    let run = Running::start(config(server.addr, AuthMethod::Plain));
    timeout(LIMIT, run.client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    let mut events = run.client.events();
    let r = run
        .client
        .send(Action::new("Originate").field("Async", "true"))
        .await
        .unwrap();
    let e = next_event(&mut events).await;
    assert_eq!(e.kind(), MessageKind::Event);
    assert_eq!(e.event(), Some("OriginateResponse"));
    assert_eq!(e.action_id(), r.get("ActionID"));
    run.stop().await;
}

#[tokio::test]
async fn command_output_in_both_formats() {
    let server = FakeAmi::start(|mut conn, _| async move {
        if !conn.login().await {
            return;
        }
        let a = conn.read_action().await.unwrap();
        let headers = vec![
            ("Privilege".to_owned(), "Command".to_owned()),
            ("ActionID".to_owned(), a.action_id().unwrap().to_owned()),
        ];
        let lines = vec![
            "sales has 0 calls".to_owned(),
            String::new(),
            "   No Callers".to_owned(),
        ];
        conn.send(&Message::follows(headers, lines)).await;
        let a = conn.read_action().await.unwrap();
        conn.send(
            &reply(a.action_id().unwrap(), "Success")
                .with("Message", "Command output follows")
                .with("Output", "sales has 0 calls")
                .with("Output", "")
                .with("Output", "   No Callers"),
        )
        .await;
        conn.serve_basic().await;
    })
    .await;
    let run = Running::start(config(server.addr, AuthMethod::Plain));
    timeout(LIMIT, run.client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    let show = || Action::new("Command").field("Command", "queue show");
    let old = run.client.send(show()).await.unwrap();
    let new = run.client.send(show()).await.unwrap();
    assert!(old.reply.is_follows());
    assert_eq!(old.output(), ["sales has 0 calls", "", "   No Callers"]);
    assert_eq!(old.output(), new.output());
    run.stop().await;
}

#[tokio::test]
async fn ping_timeout_detects_a_dead_peer_and_reconnects() {
    let server = FakeAmi::start(|mut conn, index| async move {
        if !conn.login().await {
            return;
        }
        if index == 0 {
            conn.stay_silent().await; // socket open, no replies: a hung Asterisk
        } else {
            conn.serve_basic().await;
        }
    })
    .await;
    let mut cfg = config(server.addr, AuthMethod::Plain);
    cfg.ping_interval = Duration::from_millis(100);
    cfg.ping_timeout = Duration::from_millis(500);
    cfg.reconnect_min = Duration::from_millis(600);
    let run = Running::start(cfg);
    let state = wait_state(&run.client, |s| {
        matches!(s, ConnectionState::Disconnected { .. })
    })
    .await;
    assert_eq!(
        state,
        ConnectionState::Disconnected {
            reason: DisconnectReason::PingTimeout
        }
    );
    assert!(server.action_names().contains(&"Ping".to_owned()));
    // Reconnects, and the healthy second server keeps the session up through many pings.
    wait_state(&run.client, |s| {
        matches!(s, ConnectionState::Connected { epoch: 2, .. })
    })
    .await;
    sleep(Duration::from_millis(800)).await;
    assert!(run.client.is_connected());
    assert_eq!(server.connections(), 2);
    run.stop().await;
}

#[tokio::test]
async fn reconnects_after_the_server_closes() {
    let server = FakeAmi::start(|mut conn, index| async move {
        if !conn.login().await {
            return;
        }
        if index == 0 {
            // Read one action, then drop the connection without answering.
            let _ = conn.read_action().await;
        } else {
            conn.serve_basic().await;
        }
    })
    .await;
    let mut cfg = config(server.addr, AuthMethod::Md5);
    cfg.reconnect_min = Duration::from_millis(400);
    let run = Running::start(cfg);
    timeout(LIMIT, run.client.wait_connected())
        .await
        .unwrap()
        .unwrap();

    // The pending action fails when the connection goes away.
    let err = run.client.send(Action::new("Ping")).await.unwrap_err();
    assert!(matches!(err, AmiError::Disconnected), "{err}");
    let state = wait_state(&run.client, |s| !s.is_connected()).await;
    assert!(
        matches!(
            state,
            ConnectionState::Disconnected {
                reason: DisconnectReason::ClosedByPeer
            } | ConnectionState::Connecting
        ),
        "{state:?}"
    );
    // While down, send fails fast.
    if !run.client.is_connected() {
        let err = run.client.send(Action::new("Ping")).await.unwrap_err();
        assert!(matches!(err, AmiError::NotConnected), "{err}");
    }
    wait_state(&run.client, |s| {
        matches!(s, ConnectionState::Connected { epoch: 2, .. })
    })
    .await;
    let pong = run.client.send(Action::new("Ping")).await.unwrap();
    assert_eq!(pong.get("Ping"), Some("Pong"));
    run.stop().await;
}

#[tokio::test]
async fn shutdown_logs_off_cleanly() {
    let server = FakeAmi::start(|mut conn, _| async move {
        if conn.login().await {
            conn.serve_basic().await;
        }
    })
    .await;
    let run = Running::start(config(server.addr, AuthMethod::Plain));
    timeout(LIMIT, run.client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    let client = run.client.clone();
    let mut events = client.events();
    run.stop().await;
    // The event stream ends once the runner is gone (after any events still queued).
    loop {
        match timeout(LIMIT, events.recv())
            .await
            .expect("stream did not end")
        {
            Ok(_) => continue,
            Err(broadcast::error::RecvError::Closed) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(matches!(
        client.events().recv().await,
        Err(broadcast::error::RecvError::Closed)
    ));
    assert_eq!(
        server.action_names().last().map(String::as_str),
        Some("Logoff")
    );
    assert_eq!(
        *client.state().borrow(),
        ConnectionState::Disconnected {
            reason: DisconnectReason::Shutdown
        }
    );
    let err = client.send(Action::new("Ping")).await.unwrap_err();
    assert!(matches!(err, AmiError::Shutdown), "{err}");
}

#[tokio::test]
async fn unreachable_server_is_not_connected() {
    // A loopback port that was just freed: connection refused.
    let addr = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    };
    let run = Running::start(config(addr, AuthMethod::Plain));
    let state = wait_state(&run.client, |s| {
        matches!(s, ConnectionState::Disconnected { .. })
    })
    .await;
    assert!(
        matches!(
            state,
            ConnectionState::Disconnected {
                reason: DisconnectReason::ConnectFailed(_)
            }
        ),
        "{state:?}"
    );
    let err = run.client.send(Action::new("Ping")).await.unwrap_err();
    assert!(matches!(err, AmiError::NotConnected), "{err}");
    run.stop().await;
}

#[tokio::test]
async fn action_timeout_and_late_reply_is_dropped() {
    let server = FakeAmi::start(|mut conn, _| async move {
        if !conn.login().await {
            return;
        }
        let slow = conn.read_action().await.unwrap();
        let ping = conn.read_action().await.unwrap();
        // The late reply to the timed-out action comes first; it must not be taken for the
        // reply to the ping.
        conn.send(&reply(slow.action_id().unwrap(), "Success").with("Message", "late"))
            .await;
        conn.answer_basic(&ping).await;
        conn.serve_basic().await;
    })
    .await;
    let run = Running::start(config(server.addr, AuthMethod::Plain));
    timeout(LIMIT, run.client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    let err = run
        .client
        .send_timeout(Action::new("Slow"), Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(err, AmiError::Timeout(_)), "{err}");
    let pong = run.client.send(Action::new("Ping")).await.unwrap();
    assert_eq!(pong.get("Ping"), Some("Pong"));
    assert!(run.client.is_connected());
    run.stop().await;
}

#[tokio::test]
async fn oversized_event_is_skipped_and_the_session_survives() {
    let server = FakeAmi::start(|mut conn, _| async move {
        if !conn.login().await {
            return;
        }
        let mut huge = event("Huge").with("Privilege", "call,all");
        for i in 0..200 {
            huge.push("ChanVariable", format!("var{i}=0123456789abcdef"));
        }
        conn.send(&huge).await;
        conn.send(&event("Small").with("Privilege", "call,all"))
            .await;
        conn.serve_basic().await;
    })
    .await;
    let mut cfg = config(server.addr, AuthMethod::Plain);
    cfg.max_message_size = 1024;
    let (client, runner) = Client::new(cfg);
    let mut events = client.events(); // subscribed before anything arrives
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(runner.run(shutdown.clone()));
    assert_eq!(next_event(&mut events).await.event(), Some("Small"));
    let pong = client.send(Action::new("Ping")).await.unwrap();
    assert_eq!(pong.get("Ping"), Some("Pong"));
    assert_eq!(server.connections(), 1);
    shutdown.cancel();
    timeout(LIMIT, task).await.unwrap().unwrap();
}

#[tokio::test]
async fn injection_is_refused_before_sending() {
    let server = FakeAmi::start(|mut conn, _| async move {
        if conn.login().await {
            conn.serve_basic().await;
        }
    })
    .await;
    let run = Running::start(config(server.addr, AuthMethod::Plain));
    timeout(LIMIT, run.client.wait_connected())
        .await
        .unwrap()
        .unwrap();
    let evil = Action::new("QueuePause").field("Reason", "x\r\n\r\nAction: Logoff");
    let err = run.client.send(evil).await.unwrap_err();
    assert!(matches!(err, AmiError::Codec(_)), "{err}");
    run.client.send(Action::new("Ping")).await.unwrap();
    assert!(!server.action_names().contains(&"QueuePause".to_owned()));
    assert!(!server.action_names().contains(&"Logoff".to_owned()));
    run.stop().await;
}
