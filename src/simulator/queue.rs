//! app_queue: queues, members, waiting callers, ringing, connecting, completing, abandoning,
//! and the counters `QueueStatus` reports.
//!
//! Owns the queue model ([`Queue`], [`Member`], [`Call`]) and, as an `impl Engine` block,
//! the behaviour of Asterisk 22's `app_queue.c` as far as a call center sees it:
//!
//! * `queue_exec()`'s loop: a caller joins, waits for its turn (head caller only with
//!   `autofill=no`; a caller that is not at the head looks again every second, `RECHECK`),
//!   rings members for `timeout` seconds, waits `retry` seconds after a failed round, leaves
//!   on its `Queue()` timeout (reported as `QueueCallerAbandon` + `QueueCallerLeave`, like
//!   `record_abandoned()` does). Expiry compares whole seconds (`time(NULL) >= expire`).
//! * the strategies' metrics (`calc_metric()`), `ring_one()`/`find_best()` and the
//!   `store_next_rr/lin()` positions; `ringinuse=no` (a member on a call, being rung for
//!   another caller, paused, in wrap-up or with a busy/unavailable device is skipped).
//! * events in the order of the 22.10.1 capture (`ami-traces/asterisk-22.10.1-queue-scenario`):
//!   `QueueCallerJoin` → per ring `Newchannel` `AgentCalled` `DialBegin` → `AgentRingNoAnswer`
//!   `DialEnd` (NOANSWER, CANCEL) `Hangup`, or `Newstate` `DialEnd` ANSWER (`VarSet`
//!   `MIXMONITOR_FILENAME` `MixMonitorStart`) `QueueCallerLeave` `QueueMemberStatus`
//!   `AgentConnect` `Bridge*` → `AgentComplete` …; unanswered: `QueueCallerAbandon` then
//!   `QueueCallerLeave`.
//! * the counters: hold and talk time exponential averages (`recalc_holdtime()`,
//!   `update_queue()`), Completed/Abandoned, service level, member CallsTaken/LastCall
//!   (updated when the call ends), LastPause, LoginTime, InCall, device state → `Status`
//!   (`QueueMemberStatus` only on change, as since 16.18).
//! * the queue_log lines app_queue writes for all of the above.
//!
//! Iteration orders follow app_queue's containers: queues in hash-bucket order of
//! `ast_str_case_hash(name) % 53`; members in configuration order for `linear`/`rrordered`
//! (a list) and in bucket order of `member_hash_fn() % 37` otherwise (a hash table).

use std::fmt;
use std::time::Duration;

use rand::Rng;

use super::channel::{self, ChanId, ChanState, SnapshotOverride, Tech};
use super::clock::{self, Micros};
use super::config::{CallOptions, DeviceState, MemberConfig, QueueConfig, Strategy};
use super::engine::{class, event, Engine, Timer};
use super::SimError;

/// A call placed into a queue (through the control API or `Originate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallId(pub u64);

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "call#{}", self.0)
    }
}

/// Where a call is, for tests and the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallState {
    /// The caller channel exists and has not entered `Queue()` yet.
    Joining,
    /// Waiting in the queue at `position` (1-based), no member ringing.
    Waiting {
        /// Position in the queue.
        position: usize,
    },
    /// Members (interfaces) are being rung.
    Ringing {
        /// Interfaces rung.
        members: Vec<String>,
    },
    /// Talking to a member.
    Talking {
        /// Interface of the member.
        member: String,
    },
    /// Over.
    Ended(CallEnd),
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEnd {
    /// Answered and completed; `by_agent` when the member hung up.
    Completed {
        /// Interface of the member.
        member: String,
        /// `true` when the member hung up (`Reason: agent`).
        by_agent: bool,
    },
    /// The caller hung up while waiting.
    Abandoned,
    /// `Queue()`'s timeout expired.
    TimedOut,
    /// Never joined (queue full or unknown, or hung up before joining).
    NotQueued,
}

/// One queue member.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub interface: String,
    pub name: String,
    pub state_interface: String,
    pub dynamic: bool,
    pub penalty: i32,
    pub calls: u32,
    pub lastcall: i64,
    pub lastpause: i64,
    pub logintime: i64,
    pub in_call: bool,
    pub paused: bool,
    pub reason: String,
    pub wrapuptime: u32,
    /// Position for round-robin strategies (insertion index).
    pub queuepos: usize,
    /// Insertion counter (order within a hash bucket).
    seq: u64,
}

/// One queue.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    pub cfg: QueueConfig,
    pub members: Vec<Member>,
    /// Waiting callers, head first.
    pub entries: Vec<CallId>,
    pub holdtime: i64,
    pub talktime: i64,
    pub completed: u32,
    pub abandoned: u32,
    pub completed_in_sl: u32,
    pub abandoned_in_sl: u32,
    pub rrpos: usize,
    pub wrapped: bool,
    seq: u64,
    member_seq: u64,
}

impl Queue {
    fn new(cfg: QueueConfig, seq: u64) -> Queue {
        Queue {
            cfg,
            members: Vec::new(),
            entries: Vec::new(),
            holdtime: 0,
            talktime: 0,
            completed: 0,
            abandoned: 0,
            completed_in_sl: 0,
            abandoned_in_sl: 0,
            rrpos: 0,
            wrapped: false,
            seq,
            member_seq: 0,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.cfg.name
    }

    /// Member indices in app_queue's iteration order.
    pub(crate) fn member_order(&self) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..self.members.len()).collect();
        if !self.cfg.strategy.keeps_member_order() {
            idx.sort_by_key(|&i| {
                let m = &self.members[i];
                (member_bucket(&m.interface), m.seq)
            });
        }
        idx
    }

    pub(crate) fn member_index(&self, interface: &str) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.interface.eq_ignore_ascii_case(interface))
    }

    fn push_member(&mut self, mut m: Member) {
        self.member_seq += 1;
        m.seq = self.member_seq;
        m.queuepos = self.members.len();
        self.members.push(m);
    }

    fn remove_member(&mut self, i: usize) -> Member {
        let m = self.members.remove(i);
        for other in &mut self.members {
            if other.queuepos > m.queuepos {
                other.queuepos -= 1;
            }
        }
        m
    }

    fn reset_stats(&mut self) {
        self.holdtime = 0;
        self.talktime = 0;
        self.completed = 0;
        self.abandoned = 0;
        self.completed_in_sl = 0;
        self.abandoned_in_sl = 0;
    }

    /// `ServicelevelPerf` and `ServicelevelPerf2`, as `%2.1f` percentages.
    pub(crate) fn service_levels(&self) -> (String, String) {
        let sl = if self.completed > 0 {
            100.0 * self.completed_in_sl as f32 / self.completed as f32
        } else {
            0.0
        };
        let total = self.completed + self.abandoned;
        let sl2 = if total > 0 {
            100.0 * (self.abandoned_in_sl + self.completed_in_sl) as f32 / total as f32
        } else {
            0.0
        };
        (format!("{sl:.1}"), format!("{sl2:.1}"))
    }
}

/// `ast_str_case_hash()`.
fn str_case_hash(s: &str) -> i32 {
    let mut h: i32 = 5381;
    for b in s.bytes() {
        h = h.wrapping_mul(33) ^ i32::from(b.to_ascii_lowercase());
    }
    h.wrapping_abs()
}

/// Bucket of a queue in app_queue's `queues` container (`MAX_QUEUE_BUCKETS` = 53).
pub(crate) fn queue_bucket(name: &str) -> usize {
    (str_case_hash(name) % 53) as usize
}

/// Bucket of a member in a queue's hash container (37 buckets, `member_hash_fn()`).
pub(crate) fn member_bucket(interface: &str) -> usize {
    fn compress(c: u8) -> i32 {
        let c = i32::from(c);
        if c < 32 {
            0
        } else if c > 96 {
            c - 64
        } else {
            c - 32
        }
    }
    let key = interface.find('/').map_or(interface, |i| &interface[i..]);
    let mut h: i32 = 0;
    for (i, b) in key.bytes().take(5).enumerate() {
        h = h.wrapping_add(compress(b) << (i * 6));
    }
    (h % 37).unsigned_abs() as usize
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Joining,
    Waiting,
    Ringing,
    Connected,
    Done,
}

/// One member being rung for a call.
#[derive(Debug, Clone)]
pub(crate) struct Leg {
    pub interface: String,
    pub member_name: String,
    /// The channel app_queue talks to (`;1` of a Local pair).
    pub chan: ChanId,
    /// The `;2` half of a Local pair.
    pub partner: Option<ChanId>,
}

#[derive(Debug, Clone)]
pub(crate) struct Connected {
    pub leg: Leg,
    pub holdtime: i64,
    pub callstart: i64,
    pub in_sl: bool,
    pub bridge: String,
}

