//! Replay tests: the byte-exact Asterisk 22.10.1 capture in `../shared/ami-traces/` fed
//! through our codec, the live model and the call tracker, ending with exactly the figures of
//! its SCENARIO.md, and with the timeout told apart from the abandons as its queue_log does.

use std::collections::HashMap;

use bytes::BytesMut;
use coocenterd::ami::{AmiCodec, Message, MessageKind};
use coocenterd::pbx::calls::{CallTracker, CallUpdate, Outcome};
use coocenterd::pbx::model::{AgentStatus, LiveModel};
use tokio_util::codec::Decoder;

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/ami-traces/asterisk-22.10.1-queue-scenario/ami/session1-main.server.raw"
);

fn decode_all(bytes: &[u8]) -> Vec<Message> {
    let mut codec = AmiCodec::new();
    let mut buffer = BytesMut::from(bytes);
    let mut messages = vec![];
    while let Some(message) = codec.decode(&mut buffer).expect("capture decodes") {
        messages.push(message);
    }
    assert!(buffer.is_empty(), "{} bytes left over", buffer.len());
    messages
}

/// The messages of the capture's QueueStatus answer with this ActionID.
fn list_items<'a>(messages: &'a [Message], action_id: &str) -> Vec<&'a Message> {
    messages
        .iter()
        .filter(|m| m.kind() == MessageKind::Event && m.action_id() == Some(action_id))
        .filter(|m| {
            matches!(
                m.event(),
                Some("QueueParams" | "QueueMember" | "QueueEntry")
            )
        })
        .collect()
}

struct Replayed {
    model: LiveModel,
    outcomes: HashMap<String, (String, Outcome, Option<i64>, Option<i64>)>,
    answered_by: HashMap<String, String>,
    messages: Vec<Message>,
}

/// Plays the capture as the daemon does: the model is rebuilt from the first QueueStatus
/// answer, then kept current from the asynchronous events (list items carry no Privilege and
/// an ActionID, and are not fed as events).
fn replay() -> Replayed {
    let messages = decode_all(&std::fs::read(CAPTURE).unwrap());
    let now = 1_795_665_600_000i64;
    let mut model = LiveModel::default();
    let mut tracker = CallTracker::default();
    let mut outcomes = HashMap::new();
    let mut answered_by = HashMap::new();
    let mut rebuilt = false;
    let mut clock_ms = 1_795_665_600_000i64;
    for message in &messages {
        clock_ms += 10;
        if message.kind() != MessageKind::Event {
            continue;
        }
        if message.event() == Some("QueueStatusComplete") && !rebuilt {
            let id = message.action_id().unwrap().to_string();
            let items: Vec<Message> = list_items(&messages, &id).into_iter().cloned().collect();
            model.rebuild(&items, now);
            rebuilt = true;
            continue;
        }
        if !message.contains("Privilege") {
            continue; // a list item of some action's answer
        }
        for update in tracker.apply(message, clock_ms) {
            match update {
                CallUpdate::Ended {
                    uniqueid,
                    queue,
                    outcome,
                    hold_seconds,
                    talk_seconds,
                    ..
                } => {
                    outcomes.insert(uniqueid, (queue, outcome, hold_seconds, talk_seconds));
                }
                CallUpdate::Answered {
                    uniqueid,
                    agent_name,
                    ..
                } => {
                    answered_by.insert(uniqueid, agent_name);
                }
                CallUpdate::Joined { .. } => {}
            }
        }
        model.apply(message, now);
    }
    assert!(rebuilt, "the capture has a QueueStatus answer");
    Replayed {
        model,
        outcomes,
        answered_by,
        messages,
    }
}

