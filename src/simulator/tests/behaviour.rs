//! app_queue behaviour through the control API, observed on a logged-in manager connection:
//! strategies, ringall, autofill, device states, pauses, wrap-up, timeouts, declines, reload,
//! event masks, CLI output, restart, and the demo driver.

use std::time::Duration;

use super::super::{
    CallEnd, CallOptions, CallState, ClockMode, DemoScenario, DeviceState, MemberConfig,
    QueueConfig, SimConfig, SimError, SimHandle, Simulator, Strategy,
};
use super::capture::RawConn;
use crate::ami::Message;

/// 2026-01-01T00:00:00Z.
const START: u64 = 1_767_225_600;

fn pjsip_queue(name: &str, strategy: Strategy, exts: &[&str]) -> QueueConfig {
    let mut q = QueueConfig::new(name).strategy(strategy);
    for e in exts {
        q.members.push(MemberConfig::new(
            format!("PJSIP/{e}"),
            format!("Agent {e}"),
        ));
    }
    q
}

struct Harness {
    sim: SimHandle,
    conn: RawConn,
    barrier: u32,
}

impl Harness {
    async fn new(queues: Vec<QueueConfig>) -> Harness {
        Self::with(SimConfig {
            queues,
            ..SimConfig::default()
        })
        .await
    }

    async fn with(mut cfg: SimConfig) -> Harness {
        cfg.clock = ClockMode::Manual {
            start: Duration::from_secs(START),
        };
        let (user, secret) = (cfg.username.clone(), cfg.secret.clone());
        let sim = Simulator::start(cfg).await.unwrap();
        let mut conn = RawConn::connect(sim.addr()).await;
        conn.send(&format!(
            "Action: Login\r\nActionID: l\r\nUsername: {user}\r\nSecret: {secret}\r\n\r\n"
        ))
        .await;
        conn.until_reply("l").await;
        let mut h = Harness {
            sim,
            conn,
            barrier: 0,
        };
        h.events().await;
        h
    }

    /// Frames received since the last call. A `Ping` is the barrier: its reply is queued
    /// after every event the simulator produced before it, so nothing is missed however slow
    /// the machine.
    async fn events(&mut self) -> Vec<Message> {
        let n = self.conn.frames.len();
        self.barrier += 1;
        let id = format!("barrier-{}", self.barrier);
        self.conn
            .send(&format!("Action: Ping\r\nActionID: {id}\r\n\r\n"))
            .await;
        self.conn.until_reply(&id).await;
        self.conn.frames[n..]
            .iter()
            .filter(|m| m.action_id() != Some(id.as_str()))
            .cloned()
            .collect()
    }

    fn advance(&self, secs: f64) {
        self.sim
            .advance(Duration::from_secs_f64(secs))
            .expect("manual clock");
    }

    /// Sends an action; returns its reply first, then every frame received meanwhile.
    async fn action(&mut self, text: &str, id: &str) -> Vec<Message> {
        self.events().await;
        let n = self.conn.frames.len();
        self.conn.send(text).await;
        self.conn.until_reply(id).await;
        let mut frames = self.conn.frames[n..].to_vec();
        let reply = frames
            .iter()
            .position(|m| m.response().is_some() && m.action_id() == Some(id))
            .expect("reply");
        let r = frames.remove(reply);
        frames.insert(0, r);
        frames
    }
}

fn named<'a>(frames: &'a [Message], name: &str) -> Vec<&'a Message> {
    frames.iter().filter(|m| m.event() == Some(name)).collect()
}

fn called(frames: &[Message]) -> Vec<String> {
    named(frames, "AgentCalled")
        .iter()
        .map(|m| m.get("Interface").unwrap_or("").to_owned())
        .collect()
}

/// Places a call, returns (call, interfaces rung at once).
async fn ring(h: &mut Harness, queue: &str) -> (super::super::CallId, Vec<String>) {
    let call = h.sim.place_call(queue, "13800000000", "客户").unwrap();
    let ev = h.events().await;
    (call, called(&ev))
}