/// A caller.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub queue: String,
    /// The channel in the queue (`;2` of a Local pair, or the inbound channel).
    pub chan: ChanId,
    /// `;1` of a Local pair (the "customer" side).
    pub partner: Option<ChanId>,
    pub phase: Phase,
    pub start: Micros,
    pub opos: usize,
    pub max_wait: Option<Duration>,
    pub expire: Option<i64>,
    pub linpos: usize,
    pub linwrapped: bool,
    pub attempt: u64,
    pub check_gen: u64,
    pub legs: Vec<Leg>,
    pub ring_start: Micros,
    pub ring_ms: i64,
    pub connected: Option<Connected>,
    pub end: Option<CallEnd>,
}

impl Engine {
    // ----- loading -----

    /// Builds the queues from the configuration (start and restart).
    pub(crate) fn load_queues(&mut self, now: Micros) {
        self.queues.clear();
        let cfgs = self.config.queues.clone();
        for cfg in cfgs {
            self.insert_queue(cfg, now);
        }
        self.read_strategies_from_files(None);
        self.qlog_at(clock::secs(now), "NONE", "NONE", "NONE", "QUEUESTART", "");
    }

    /// Takes each queue's strategy from the configuration folder, when there is one
    /// (`conf_files.rs`): `reload_single_queue` sets it from the first `strategy` line, or
    /// ringall. A queue the files do not name keeps its configured strategy.
    pub(crate) fn read_strategies_from_files(&mut self, only: Option<&str>) {
        let Some(dir) = self.config.asterisk_config_dir.clone() else {
            return;
        };
        let Some(strategies) = super::conf_files::queue_strategies(&dir) else {
            return;
        };
        for q in &mut self.queues {
            if only.is_some_and(|o| !o.eq_ignore_ascii_case(q.name())) {
                continue;
            }
            if let Some(word) = strategies.get(&q.name().to_ascii_lowercase()) {
                q.cfg.strategy = word
                    .as_deref()
                    .and_then(Strategy::parse)
                    .unwrap_or(Strategy::RingAll);
            }
        }
    }

    fn insert_queue(&mut self, cfg: QueueConfig, now: Micros) {
        let seq = self.queues.iter().map(|q| q.seq).max().unwrap_or(0) + 1;
        let members = cfg.members.clone();
        let mut q = Queue::new(cfg, seq);
        for m in members {
            q.push_member(static_member(&m, clock::secs(now)));
        }
        self.queues.push(q);
        self.queues.sort_by_key(|q| (queue_bucket(q.name()), q.seq));
    }

    pub(crate) fn queue_idx(&self, name: &str) -> Option<usize> {
        self.queues
            .iter()
            .position(|q| q.name().eq_ignore_ascii_case(name))
    }

    fn queue_of(&self, call: CallId) -> Option<usize> {
        self.calls.get(&call).and_then(|c| self.queue_idx(&c.queue))
    }

    pub(crate) fn device_state(&self, state_interface: &str) -> DeviceState {
        self.devices
            .get(state_interface)
            .copied()
            .unwrap_or(DeviceState::NotInUse)
    }

    pub(crate) fn member_status(&self, m: &Member) -> DeviceState {
        self.device_state(&m.state_interface)
    }

    /// The member fields shared by QueueMemberStatus/Added/Removed/Pause/Penalty.
    pub(crate) fn member_blob(&self, qi: usize, mi: usize) -> Vec<(String, String)> {
        let q = &self.queues[qi];
        let m = &q.members[mi];
        let f = |k: &str, v: String| (k.to_owned(), v);
        vec![
            f("Queue", q.name().to_owned()),
            f("MemberName", m.name.clone()),
            f("Interface", m.interface.clone()),
            f("StateInterface", m.state_interface.clone()),
            f("Membership", membership(m).to_owned()),
            f("Penalty", m.penalty.to_string()),
            f("CallsTaken", m.calls.to_string()),
            f("LastCall", m.lastcall.to_string()),
            f("LastPause", m.lastpause.to_string()),
            f("LoginTime", m.logintime.to_string()),
            f("InCall", u8::from(m.in_call).to_string()),
            f("Status", self.member_status(m).code().to_string()),
            f("Paused", u8::from(m.paused).to_string()),
            f("PausedReason", m.reason.clone()),
            f("Ringinuse", "0".to_owned()),
            f("Wrapuptime", m.wrapuptime.to_string()),
        ]
    }

    pub(crate) fn emit_member_event(&mut self, name: &str, qi: usize, mi: usize) {
        let mut m = event(name, class::AGENT);
        for (k, v) in self.member_blob(qi, mi) {
            m.push(k, v);
        }
        self.emit(class::AGENT, &m);
    }

    /// Sets a device state; `QueueMemberStatus` for every membership whose status changed.
    pub(crate) fn set_device(&mut self, state_interface: &str, state: DeviceState) {
        let old = self.device_state(state_interface);
        self.devices.insert(state_interface.to_owned(), state);
        if old == state {
            return;
        }
        for qi in 0..self.queues.len() {
            for mi in self.queues[qi].member_order() {
                if self.queues[qi].members[mi].state_interface == state_interface {
                    self.emit_member_event("QueueMemberStatus", qi, mi);
                }
            }
        }
    }

    fn agent_name(&self, m: &Member) -> String {
        if self.config.log_membername_as_agent {
            m.name.clone()
        } else {
            m.interface.clone()
        }
    }

    // ----- member management (QueueAdd, QueueRemove, QueuePause, QueuePenalty, reload) -----

