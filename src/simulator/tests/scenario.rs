//! The key test: the scenario of the real Asterisk 22.10.1 capture
//! (`ami-traces/asterisk-22.10.1-queue-scenario/`) played against the simulator, and the two
//! server streams compared.
//!
//! # How it is played
//!
//! The simulator gets the capture's configuration (`etc-asterisk/queues.conf`: `sales`
//! linear with Bob/Alice/Carol as `Local/20X@agents/n`, `support` leastrecent; manager user
//! `replay`) and a manual clock set to the capture's first byte, so every time-derived figure
//! (uniqueid seconds, HoldTime, TalkTime, LastCall, LoginTime, Wait, `queue show`'s "secs ago")
//! is computed from the same instants. Both client sessions (`session1-main`,
//! `session2-eventsoff`) send the captured client bytes at their captured times
//! (`*.timeline.jsonl`); the clock is advanced to each send time first, firing the
//! simulator's timers on the way. Calls are the captured `Originate`s of
//! `Local/<queue>@queue-entry` (the `;1` half runs `caller,hold<N>`: the caller hangs up after N
//! s); the agents behave as the capture's `[agents]` dialplan did, measured on the wire:
//! Bob never answers, Alice answers 2 s after being rung and hangs up 6.5 s after answering
//! (`Wait(6)` after `Answer()`'s 500 ms media wait), Carol answers after 1 s and stays, Dave
//! answers after 1 s and hangs up 3.5 s later. The voicemail part of the capture
//! (`orig-vm1/2`, `MailboxCount`, `MailboxStatus`, `VoicemailUsersList`) is not sent: the
//! simulator has no voicemail.
//!
//! # What is compared
//!
//! The capture's frames minus what the simulator does not simulate (listed in [`skipped`]):
//! events `Newexten`, `NewCallerid`, `NewConnectedLine`, `LocalBridge`, `HangupRequest`,
//! `SoftHangupRequest`, `Cdr`, `VarSet` other than `MIXMONITOR_FILENAME`, and everything of
//! the voicemail calls; the same are dropped from the simulator's stream (it sends
//! `HangupRequest` for a queued caller who hangs up and `VarSet QUEUESTATUS` after a queue
//! timeout, checked in `behaviour.rs`). Then, after [`normalize`]:
//!
//! 1. the set of event names and response kinds is the same;
//! 2. field NAMES and their ORDER are identical for every event type and every reply (each
//!    simulator frame has one of the name lists the capture has for that type);
//! 3. every reply (matched by ActionID) is identical field by field, list replies included
//!    (`EventList`, every item in order with all values, `…Complete`, `ListItems`), and so is
//!    the `Command` output of `queue show` and `core show version`;
//! 4. per call (grouped by Linkedid), the sequence of events with channel roles is identical,
//!    and each event is identical field by field;
//! 5. per member, the sequence of `QueueMember*` events (status changes, pauses, penalty,
//!    added/removed) is identical field by field;
//! 6. the queue_log of the simulator equals `log/queue_log` line by line (`RINGCANCELED`'s
//!    milliseconds within 10 ms, see [`queue_log_matches`]);
//! 7. the session events (`FullyBooted` with its `Uptime`, `SuccessfulAuth` of both logins,
//!    `RequestBadFormat` of the unknown and the missing action) are identical, in order;
//! 8. the banner is byte-exact, and both streams have the same number of frames.
//!
//! # What is normalized, and why
//!
//! Values that are not the simulator's to reproduce, or that Asterisk itself does not produce
//! deterministically:
//!
//! * `Uniqueid`, `Linkedid`, `DestUniqueid`, `DestLinkedid` → `U<n>` by first appearance, and
//!   the channel-name suffix `-%08x` → `-C<n>`: they count every channel Asterisk created,
//!   including ones the capture made for voicemail; only their identity matters. (They turn
//!   out equal anyway; the mapping keeps the test honest if the counters ever drift.)
//! * `BridgeUniqueid` → `B<n>`: a random UUID.
//! * `EventTV`, `SessionTV` → `<tv>`, `SessionID` → `<session>`, the port of `LocalAddress` and
//!   `RemoteAddress` → `<port>`: wall-clock milliseconds, a C pointer, ephemeral ports.
//! * `Ping`'s `Timestamp` → `<timestamp>`: microseconds of processing time.
//! * `InCall` of `QueueMemberStatus`: Asterisk publishes the device-state change and sets the
//!   member's in-call flag from two threads; the capture shows `InCall: 0` at three connects
//!   and `1` at the fourth for the same situation (QUEUE-EVENTS.md §7). The simulator always
//!   sends 0 there.
//!
//! Ordering between events of *different* channels that Asterisk emits from different threads
//! (e.g. whether `QueueMemberStatus` comes before or after `AgentConnect`, or which half of a
//! Local pair hangs up first) is not compared across calls: step 4 compares each call's own
//! sequence and step 5 each member's, which is where order carries meaning.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, UNIX_EPOCH};