#[test]
fn live_model_ends_with_the_scenarios_figures() {
    let Replayed { model, .. } = replay();
    let sales = &model.queues["sales"];
    assert_eq!((sales.completed, sales.abandoned), (3, 3));
    assert_eq!(sales.strategy, "linear");
    assert!(sales.callers.is_empty());
    let member = |name: &str| sales.members.values().find(|m| m.name == name).unwrap();
    assert_eq!(member("Bob").calls_taken, 0);
    assert_eq!(member("Bob").penalty, 5);
    assert_eq!(member("Alice").calls_taken, 2);
    assert_eq!(member("Carol").calls_taken, 1);
    for name in ["Bob", "Alice", "Carol"] {
        assert!(!member(name).paused, "{name} ends unpaused");
        assert_eq!(member(name).status(), AgentStatus::Idle, "{name}");
        assert!(member(name).ringing_for.is_none(), "{name}");
    }
    let support = &model.queues["support"];
    assert_eq!((support.completed, support.abandoned), (1, 1));
    assert_eq!(support.strategy, "leastrecent");
    assert!(
        support.members.is_empty(),
        "Dave was removed after his call"
    );
}

#[test]
fn live_model_agrees_with_asterisks_final_queue_status() {
    let Replayed {
        model, messages, ..
    } = replay();
    let items: Vec<Message> = list_items(&messages, "qstatus-final")
        .into_iter()
        .cloned()
        .collect();
    assert!(!items.is_empty());
    let mut truth = LiveModel::default();
    truth.rebuild(&items, 0);
    for (name, queue) in &truth.queues {
        let ours = &model.queues[name];
        assert_eq!(
            (ours.completed, ours.abandoned),
            (queue.completed, queue.abandoned),
            "{name}"
        );
        assert_eq!(ours.callers.len(), queue.callers.len(), "{name}");
        for (interface, member) in &queue.members {
            let mine = &ours.members[interface];
            assert_eq!(
                (
                    mine.calls_taken,
                    mine.penalty,
                    mine.paused,
                    mine.device_state
                ),
                (
                    member.calls_taken,
                    member.penalty,
                    member.paused,
                    member.device_state
                ),
                "{name} {interface}"
            );
        }
        assert_eq!(ours.members.len(), queue.members.len(), "{name}");
    }
}

#[test]
fn pauses_and_reasons_follow_the_scenario() {
    let messages = decode_all(&std::fs::read(CAPTURE).unwrap());
    let now = 1_795_665_600_000i64;
    let mut model = LiveModel::default();
    let mut seen = vec![];
    for message in messages.iter().filter(|m| m.contains("Privilege")) {
        model.apply(message, now);
        if message.event() == Some("QueueMemberPause") {
            let queue = message.get("Queue").unwrap();
            let interface = message.get("Interface").unwrap();
            let member = &model.queues[queue].members[interface];
            seen.push((
                member.name.clone(),
                member.paused,
                member.pause_reason.clone(),
            ));
        }
    }
    let expected = [
        ("Carol", true, "Lunch"),
        ("Alice", true, "Break"),
        ("Carol", false, ""),
        ("Alice", false, ""),
        ("Dave", false, ""),
        ("Bob", true, "Meeting"),
        ("Bob", false, ""),
    ];
    let seen: Vec<(&str, bool, &str)> = seen
        .iter()
        .map(|(n, p, r)| (n.as_str(), *p, r.as_str()))
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn outcomes_tell_the_timeout_from_the_abandons_as_queue_log_does() {
    let Replayed {
        outcomes,
        answered_by,
        ..
    } = replay();
    let expect = [
        ("1795665603.1", "sales", Outcome::Answered, Some(8), Some(7)),
        ("1795665626.7", "sales", Outcome::Abandoned, Some(4), None),
        ("1795665626.9", "sales", Outcome::Abandoned, Some(5), None),
        ("1795665627.13", "sales", Outcome::Abandoned, Some(8), None),
        ("1795665637.19", "support", Outcome::Timeout, Some(8), None),
        (
            "1795665649.21",
            "sales",
            Outcome::Answered,
            Some(2),
            Some(2),
        ),
        (
            "1795665650.23",
            "sales",
            Outcome::Answered,
            Some(3),
            Some(9),
        ),
        (
            "1795665666.29",
            "support",
            Outcome::Answered,
            Some(1),
            Some(3),
        ),
    ];
    assert_eq!(outcomes.len(), expect.len(), "{outcomes:?}");
    for (uid, queue, outcome, hold, talk) in expect {
        assert_eq!(
            outcomes[uid],
            (queue.to_string(), outcome, hold, talk),
            "call {uid}"
        );
    }
    assert_eq!(answered_by["1795665603.1"], "Alice");
    assert_eq!(answered_by["1795665650.23"], "Carol");
    assert_eq!(answered_by["1795665666.29"], "Dave");

    // queue_log says the same: ABANDON ×3, EXITWITHTIMEOUT ×1, CONNECT ×4.
    let queue_log = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/ami-traces/asterisk-22.10.1-queue-scenario/log/queue_log"
    ))
    .unwrap();
    let verb = |v: &str| {
        queue_log
            .lines()
            .filter(|l| l.split('|').nth(4) == Some(v))
            .count()
    };
    let count = |o: Outcome| outcomes.values().filter(|(_, x, _, _)| *x == o).count();
    assert_eq!(count(Outcome::Abandoned), verb("ABANDON"));
    assert_eq!(count(Outcome::Timeout), verb("EXITWITHTIMEOUT"));
    assert_eq!(count(Outcome::Answered), verb("CONNECT"));
}

