//! The simulated PBX's state and its machinery: clock, timers, channels, manager sessions
//! and the fan-out of events to them.
//!
//! Owns [`Engine`], the single piece of mutable state of a simulator (kept behind one
//! mutex by the server, so every change and the events it produces are totally ordered),
//! and the generic parts of it: the timer table, channel creation and naming (uniqueids
//! `<epoch>.<seq>`, channel suffixes `%08x`), the session registry with each session's event
//! mask, and `emit`, which encodes an event once and queues it for every session allowed to
//! see it. The app_queue behaviour lives in `queue.rs`, the manager actions in `manager.rs`,
//! both as further `impl Engine` blocks. Knows nothing of sockets: sessions are queues of
//! outgoing frames ([`Out`]) drained by the server.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use rand::rngs::StdRng;
use rand::SeedableRng;
use tokio::sync::{mpsc, Notify};
use tokio_util::codec::Encoder;
use tokio_util::sync::CancellationToken;

use super::channel::{ChanId, ChanState, Channel};
use super::clock::{self, Micros, SimClock};
use super::config::{ClockMode, DeviceState, MemberBehavior, QueueConfig, SimConfig};
use super::queue::{Call, CallId, Queue};
use crate::ami::{AmiCodec, Message, MessageKind};

/// Event classes (`EVENT_FLAG_*` of manager.h) used by the simulator.
pub(crate) mod class {
    pub const SYSTEM: u32 = 1;
    pub const CALL: u32 = 1 << 1;
    pub const AGENT: u32 = 1 << 5;
    pub const USER: u32 = 1 << 6;
    pub const DIALPLAN: u32 = 1 << 11;
    pub const SECURITY: u32 = 1 << 17;
    /// `perms[]` of manager.c, in order (the `all` entry is `INT_MAX`).
    pub const NAMES: [(&str, u32); 19] = [
        ("system", 1),
        ("call", 1 << 1),
        ("log", 1 << 2),
        ("verbose", 1 << 3),
        ("command", 1 << 4),
        ("agent", 1 << 5),
        ("user", 1 << 6),
        ("config", 1 << 7),
        ("dtmf", 1 << 8),
        ("reporting", 1 << 9),
        ("cdr", 1 << 10),
        ("dialplan", 1 << 11),
        ("originate", 1 << 12),
        ("agi", 1 << 13),
        ("cc", 1 << 14),
        ("aoc", 1 << 15),
        ("test", 1 << 16),
        ("security", 1 << 17),
        ("message", 1 << 18),
    ];
    pub const ALL: u32 = i32::MAX as u32;

    /// `Privilege:` text of a single-class event (`authority_to_str`): `agent,all`.
    pub fn privilege(c: u32) -> String {
        let name = NAMES
            .iter()
            .find(|(_, n)| *n == c)
            .map_or("system", |(s, _)| *s);
        format!("{name},all")
    }
}

/// The modules whose `Reload` the simulator answers (a real Asterisk has many more).
pub(crate) const MODULES: &[&str] = &[
    "pbx_config",
    "app_queue",
    "app_voicemail",
    "chan_pjsip",
    "res_pjsip",
    "manager",
];

/// What a session's writer receives.
#[derive(Debug)]
pub(crate) enum Out {
    /// Bytes to write as they are.
    Data(Bytes),
    /// Close the connection after what was queued before.
    Close,
}

/// Manager session id.
pub(crate) type SessionId = u64;

/// A manager session as the engine knows it.
#[derive(Debug)]
pub(crate) struct Session {
    pub tx: mpsc::Sender<Out>,
    pub authenticated: bool,
    /// `send_events` of manager.c (set by `Events:` on Login and `Action: Events`).
    pub send_events: u32,
    pub username: String,
    pub challenge: Option<String>,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// What Asterisk prints as `SessionID` (the session's address, `0x…`).
    pub pointer: String,
    pub created: Micros,
    /// Set when the session's queue overflowed.
    pub dead: bool,
    /// Cancelled to drop the connection at once (overflow, restart).
    pub kill: CancellationToken,
}