use super::super::{
    ClockMode, MemberBehavior, MemberConfig, QueueConfig, SimConfig, SimHandle, Simulator, Strategy,
};
use super::capture::{self, block_action_id, split_actions, RawConn};
use crate::ami::{Message, MessageKind};

/// First byte of session1 (the banner), 2026-11-26T03:59:58.871661Z.
const T0: u64 = 1_795_665_598_871_661;

/// Actions of the capture that belong to its voicemail part.
const VOICEMAIL_ACTIONS: [&str; 5] = [
    "orig-vm1",
    "orig-vm2",
    "mbcount-1000",
    "mbstatus-1001",
    "vmusers-1",
];

/// The capture's configuration (etc-asterisk/*.conf) as a SimConfig.
pub fn capture_config() -> SimConfig {
    let local = |ext: &str, name: &str| MemberConfig {
        interface: format!("Local/{ext}@agents/n"),
        name: name.to_owned(),
        state_interface: Some(format!("Local/{ext}@agents")),
        penalty: 0,
    };
    let mut sales = QueueConfig::new("sales").strategy(Strategy::Linear);
    sales.timeout = 5;
    sales.retry = 1;
    sales.wrapuptime = 2;
    sales.servicelevel = 10;
    sales.record = Some("wav".to_owned());
    sales.members = vec![
        local("202", "Bob"),
        local("201", "Alice"),
        local("203", "Carol"),
    ];
    let mut support = QueueConfig::new("support").strategy(Strategy::LeastRecent);
    support.timeout = 5;
    support.retry = 1;
    support.servicelevel = 20;
    support.entry_timeout = Some(Duration::from_secs(8));
    let secs = Duration::from_secs;
    let ms = Duration::from_millis;
    SimConfig {
        username: "replay".to_owned(),
        secret: "replay-secret".to_owned(),
        version_line: "Asterisk 22.10.1 built by root @ vm on a x86_64 running Linux on 2026-11-26 03:49:03 UTC".to_owned(),
        clock: ClockMode::Manual {
            start: Duration::from_micros(T0),
        },
        // Asterisk started in [1795665588.0, 1795665588.472): static members' LoginTime is
        // 1795665588 and FullyBooted's Uptime 11 at the login (1795665599.472).
        initial_uptime: Duration::from_micros(T0 - 1_795_665_588_200_000),
        queues: vec![sales, support],
        spool_dir: "/tmp/ami-data/_build/root/var/spool/asterisk".to_owned(),
        fixed_challenge: Some("193486317".to_owned()),
        behaviors: vec![
            ("Local/202@agents/n".to_owned(), MemberBehavior::never_answers()),
            (
                "Local/201@agents/n".to_owned(),
                MemberBehavior::answers_after(secs(2)).talks_for(ms(6500)),
            ),
            (
                "Local/203@agents/n".to_owned(),
                MemberBehavior::answers_after(secs(1)),
            ),
            (
                "Local/204@agents/n".to_owned(),
                MemberBehavior::answers_after(secs(1)).talks_for(ms(3500)),
            ),
        ],
        ..SimConfig::default()
    }
}

enum Step {
    Connect(usize),
    Send(usize, String),
}