/// The events of a log of the console-driven runs on a real 22.10.1
/// (`asterisk-22.10.1-console-driven/`, `--- HH:MM:SS.mmm` before each block), in order.
fn logged_events(name: &str) -> Vec<(i64, Message)> {
    let path = format!(
        "{}/../shared/ami-traces/asterisk-22.10.1-console-driven/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut events = vec![];
    let mut at = 0i64;
    let mut block: Option<Message> = None;
    let mut flush = |block: &mut Option<Message>, at: i64| {
        if let Some(m) = block.take() {
            if m.event().is_some() {
                events.push((at, m));
            }
        }
    };
    for line in text.lines() {
        if let Some(stamp) = line.strip_prefix("--- ") {
            flush(&mut block, at);
            // HH:MM:SS.mmm → milliseconds of the day, enough to order and to time calls.
            let parts: Vec<f64> = stamp
                .split(':')
                .filter_map(|p| p.trim().parse().ok())
                .collect();
            if parts.len() == 3 {
                at = ((parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]) * 1000.0) as i64;
            }
            continue;
        }
        if line.starts_with("### ") || line.trim().is_empty() {
            flush(&mut block, at);
            continue;
        }
        if let Some((key, value)) = line
            .split_once(": ")
            .or_else(|| line.strip_suffix(':').map(|k| (k, "")))
        {
            block
                .get_or_insert_with(|| Message::new(MessageKind::Event))
                .push(key, value);
        }
    }
    flush(&mut block, at);
    events
}

/// Issue 16: in a burst of calls into two queues the console once kept a call answered and
/// never ended while Asterisk's queue_log had COMPLETEAGENT for it. Every call Asterisk
/// completed in these real runs ends answered in the tracker, in its queue.
#[test]
fn every_call_asterisk_completed_in_the_real_runs_ends_answered() {
    for log in [
        "ami-events-console-driven.log",
        "ami-events-checker-run.log",
    ] {
        let events = logged_events(log);
        let mut tracker = CallTracker::default();
        let mut ended: HashMap<String, (String, Outcome)> = HashMap::new();
        let mut completed: HashMap<String, String> = HashMap::new();
        for (at, event) in &events {
            if event.event() == Some("AgentComplete") {
                completed.insert(
                    event.get("Uniqueid").unwrap().to_string(),
                    event.get("Queue").unwrap().to_string(),
                );
            }
            for update in tracker.apply(event, *at) {
                if let CallUpdate::Ended {
                    uniqueid,
                    queue,
                    outcome,
                    ..
                } = update
                {
                    assert!(
                        ended.insert(uniqueid.clone(), (queue, outcome)).is_none(),
                        "{log}: {uniqueid} ended twice"
                    );
                }
            }
        }
        assert!(!completed.is_empty(), "{log} has completed calls");
        for (uniqueid, queue) in &completed {
            assert_eq!(
                ended.get(uniqueid),
                Some(&(queue.clone(), Outcome::Answered)),
                "{log}: {uniqueid}"
            );
        }
        assert_eq!(tracker.in_progress(), 0, "{log}: calls left open");
    }
}