#[tokio::test]
async fn rrmemory_rotates_and_leastrecent_prefers_the_longest_idle() {
    let mut h = Harness::new(vec![
        pjsip_queue("rr", Strategy::RrMemory, &["1001", "1002", "1003"]),
        pjsip_queue("lr", Strategy::LeastRecent, &["2001", "2002"]),
    ])
    .await;
    let mut rung = Vec::new();
    for _ in 0..4 {
        let (call, who) = ring(&mut h, "rr").await;
        assert_eq!(who.len(), 1, "{who:?}");
        h.sim.answer(call, &who[0]).unwrap();
        h.advance(10.0);
        h.sim.hangup_agent(call).unwrap();
        rung.push(who[0].clone());
    }
    assert_ne!(rung[0], rung[1]);
    assert_ne!(rung[1], rung[2]);
    assert_ne!(rung[0], rung[2]);
    assert_eq!(rung[3], rung[0], "round robin wraps: {rung:?}");

    let (c1, w1) = ring(&mut h, "lr").await;
    h.sim.answer(c1, &w1[0]).unwrap();
    h.sim.hangup_agent(c1).unwrap();
    h.advance(5.0);
    let (c2, w2) = ring(&mut h, "lr").await;
    assert_ne!(w2, w1, "the member who just talked is not the least recent");
    h.sim.answer(c2, &w2[0]).unwrap();
    h.sim.hangup_agent(c2).unwrap();
    h.advance(5.0);
    let (_, w3) = ring(&mut h, "lr").await;
    assert_eq!(w3, w1);
}

#[tokio::test]
async fn ringall_rings_everyone_and_cancels_the_others_on_answer() {
    let mut h = Harness::new(vec![pjsip_queue(
        "222",
        Strategy::RingAll,
        &["1001", "1002", "1003"],
    )])
    .await;
    let (call, who) = ring(&mut h, "222").await;
    assert_eq!(who.len(), 3);
    h.sim.answer(call, "PJSIP/1002").unwrap();
    let ev = h.events().await;
    let ends: Vec<_> = named(&ev, "DialEnd")
        .iter()
        .map(|m| {
            (
                m.get("DestChannel")
                    .unwrap()
                    .split('-')
                    .next()
                    .unwrap()
                    .to_owned(),
                m.get("DialStatus").unwrap().to_owned(),
            )
        })
        .collect();
    assert!(ends.contains(&("PJSIP/1002".into(), "ANSWER".into())));
    assert_eq!(ends.iter().filter(|e| e.1 == "CANCEL").count(), 2);
    let names: Vec<_> = ev.iter().filter_map(|m| m.event()).collect();
    let leave = names.iter().position(|n| *n == "QueueCallerLeave").unwrap();
    let connect = names.iter().position(|n| *n == "AgentConnect").unwrap();
    assert!(leave < connect, "QueueCallerLeave precedes AgentConnect");
    assert_eq!(
        h.sim.call_state(call),
        Some(CallState::Talking {
            member: "PJSIP/1002".into()
        })
    );
}

#[tokio::test]
async fn device_states_drive_status_and_who_is_rung() {
    let mut q = pjsip_queue("333", Strategy::RingAll, &["1005"]);
    q.retry = 2;
    let mut h = Harness::new(vec![q]).await;
    h.sim
        .set_device_state("PJSIP/1005", DeviceState::Unavailable);
    let ev = h.events().await;
    assert_eq!(named(&ev, "QueueMemberStatus")[0].get("Status"), Some("5"));
    // Unchanged state: no event (since 16.18).
    h.sim
        .set_device_state("PJSIP/1005", DeviceState::Unavailable);
    assert!(named(&h.events().await, "QueueMemberStatus").is_empty());
    let (call, who) = ring(&mut h, "333").await;
    assert!(who.is_empty(), "an unavailable phone is not rung");
    assert_eq!(
        h.sim.call_state(call),
        Some(CallState::Waiting { position: 1 })
    );
    h.sim.set_device_state("PJSIP/1005", DeviceState::NotInUse);
    h.advance(2.0);
    let ev = h.events().await;
    let statuses: Vec<_> = named(&ev, "QueueMemberStatus")
        .iter()
        .map(|m| m.get("Status").unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["1", "6"], "idle, then ringing");
    assert_eq!(called(&ev), ["PJSIP/1005"]);
    h.sim.answer(call, "PJSIP/1005").unwrap();
    let ev = h.events().await;
    assert_eq!(named(&ev, "QueueMemberStatus")[0].get("Status"), Some("2"));
    h.advance(30.0);
    h.sim.hangup_caller(call).unwrap();
    let ev = h.events().await;
    let done = named(&ev, "AgentComplete")[0];
    assert_eq!(done.get("Reason"), Some("caller"));
    assert_eq!(done.get("TalkTime"), Some("30"));
    let st = named(&ev, "QueueMemberStatus")[0];
    assert_eq!(
        (st.get("Status"), st.get("CallsTaken")),
        (Some("1"), Some("1"))
    );
    assert_eq!(st.get("LastCall"), Some((START + 32).to_string().as_str()));
}