/// Plays both captured client sessions against `sim`; returns what each session received.
async fn play(sim: &SimHandle) -> [RawConn; 2] {
    let sessions = [
        capture::timeline("ami/session1-main.timeline.jsonl"),
        capture::timeline("ami/session2-eventsoff.timeline.jsonl"),
    ];
    let mut steps: Vec<(u64, Step)> = Vec::new();
    for (i, tl) in sessions.iter().enumerate() {
        steps.push((tl[0].t, Step::Connect(i)));
        for r in tl.iter().filter(|r| r.out) {
            for block in split_actions(&r.data) {
                let id = block_action_id(&block).unwrap_or_default();
                if !VOICEMAIL_ACTIONS.contains(&id.as_str()) {
                    steps.push((r.t, Step::Send(i, block)));
                }
            }
        }
    }
    steps.sort_by_key(|s| s.0);
    let mut conns: [Option<RawConn>; 2] = [None, None];
    let mut last = T0;
    for (t, step) in steps {
        sim.advance_to(UNIX_EPOCH + Duration::from_micros(t))
            .unwrap();
        last = t;
        match step {
            Step::Connect(i) => {
                let mut c = RawConn::connect(sim.addr()).await;
                assert!(c.read_frame(Duration::from_secs(5)).await, "banner");
                conns[i] = Some(c);
            }
            Step::Send(i, block) => {
                let c = conns[i].as_mut().expect("connected");
                c.send(&block).await;
                let id = block_action_id(&block).expect("every captured action has an id");
                if block.starts_with("Action: Logoff") {
                    c.until_eof().await;
                } else {
                    c.until_reply(&id).await;
                }
            }
        }
    }
    sim.advance_to(UNIX_EPOCH + Duration::from_micros(last + 1_000_000))
        .unwrap();
    conns.map(|c| c.expect("both sessions ran"))
}

/// Event types of the capture that the simulator does not produce (see the module docs).
fn skipped(m: &Message) -> bool {
    const NOT_SIMULATED: [&str; 7] = [
        "Newexten",
        "NewCallerid",
        "NewConnectedLine",
        "LocalBridge",
        "HangupRequest",
        "SoftHangupRequest",
        "Cdr",
    ];
    if let Some(id) = m.action_id() {
        if VOICEMAIL_ACTIONS.contains(&id) {
            return true;
        }
    }
    let Some(ev) = m.event() else {
        return false;
    };
    if NOT_SIMULATED.contains(&ev) || ev == "MessageWaiting" {
        return true;
    }
    if ev == "VarSet" && m.get("Variable") != Some("MIXMONITOR_FILENAME") {
        return true;
    }
    ["Channel", "DestChannel"]
        .iter()
        .filter_map(|k| m.get(k))
        .any(|c| c.contains("@vm-leave") || c.contains("@vm-talker"))
}

/// Replaces values that must differ (see the module docs) by stable tokens.
#[derive(Default)]
struct Normalizer {
    ids: HashMap<String, String>,
    chans: HashMap<String, String>,
    bridges: HashMap<String, String>,
}

impl Normalizer {
    fn token(map: &mut HashMap<String, String>, prefix: &str, v: &str) -> String {
        let n = map.len();
        map.entry(v.to_owned())
            .or_insert_with(|| format!("{prefix}{n}"))
            .clone()
    }

    fn channel(&mut self, v: &str) -> String {
        // Local/sales@queue-entry-0000000a;2 → Local/sales@queue-entry-C3;2
        let Some(dash) = v.rfind('-') else {
            return v.to_owned();
        };
        let rest = &v[dash + 1..];
        let (hex, tail) = rest.split_at(rest.find(';').unwrap_or(rest.len()));
        if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return v.to_owned();
        }
        let t = Self::token(&mut self.chans, "C", hex);
        format!("{}-{t}{tail}", &v[..dash])
    }

    fn normalize(&mut self, m: &Message) -> Message {
        let mut out = Message::new(m.kind());
        for (k, v) in m.fields() {
            let v = match k.as_str() {
                "Uniqueid" | "Linkedid" | "DestUniqueid" | "DestLinkedid" | "UniqueID" => {
                    Self::token(&mut self.ids, "U", v)
                }
                "Channel" | "DestChannel" => self.channel(v),
                "BridgeUniqueid" => Self::token(&mut self.bridges, "B", v),
                "EventTV" | "SessionTV" => "<tv>".to_owned(),
                "SessionID" => "<session>".to_owned(),
                "LocalAddress" | "RemoteAddress" => match v.rsplit_once('/') {
                    Some((a, _)) => format!("{a}/<port>"),
                    None => v.clone(),
                },
                "Timestamp" if m.get("Ping").is_some() => "<timestamp>".to_owned(),
                "InCall" if m.event() == Some("QueueMemberStatus") => "<incall>".to_owned(),
                "Value" if m.get("Variable") == Some("MIXMONITOR_FILENAME") => {
                    let uid = m.get("Uniqueid").unwrap_or_default();
                    let tok = Self::token(&mut self.ids, "U", uid);
                    v.replace(uid, &tok)
                }
                _ => v.clone(),
            };
            out.push(k.clone(), v);
        }
        out
    }
}