/// Timers of the simulated world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Timer {
    /// The caller channel enters `Queue()`.
    Join(CallId),
    /// The waiting caller checks its turn / retries (generation).
    Check(CallId, u64),
    /// The ring attempt (number) times out.
    RingTimeout(CallId, u64),
    /// A member picks up (attempt, interface).
    Answer(CallId, u64, String),
    /// The connected agent hangs up.
    AgentHangup(CallId),
    /// The caller hangs up.
    CallerHangup(CallId),
}

/// The simulated PBX.
pub(crate) struct Engine {
    pub config: SimConfig,
    /// Queue configuration to apply at the next `QueueReload`.
    pub staged_queues: Option<Vec<QueueConfig>>,
    pub clock: SimClock,
    /// Asterisk start (uptime, static members' LoginTime) and last reload.
    pub started: Micros,
    pub last_reload: Micros,
    /// Between a restart's first accepted login and `FullyBooted` (about 80 ms on a real
    /// 22.10.1): logins succeed, app_queue's actions do not exist yet. See
    /// [`SimHandle::restart_booting`](super::SimHandle::restart_booting).
    pub booting: bool,
    /// coocenterd's dialplan include as last (re)loaded (`dialplan.rs`).
    pub dialplan: Option<super::dialplan::Dialplan>,
    /// Asterisk's log lines about what the simulated dialplan did (errors, warnings).
    pub full_log: Vec<String>,
    /// Queues in app_queue's iteration order.
    pub queues: Vec<Queue>,
    pub channels: HashMap<ChanId, Channel>,
    next_chan_id: ChanId,
    /// Channel name counter (`-%08x`) and uniqueid sequence.
    chan_seq: u32,
    uid_seq: u64,
    pub calls: BTreeMap<CallId, Call>,
    pub next_call: u64,
    timers: BTreeMap<(Micros, u64), Timer>,
    timer_seq: u64,
    pub devices: HashMap<String, DeviceState>,
    pub behaviors: HashMap<String, MemberBehavior>,
    /// Interfaces being rung (app_queue's `pending_members`) and on a queue call.
    pub ringing: HashMap<String, CallId>,
    pub busy: HashSet<String>,
    pub rng: StdRng,
    pub sessions: BTreeMap<SessionId, Session>,
    next_session: SessionId,
    pub queue_log: Vec<String>,
    pub processed_calls: u64,
    pub actions: Vec<Message>,
    /// Asterisk's database (`/family/key` → value), as `DBPut`/`DBDel` leave it.
    pub astdb: BTreeMap<String, String>,
    /// How often the dialplan was reloaded (`Reload` of `pbx_config` or of everything).
    pub dialplan_reloads: u64,
    /// Scores callers will give in the survey after their agent hangs up.
    pub surveys: HashMap<CallId, u8>,
    /// Outbound calls agents are on (`outbound.rs`).
    pub outbound: HashMap<super::outbound::OutboundId, super::outbound::Outbound>,
    pub next_outbound: u64,
    /// Woken when a timer is added (the real-time driver re-arms its sleep).
    pub wake: Arc<Notify>,
    codec: AmiCodec,
}

impl Engine {
    pub(crate) fn new(config: SimConfig) -> Engine {
        let clock = match config.clock {
            ClockMode::Real => SimClock::real(),
            ClockMode::Manual { start } => SimClock::manual(start),
        };
        let now = clock.now();
        let started = now.saturating_sub(config.initial_uptime.as_micros() as Micros);
        let mut e = Engine {
            staged_queues: None,
            started,
            last_reload: started,
            booting: false,
            dialplan: None,
            full_log: Vec::new(),
            clock,
            queues: Vec::new(),
            channels: HashMap::new(),
            next_chan_id: 1,
            chan_seq: 0,
            uid_seq: 0,
            calls: BTreeMap::new(),
            next_call: 1,
            timers: BTreeMap::new(),
            timer_seq: 0,
            devices: config.device_states.iter().cloned().collect(),
            behaviors: config.behaviors.iter().cloned().collect(),
            ringing: HashMap::new(),
            busy: HashSet::new(),
            rng: StdRng::seed_from_u64(config.seed),
            sessions: BTreeMap::new(),
            next_session: 1,
            queue_log: Vec::new(),
            processed_calls: 0,
            actions: Vec::new(),
            astdb: BTreeMap::new(),
            dialplan_reloads: 0,
            surveys: HashMap::new(),
            outbound: HashMap::new(),
            next_outbound: 0,
            wake: Arc::new(Notify::new()),
            codec: AmiCodec::new(),
            config,
        };
        e.load_queues(started);
        e.reload_dialplan();
        e
    }