#[tokio::test]
async fn queue_timeout_while_ringing_is_an_abandon_on_ami() {
    let mut q = pjsip_queue("444", Strategy::RingAll, &["1007"]);
    q.entry_timeout = Some(Duration::from_secs(3));
    let mut h = Harness::new(vec![q]).await;
    let (call, who) = ring(&mut h, "444").await;
    assert_eq!(who, ["PJSIP/1007"]);
    h.advance(3.0);
    let ev = h.events().await;
    assert_eq!(
        named(&ev, "AgentRingNoAnswer")[0].get("RingTime"),
        Some("3000")
    );
    let names: Vec<_> = ev.iter().filter_map(|m| m.event()).collect();
    let ab = names
        .iter()
        .position(|n| *n == "QueueCallerAbandon")
        .unwrap();
    let lv = names.iter().position(|n| *n == "QueueCallerLeave").unwrap();
    assert!(ab < lv);
    // Queue() returns to the dialplan: QUEUESTATUS after the leave, and no hang-up request
    // before the abandon (that is what tells a timeout from a caller hanging up).
    let status = ev
        .iter()
        .position(|m| m.event() == Some("VarSet") && m.get("Variable") == Some("QUEUESTATUS"))
        .expect("QUEUESTATUS set");
    assert!(lv < status);
    assert_eq!(ev[status].get("Value"), Some("TIMEOUT"));
    assert!(!names[..ab].contains(&"HangupRequest"));
    assert_eq!(
        named(&ev, "QueueCallerAbandon")[0].get("HoldTime"),
        Some("3")
    );
    assert_eq!(
        h.sim.call_state(call),
        Some(CallState::Ended(CallEnd::TimedOut))
    );
    let log = h.sim.queue_log();
    assert!(
        log.last()
            .unwrap()
            .ends_with("|444|NONE|EXITWITHTIMEOUT|1|1|3"),
        "{log:?}"
    );
    let st = h
        .action("Action: QueueStatus\r\nActionID: s\r\n\r\n", "s")
        .await;
    let params = named(&st, "QueueParams")[0];
    assert_eq!(params.get("Abandoned"), Some("1"));
    assert_eq!(params.get("Calls"), Some("0"));
}

#[tokio::test]
async fn autofill_decides_how_many_callers_ring_at_once() {
    for autofill in [false, true] {
        let mut q = pjsip_queue("222", Strategy::RrMemory, &["1001", "1002"]);
        q.autofill = autofill;
        let mut h = Harness::new(vec![q]).await;
        let (_, first) = ring(&mut h, "222").await;
        let (second_call, second) = ring(&mut h, "222").await;
        assert_eq!(first.len(), 1);
        if autofill {
            // The first caller is ringing (not counted), the second free member takes the
            // second caller.
            assert_eq!(
                second.len(),
                1,
                "a second free member takes the second caller"
            );
            assert_ne!(first, second);
            let (_, third) = ring(&mut h, "222").await;
            assert!(third.is_empty(), "no free member left");
        } else {
            assert!(second.is_empty(), "only the head caller rings");
            assert_eq!(
                h.sim.call_state(second_call),
                Some(CallState::Waiting { position: 2 })
            );
        }
    }
}