fn normalized(frames: &[Message]) -> Vec<Message> {
    let mut n = Normalizer::default();
    frames
        .iter()
        .filter(|m| m.kind() != MessageKind::Banner && !skipped(m))
        .map(|m| n.normalize(m))
        .collect()
}

fn render(m: &Message) -> String {
    m.fields()
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A frame's type for field-name comparison: event name, or `Response:<ActionID>`.
fn type_key(m: &Message) -> String {
    match m.event() {
        Some(e) => e.to_owned(),
        None => format!("Response:{}", m.get("Response").unwrap_or("")),
    }
}

fn names(m: &Message) -> Vec<String> {
    m.fields().iter().map(|(k, _)| k.clone()).collect()
}

/// Role of a channel in a call: `caller;1`, `caller;2`, `202;1`, `PJSIP`…
fn role(ch: &str) -> String {
    if let Some(rest) = ch.strip_prefix("Local/") {
        let (target, half) = rest.split_once(';').unwrap_or((rest, ""));
        let who = target.split('@').next().unwrap_or(target);
        let who = if target.contains("@queue-entry") {
            "caller"
        } else {
            who
        };
        return format!("{who};{half}");
    }
    ch.split('-').next().unwrap_or(ch).to_owned()
}

fn call_signature(m: &Message) -> String {
    let r = m.get("Channel").map(role).unwrap_or_default();
    let d = m.get("DestChannel").map(role).unwrap_or_default();
    let extra = m
        .get("DialStatus")
        .or(m.get("Cause"))
        .or(m
            .get("ChannelStateDesc")
            .filter(|_| m.event() == Some("Newstate")))
        .unwrap_or("");
    format!("{}[{r}>{d}]{extra}", m.event().unwrap_or(""))
}

/// Events of each call, keyed by the call's Linkedid, in order of first appearance.
fn per_call(frames: &[Message]) -> Vec<(String, Vec<Message>)> {
    // BridgeCreate/BridgeDestroy carry no channel: they belong to the call whose channels
    // enter that bridge.
    let bridges: HashMap<&str, &str> = frames
        .iter()
        .filter(|m| m.event() == Some("BridgeEnter"))
        .filter_map(|m| Some((m.get("BridgeUniqueid")?, m.get("Linkedid")?)))
        .collect();
    let mut order: Vec<String> = Vec::new();
    let mut calls: HashMap<String, Vec<Message>> = HashMap::new();
    for m in frames.iter().filter(|m| m.kind() == MessageKind::Event) {
        let bridge = m
            .get("BridgeUniqueid")
            .and_then(|b| bridges.get(b).copied());
        let Some(link) = m.get("Linkedid").or(m.get("DestLinkedid")).or(bridge) else {
            continue;
        };
        if m.action_id().is_some() && m.event() != Some("OriginateResponse") {
            continue; // list items (QueueEntry) belong to their reply
        }
        if !calls.contains_key(link) {
            order.push(link.to_owned());
        }
        calls.entry(link.to_owned()).or_default().push(m.clone());
    }
    // OriginateResponse carries no Linkedid but the ;1 Uniqueid, which is the Linkedid.
    for m in frames
        .iter()
        .filter(|m| m.event() == Some("OriginateResponse"))
    {
        let link = m.get("Uniqueid").unwrap_or_default();
        calls.entry(link.to_owned()).or_default();
    }
    order
        .into_iter()
        .map(|l| {
            let v = calls.remove(&l).unwrap_or_default();
            (l, v)
        })
        .collect()
}

/// A call's events split by what orders them: `queue` (the caller's queue events, published
/// by app_queue in program order) and one list per channel role (events whose `Channel`, or
/// for dial events without one `DestChannel`, is that channel).
fn projections(events: &[Message]) -> BTreeMap<String, Vec<Message>> {
    let mut out: BTreeMap<String, Vec<Message>> = BTreeMap::new();
    for m in events {
        let ev = m.event().unwrap_or("");
        let key = if ev.starts_with("QueueCaller") || ev.starts_with("Agent") {
            "queue".to_owned()
        } else {
            m.get("Channel")
                .or(m.get("DestChannel"))
                .map(role)
                .unwrap_or_else(|| "bridge".to_owned())
        };
        out.entry(key).or_default().push(m.clone());
    }
    out
}

fn member_events(frames: &[Message]) -> BTreeMap<String, Vec<Message>> {
    let mut out: BTreeMap<String, Vec<Message>> = BTreeMap::new();
    for m in frames {
        if m.event().is_some_and(|e| e.starts_with("QueueMember")) && m.get("Privilege").is_some() {
            let key = format!(
                "{}/{}",
                m.get("Queue").unwrap_or(""),
                m.get("MemberName").unwrap_or("")
            );
            out.entry(key).or_default().push(m.clone());
        }
    }
    out
}

/// Replies by ActionID: the response and the list items/complete that carry the ActionID.
fn replies(frames: &[Message]) -> BTreeMap<String, Vec<Message>> {
    let mut out: BTreeMap<String, Vec<Message>> = BTreeMap::new();
    for m in frames {
        let Some(id) = m.action_id() else {
            continue;
        };
        if m.kind() == MessageKind::Response || m.get("Privilege").is_none() {
            out.entry(id.to_owned()).or_default().push(m.clone());
        }
    }
    out
}

fn diff_report(what: &str, a: &[String], b: &[String]) -> String {
    let mut s = format!("{what}: capture {} vs simulator {}\n", a.len(), b.len());
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).map_or("-", String::as_str),
            b.get(i).map_or("-", String::as_str),
        );
        let mark = if x == y { "  " } else { "!!" };
        s.push_str(&format!("{mark} {x:<60} | {y}\n"));
    }
    s
}