    pub(crate) fn now(&self) -> Micros {
        self.clock.now()
    }

    pub(crate) fn now_secs(&self) -> i64 {
        clock::secs(self.now())
    }

    // ----- timers -----

    pub(crate) fn schedule(&mut self, at: Micros, t: Timer) {
        self.timer_seq += 1;
        self.timers.insert((at, self.timer_seq), t);
        self.wake.notify_one();
    }

    pub(crate) fn schedule_in(&mut self, after: std::time::Duration, t: Timer) {
        let at = self.now() + after.as_micros() as Micros;
        self.schedule(at, t);
    }

    /// The earliest pending timer.
    pub(crate) fn next_due(&self) -> Option<Micros> {
        self.timers.keys().next().map(|(at, _)| *at)
    }

    /// Fires every timer due by the clock's current time (real clock).
    pub(crate) fn run_due(&mut self) {
        let now = self.now();
        while let Some((&key, _)) = self.timers.iter().next() {
            if key.0 > now {
                break;
            }
            if let Some(t) = self.timers.remove(&key) {
                self.fire(t);
            }
        }
    }

    /// Manual clock: moves to `target`, firing timers at their own times on the way.
    pub(crate) fn advance_to(&mut self, target: Micros) {
        while let Some((&key, _)) = self.timers.iter().next() {
            if key.0 > target {
                break;
            }
            self.clock.set(key.0);
            if let Some(t) = self.timers.remove(&key) {
                self.fire(t);
            }
        }
        self.clock.set(target);
    }

    pub(crate) fn clear_timers(&mut self) {
        self.timers.clear();
    }

    // ----- channels -----

    /// Next channel-name sequence number (one per channel, or per Local pair).
    pub(crate) fn next_chan_seq(&mut self) -> u32 {
        let s = self.chan_seq;
        self.chan_seq = self.chan_seq.wrapping_add(1);
        s
    }

    /// A new uniqueid `<epoch>.<seq>`.
    pub(crate) fn next_uniqueid(&mut self) -> String {
        let u = format!("{}.{}", self.now_secs(), self.uid_seq);
        self.uid_seq += 1;
        u
    }

    pub(crate) fn reset_sequences(&mut self) {
        self.chan_seq = 0;
        self.uid_seq = 0;
    }