#[tokio::test]
async fn pauses_wrapup_and_declines_are_respected() {
    let mut q = pjsip_queue("222", Strategy::Linear, &["1001", "1002"]);
    q.wrapuptime = 10;
    q.retry = 1;
    let mut h = Harness::new(vec![q]).await;
    h.sim.set_paused("PJSIP/1001", None, true, "午休").unwrap();
    let ev = h.events().await;
    let p = named(&ev, "QueueMemberPause")[0];
    assert_eq!(
        (p.get("Paused"), p.get("PausedReason")),
        (Some("1"), Some("午休"))
    );
    let (call, who) = ring(&mut h, "222").await;
    assert_eq!(who, ["PJSIP/1002"], "the paused member is skipped");
    // 1002 declines: rung no more for this attempt; retry rings 1002 again after `retry`.
    h.sim.reject(call, "PJSIP/1002").unwrap();
    let ev = h.events().await;
    assert_eq!(named(&ev, "DialEnd")[0].get("DialStatus"), Some("BUSY"));
    h.advance(1.0);
    assert_eq!(called(&h.events().await), ["PJSIP/1002"]);
    h.sim.answer(call, "PJSIP/1002").unwrap();
    h.sim.hangup_agent(call).unwrap();
    h.sim.set_paused("PJSIP/1001", None, false, "").unwrap();
    h.events().await;
    // 1002 is in wrap-up for 10 s: the next caller gets 1001.
    let (_, who) = ring(&mut h, "222").await;
    assert_eq!(who, ["PJSIP/1001"]);
    assert!(matches!(
        h.sim.answer(super::super::CallId(999), "PJSIP/1001"),
        Err(SimError::NoSuchCall(_))
    ));
}

#[tokio::test]
async fn manager_actions_change_members_and_reload_applies_config() {
    let mut h = Harness::new(vec![pjsip_queue("222", Strategy::RingAll, &["1001"])]).await;
    let r = h
        .action(
            "Action: QueueAdd\r\nActionID: a\r\nQueue: 222\r\nInterface: PJSIP/1009\r\nMemberName: 黄强\r\nPenalty: 2\r\n\r\n",
            "a",
        )
        .await;
    assert_eq!(r[0].get("Message"), Some("Added interface to queue"));
    let r = h
        .action(
            "Action: QueueAdd\r\nActionID: b\r\nQueue: 222\r\nInterface: PJSIP/1009\r\n\r\n",
            "b",
        )
        .await;
    assert_eq!(
        r[0].get("Message"),
        Some("Unable to add interface: Already there")
    );
    let added =
        named(&h.events().await, "QueueMemberAdded").len() + named(&r, "QueueMemberAdded").len();
    assert!(added <= 1);
    let r = h
        .action(
            "Action: QueueRemove\r\nActionID: c\r\nQueue: 222\r\nInterface: PJSIP/1001\r\n\r\n",
            "c",
        )
        .await;
    assert_eq!(r[0].get("Message"), Some("Member not dynamic"));
    let r = h
        .action(
            "Action: QueuePenalty\r\nActionID: d\r\nInterface: PJSIP/1009\r\nPenalty: 4\r\n\r\n",
            "d",
        )
        .await;
    assert_eq!(
        r[0].get("Message"),
        Some("Interface penalty set successfully")
    );
    // queues.conf rewritten: 1001 leaves, 1002 comes, queue 333 appears.
    h.sim.set_queue_config(vec![
        pjsip_queue("222", Strategy::RingAll, &["1002"]),
        pjsip_queue("333", Strategy::Linear, &["1003"]),
    ]);
    let r = h
        .action("Action: QueueReload\r\nActionID: e\r\n\r\n", "e")
        .await;
    assert_eq!(r[0].get("Message"), Some("Queue reloaded successfully"));
    let mut ev = r.clone();
    ev.extend(h.events().await);
    let removed: Vec<_> = named(&ev, "QueueMemberRemoved")
        .iter()
        .map(|m| m.get("Interface").unwrap().to_owned())
        .collect();
    assert_eq!(removed, ["PJSIP/1001"]);
    assert_eq!(named(&ev, "QueueMemberAdded").len(), 2);
    let st = h
        .action("Action: QueueStatus\r\nActionID: s\r\n\r\n", "s")
        .await;
    let members: Vec<_> = named(&st, "QueueMember")
        .iter()
        .map(|m| {
            format!(
                "{}:{}:{}",
                m.get("Queue").unwrap(),
                m.get("Location").unwrap(),
                m.get("Membership").unwrap()
            )
        })
        .collect();
    assert_eq!(members.len(), 3, "{members:?}");
    assert!(members.contains(&"222:PJSIP/1009:dynamic".to_owned()));
    assert!(members.contains(&"222:PJSIP/1002:static".to_owned()));
    assert!(members.contains(&"333:PJSIP/1003:static".to_owned()));
    // Queues in app_queue's hash order: 222 (bucket 28) before 333 (bucket 34).
    assert_eq!(h.sim.queue_names(), ["222", "333"]);
}