    /// `add_to_queue()`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_member(
        &mut self,
        queue: &str,
        interface: &str,
        name: &str,
        state_interface: &str,
        penalty: i32,
        paused: bool,
        reason: &str,
    ) -> Result<(), SimError> {
        let qi = self
            .queue_idx(queue)
            .ok_or_else(|| SimError::NoSuchQueue(queue.to_owned()))?;
        if self.queues[qi].member_index(interface).is_some() {
            return Err(SimError::MemberExists(interface.to_owned()));
        }
        let now = self.now_secs();
        let m = Member {
            interface: interface.to_owned(),
            name: if name.is_empty() { interface } else { name }.to_owned(),
            state_interface: if state_interface.is_empty() {
                interface
            } else {
                state_interface
            }
            .to_owned(),
            dynamic: true,
            penalty: penalty.max(0),
            calls: 0,
            lastcall: 0,
            lastpause: if paused { now } else { 0 },
            logintime: now,
            in_call: false,
            paused,
            reason: if paused {
                reason.to_owned()
            } else {
                String::new()
            },
            wrapuptime: 0,
            queuepos: 0,
            seq: 0,
        };
        let agent = self.agent_name(&m);
        self.queues[qi].push_member(m);
        let mi = self.queues[qi].members.len() - 1;
        self.emit_member_event("QueueMemberAdded", qi, mi);
        let qname = self.queues[qi].name().to_owned();
        self.qlog(
            &qname,
            "MANAGER",
            &agent,
            "ADDMEMBER",
            if paused { "PAUSED" } else { "" },
        );
        Ok(())
    }

    /// `remove_from_queue()` (dynamic members only).
    pub(crate) fn remove_member(&mut self, queue: &str, interface: &str) -> Result<(), SimError> {
        let qi = self
            .queue_idx(queue)
            .ok_or_else(|| SimError::NoSuchQueue(queue.to_owned()))?;
        let mi = self.queues[qi]
            .member_index(interface)
            .ok_or_else(|| SimError::NoSuchMember(interface.to_owned()))?;
        if !self.queues[qi].members[mi].dynamic {
            return Err(SimError::NotDynamic(interface.to_owned()));
        }
        self.emit_member_event("QueueMemberRemoved", qi, mi);
        let m = self.queues[qi].remove_member(mi);
        let agent = self.agent_name(&m);
        let qname = self.queues[qi].name().to_owned();
        self.qlog(&qname, "MANAGER", &agent, "REMOVEMEMBER", "");
        Ok(())
    }

    /// `set_member_paused()`: one queue, or every queue the interface is in.
    pub(crate) fn set_paused(
        &mut self,
        queue: Option<&str>,
        interface: &str,
        paused: bool,
        reason: &str,
    ) -> Result<(), SimError> {
        let targets = self.member_targets(queue, interface)?;
        let now = self.now_secs();
        if queue.is_none() {
            let name = self.queues[targets[0].0].members[targets[0].1].name.clone();
            let ev = if paused { "PAUSEALL" } else { "UNPAUSEALL" };
            self.qlog("NONE", "NONE", &name, ev, reason);
        }
        for (qi, mi) in targets {
            let m = &mut self.queues[qi].members[mi];
            m.paused = paused;
            m.reason = reason.to_owned();
            if paused {
                m.lastpause = now;
            }
            let name = m.name.clone();
            let qname = self.queues[qi].name().to_owned();
            let ev = if paused { "PAUSE" } else { "UNPAUSE" };
            self.qlog(&qname, "NONE", &name, ev, reason);
            self.emit_member_event("QueueMemberPause", qi, mi);
        }
        Ok(())
    }

    /// `set_member_value(MEMBER_PENALTY)`.
    pub(crate) fn set_penalty(
        &mut self,
        queue: Option<&str>,
        interface: &str,
        penalty: i32,
    ) -> Result<(), SimError> {
        if penalty < 0 {
            return Err(SimError::InvalidValue("penalty".to_owned()));
        }
        for (qi, mi) in self.member_targets(queue, interface)? {
            self.queues[qi].members[mi].penalty = penalty;
            let qname = self.queues[qi].name().to_owned();
            let iface = self.queues[qi].members[mi].interface.clone();
            self.qlog(&qname, "NONE", &iface, "PENALTY", &penalty.to_string());
            self.emit_member_event("QueueMemberPenalty", qi, mi);
        }
        Ok(())
    }

    /// The (queue, member) pairs an interface-wide action applies to, in queue order.
    fn member_targets(
        &self,
        queue: Option<&str>,
        interface: &str,
    ) -> Result<Vec<(usize, usize)>, SimError> {
        let mut out = Vec::new();
        for (qi, q) in self.queues.iter().enumerate() {
            if queue.is_some_and(|n| !q.name().eq_ignore_ascii_case(n)) {
                continue;
            }
            if let Some(mi) = q.member_index(interface) {
                out.push((qi, mi));
            }
        }
        if out.is_empty() {
            return Err(SimError::NoSuchMember(interface.to_owned()));
        }
        Ok(out)
    }

    /// `QueueReset`: zero the statistics of one queue or all.
    pub(crate) fn reset_stats(&mut self, queue: Option<&str>) -> Result<(), SimError> {
        let mut found = false;
        for q in &mut self.queues {
            if queue.is_some_and(|n| !q.name().eq_ignore_ascii_case(n)) {
                continue;
            }
            found = true;
            q.reset_stats();
            for m in &mut q.members {
                m.calls = 0;
                m.lastcall = 0;
            }
        }
        if found {
            Ok(())
        } else {
            Err(SimError::NoSuchQueue(queue.unwrap_or_default().to_owned()))
        }
    }

    /// `QueueReload`: apply the staged configuration (parameters, static members); dynamic
    /// members, waiting callers and statistics stay.
    pub(crate) fn reload_queues(&mut self, only: Option<&str>, members: bool) {
        let Some(new) = self.staged_queues.clone() else {
            return;
        };
        let now = self.now();
        if only.is_none() {
            self.config.queues = new.clone();
        }
        let names: Vec<String> = self.queues.iter().map(|q| q.name().to_owned()).collect();
        for name in names {
            if only.is_some_and(|o| !o.eq_ignore_ascii_case(&name)) {
                continue;
            }
            if !new.iter().any(|c| c.name.eq_ignore_ascii_case(&name)) {
                if let Some(qi) = self.queue_idx(&name) {
                    if self.queues[qi].entries.is_empty() {
                        self.queues.remove(qi);
                    }
                }
            }
        }
        for cfg in new {
            if only.is_some_and(|o| !o.eq_ignore_ascii_case(&cfg.name)) {
                continue;
            }
            let Some(qi) = self.queue_idx(&cfg.name) else {
                self.insert_queue(cfg.clone(), now);
                let qi = self.queue_idx(&cfg.name).expect("just inserted");
                for mi in self.queues[qi].member_order() {
                    self.emit_member_event("QueueMemberAdded", qi, mi);
                }
                continue;
            };
            let old_members = std::mem::take(&mut self.queues[qi].cfg.members);
            let mut params = cfg.clone();
            params.members = old_members;
            self.queues[qi].cfg = params;
            if !members {
                continue;
            }
            // Static members no longer configured go; new ones come; known ones are updated.
            let mut mi = 0;
            while mi < self.queues[qi].members.len() {
                let m = &self.queues[qi].members[mi];
                let keep = m.dynamic
                    || cfg
                        .members
                        .iter()
                        .any(|c| c.interface.eq_ignore_ascii_case(&m.interface));
                if keep {
                    mi += 1;
                } else {
                    self.emit_member_event("QueueMemberRemoved", qi, mi);
                    self.queues[qi].remove_member(mi);
                }
            }
            for c in &cfg.members {
                match self.queues[qi].member_index(&c.interface) {
                    Some(mi) => {
                        let m = &mut self.queues[qi].members[mi];
                        m.name = c.name.clone();
                        m.penalty = c.penalty;
                    }
                    None => {
                        self.queues[qi].push_member(static_member(c, clock::secs(now)));
                        let mi = self.queues[qi].members.len() - 1;
                        self.emit_member_event("QueueMemberAdded", qi, mi);
                    }
                }
            }
            self.queues[qi].cfg.members = cfg.members.clone();
        }
        self.last_reload = now;
    }

    // ----- callers -----

    /// An inbound call from the trunk (`PJSIP/<trunk>-…`) into `queue`.
    pub(crate) fn place_call(
        &mut self,
        queue: &str,
        opts: CallOptions,
    ) -> Result<CallId, SimError> {
        let qi = self
            .queue_idx(queue)
            .ok_or_else(|| SimError::NoSuchQueue(queue.to_owned()))?;
        let qname = self.queues[qi].name().to_owned();
        let seq = self.next_chan_seq();
        let name = channel::channel_name(&format!("PJSIP/{}", self.config.inbound_trunk), seq);
        let ctx = self.config.inbound_context.clone();
        let chan = self.new_channel(name, ChanState::Ring, &ctx, &qname, None);
        {
            let c = self.chan_mut(chan);
            c.cid_num = Some(opts.caller_num.clone()).filter(|s| !s.is_empty());
            c.cid_name = Some(opts.caller_name.clone()).filter(|s| !s.is_empty());
            c.runs_pbx = true;
            c.app = "Answer".to_owned();
        }
        self.processed_calls += 1;
        self.emit_newchannel(chan);
        self.set_state(chan, ChanState::Up);
        let id = self.new_call(&qname, chan, None, &opts);
        if opts.answer_delay.is_zero() {
            self.join(id);
        } else {
            self.schedule_in(opts.answer_delay, Timer::Join(id));
        }
        Ok(id)
    }

    /// `Originate` of `Local/<queue>@<entry context>`: the `;2` half runs `Queue()`, the `;1`
    /// half is the caller and runs `context`/`exten` of the action.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn originate_into_queue(
        &mut self,
        queue: &str,
        entry_context: &str,
        opts: CallOptions,
        context: &str,
        exten: &str,
        priority: u32,
        action_id: Option<&str>,
    ) -> CallId {
        let seq = self.next_chan_seq();
        let base = channel::channel_name(&format!("Local/{queue}@{entry_context}"), seq);
        let one = self.new_channel(
            format!("{base};1"),
            ChanState::Down,
            entry_context,
            queue,
            None,
        );
        let linked = self.chan(one).linkedid.clone();
        let two = self.new_channel(
            format!("{base};2"),
            ChanState::Ring,
            entry_context,
            queue,
            Some(linked),
        );
        self.emit_newchannel(one);
        self.emit_newchannel(two);
        let num = Some(opts.caller_num.clone()).filter(|s| !s.is_empty());
        let name = Some(opts.caller_name.clone()).filter(|s| !s.is_empty());
        for id in [one, two] {
            let c = self.chan_mut(id);
            c.cid_num = num.clone();
            c.cid_name = name.clone();
            c.conn_num = num.clone();
            c.conn_name = name.clone();
            c.runs_pbx = true;
        }
        self.processed_calls += 2;
        let mut m = event("DialBegin", class::CALL);
        self.chan(one).snapshot_into("Dest", &mut m);
        m.push("DialString", format!("{queue}@{entry_context}"));
        self.emit(class::CALL, &m);
        self.set_state(two, ChanState::Up);
        self.set_state(one, ChanState::Up);
        let mut m = event("DialEnd", class::CALL);
        self.chan(one).snapshot_into("Dest", &mut m);
        m.push("DialStatus", "ANSWER");
        self.emit(class::CALL, &m);
        {
            let c = self.chan_mut(one);
            c.context = context.to_owned();
            c.exten = exten.to_owned();
            c.priority = priority;
            c.app = "Wait".to_owned();
        }
        self.chan_mut(two).app = "Queue".to_owned();
        let mut m = event("OriginateResponse", class::CALL);
        if let Some(id) = action_id {
            m.push("ActionID", id);
        }
        let c = self.chan(one);
        let (chan_name, uid) = (c.name.clone(), c.uniqueid.clone());
        m.push("Response", "Success");
        m.push("Channel", chan_name);
        m.push("Context", context);
        m.push("Exten", exten);
        m.push("Reason", "4");
        m.push("Uniqueid", uid);
        m.push("CallerIDNum", num.unwrap_or_else(|| "<unknown>".to_owned()));
        m.push(
            "CallerIDName",
            channel::escape_c(&name.unwrap_or_else(|| "<unknown>".to_owned())),
        );
        self.emit(class::CALL, &m);
        let id = self.new_call(queue, two, Some(one), &opts);
        self.schedule_in(opts.answer_delay, Timer::Join(id));
        id
    }

    fn new_call(
        &mut self,
        queue: &str,
        chan: ChanId,
        partner: Option<ChanId>,
        opts: &CallOptions,
    ) -> CallId {
        let entry_timeout = self
            .queue_idx(queue)
            .and_then(|qi| self.queues[qi].cfg.entry_timeout);
        let id = CallId(self.next_call);
        self.next_call += 1;
        let now = self.now();
        self.calls.insert(
            id,
            Call {
                queue: queue.to_owned(),
                chan,
                partner,
                phase: Phase::Joining,
                start: now,
                opos: 0,
                max_wait: opts.max_wait.or(entry_timeout),
                expire: None,
                linpos: 0,
                linwrapped: false,
                attempt: 0,
                check_gen: 0,
                legs: Vec::new(),
                ring_start: 0,
                ring_ms: 0,
                connected: None,
                end: None,
            },
        );
        if let Some(p) = opts.patience {
            self.schedule_in(p, Timer::CallerHangup(id));
        }
        id
    }

    /// `join_queue()` + the first look at the queue.
    fn join(&mut self, id: CallId) {
        let Some(qi) = self.queue_of(id) else {
            return;
        };
        if self.calls[&id].phase != Phase::Joining {
            return;
        }
        let q = &self.queues[qi];
        if q.cfg.maxlen > 0 && q.entries.len() >= q.cfg.maxlen as usize {
            // QUEUESTATUS=FULL: the dialplan goes on and hangs up.
            self.end_call(id, CallEnd::NotQueued);
            return;
        }
        let now = self.now();
        self.queues[qi].entries.push(id);
        let pos = self.queues[qi].entries.len();
        let chan = {
            let c = self.calls.get_mut(&id).expect("call");
            c.phase = Phase::Waiting;
            c.start = now;
            c.opos = pos;
            c.expire = c.max_wait.map(|w| clock::secs(now) + w.as_secs() as i64);
            c.chan
        };
        {
            let c = self.chan_mut(chan);
            c.priority = 3;
            c.app = "Queue".to_owned();
        }
        let mut m = self.chan_event("QueueCallerJoin", class::AGENT, chan);
        m.push("Queue", self.queues[qi].name());
        m.push("Position", pos.to_string());
        m.push("Count", pos.to_string());
        self.emit(class::AGENT, &m);
        let qname = self.queues[qi].name().to_owned();
        let uid = self.chan(chan).uniqueid.clone();
        let num = self.chan(chan).cid_num.clone().unwrap_or_default();
        self.qlog(&qname, &uid, "NONE", "ENTERQUEUE", &format!("|{num}|{pos}"));
        self.check(id);
    }

    fn position(&self, id: CallId) -> usize {
        self.queue_of(id)
            .and_then(|qi| self.queues[qi].entries.iter().position(|&c| c == id))
            .map_or(0, |p| p + 1)
    }

    fn expired(&self, id: CallId) -> bool {
        self.calls[&id].expire.is_some_and(|e| self.now_secs() >= e)
    }

    /// `is_member_available()`.
    fn member_available(&self, q: &Queue, m: &Member) -> bool {
        let free = self.member_status(m).is_free() && !m.paused;
        let wrap = if m.wrapuptime > 0 {
            m.wrapuptime
        } else {
            q.cfg.wrapuptime
        };
        let in_wrapup =
            m.lastcall != 0 && wrap > 0 && self.now_secs() - i64::from(wrap) < m.lastcall;
        free && !in_wrapup
    }

    /// `is_our_turn()`.
    fn is_our_turn(&self, id: CallId) -> bool {
        let Some(qi) = self.queue_of(id) else {
            return false;
        };
        let q = &self.queues[qi];
        let Some(pos) = q.entries.iter().position(|&c| c == id) else {
            return false;
        };
        if !q.cfg.autofill {
            return pos == 0;
        }
        // Callers ahead that are ringing members ("pending") do not hold a member back.
        let idx = q.entries[..pos]
            .iter()
            .filter(|c| self.calls.get(c).is_none_or(|c| c.phase != Phase::Ringing))
            .count();
        let mut avl = 0;
        for m in &q.members {
            if self.member_available(q, m) {
                avl += 1;
                if q.cfg.strategy == Strategy::RingAll {
                    break;
                }
            }
        }
        idx < avl
    }

    /// The waiting caller looks at the queue: rings members, or waits and looks again.
    fn check(&mut self, id: CallId) {
        if self
            .calls
            .get(&id)
            .is_none_or(|c| c.phase != Phase::Waiting)
        {
            return;
        }
        if !self.is_our_turn(id) {
            if self.expired(id) {
                self.time_out(id);
            } else {
                self.schedule_check(id, Duration::from_secs(1));
            }
            return;
        }
        if self.expired(id) {
            self.time_out(id);
            return;
        }
        if !self.try_calling(id) {
            let retry = self.queue_of(id).map_or(5, |qi| self.queues[qi].cfg.retry);
            self.schedule_check(id, Duration::from_secs(u64::from(retry)));
        }
    }

    fn schedule_check(&mut self, id: CallId, after: Duration) {
        let gen = {
            let c = self.calls.get_mut(&id).expect("call");
            c.check_gen += 1;
            c.check_gen
        };
        self.schedule_in(after, Timer::Check(id, gen));
    }

    /// `calc_metric()` for every member, in iteration order: (member index, metric).
    fn metrics(&mut self, qi: usize, id: CallId) -> Vec<(usize, i64)> {
        let order = self.queues[qi].member_order();
        let now = self.now_secs();
        let use_penalty = !self.queues[qi].members.is_empty();
        let strategy = self.queues[qi].cfg.strategy;
        let mut out = Vec::with_capacity(order.len());
        for (pos, mi) in order.into_iter().enumerate() {
            let m = &self.queues[qi].members[mi];
            let penalty = i64::from(m.penalty) * 1_000_000 * i64::from(use_penalty);
            let metric = match strategy {
                Strategy::RingAll => penalty,
                Strategy::Linear => {
                    let call = self.calls.get_mut(&id).expect("call");
                    let base = if pos < call.linpos {
                        1000 + pos as i64
                    } else {
                        if pos > call.linpos {
                            call.linwrapped = true;
                        }
                        pos as i64
                    };
                    base + penalty
                }
                Strategy::RrMemory | Strategy::RrOrdered => {
                    let qpos = m.queuepos;
                    let q = &mut self.queues[qi];
                    let base = if qpos < q.rrpos {
                        1000 + qpos as i64
                    } else {
                        if qpos > q.rrpos {
                            q.wrapped = true;
                        }
                        qpos as i64
                    };
                    base + penalty
                }
                Strategy::Random => self.rng.gen_range(0..1000) + penalty,
                Strategy::WRandom => self.rng.gen_range(0..(1 + i64::from(m.penalty)) * 1000),
                Strategy::FewestCalls => i64::from(m.calls) + penalty,
                Strategy::LeastRecent => {
                    let base = if m.lastcall == 0 {
                        0
                    } else {
                        1_000_000 - (now - m.lastcall)
                    };
                    base + penalty
                }
            };
            out.push((mi, metric));
        }
        out
    }

    /// `can_ring_entry()` with `ringinuse=no`.
    fn can_ring(&self, qi: usize, mi: usize) -> bool {
        let q = &self.queues[qi];
        let m = &q.members[mi];
        !m.paused
            && self.member_status(m).is_free()
            && !self.ringing.contains_key(&m.interface)
            && !self.busy.contains(&m.interface)
            && self.member_available(q, m)
    }

    /// `try_calling()` up to the ringing: `ring_one()` and `store_next_*()`.
    /// Returns whether anybody is ringing.
    fn try_calling(&mut self, id: CallId) -> bool {
        let Some(qi) = self.queue_of(id) else {
            return false;
        };
        let metrics = self.metrics(qi, id);
        // (member index, metric, still going, rung)
        let mut cands: Vec<(usize, i64, bool, bool)> = metrics
            .into_iter()
            .map(|(mi, m)| (mi, m, true, false))
            .collect();
        let ringall = self.queues[qi].cfg.strategy == Strategy::RingAll;
        let mut to_ring = Vec::new();
        loop {
            let best = cands.iter().filter(|c| c.2 && !c.3).map(|c| c.1).min();
            let Some(best) = best else {
                break;
            };
            let mut rang = false;
            for c in cands.iter_mut() {
                if !c.2 || c.3 {
                    continue;
                }
                let pick = if ringall { c.1 <= best } else { c.1 == best };
                if !pick {
                    continue;
                }
                if self.can_ring(qi, c.0) && !to_ring.contains(&c.0) {
                    c.3 = true;
                    to_ring.push(c.0);
                    rang = true;
                } else {
                    c.2 = false;
                }
                if !ringall && (rang || !c.2) {
                    break;
                }
            }
            if rang {
                break;
            }
        }
        // store_next_rr / store_next_lin: the next best not rung now.
        let next = cands
            .iter()
            .filter(|c| c.2 && !c.3)
            .min_by_key(|c| c.1)
            .map(|c| (c.1 % 1000) as usize);
        match self.queues[qi].cfg.strategy {
            Strategy::RrMemory | Strategy::RrOrdered => {
                let q = &mut self.queues[qi];
                q.rrpos = match next {
                    Some(p) => p,
                    None if q.wrapped => 0,
                    None => q.rrpos + 1,
                };
                q.wrapped = false;
            }
            Strategy::Linear => {
                let c = self.calls.get_mut(&id).expect("call");
                c.linpos = match next {
                    Some(p) => p,
                    None if c.linwrapped => 0,
                    None => c.linpos + 1,
                };
                c.linwrapped = false;
            }
            _ => {}
        }
        if to_ring.is_empty() {
            return false;
        }
        // Ring duration: the member timeout, or what is left of the caller's Queue() timeout.
        let now_s = self.now_secs();
        let timeout = i64::from(self.queues[qi].cfg.timeout);
        let expire = self.calls[&id].expire;
        let ring_ms = match expire {
            Some(e) if timeout == 0 || e - now_s <= timeout => (e - now_s) * 1000,
            _ if timeout > 0 => timeout * 1000,
            _ => -1,
        };
        let attempt = {
            let c = self.calls.get_mut(&id).expect("call");
            c.attempt += 1;
            c.phase = Phase::Ringing;
            c.ring_start = self.clock.now();
            c.ring_ms = ring_ms;
            c.legs.clear();
            c.attempt
        };
        for mi in to_ring {
            self.ring_member(id, qi, mi, attempt);
        }
        if ring_ms >= 0 {
            self.schedule_in(
                Duration::from_millis(ring_ms as u64),
                Timer::RingTimeout(id, attempt),
            );
        }
        true
    }

    /// `ring_entry()`: creates the member's channel, `AgentCalled`, `DialBegin`.
    fn ring_member(&mut self, id: CallId, qi: usize, mi: usize, attempt: u64) {
        let (interface, member_name, state_if) = {
            let m = &self.queues[qi].members[mi];
            (
                m.interface.clone(),
                m.name.clone(),
                m.state_interface.clone(),
            )
        };
        let caller = self.calls[&id].chan;
        let (linked, cnum, cname, cexten) = {
            let c = self.chan(caller);
            (
                c.linkedid.clone(),
                c.cid_num.clone(),
                c.cid_name.clone(),
                c.exten.clone(),
            )
        };
        let seq = self.next_chan_seq();
        let (chan, partner, orig_exten) = match Tech::of(&interface) {
            Tech::Local { exten, context } => {
                let base = channel::channel_name(&format!("Local/{exten}@{context}"), seq);
                let one = self.new_channel(
                    format!("{base};1"),
                    ChanState::Down,
                    &context,
                    &exten,
                    Some(linked.clone()),
                );
                let two = self.new_channel(
                    format!("{base};2"),
                    ChanState::Ring,
                    &context,
                    &exten,
                    Some(linked),
                );
                self.emit_newchannel(one);
                self.emit_newchannel(two);
                let c2 = self.chan_mut(two);
                c2.runs_pbx = true;
                c2.app = "Wait".to_owned();
                self.processed_calls += 1;
                (one, Some(two), exten)
            }
            Tech::Device { resource } => {
                let name = channel::channel_name(&resource, seq);
                let ctx = self.config.agent_context.clone();
                let ch = self.new_channel(name, ChanState::Down, &ctx, "s", Some(linked));
                self.emit_newchannel(ch);
                (ch, None, "s".to_owned())
            }
        };
        // app_queue copies the caller's identity and extension onto the outgoing channel.
        for ch in std::iter::once(chan).chain(partner) {
            let c = self.chan_mut(ch);
            c.cid_num = cnum.clone();
            c.cid_name = cname.clone();
            c.conn_num = cnum.clone();
            c.conn_name = cname.clone();
        }
        self.chan_mut(chan).exten = cexten;
        self.chan_mut(chan).app = "AppQueue".to_owned();
        self.chan_mut(chan).app_data = "(Outgoing Line)".to_owned();
        let qname = self.queues[qi].name().to_owned();
        let mut m = self.chan_event("AgentCalled", class::AGENT, caller);
        self.chan(chan).snapshot_into("Dest", &mut m);
        m.push("Queue", qname.as_str());
        m.push("Interface", interface.as_str());
        m.push("MemberName", member_name.as_str());
        self.emit(class::AGENT, &m);
        let mut m = self.chan_event("DialBegin", class::CALL, caller);
        self.chan(chan).snapshot_with(
            "Dest",
            &mut m,
            &SnapshotOverride {
                exten: Some(orig_exten.clone()),
                no_connected_line: true,
            },
        );
        m.push("DialString", interface.as_str());
        self.emit(class::CALL, &m);
        if partner.is_none() {
            // A phone rings: channel Ringing, device Ringing.
            self.set_state(chan, ChanState::Ringing);
            self.set_device(&state_if, DeviceState::Ringing);
        }
        self.ringing.insert(interface.clone(), id);
        self.calls.get_mut(&id).expect("call").legs.push(Leg {
            interface: interface.clone(),
            member_name,
            chan,
            partner,
        });
        // The simulated person at the phone.
        if let Some(b) = self.behaviors.get(&interface).cloned() {
            if let Some(range) = b.answer_after {
                if self.rng.gen_bool(b.answer_probability.clamp(0.0, 1.0)) {
                    let d = sample(&mut self.rng, &range);
                    self.schedule_in(d, Timer::Answer(id, attempt, interface));
                }
            }
        }
    }

    /// Ends one ringing leg without an answer: `DialEnd` CANCEL and hang-ups (the `;2` half
    /// of a Local pair only when `partner_too`).
    fn drop_leg(&mut self, caller: ChanId, leg: &Leg, partner_too: bool) {
        let mut m = self.chan_event("DialEnd", class::CALL, caller);
        self.chan(leg.chan).snapshot_into("Dest", &mut m);
        m.push("DialStatus", "CANCEL");
        self.emit(class::CALL, &m);
        self.hangup_channel(leg.chan, 0);
        if partner_too {
            if let Some(p) = leg.partner {
                self.hangup_channel(p, 0);
            }
        }
        self.ringing.remove(&leg.interface);
        if leg.partner.is_none() {
            let si = self.state_interface_of(&leg.interface);
            self.set_device(&si, DeviceState::NotInUse);
        }
    }

    fn state_interface_of(&self, interface: &str) -> String {
        self.queues
            .iter()
            .flat_map(|q| q.members.iter())
            .find(|m| m.interface == interface)
            .map_or_else(|| interface.to_owned(), |m| m.state_interface.clone())
    }

    /// Nobody answered within the ring time: `rna()` for each, `DialEnd`s, hang-ups.
    fn ring_timeout(&mut self, id: CallId, attempt: u64) {
        let Some(c) = self.calls.get(&id) else {
            return;
        };
        if c.phase != Phase::Ringing || c.attempt != attempt {
            return;
        }
        let Some(qi) = self.queue_of(id) else {
            return;
        };
        let caller = c.chan;
        let legs = std::mem::take(&mut self.calls.get_mut(&id).expect("call").legs);
        let ring_ms = self.calls[&id].ring_ms;
        let qname = self.queues[qi].name().to_owned();
        let uid = self.chan(caller).uniqueid.clone();
        for leg in &legs {
            let mut m = self.chan_event("AgentRingNoAnswer", class::AGENT, caller);
            self.chan(leg.chan).snapshot_into("Dest", &mut m);
            m.push("Queue", qname.as_str());
            m.push("Interface", leg.interface.as_str());
            m.push("MemberName", leg.member_name.as_str());
            m.push("RingTime", ring_ms.to_string());
            self.emit(class::AGENT, &m);
            self.qlog(
                &qname,
                &uid,
                &leg.member_name,
                "RINGNOANSWER",
                &ring_ms.to_string(),
            );
        }
        for leg in &legs {
            let mut m = self.chan_event("DialEnd", class::CALL, caller);
            self.chan(leg.chan).snapshot_into("Dest", &mut m);
            m.push("DialStatus", "NOANSWER");
            self.emit(class::CALL, &m);
        }
        for leg in &legs {
            self.drop_leg(caller, leg, true);
        }
        self.calls.get_mut(&id).expect("call").phase = Phase::Waiting;
        if self.expired(id) {
            self.time_out(id);
        } else {
            let retry = self.queues[qi].cfg.retry;
            self.schedule_check(id, Duration::from_secs(u64::from(retry)));
        }
    }

    /// A rung member answers: the caller leaves the queue and is bridged to the member.
    pub(crate) fn answer(&mut self, id: CallId, interface: &str) -> Result<(), SimError> {
        let c = self.calls.get(&id).ok_or(SimError::NoSuchCall(id))?;
        if c.phase != Phase::Ringing {
            return Err(SimError::NotRinging(interface.to_owned()));
        }
        let li = c
            .legs
            .iter()
            .position(|l| l.interface.eq_ignore_ascii_case(interface))
            .ok_or_else(|| SimError::NotRinging(interface.to_owned()))?;
        let qi = self.queue_of(id).ok_or(SimError::NoSuchCall(id))?;
        let caller = c.chan;
        let ring_start = c.ring_start;
        let mut legs = std::mem::take(&mut self.calls.get_mut(&id).expect("call").legs);
        let leg = legs.remove(li);
        let state_if = self.state_interface_of(&leg.interface);
        // The member picks up.
        if let Some(p) = leg.partner {
            self.chan_mut(p).priority = 2;
            self.set_state(p, ChanState::Up);
        }
        self.set_state(leg.chan, ChanState::Up);
        let mut m = self.chan_event("DialEnd", class::CALL, caller);
        self.chan(leg.chan).snapshot_into("Dest", &mut m);
        m.push("DialStatus", "ANSWER");
        self.emit(class::CALL, &m);
        for other in &legs {
            self.drop_leg(caller, other, true);
        }
        let now = self.now();
        let now_s = clock::secs(now);
        let qname = self.queues[qi].name().to_owned();
        if let Some(fmt) = self.queues[qi].cfg.record.clone() {
            let uid = self.chan(caller).uniqueid.clone();
            let mut m = self.chan_event("VarSet", class::DIALPLAN, caller);
            m.push("Variable", "MIXMONITOR_FILENAME");
            let path = format!("{}/monitor/{uid}.{fmt}", self.config.spool_dir);
            if self.config.write_recordings {
                write_recording(&path, 0);
            }
            m.push("Value", path);
            self.emit(class::DIALPLAN, &m);
            let m = self.chan_event("MixMonitorStart", class::CALL, caller);
            self.emit(class::CALL, &m);
        }
        let start_s = clock::secs(self.calls[&id].start);
        let holdtime = now_s - start_s;
        self.recalc_holdtime(qi, holdtime);
        let in_sl = holdtime <= i64::from(self.queues[qi].cfg.servicelevel);
        self.leave_queue(id, qi);
        self.ringing.remove(&leg.interface);
        self.busy.insert(leg.interface.clone());
        self.set_device(&state_if, DeviceState::InUse);
        let ring_s = (now.saturating_sub(ring_start) / 1_000_000) as i64;
        for q in &mut self.queues {
            if let Some(mi) = q.member_index(&leg.interface) {
                if q.name().eq_ignore_ascii_case(&qname) {
                    q.members[mi].in_call = true;
                }
            }
        }
        // Queue()'s gosub (member's channel), then its AGI (caller's), before the bridge.
        self.run_queue_answer_hooks(caller, leg.chan);
        let mut m = self.chan_event("AgentConnect", class::AGENT, caller);
        self.chan(leg.chan).snapshot_into("Dest", &mut m);
        m.push("Queue", qname.as_str());
        m.push("Interface", leg.interface.as_str());
        m.push("MemberName", leg.member_name.as_str());
        m.push("HoldTime", holdtime.to_string());
        m.push("RingTime", ring_s.to_string());
        self.emit(class::AGENT, &m);
        let uid = self.chan(caller).uniqueid.clone();
        let member_uid = self.chan(leg.chan).uniqueid.clone();
        self.qlog(
            &qname,
            &uid,
            &leg.member_name,
            "CONNECT",
            &format!("{holdtime}|{member_uid}|{ring_s}"),
        );
        let bridge = channel::bridge_uuid(&mut self.rng);
        self.bridge_event("BridgeCreate", &bridge, 0, None);
        self.bridge_event("BridgeEnter", &bridge, 1, Some(leg.chan));
        self.bridge_event("BridgeEnter", &bridge, 2, Some(caller));
        if let Some(p) = leg.partner {
            // The agent's dialplan goes on to its talk (`Wait()`, priority 3).
            self.chan_mut(p).priority = 3;
        }
        self.chan_mut(caller).app = "Queue".to_owned();
        let talk = self
            .behaviors
            .get(&leg.interface)
            .and_then(|b| b.talk_for.clone());
        {
            let c = self.calls.get_mut(&id).expect("call");
            c.phase = Phase::Connected;
            c.connected = Some(Connected {
                leg,
                holdtime,
                callstart: now_s,
                in_sl,
                bridge,
            });
        }
        if let Some(range) = talk {
            let d = sample(&mut self.rng, &range);
            self.schedule_in(d, Timer::AgentHangup(id));
        }
        Ok(())
    }

    /// A rung member declines (hangs up the ringing phone): `rna()` for that member; the
    /// attempt goes on with the others, or ends and the caller retries.
    pub(crate) fn reject(&mut self, id: CallId, interface: &str) -> Result<(), SimError> {
        let c = self.calls.get(&id).ok_or(SimError::NoSuchCall(id))?;
        if c.phase != Phase::Ringing {
            return Err(SimError::NotRinging(interface.to_owned()));
        }
        let li = c
            .legs
            .iter()
            .position(|l| l.interface.eq_ignore_ascii_case(interface))
            .ok_or_else(|| SimError::NotRinging(interface.to_owned()))?;
        let qi = self.queue_of(id).ok_or(SimError::NoSuchCall(id))?;
        let caller = c.chan;
        let elapsed = (self.now().saturating_sub(c.ring_start) / 1000) as i64;
        let leg = self.calls.get_mut(&id).expect("call").legs.remove(li);
        let qname = self.queues[qi].name().to_owned();
        let mut m = self.chan_event("AgentRingNoAnswer", class::AGENT, caller);
        self.chan(leg.chan).snapshot_into("Dest", &mut m);
        m.push("Queue", qname.as_str());
        m.push("Interface", leg.interface.as_str());
        m.push("MemberName", leg.member_name.as_str());
        m.push("RingTime", elapsed.to_string());
        self.emit(class::AGENT, &m);
        let uid = self.chan(caller).uniqueid.clone();
        self.qlog(
            &qname,
            &uid,
            &leg.member_name,
            "RINGNOANSWER",
            &elapsed.to_string(),
        );
        let mut m = self.chan_event("DialEnd", class::CALL, caller);
        self.chan(leg.chan).snapshot_into("Dest", &mut m);
        m.push("DialStatus", "BUSY");
        self.emit(class::CALL, &m);
        self.hangup_channel(leg.chan, 17);
        if let Some(p) = leg.partner {
            self.hangup_channel(p, 17);
        }
        self.ringing.remove(&leg.interface);
        if leg.partner.is_none() {
            let si = self.state_interface_of(&leg.interface);
            self.set_device(&si, DeviceState::NotInUse);
        }
        if self.calls[&id].legs.is_empty() {
            self.calls.get_mut(&id).expect("call").phase = Phase::Waiting;
            let retry = self.queues[qi].cfg.retry;
            self.schedule_check(id, Duration::from_secs(u64::from(retry)));
        }
        Ok(())
    }

    fn bridge_event(&mut self, name: &str, bridge: &str, n: usize, chan: Option<ChanId>) {
        let mut m = event(name, class::CALL);
        m.push("BridgeUniqueid", bridge);
        m.push("BridgeType", "basic");
        m.push("BridgeTechnology", "simple_bridge");
        m.push("BridgeCreator", "<unknown>");
        m.push("BridgeName", "<unknown>");
        m.push("BridgeNumChannels", n.to_string());
        m.push("BridgeVideoSourceMode", "none");
        if let Some(c) = chan {
            self.chan(c).snapshot_into("", &mut m);
        }
        self.emit(class::CALL, &m);
    }

    /// `recalc_holdtime()`.
    fn recalc_holdtime(&mut self, qi: usize, newholdtime: i64) {
        let q = &mut self.queues[qi];
        if q.completed + q.abandoned == 0 {
            q.holdtime = newholdtime;
        } else {
            q.holdtime = ((q.holdtime << 2) - q.holdtime + newholdtime) >> 2;
        }
    }

    /// `leave_queue()`: `QueueCallerLeave` with the position held and the count after.
    fn leave_queue(&mut self, id: CallId, qi: usize) {
        let Some(p) = self.queues[qi].entries.iter().position(|&c| c == id) else {
            return;
        };
        self.queues[qi].entries.remove(p);
        let count = self.queues[qi].entries.len();
        let caller = self.calls[&id].chan;
        let mut m = self.chan_event("QueueCallerLeave", class::AGENT, caller);
        m.push("Queue", self.queues[qi].name());
        m.push("Position", (p + 1).to_string());
        m.push("Count", count.to_string());
        self.emit(class::AGENT, &m);
    }

    /// `record_abandoned()`: `QueueCallerAbandon`, the Abandoned counter.
    fn record_abandoned(&mut self, id: CallId, qi: usize) -> (usize, usize, i64) {
        let pos = self.position(id);
        let c = &self.calls[&id];
        let (opos, caller) = (c.opos, c.chan);
        let hold = self.now_secs() - clock::secs(c.start);
        let mut m = self.chan_event("QueueCallerAbandon", class::AGENT, caller);
        m.push("Queue", self.queues[qi].name());
        m.push("Position", pos.to_string());
        m.push("OriginalPosition", opos.to_string());
        m.push("HoldTime", hold.to_string());
        let q = &mut self.queues[qi];
        if hold <= i64::from(q.cfg.servicelevel) {
            q.abandoned_in_sl += 1;
        }
        q.abandoned += 1;
        self.emit(class::AGENT, &m);
        (pos, opos, hold)
    }

    /// `Queue()`'s timeout expired.
    fn time_out(&mut self, id: CallId) {
        let Some(qi) = self.queue_of(id) else {
            return;
        };
        let (pos, opos, hold) = self.record_abandoned(id, qi);
        let qname = self.queues[qi].name().to_owned();
        let uid = self.chan(self.calls[&id].chan).uniqueid.clone();
        self.qlog(
            &qname,
            &uid,
            "NONE",
            "EXITWITHTIMEOUT",
            &format!("{pos}|{opos}|{hold}"),
        );
        self.leave_queue(id, qi);
        // Queue() returns to the dialplan with QUEUESTATUS set, as on the capture.
        let c = &self.calls[&id];
        let (chan, partner) = (c.chan, c.partner);
        let mut m = self.chan_event("VarSet", class::DIALPLAN, chan);
        m.push("Variable", "QUEUESTATUS");
        m.push("Value", "TIMEOUT");
        self.emit(class::DIALPLAN, &m);
        // The dialplan goes on after Queue() to its `Hangup()`: the queue side first.
        self.chan_mut(chan).priority += 1;
        self.hangup_channel(chan, 16);
        if let Some(p) = partner {
            self.hangup_channel(p, 16);
        }
        self.finish(id, CallEnd::TimedOut);
    }

    /// The caller hangs up, whatever the call's phase.
    pub(crate) fn caller_hangup(&mut self, id: CallId) -> Result<(), SimError> {
        let c = self.calls.get(&id).ok_or(SimError::NoSuchCall(id))?;
        let (phase, chan, partner) = (c.phase, c.chan, c.partner);
        if let (Some(p), false) = (partner, phase == Phase::Done) {
            // The customer side of a Local caller ends its `Wait()` with `Hangup()`.
            if let Some(ch) = self.channels.get_mut(&p) {
                ch.priority = 2;
            }
        }
        match phase {
            Phase::Done => Err(SimError::CallEnded(id)),
            Phase::Joining => {
                self.end_call(id, CallEnd::NotQueued);
                Ok(())
            }
            Phase::Connected => {
                if let Some(p) = partner {
                    self.hangup_channel(p, 16);
                }
                self.complete(id, false);
                Ok(())
            }
            Phase::Waiting | Phase::Ringing => {
                let qi = self.queue_of(id).ok_or(SimError::NoSuchCall(id))?;
                if let Some(p) = partner {
                    self.hangup_channel(p, 16);
                }
                // The hang-up reaches the channel before app_queue notices it: Asterisk
                // publishes HangupRequest first (ast_queue_hangup), which is how the daemon
                // tells an abandon from a queue timeout.
                let mut m = self.chan_event("HangupRequest", class::CALL, chan);
                m.push("Cause", "16");
                self.emit(class::CALL, &m);
                let legs = std::mem::take(&mut self.calls.get_mut(&id).expect("call").legs);
                let qname = self.queues[qi].name().to_owned();
                let uid = self.chan(chan).uniqueid.clone();
                let elapsed = (self.now().saturating_sub(self.calls[&id].ring_start) / 1000) as i64;
                for leg in &legs {
                    // hangupcalls() then the DialEnd of the cancelled attempt.
                    let mut m = self.chan_event("DialEnd", class::CALL, chan);
                    self.chan(leg.chan).snapshot_into("Dest", &mut m);
                    m.push("DialStatus", "CANCEL");
                    self.emit(class::CALL, &m);
                    self.drop_leg(chan, leg, false);
                    self.qlog(
                        &qname,
                        &uid,
                        &leg.member_name,
                        "RINGCANCELED",
                        &elapsed.to_string(),
                    );
                }
                let (pos, opos, hold) = self.record_abandoned(id, qi);
                self.qlog(
                    &qname,
                    &uid,
                    "NONE",
                    "ABANDON",
                    &format!("{pos}|{opos}|{hold}"),
                );
                self.leave_queue(id, qi);
                for leg in &legs {
                    if let Some(p) = leg.partner {
                        self.hangup_channel(p, 0);
                    }
                }
                self.hangup_channel(chan, 16);
                self.finish(id, CallEnd::Abandoned);
                Ok(())
            }
        }
    }

    /// The connected member hangs up.
    pub(crate) fn agent_hangup(&mut self, id: CallId) -> Result<(), SimError> {
        let c = self.calls.get(&id).ok_or(SimError::NoSuchCall(id))?;
        if c.phase != Phase::Connected {
            return Err(SimError::NotConnected(id));
        }
        self.complete(id, true);
        Ok(())
    }

    /// End of an answered call: `AgentComplete`, `update_queue()`, bridge and channels torn
    /// down in the capture's order.
    fn complete(&mut self, id: CallId, by_agent: bool) {
        let Some(qi) = self.queue_of(id) else {
            return;
        };
        let c = &self.calls[&id];
        let (caller, partner) = (c.chan, c.partner);
        let Some(conn) = c.connected.clone() else {
            return;
        };
        let now_s = self.now_secs();
        let talk = now_s - conn.callstart;
        let qname = self.queues[qi].name().to_owned();
        let mut m = self.chan_event("AgentComplete", class::AGENT, caller);
        self.chan(conn.leg.chan).snapshot_into("Dest", &mut m);
        m.push("Queue", qname.as_str());
        m.push("Interface", conn.leg.interface.as_str());
        m.push("MemberName", conn.leg.member_name.as_str());
        m.push("HoldTime", conn.holdtime.to_string());
        m.push("TalkTime", talk.to_string());
        m.push("Reason", if by_agent { "agent" } else { "caller" });
        self.emit(class::AGENT, &m);
        // update_queue()
        let shared = self.config.shared_lastcall;
        for (i, q) in self.queues.iter_mut().enumerate() {
            if let Some(mi) = q.member_index(&conn.leg.interface) {
                let m = &mut q.members[mi];
                if i == qi {
                    m.calls += 1;
                    m.lastcall = now_s;
                    m.in_call = false;
                } else if shared {
                    m.lastcall = now_s;
                }
            }
        }
        {
            let q = &mut self.queues[qi];
            q.completed += 1;
            if conn.in_sl {
                q.completed_in_sl += 1;
            }
            if q.completed == 1 {
                q.talktime = talk;
            } else {
                q.talktime = ((q.talktime << 2) - q.talktime + talk) >> 2;
            }
        }
        let uid = self.chan(caller).uniqueid.clone();
        if let (true, Some(fmt)) = (
            self.config.write_recordings,
            self.queues[qi].cfg.record.as_deref(),
        ) {
            let path = format!("{}/monitor/{uid}.{fmt}", self.config.spool_dir);
            write_recording(&path, talk.min(super::config::MAX_RECORDING_SECONDS));
        }
        let opos = self.calls[&id].opos;
        self.qlog(
            &qname,
            &uid,
            &conn.leg.member_name,
            if by_agent {
                "COMPLETEAGENT"
            } else {
                "COMPLETECALLER"
            },
            &format!("{}|{talk}|{opos}", conn.holdtime),
        );
        self.busy.remove(&conn.leg.interface);
        let state_if = self.state_interface_of(&conn.leg.interface);
        let member = conn.leg.chan;
        if by_agent {
            match conn.leg.partner {
                Some(p) => {
                    // The agent's dialplan reached its `Hangup()` (priority 4).
                    self.chan_mut(p).priority = 4;
                    self.hangup_channel(p, 16);
                    self.set_device(&state_if, DeviceState::NotInUse);
                    self.bridge_event("BridgeLeave", &conn.bridge, 1, Some(member));
                    self.hangup_channel(member, 16);
                }
                None => {
                    self.bridge_event("BridgeLeave", &conn.bridge, 1, Some(member));
                    self.hangup_channel(member, 16);
                    self.set_device(&state_if, DeviceState::NotInUse);
                }
            }
            self.bridge_event("BridgeLeave", &conn.bridge, 0, Some(caller));
            self.bridge_event("BridgeDestroy", &conn.bridge, 0, None);
            if let Some(score) = self.surveys.remove(&id) {
                // Queue(…,c) returned to coocenterd's survey dialplan, which read the
                // score and raised it with UserEvent() on the caller's channel.
                let c = self.chan_mut(caller);
                c.context = "coocenter-survey".to_owned();
                c.exten = "s".to_owned();
                c.priority = 4;
                let mut m = self.chan_event("UserEvent", class::USER, caller);
                m.push("UserEvent", "CooCenterSurvey");
                m.push("Queue", qname.as_str());
                m.push("Agent", "");
                m.push("Score", score.to_string());
                self.emit(class::USER, &m);
            }
            // The caller's dialplan ends after Queue() (or after the survey).
            if let Some(p) = partner {
                self.hangup_channel(p, 16);
            }
            self.hangup_channel(caller, 16);
        } else {
            self.bridge_event("BridgeLeave", &conn.bridge, 1, Some(caller));
            self.bridge_event("BridgeLeave", &conn.bridge, 0, Some(member));
            self.bridge_event("BridgeDestroy", &conn.bridge, 0, None);
            self.hangup_channel(member, 16);
            self.hangup_channel(caller, 16);
            if let Some(p) = conn.leg.partner {
                self.hangup_channel(p, 16);
            }
            self.set_device(&state_if, DeviceState::NotInUse);
        }
        self.finish(
            id,
            CallEnd::Completed {
                member: conn.leg.interface.clone(),
                by_agent,
            },
        );
    }

    /// Hangs up a call that is not (or no longer) in a queue.
    fn end_call(&mut self, id: CallId, end: CallEnd) {
        let c = &self.calls[&id];
        let (chan, partner) = (c.chan, c.partner);
        if let Some(p) = partner {
            self.hangup_channel(p, 16);
        }
        self.hangup_channel(chan, 16);
        self.finish(id, end);
    }

    fn finish(&mut self, id: CallId, end: CallEnd) {
        if let Some(c) = self.calls.get_mut(&id) {
            c.phase = Phase::Done;
            c.end = Some(end);
            c.legs.clear();
        }
        // Long demo runs: remember only recent ended calls.
        if self.calls.len() > 4096 {
            self.prune_calls(1024);
        }
    }

    /// Forgets ended calls beyond the most recent `keep` (long demo runs).
    pub(crate) fn prune_calls(&mut self, keep: usize) {
        let ended: Vec<CallId> = self
            .calls
            .iter()
            .filter(|(_, c)| c.phase == Phase::Done)
            .map(|(id, _)| *id)
            .collect();
        if ended.len() > keep {
            for id in &ended[..ended.len() - keep] {
                self.calls.remove(id);
            }
        }
    }

    /// The public view of a call.
    pub(crate) fn call_state(&self, id: CallId) -> Option<CallState> {
        let c = self.calls.get(&id)?;
        Some(match c.phase {
            Phase::Joining => CallState::Joining,
            Phase::Waiting => CallState::Waiting {
                position: self.position(id),
            },
            Phase::Ringing => CallState::Ringing {
                members: c.legs.iter().map(|l| l.interface.clone()).collect(),
            },
            Phase::Connected => CallState::Talking {
                member: c
                    .connected
                    .as_ref()
                    .map(|k| k.leg.interface.clone())
                    .unwrap_or_default(),
            },
            Phase::Done => CallState::Ended(c.end.clone().unwrap_or(CallEnd::NotQueued)),
        })
    }

    /// Runs one timer.
    pub(crate) fn fire(&mut self, t: Timer) {
        match t {
            Timer::Join(id) => self.join(id),
            Timer::Check(id, gen) => {
                if self.calls.get(&id).is_some_and(|c| c.check_gen == gen) {
                    self.check(id);
                }
            }
            Timer::RingTimeout(id, attempt) => self.ring_timeout(id, attempt),
            Timer::Answer(id, attempt, iface) => {
                if self
                    .calls
                    .get(&id)
                    .is_some_and(|c| c.attempt == attempt && c.phase == Phase::Ringing)
                {
                    let _ = self.answer(id, &iface);
                }
            }
            Timer::AgentHangup(id) => {
                let _ = self.agent_hangup(id);
            }
            Timer::CallerHangup(id) => {
                let _ = self.caller_hangup(id);
            }
        }
    }

    /// An Asterisk restart: calls and channels vanish, queues come back from the
    /// configuration with fresh counters; dynamic members survive only with
    /// `persistent_members`.
    pub(crate) fn restart(&mut self) {
        let now = self.now();
        let keep: Vec<(String, Member)> = if self.config.persistent_members {
            self.queues
                .iter()
                .flat_map(|q| {
                    q.members
                        .iter()
                        .filter(|m| m.dynamic)
                        .map(|m| (q.name().to_owned(), m.clone()))
                })
                .collect()
        } else {
            Vec::new()
        };
        self.clear_timers();
        self.calls.clear();
        self.channels.clear();
        // The calls are gone, so are the phones' rings and conversations.
        for st in self.devices.values_mut() {
            if matches!(
                st,
                DeviceState::InUse
                    | DeviceState::Ringing
                    | DeviceState::RingInUse
                    | DeviceState::OnHold
            ) {
                *st = DeviceState::NotInUse;
            }
        }
        self.ringing.clear();
        self.busy.clear();
        self.reset_sequences();
        self.processed_calls = 0;
        self.started = now;
        self.last_reload = now;
        self.load_queues(now);
        self.reload_dialplan();
        for (qname, mut m) in keep {
            if let Some(qi) = self.queue_idx(&qname) {
                m.calls = 0;
                m.lastcall = 0;
                m.in_call = false;
                m.logintime = clock::secs(now);
                self.queues[qi].push_member(m);
            }
        }
    }
}