fn compare_session(cap: &[Message], sim: &[Message], errors: &mut Vec<String>) {
    // 1. event names and response kinds
    let cap_types: BTreeSet<String> = cap.iter().map(type_key).collect();
    let sim_types: BTreeSet<String> = sim.iter().map(type_key).collect();
    if cap_types != sim_types {
        errors.push(format!(
            "frame types differ:\n  only in capture: {:?}\n  only in simulator: {:?}",
            cap_types.difference(&sim_types).collect::<Vec<_>>(),
            sim_types.difference(&cap_types).collect::<Vec<_>>()
        ));
    }
    // 2. field names and order per type
    let mut shapes: HashMap<String, BTreeSet<Vec<String>>> = HashMap::new();
    for m in cap {
        shapes.entry(type_key(m)).or_default().insert(names(m));
    }
    for m in sim {
        let k = type_key(m);
        if let Some(known) = shapes.get(&k) {
            if !known.contains(&names(m)) {
                errors.push(format!(
                    "{k}: field names/order {:?} not in the capture's {:?}",
                    names(m),
                    known
                ));
            }
        }
    }
    // 3. replies, field by field
    let (rc, rs) = (replies(cap), replies(sim));
    for (id, cap_frames) in &rc {
        let Some(sim_frames) = rs.get(id) else {
            errors.push(format!("no reply to {id}"));
            continue;
        };
        let a: Vec<String> = cap_frames.iter().map(render).collect();
        let b: Vec<String> = sim_frames.iter().map(render).collect();
        if a != b {
            errors.push(diff_report(&format!("reply {id}"), &a, &b));
        }
    }
    // 4. per call: each channel's own events in order, the queue events in order, then
    //    every field of each pair.
    let (cc, cs) = (per_call(cap), per_call(sim));
    if cc.len() != cs.len() {
        errors.push(format!(
            "{} calls in capture, {} in simulator",
            cc.len(),
            cs.len()
        ));
    }
    for (i, ((_, a), (_, b))) in cc.iter().zip(&cs).enumerate() {
        let (pa, pb) = (projections(a), projections(b));
        let keys_a: Vec<&String> = pa.keys().collect();
        let keys_b: Vec<&String> = pb.keys().collect();
        if keys_a != keys_b {
            errors.push(format!("call {i}: channels {keys_a:?} vs {keys_b:?}"));
            continue;
        }
        for (key, xs) in &pa {
            let ys = &pb[key];
            let sa: Vec<String> = xs.iter().map(call_signature).collect();
            let sb: Vec<String> = ys.iter().map(call_signature).collect();
            if sa != sb {
                errors.push(diff_report(&format!("call {i} {key}"), &sa, &sb));
                continue;
            }
            for (x, y) in xs.iter().zip(ys) {
                if render(x) != render(y) {
                    errors.push(diff_report(
                        &format!("call {i} {}", call_signature(x)),
                        &render(x).lines().map(str::to_owned).collect::<Vec<_>>(),
                        &render(y).lines().map(str::to_owned).collect::<Vec<_>>(),
                    ));
                }
            }
        }
    }
    // 4b. session events, in order
    let (ea, eb) = (session_events(cap), session_events(sim));
    if ea != eb {
        errors.push(diff_report("session events", &ea, &eb));
    }
    // 5. per member
    let (mc, ms) = (member_events(cap), member_events(sim));
    if mc.keys().collect::<Vec<_>>() != ms.keys().collect::<Vec<_>>() {
        errors.push(format!(
            "members differ: {:?} vs {:?}",
            mc.keys().collect::<Vec<_>>(),
            ms.keys().collect::<Vec<_>>()
        ));
    }
    for (k, a) in &mc {
        let b = ms.get(k).cloned().unwrap_or_default();
        let a: Vec<String> = a.iter().map(|m| render(m).replace('\n', " | ")).collect();
        let b: Vec<String> = b.iter().map(|m| render(m).replace('\n', " | ")).collect();
        if a != b {
            errors.push(diff_report(&format!("member {k}"), &a, &b));
        }
    }
}