#[tokio::test]
async fn event_masks_filter_by_class() {
    let mut h = Harness::new(vec![pjsip_queue("222", Strategy::RingAll, &["1001"])]).await;
    let r = h
        .action(
            "Action: Events\r\nActionID: m\r\nEventMask: agent\r\n\r\n",
            "m",
        )
        .await;
    assert_eq!(r[0].get("Events"), Some("On"));
    let (call, _) = ring(&mut h, "222").await;
    h.sim.answer(call, "PJSIP/1001").unwrap();
    let ev = h.events().await;
    assert!(!ev.is_empty());
    assert!(
        ev.iter().all(|m| m.get("Privilege") == Some("agent,all")),
        "{ev:?}"
    );
    let r = h
        .action(
            "Action: Events\r\nActionID: n\r\nEventMask: off\r\n\r\n",
            "n",
        )
        .await;
    assert_eq!(r[0].get("Events"), Some("Off"));
    h.sim.hangup_agent(call).unwrap();
    assert!(h.events().await.is_empty());
}

#[tokio::test]
async fn cli_commands_and_core_status_describe_the_pbx() {
    let mut q = pjsip_queue("222", Strategy::RingAll, &["1001"]);
    q.members[0].name = "张伟".to_owned();
    let mut h = Harness::new(vec![q]).await;
    h.sim
        .set_paused("PJSIP/1001", Some("222"), true, "会议")
        .unwrap();
    h.advance(75.0);
    let call = h
        .sim
        .place_call_with(
            "222",
            CallOptions {
                patience: Some(Duration::from_secs(600)),
                ..CallOptions::new("13912345678", "王先生")
            },
        )
        .unwrap();
    h.advance(65.0);
    let r = h
        .action(
            "Action: Command\r\nActionID: q\r\nCommand: queue show 222\r\n\r\n",
            "q",
        )
        .await;
    let out: Vec<_> = r[0].get_all("Output").collect();
    assert_eq!(
        out,
        [
            "222 has 1 calls (max unlimited) in 'ringall' strategy (0s holdtime, 0s talktime), W:0, C:0, A:0, SL:0.0%, SL2:0.0% within 0s",
            "   Members: ",
            "      张伟 (PJSIP/1001) (ringinuse disabled) (paused:会议 was 140 secs ago) (Not in use) has taken no calls yet (login was 140 secs ago)",
            "   Callers: ",
            "      1. PJSIP/trunk-00000000 (wait: 1:05, prio: 0)",
            "",
        ]
    );
    let r = h
        .action(
            "Action: Command\r\nActionID: u\r\nCommand: core show uptime\r\n\r\n",
            "u",
        )
        .await;
    let out: Vec<_> = r[0].get_all("Output").collect();
    assert_eq!(
        out,
        [
            "System uptime: 2 minutes, 20 seconds",
            "Last reload: 2 minutes, 20 seconds"
        ]
    );
    let r = h
        .action(
            "Action: Command\r\nActionID: c\r\nCommand: core show channels\r\n\r\n",
            "c",
        )
        .await;
    let out: Vec<_> = r[0].get_all("Output").collect();
    assert_eq!(out.len(), 5, "{out:?}");
    assert!(out[0].starts_with("Channel "));
    assert!(out[1].starts_with("PJSIP/trunk-00000000 "));
    assert!(out[1].contains("222@from-trunk:3"));
    assert!(out[1].contains(" Up "));
    assert_eq!(
        out[2..],
        ["1 active channel", "1 active call", "1 call processed"]
    );
    let r = h
        .action("Action: CoreStatus\r\nActionID: s\r\n\r\n", "s")
        .await;
    assert_eq!(r[0].get("CoreStartupDate"), Some("2026-01-01"));
    assert_eq!(r[0].get("CoreStartupTime"), Some("00:00:00"));
    assert_eq!(r[0].get("CoreCurrentCalls"), Some("1"));
    assert_eq!(r[0].get("CoreProcessedCalls"), Some("1"));
    let r = h
        .action(
            "Action: Command\r\nActionID: v\r\nCommand: core show version\r\n\r\n",
            "v",
        )
        .await;
    assert!(r[0]
        .get("Output")
        .unwrap()
        .starts_with("Asterisk 22.10.1 built by"));
    h.sim.abandon(call).unwrap();
    assert_eq!(
        h.sim.call_state(call),
        Some(CallState::Ended(CallEnd::Abandoned))
    );
}

