//! `session0-errors` of the capture, byte for byte: `Ping` before login answers
//! `Permission denied`; a wrong secret answers `Authentication failed` one second later and the
//! server closes the connection.

use std::time::{Duration, Instant};

use super::super::{SimConfig, Simulator};
use super::capture::{self, split_actions, RawConn};

#[tokio::test]
async fn session0_errors_are_reproduced_byte_for_byte() {
    let sim = Simulator::start(SimConfig {
        username: "replay".to_owned(),
        secret: "replay-secret".to_owned(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let client = String::from_utf8(capture::read("ami/session0-errors.client.raw")).unwrap();
    let want = capture::read("ami/session0-errors.server.raw");
    let mut conn = RawConn::connect(sim.addr()).await;
    assert!(conn.read_frame(Duration::from_secs(5)).await);
    let started = Instant::now();
    for block in split_actions(&client) {
        conn.send(&block).await;
    }
    conn.until_eof().await;
    // Asterisk sleeps one second before refusing a login (manager.c action_login()).
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(
        String::from_utf8_lossy(&conn.bytes),
        String::from_utf8_lossy(&want)
    );
    assert_eq!(conn.bytes, want);
    // Both actions were recorded, secrets included (tests may check what was sent).
    let actions = sim.received_actions();
    assert_eq!(actions.len(), 2);
    assert_eq!(actions[1].get("Secret"), Some("wrong-secret"));
    sim.shutdown();
}

#[tokio::test]
async fn other_error_replies_use_asterisks_words() {
    let sim = Simulator::start(SimConfig {
        username: "u".to_owned(),
        secret: "s".to_owned(),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let mut c = RawConn::connect(sim.addr()).await;
    assert!(c.read_frame(Duration::from_secs(5)).await);
    let script = [
        ("ActionID: 1\r\nQueue: x\r\n\r\n", "Response: Error\r\nActionID: 1\r\nMessage: Missing action in request\r\n\r\n"),
        ("Action: Challenge\r\nActionID: 2\r\nAuthType: plain\r\n\r\n", "Response: Error\r\nActionID: 2\r\nMessage: Must specify AuthType\r\n\r\n"),
        ("Action: Login\r\nActionID: 3\r\nUsername: u\r\nSecret: s\r\nEvents: off\r\n\r\n", "Response: Success\r\nActionID: 3\r\nMessage: Authentication accepted\r\n\r\n"),
        ("Action: Login\r\nActionID: 4\r\nUsername: u\r\nSecret: s\r\n\r\n", "Response: Success\r\nActionID: 4\r\nMessage: Already authenticated\r\n\r\n"),
        ("Action: FooBarBaz\r\nActionID: 5\r\n\r\n", "Response: Error\r\nActionID: 5\r\nMessage: Invalid/unknown command: FooBarBaz. Use Action: ListCommands to show available commands.\r\n\r\n"),
        ("Action: Events\r\nActionID: 6\r\nEventMask: \r\n\r\n", "Response: Error\r\nActionID: 6\r\nMessage: Invalid event mask\r\n\r\n"),
        ("Action: QueuePause\r\nActionID: 7\r\nInterface: PJSIP/9\r\n\r\n", "Response: Error\r\nActionID: 7\r\nMessage: Need 'Interface' and 'Paused' parameters.\r\n\r\n"),
        ("Action: QueuePause\r\nActionID: 8\r\nInterface: PJSIP/9\r\nPaused: yes\r\n\r\n", "Response: Error\r\nActionID: 8\r\nMessage: Interface not found\r\n\r\n"),
        ("Action: QueueAdd\r\nActionID: 9\r\nInterface: PJSIP/9\r\n\r\n", "Response: Error\r\nActionID: 9\r\nMessage: 'Queue' not specified.\r\n\r\n"),
        ("Action: QueueAdd\r\nActionID: 10\r\nQueue: nope\r\nInterface: PJSIP/9\r\n\r\n", "Response: Error\r\nActionID: 10\r\nMessage: Unable to add interface to queue: No such queue\r\n\r\n"),
        ("Action: QueueRemove\r\nActionID: 11\r\nQueue: nope\r\n\r\n", "Response: Error\r\nActionID: 11\r\nMessage: Need 'Queue' and 'Interface' parameters.\r\n\r\n"),
        ("Action: QueuePenalty\r\nActionID: 12\r\nInterface: PJSIP/9\r\nPenalty: 1\r\n\r\n", "Response: Error\r\nActionID: 12\r\nMessage: Invalid interface, queuename or penalty\r\n\r\n"),
        ("Action: Command\r\nActionID: 13\r\n\r\n", "Response: Error\r\nActionID: 13\r\nMessage: No command provided\r\n\r\n"),
        ("Action: Command\r\nActionID: 14\r\nCommand: queue show nope\r\n\r\n", "Response: Success\r\nActionID: 14\r\nMessage: Command output follows\r\nOutput: No such queue: nope.\r\n\r\n"),
        ("Action: Originate\r\nActionID: 15\r\n\r\n", "Response: Error\r\nActionID: 15\r\nMessage: Channel not specified\r\n\r\n"),
        ("Action: Ping\r\n\r\n", "Response: Success\r\nPing: Pong\r\nTimestamp: "),
        ("Action: Logoff\r\nActionID: 16\r\n\r\n", "Response: Goodbye\r\nActionID: 16\r\nMessage: Thanks for all the fish.\r\n\r\n"),
    ];
    let mut expected = Vec::new();
    for (action, reply) in script {
        c.send(action).await;
        expected.push(reply);
    }
    c.until_eof().await;
    let got = String::from_utf8(c.bytes.clone()).unwrap();
    let mut rest = got
        .strip_prefix("Asterisk Call Manager/11.0.0\r\n")
        .expect("banner");
    for want in expected {
        assert!(rest.starts_with(want), "expected {want:?}, got {rest:?}");
        rest = &rest[want.len()..];
        if want.ends_with("Timestamp: ") {
            // Ping without ActionID: `<sec>.<usec>` then the end of the block.
            let (ts, after) = rest.split_once("\r\n\r\n").unwrap();
            let (sec, usec) = ts.split_once('.').unwrap();
            assert!(sec.len() >= 10 && usec.len() == 6, "{ts}");
            rest = after;
        }
    }
    assert!(rest.is_empty(), "{rest:?}");
    sim.shutdown();
}