/// queue_log lines equal, except that `RINGCANCELED`'s milliseconds (how long the member
/// rang before the caller hung up) may differ by a few ms: on the real machine the ring started
/// a few ms after the caller joined.
fn queue_log_matches(want: &[String], got: &[String]) -> bool {
    want.len() == got.len()
        && want.iter().zip(got).all(|(w, g)| {
            if w == g {
                return true;
            }
            let (wp, gp): (Vec<&str>, Vec<&str>) = (w.split('|').collect(), g.split('|').collect());
            wp.len() == 6
                && gp.len() == 6
                && wp[4] == "RINGCANCELED"
                && wp[..5] == gp[..5]
                && match (wp[5].parse::<i64>(), gp[5].parse::<i64>()) {
                    (Ok(a), Ok(b)) => (a - b).abs() <= 10,
                    _ => false,
                }
        })
}

/// Events that belong neither to a call, a member nor a reply (`FullyBooted`,
/// `SuccessfulAuth`, `RequestBadFormat`), in order.
fn session_events(frames: &[Message]) -> Vec<String> {
    frames
        .iter()
        .filter(|m| m.kind() == MessageKind::Event)
        .filter(|m| m.get("Privilege").is_some())
        .filter(|m| {
            m.get("Linkedid").is_none()
                && m.get("DestLinkedid").is_none()
                && m.get("BridgeUniqueid").is_none()
                && m.event() != Some("OriginateResponse")
                && !m.event().is_some_and(|e| e.starts_with("QueueMember"))
        })
        .map(|m| render(m).replace('\n', " | "))
        .collect()
}

/// Writes a normalized stream next to the test binary's temp dir, for a failing run.
fn dump(name: &str, frames: &[Message]) -> std::path::PathBuf {
    let text: Vec<String> = frames.iter().map(render).collect();
    let path = std::env::temp_dir().join(format!("sim-scenario-{name}"));
    let _ = std::fs::write(&path, text.join("\n\n"));
    path
}

#[tokio::test]
async fn replays_the_22_10_1_capture() {
    let sim = Simulator::start(capture_config()).await.unwrap();
    let [s1, s2] = play(&sim).await;
    let cap1 = normalized(&capture::decode_all(&capture::read(
        "ami/session1-main.server.raw",
    )));
    let cap2 = normalized(&capture::decode_all(&capture::read(
        "ami/session2-eventsoff.server.raw",
    )));
    let sim1 = normalized(&s1.frames);
    let sim2 = normalized(&s2.frames);
    let mut errors = Vec::new();
    compare_session(&cap1, &sim1, &mut errors);
    compare_session(&cap2, &sim2, &mut errors);
    // The banner, byte for byte.
    assert!(s1
        .bytes
        .starts_with(b"Asterisk Call Manager/11.0.0\r\nResponse: Success\r\n"));
    // 6. queue_log
    let log = String::from_utf8(capture::read("log/queue_log")).unwrap();
    let want: Vec<String> = log.lines().map(str::to_owned).collect();
    let got = sim.queue_log();
    if !queue_log_matches(&want, &got) {
        errors.push(diff_report("queue_log", &want, &got));
    }
    sim.shutdown();
    if !errors.is_empty() {
        let (a, b) = (dump("capture.txt", &cap1), dump("simulator.txt", &sim1));
        panic!(
            "{}\n(normalized streams: {} and {})",
            errors.join("\n"),
            a.display(),
            b.display()
        );
    }
    // The comparison is not vacuous: the streams are long and cover the whole scenario.
    assert!(
        cap1.len() > 250 && sim1.len() == cap1.len(),
        "{} vs {}",
        cap1.len(),
        sim1.len()
    );
}