#[tokio::test]
async fn restart_forgets_calls_counters_and_dynamic_members() {
    let mut h = Harness::new(vec![pjsip_queue("222", Strategy::RingAll, &["1001"])]).await;
    h.action(
        "Action: QueueAdd\r\nActionID: a\r\nQueue: 222\r\nInterface: PJSIP/1002\r\n\r\n",
        "a",
    )
    .await;
    let (call, _) = ring(&mut h, "222").await;
    h.sim.answer(call, "PJSIP/1001").unwrap();
    h.advance(3.0);
    h.sim.restart();
    h.conn.until_eof().await;
    assert_eq!(h.sim.call_state(call), None);
    let mut conn = RawConn::connect(h.sim.addr()).await;
    conn.send("Action: Login\r\nActionID: l\r\nUsername: coocenter\r\nSecret: coocenter-secret\r\nEvents: off\r\n\r\nAction: QueueStatus\r\nActionID: s\r\n\r\n").await;
    conn.until_reply("s").await;
    let members = named(&conn.frames, "QueueMember");
    assert_eq!(members.len(), 1, "the dynamic member is gone");
    assert_eq!(members[0].get("Status"), Some("1"));
    assert_eq!(members[0].get("InCall"), Some("0"));
    assert_eq!(
        named(&conn.frames, "QueueParams")[0].get("Calls"),
        Some("0")
    );
    assert!(h.sim.queue_log().last().unwrap().ends_with("QUEUESTART|"));
}

#[tokio::test]
async fn listens_on_loopback_only() {
    let err = Simulator::start(SimConfig {
        bind: "0.0.0.0:0".parse().unwrap(),
        ..SimConfig::default()
    })
    .await
    .unwrap_err();
    assert!(matches!(err, SimError::NotLoopback(_)));
}

#[tokio::test]
async fn demo_scenario_is_lively_and_seeded() {
    let mut demo = DemoScenario::standard(7);
    // Faster than the real demo so the test takes two seconds.
    demo.arrival_gap = Duration::from_millis(50)..=Duration::from_millis(150);
    demo.answer_after = Duration::from_millis(50)..=Duration::from_millis(200);
    demo.talk = Duration::from_millis(100)..=Duration::from_millis(400);
    demo.patience = Duration::from_millis(300)..=Duration::from_millis(1500);
    demo.pause_gap = Duration::from_millis(100)..=Duration::from_millis(300);
    demo.pause_length = Duration::from_millis(200)..=Duration::from_millis(500);
    let cfg = demo.sim_config(SimConfig::default());
    assert_eq!(cfg.queues.len(), 3);
    assert_eq!(cfg.queues[0].members[0].name, "张伟");
    let sim = Simulator::start(cfg).await.unwrap();
    let mut conn = RawConn::connect(sim.addr()).await;
    conn.send(
        "Action: Login\r\nActionID: l\r\nUsername: coocenter\r\nSecret: coocenter-secret\r\n\r\n",
    )
    .await;
    conn.until_reply("l").await;
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(demo.run(sim.clone(), stop.clone()));
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.cancel();
    task.await.unwrap();
    conn.drain(Duration::from_millis(100)).await;
    let count = |n: &str| named(&conn.frames, n).len();
    assert!(
        count("QueueCallerJoin") >= 5,
        "{}",
        count("QueueCallerJoin")
    );
    assert!(count("AgentCalled") >= 3);
    assert!(count("AgentConnect") >= 1);
    assert!(count("QueueMemberPause") + count("QueueMemberStatus") >= 1);
    assert!(named(&conn.frames, "AgentCalled").iter().all(|m| m
        .get("MemberName")
        .unwrap()
        .chars()
        .all(|c| !c.is_ascii())));
    sim.shutdown();
}