fn membership(m: &Member) -> &'static str {
    if m.dynamic {
        "dynamic"
    } else {
        "static"
    }
}

fn static_member(c: &MemberConfig, now_s: i64) -> Member {
    Member {
        interface: c.interface.clone(),
        name: if c.name.is_empty() {
            c.interface.clone()
        } else {
            c.name.clone()
        },
        state_interface: c
            .state_interface
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| c.interface.clone()),
        dynamic: false,
        penalty: c.penalty,
        calls: 0,
        lastcall: 0,
        lastpause: 0,
        logintime: now_s,
        in_call: false,
        paused: false,
        reason: String::new(),
        wrapuptime: 0,
        queuepos: 0,
        seq: 0,
    }
}

/// A uniform sample of a duration range.
pub(crate) fn sample(rng: &mut impl Rng, r: &std::ops::RangeInclusive<Duration>) -> Duration {
    let (a, b) = (r.start().as_micros() as u64, r.end().as_micros() as u64);
    if b <= a {
        return *r.start();
    }
    Duration::from_micros(rng.gen_range(a..=b))
}

/// Writes a recording as MixMonitor leaves it: 8 kHz mono 16-bit WAV, `seconds` of a quiet
/// two-tone murmur (so a player shows it moving).
pub fn write_recording_file(path: &std::path::Path, seconds: i64) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut writer = hound::WavWriter::create(path, spec)?;
    for i in 0..(seconds.max(0) * 8000) {
        let t = i as f64 / 8000.0;
        let sample = (t * 330.0 * std::f64::consts::TAU).sin() * 2500.0
            + (t * 495.0 * std::f64::consts::TAU).sin() * 1500.0 * (t * 0.5).sin();
        writer.write_sample(sample as i16)?;
    }
    writer.finalize()
}

/// The simulator's MixMonitor: failures are logged, never fatal (a demo without its
/// recordings still runs).
fn write_recording(path: &str, seconds: i64) {
    if let Err(err) = write_recording_file(std::path::Path::new(path), seconds) {
        log::warn!("simulator: cannot write the recording {path}: {err}");
    }
}