    /// Creates a channel (not announced: callers emit `Newchannel` when they want it).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new_channel(
        &mut self,
        name: String,
        state: ChanState,
        context: &str,
        exten: &str,
        linkedid: Option<String>,
    ) -> ChanId {
        let uniqueid = self.next_uniqueid();
        let linkedid = linkedid.unwrap_or_else(|| uniqueid.clone());
        let id = self.next_chan_id;
        self.next_chan_id += 1;
        self.channels.insert(
            id,
            Channel {
                name,
                state,
                cid_num: None,
                cid_name: None,
                conn_num: None,
                conn_name: None,
                context: context.to_owned(),
                exten: exten.to_owned(),
                priority: 1,
                uniqueid,
                linkedid,
                runs_pbx: false,
                app: String::new(),
                app_data: String::new(),
            },
        );
        id
    }

    pub(crate) fn chan(&self, id: ChanId) -> &Channel {
        &self.channels[&id]
    }

    pub(crate) fn chan_mut(&mut self, id: ChanId) -> &mut Channel {
        self.channels.get_mut(&id).expect("live channel")
    }

    /// An event with the channel's snapshot.
    pub(crate) fn chan_event(&self, name: &str, class: u32, id: ChanId) -> Message {
        let mut m = event(name, class);
        self.chan(id).snapshot_into("", &mut m);
        m
    }

    pub(crate) fn emit_newchannel(&mut self, id: ChanId) {
        let m = self.chan_event("Newchannel", class::CALL, id);
        self.emit(class::CALL, &m);
    }

    pub(crate) fn set_state(&mut self, id: ChanId, state: ChanState) {
        self.chan_mut(id).state = state;
        let m = self.chan_event("Newstate", class::CALL, id);
        self.emit(class::CALL, &m);
    }

    /// `Hangup` with `cause`, and the channel is gone.
    pub(crate) fn hangup_channel(&mut self, id: ChanId, cause: u32) {
        if !self.channels.contains_key(&id) {
            return;
        }
        let mut m = self.chan_event("Hangup", class::CALL, id);
        m.push("Cause", cause.to_string());
        m.push("Cause-txt", super::channel::cause_text(cause));
        self.emit(class::CALL, &m);
        self.channels.remove(&id);
    }

    // ----- sessions and events -----

    pub(crate) fn add_session(
        &mut self,
        tx: mpsc::Sender<Out>,
        kill: CancellationToken,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> SessionId {
        let id = self.next_session;
        self.next_session += 1;
        let pointer = format!("0x{:012x}", 0x5600_0000_0000u64 + id * 0x1_0a50);
        let created = self.now();
        self.sessions.insert(
            id,
            Session {
                tx,
                authenticated: false,
                send_events: class::ALL,
                username: String::new(),
                challenge: None,
                local,
                remote,
                pointer,
                created,
                dead: false,
                kill,
            },
        );
        id
    }

    pub(crate) fn remove_session(&mut self, id: SessionId) {
        self.sessions.remove(&id);
    }

    pub(crate) fn encode(&mut self, m: &Message) -> Bytes {
        let mut buf = BytesMut::new();
        if let Err(e) = self.codec.encode(m, &mut buf) {
            log::warn!("simulator: cannot encode {m:?}: {e}");
        }
        buf.freeze()
    }

    /// Queues raw bytes for one session.
    pub(crate) fn send_bytes(&mut self, session: SessionId, data: Bytes) {
        if let Some(s) = self.sessions.get_mut(&session) {
            if s.tx.try_send(Out::Data(data)).is_err() {
                s.dead = true;
                s.kill.cancel();
            }
        }
    }

    /// Queues a reply (or any frame) for one session.
    pub(crate) fn send_to(&mut self, session: SessionId, m: &Message) {
        let data = self.encode(m);
        self.send_bytes(session, data);
    }

    /// Asks the session's writer to close after what is queued.
    pub(crate) fn close_session(&mut self, session: SessionId) {
        if let Some(s) = self.sessions.get_mut(&session) {
            let _ = s.tx.try_send(Out::Close);
        }
    }

    /// Sends an event to every logged-in session whose event mask includes `class`.
    pub(crate) fn emit(&mut self, class: u32, m: &Message) {
        let wanted = self
            .sessions
            .values()
            .any(|s| s.authenticated && s.send_events & class != 0);
        if !wanted {
            return;
        }
        let data = self.encode(m);
        for s in self.sessions.values_mut() {
            if s.authenticated
                && s.send_events & class != 0
                && !s.dead
                && s.tx.try_send(Out::Data(data.clone())).is_err()
            {
                // Like Asterisk's writetimeout: a client that does not read is dropped.
                log::warn!("simulator: session {} not reading; dropping it", s.pointer);
                s.dead = true;
                s.kill.cancel();
            }
        }
    }

    /// Drops every connection at once (an Asterisk restart or shutdown).
    pub(crate) fn kill_sessions(&mut self) {
        for s in self.sessions.values() {
            s.kill.cancel();
        }
        self.sessions.clear();
    }

    /// Number of channels that run dialplan now (`ast_active_calls`).
    pub(crate) fn active_calls(&self) -> usize {
        self.channels.values().filter(|c| c.runs_pbx).count()
    }

    /// Appends a queue_log line: `time|callid|queue|agent|event|data`.
    pub(crate) fn qlog(&mut self, queue: &str, callid: &str, agent: &str, ev: &str, data: &str) {
        self.qlog_at(self.now_secs(), queue, callid, agent, ev, data);
    }

    /// [`Engine::qlog`] with an explicit time.
    pub(crate) fn qlog_at(
        &mut self,
        time: i64,
        queue: &str,
        callid: &str,
        agent: &str,
        ev: &str,
        data: &str,
    ) {
        self.queue_log
            .push(format!("{time}|{callid}|{queue}|{agent}|{ev}|{data}"));
    }
}

/// A new event message: `Event:` and `Privilege:`.
pub(crate) fn event(name: &str, class: u32) -> Message {
    Message::new(MessageKind::Event)
        .with("Event", name)
        .with("Privilege", class::privilege(class))
}