#[tokio::test]
async fn a_caller_hanging_up_is_a_hangup_request_then_an_abandon() {
    let q = pjsip_queue("222", Strategy::RingAll, &["1001"]);
    let mut h = Harness::new(vec![q]).await;
    let (call, _) = ring(&mut h, "222").await;
    h.advance(2.0);
    h.sim.hangup_caller(call).unwrap();
    let ev = h.events().await;
    let names: Vec<_> = ev.iter().filter_map(|m| m.event()).collect();
    let request = names
        .iter()
        .position(|n| *n == "HangupRequest")
        .expect("HangupRequest");
    let abandon = names
        .iter()
        .position(|n| *n == "QueueCallerAbandon")
        .expect("abandon");
    assert!(request < abandon, "{names:?}");
    assert_eq!(ev[request].get("Cause"), Some("16"));
    assert_eq!(ev[request].get("Uniqueid"), ev[abandon].get("Uniqueid"));
    assert!(!ev.iter().any(|m| m.get("Variable") == Some("QUEUESTATUS")));
    assert_eq!(
        h.sim.call_state(call),
        Some(CallState::Ended(CallEnd::Abandoned))
    );
}

#[tokio::test]
async fn astdb_reload_and_user_events_answer_like_manager_c() {
    let mut h = Harness::new(vec![pjsip_queue("222", Strategy::RingAll, &["1001"])]).await;
    let fields = |m: &Message| -> Vec<(String, String)> { m.fields().to_vec() };
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());

    let r = h
        .action("Action: DBPut\r\nActionID: p\r\nFamily: coocenter_agent\r\nKey: 13800000000\r\nVal: PJSIP/1001\r\n\r\n", "p")
        .await;
    assert_eq!(
        fields(&r[0]),
        [
            pair("Response", "Success"),
            pair("ActionID", "p"),
            pair("Message", "Updated database successfully")
        ]
    );
    assert_eq!(
        h.sim.db_get("coocenter_agent", "13800000000").as_deref(),
        Some("PJSIP/1001")
    );
    let r = h
        .action("Action: DBPut\r\nActionID: q\r\nKey: x\r\n\r\n", "q")
        .await;
    assert_eq!(r[0].get("Message"), Some("No family specified."));
    let r = h
        .action(
            "Action: DBGet\r\nActionID: g\r\nFamily: coocenter_agent\r\nKey: 13800000000\r\n\r\n",
            "g",
        )
        .await;
    assert_eq!(r[0].get("EventList"), Some("start"));
    assert_eq!(named(&r, "DBGetResponse")[0].get("Val"), Some("PJSIP/1001"));
    let r = h
        .action(
            "Action: DBDel\r\nActionID: d\r\nFamily: coocenter_agent\r\nKey: 13800000000\r\n\r\n",
            "d",
        )
        .await;
    assert_eq!(r[0].get("Message"), Some("Key deleted successfully"));
    let r = h
        .action(
            "Action: DBDel\r\nActionID: e\r\nFamily: coocenter_agent\r\nKey: 13800000000\r\n\r\n",
            "e",
        )
        .await;
    assert_eq!(
        (r[0].response(), r[0].get("Message")),
        (Some("Error"), Some("Database entry not found"))
    );
    h.action(
        "Action: DBPut\r\nActionID: p2\r\nFamily: coocenter_job\r\nKey: 1001\r\nVal: 8001\r\n\r\n",
        "p2",
    )
    .await;
    let r = h
        .action(
            "Action: DBDelTree\r\nActionID: t\r\nFamily: coocenter_job\r\n\r\n",
            "t",
        )
        .await;
    assert_eq!(r[0].get("Message"), Some("Key tree deleted successfully"));
    assert!(h.sim.db_entries().is_empty());

    let r = h
        .action(
            "Action: Reload\r\nActionID: r\r\nModule: pbx_config\r\n\r\n",
            "r",
        )
        .await;
    assert_eq!(
        (r[0].response(), r[0].get("Message")),
        (Some("Success"), Some("Module Reloaded"))
    );
    assert_eq!(h.sim.dialplan_reloads(), 1);
    let r = h
        .action(
            "Action: Reload\r\nActionID: r2\r\nModule: no_such_thing\r\n\r\n",
            "r2",
        )
        .await;
    assert_eq!(
        (r[0].response(), r[0].get("Message")),
        (Some("Error"), Some("No such module"))
    );

    let r = h
        .action(
            "Action: UserEvent\r\nActionID: u\r\nUserEvent: Hello\r\nFoo: bar\r\n\r\n",
            "u",
        )
        .await;
    assert_eq!(r[0].get("Message"), Some("Event Sent"));
    let mut r = r;
    r.extend(h.events().await);
    let user = named(&r, "UserEvent");
    assert_eq!(
        fields(user[0]),
        [
            pair("Event", "UserEvent"),
            pair("Privilege", "user,all"),
            pair("UserEvent", "Hello"),
            pair("ActionID", "u"),
            pair("Foo", "bar"),
        ]
    );

    // The survey: after the agent hangs up, the caller channel raises the score.
    let (call, who) = ring(&mut h, "222").await;
    h.sim.answer(call, &who[0]).unwrap();
    h.sim.answer_survey(call, 4);
    h.events().await;
    h.sim.hangup_agent(call).unwrap();
    let ev = h.events().await;
    let names: Vec<&str> = ev.iter().filter_map(|m| m.event()).collect();
    let survey_at = names
        .iter()
        .position(|n| *n == "UserEvent")
        .expect("survey event");
    let complete_at = names.iter().position(|n| *n == "AgentComplete").unwrap();
    let caller_uid = named(&ev, "AgentComplete")[0]
        .get("Uniqueid")
        .unwrap()
        .to_string();
    let caller_hangup = ev
        .iter()
        .position(|m| m.event() == Some("Hangup") && m.get("Uniqueid") == Some(caller_uid.as_str()))
        .unwrap();
    assert!(
        complete_at < survey_at && survey_at < caller_hangup,
        "{names:?}"
    );
    let survey = &ev[survey_at];
    assert_eq!(survey.get("Privilege"), Some("user,all"));
    assert_eq!(survey.get("Uniqueid"), Some(caller_uid.as_str()));
    assert_eq!(survey.get("Context"), Some("coocenter-survey"));
    let tail: Vec<_> = survey
        .fields()
        .iter()
        .rev()
        .take(4)
        .rev()
        .cloned()
        .collect();
    assert_eq!(
        tail,
        [
            pair("UserEvent", "CooCenterSurvey"),
            pair("Queue", "222"),
            pair("Agent", ""),
            pair("Score", "4")
        ]
    );
}

#[tokio::test]
async fn an_agent_dials_out_through_the_trunk() {
    let mut h = Harness::new(vec![pjsip_queue("222", Strategy::RingAll, &["1001"])]).await;
    let call = h.sim.outbound_call("PJSIP/1001", "02088886666").unwrap();
    let ev = h.events().await;
    let begin = named(&ev, "DialBegin");
    assert_eq!(begin.len(), 1);
    assert!(begin[0].get("Channel").unwrap().starts_with("PJSIP/1001-"));
    assert!(begin[0]
        .get("DestChannel")
        .unwrap()
        .starts_with("PJSIP/trunk-"));
    assert_eq!(begin[0].get("DialString"), Some("02088886666@trunk"));
    assert_eq!(begin[0].get("Exten"), Some("02088886666"));
    let status: Vec<_> = named(&ev, "QueueMemberStatus")
        .iter()
        .map(|m| m.get("Status").unwrap_or("").to_string())
        .collect();
    assert_eq!(status, ["2"], "the agent's phone is in use");
    h.sim.outbound_answer(call).unwrap();
    let ev = h.events().await;
    let end = named(&ev, "DialEnd");
    assert_eq!(end[0].get("DialStatus"), Some("ANSWER"));
    assert_eq!(end[0].get("Uniqueid"), begin[0].get("Uniqueid"));
    assert!(h.sim.outbound_answer(call).is_err());
    h.sim.outbound_hangup(call).unwrap();
    let ev = h.events().await;
    assert_eq!(named(&ev, "Hangup").len(), 2);
    assert!(h.sim.outbound_hangup(call).is_err());
    assert!(h.sim.outbound_call("PJSIP/1001", "not-a-number").is_err());
}
