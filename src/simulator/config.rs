//! What the simulated PBX is made of: manager credentials, versions, queues (the
//! `queues.conf` equivalent), members, how simulated people behave, and the clock mode.
//!
//! Owns plain configuration data and its defaults. Defaults follow Asterisk 22's own
//! (`queues.conf` without a `[general]` section: `timeout=15`, `retry=5`, `wrapuptime=0`,
//! `servicelevel=0`, `autofill=no`, strategy `ringall`), except where a call-center appliance
//! needs otherwise, which the field docs say. Knows nothing of sockets or events.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::time::Duration;

/// The longest audio the simulator writes into one recording (a demo's disk is a temp folder).
pub const MAX_RECORDING_SECONDS: i64 = 20;

/// Configuration of one simulator instance.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen. Must be a loopback address (`127.0.0.0/8` or `::1`); port 0 picks one.
    pub bind: SocketAddr,
    /// The manager user (`[user]` of manager.conf).
    pub username: String,
    /// Its secret (plain `Secret:` or MD5 `Key:` login).
    pub secret: String,
    /// AMI version of the banner and `CoreSettings` (`11.0.0` on Asterisk 22).
    pub ami_version: String,
    /// Asterisk version (`CoreSettings`' `AsteriskVersion`).
    pub asterisk_version: String,
    /// The CLI line of `core show version`.
    pub version_line: String,
    /// Real wall-clock time, or a manual clock for tests.
    pub clock: ClockMode,
    /// How long Asterisk had been up when the simulator starts (`FullyBooted`'s `Uptime`).
    pub initial_uptime: Duration,
    /// The queues, in configuration order.
    pub queues: Vec<QueueConfig>,
    /// Dialplan context of `Local/<queue>@<context>` channels that `Originate` may use to put a
    /// caller into a queue (the capture's `queue-entry`).
    pub entry_context: String,
    /// PJSIP endpoint that inbound calls of [`SimHandle::place_call`](super::SimHandle::place_call)
    /// arrive on (`PJSIP/<trunk>-0000000a`).
    pub inbound_trunk: String,
    /// Dialplan context of inbound calls.
    pub inbound_context: String,
    /// Dialplan context of the PJSIP endpoints of agents (context of their outgoing channels).
    pub agent_context: String,
    /// Asterisk's spool directory; queue recordings go to `<spool>/monitor/<uniqueid>.<fmt>`.
    pub spool_dir: String,
    /// Write the recording files MixMonitor would (a header when recording starts, the audio
    /// when the call ends, at most [`MAX_RECORDING_SECONDS`] of it), so the demo's 录音列表
    /// plays something. Off by default: the replay tests only compare the wire.
    pub write_recordings: bool,
    /// Delay before `Authentication failed` (Asterisk sleeps 1 s, then closes the socket).
    pub auth_failure_delay: Duration,
    /// queues.conf `persistentmembers`: whether dynamic members survive a restart.
    pub persistent_members: bool,
    /// queues.conf `shared_lastcall`: a member's last call counts in all its queues.
    pub shared_lastcall: bool,
    /// queues.conf `log_membername_as_agent`: queue_log names members by name, not interface.
    pub log_membername_as_agent: bool,
    /// Seed of the simulator's random numbers (random strategy, behaviours).
    pub seed: u64,
    /// How members answer and hang up, by interface (absent: they never answer by themselves;
    /// the control API answers for them).
    pub behaviors: Vec<(String, MemberBehavior)>,
    /// Device states at start, by state interface (absent: `NotInUse`).
    pub device_states: Vec<(String, DeviceState)>,
    /// PJSIP endpoints (extension numbers) the PBX has besides the queue members', listed by
    /// `PJSIPShowEndpoints`.
    pub endpoints: Vec<String>,
    /// Events per session that may wait to be written before the session is dropped (what
    /// Asterisk's `writetimeout` does to a client that does not read).
    pub session_queue: usize,
    /// Asterisk's configuration folder (`/etc/asterisk`), when the simulator should read the
    /// queues' strategies from its `queues.conf` and includes at start, restart and
    /// `QueueReload` (`conf_files.rs`), as the daemon's generated include is read by a real
    /// Asterisk. `None`: strategies come from [`SimConfig::queues`] only.
    pub asterisk_config_dir: Option<std::path::PathBuf>,
    /// The `Challenge:` to hand out instead of a random one: replaying a captured MD5 login
    /// needs the challenge its `Key` was computed from.
    pub fixed_challenge: Option<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            username: "coocenter".to_owned(),
            secret: "coocenter-secret".to_owned(),
            ami_version: "11.0.0".to_owned(),
            asterisk_version: "22.10.1".to_owned(),
            version_line:
                "Asterisk 22.10.1 built by root @ coocenter on a aarch64 running Linux on 2026-11-26 03:49:03 UTC"
                    .to_owned(),
            clock: ClockMode::Real,
            initial_uptime: Duration::ZERO,
            queues: Vec::new(),
            entry_context: "queue-entry".to_owned(),
            inbound_trunk: "trunk".to_owned(),
            inbound_context: "from-trunk".to_owned(),
            agent_context: "from-internal".to_owned(),
            spool_dir: "/var/spool/asterisk".to_owned(),
            write_recordings: false,
            auth_failure_delay: Duration::from_secs(1),
            asterisk_config_dir: None,
            persistent_members: false,
            shared_lastcall: true,
            log_membername_as_agent: true,
            seed: 1,
            behaviors: Vec::new(),
            device_states: Vec::new(),
            endpoints: Vec::new(),
            session_queue: 8192,
            fixed_challenge: None,
        }
    }
}

/// The simulator's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockMode {
    /// Wall-clock time; timers fire by themselves.
    Real,
    /// Starts at `start` (time since the Unix epoch) and moves only through
    /// [`SimHandle::advance`](super::SimHandle::advance); timers fire as it moves.
    Manual {
        /// The initial time since the epoch.
        start: Duration,
    },
}

/// app_queue ring strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Ring all available members at once.
    RingAll,
    /// Ring the member idle the longest.
    LeastRecent,
    /// Ring the member with the fewest completed calls.
    FewestCalls,
    /// Ring a random member.
    Random,
    /// Round robin, remembering where the last call stopped.
    RrMemory,
    /// Round robin in configuration order, remembering the position.
    RrOrdered,
    /// Ring members in configuration order, every caller starting from the first.
    Linear,
    /// Random, weighted by penalty.
    WRandom,
}

impl Strategy {
    /// The name queues.conf and `QueueParams` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::RingAll => "ringall",
            Strategy::LeastRecent => "leastrecent",
            Strategy::FewestCalls => "fewestcalls",
            Strategy::Random => "random",
            Strategy::RrMemory => "rrmemory",
            Strategy::RrOrdered => "rrordered",
            Strategy::Linear => "linear",
            Strategy::WRandom => "wrandom",
        }
    }

    /// Parses a queues.conf strategy name (`roundrobin` is `rrmemory`, as in app_queue).
    pub fn parse(s: &str) -> Option<Strategy> {
        Some(match s.to_ascii_lowercase().as_str() {
            "ringall" => Strategy::RingAll,
            "leastrecent" => Strategy::LeastRecent,
            "fewestcalls" => Strategy::FewestCalls,
            "random" => Strategy::Random,
            "rrmemory" | "roundrobin" => Strategy::RrMemory,
            "rrordered" => Strategy::RrOrdered,
            "linear" => Strategy::Linear,
            "wrandom" => Strategy::WRandom,
            _ => return None,
        })
    }

    /// app_queue keeps members of order-sensitive strategies in a list (configuration order)
    /// and the others in a hash table (an order of its own).
    pub(crate) fn keeps_member_order(self) -> bool {
        matches!(self, Strategy::Linear | Strategy::RrOrdered)
    }
}

/// One queue (a `[section]` of queues.conf).
#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    /// Queue name (`222`, `sales`).
    pub name: String,
    /// Ring strategy.
    pub strategy: Strategy,
    /// Seconds a member is rung before giving up (`timeout`).
    pub timeout: u32,
    /// Seconds to wait before ringing again after nobody answered (`retry`).
    pub retry: u32,
    /// Seconds after a call before a member is rung again (`wrapuptime`).
    pub wrapuptime: u32,
    /// Service level in seconds (`servicelevel`).
    pub servicelevel: u32,
    /// Maximum waiting callers, 0 = unlimited (`maxlen`).
    pub maxlen: u32,
    /// Queue weight (`weight`).
    pub weight: u32,
    /// `autofill`: ring as many waiting callers as there are free members at once (`yes`), or
    /// only the head caller (`no`, Asterisk's default).
    pub autofill: bool,
    /// `monitor-format` (e.g. `wav`): record answered calls with MixMonitor.
    pub record: Option<String>,
    /// Static members (`member =>`), in order.
    pub members: Vec<MemberConfig>,
    /// The timeout argument of the dialplan's `Queue()` for callers entering this queue
    /// (`Queue(support,r,,,8)`); [`CallOptions::max_wait`] overrides it.
    pub entry_timeout: Option<Duration>,
}

impl QueueConfig {
    /// A queue with Asterisk's defaults and no members.
    pub fn new(name: impl Into<String>) -> Self {
        QueueConfig {
            name: name.into(),
            strategy: Strategy::RingAll,
            timeout: 15,
            retry: 5,
            wrapuptime: 0,
            servicelevel: 0,
            maxlen: 0,
            weight: 0,
            autofill: false,
            record: None,
            members: Vec::new(),
            entry_timeout: None,
        }
    }

    /// Builder: strategy.
    pub fn strategy(mut self, s: Strategy) -> Self {
        self.strategy = s;
        self
    }

    /// Builder: adds a static member.
    pub fn member(mut self, m: MemberConfig) -> Self {
        self.members.push(m);
        self
    }
}

/// A static queue member (`member => interface,penalty,name,state_interface,ringinuse,wrapuptime`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberConfig {
    /// Interface rung (`PJSIP/1001`, `Local/201@agents/n`).
    pub interface: String,
    /// Member name (defaults to the interface in app_queue when empty).
    pub name: String,
    /// Device whose state counts (defaults to the interface).
    pub state_interface: Option<String>,
    /// Penalty.
    pub penalty: i32,
}

impl MemberConfig {
    /// A member with penalty 0 and no separate state interface.
    pub fn new(interface: impl Into<String>, name: impl Into<String>) -> Self {
        MemberConfig {
            interface: interface.into(),
            name: name.into(),
            state_interface: None,
            penalty: 0,
        }
    }
}

/// Device states (`enum ast_device_state`; the number is QueueMemberStatus' `Status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceState {
    /// 0: unknown (callable).
    Unknown = 0,
    /// 1: idle.
    NotInUse = 1,
    /// 2: on a call.
    InUse = 2,
    /// 3: busy.
    Busy = 3,
    /// 4: no such device.
    Invalid = 4,
    /// 5: unreachable / not registered.
    Unavailable = 5,
    /// 6: ringing.
    Ringing = 6,
    /// 7: ringing while on a call.
    RingInUse = 7,
    /// 8: on hold.
    OnHold = 8,
}

impl DeviceState {
    /// The numeric `Status`.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The CLI text (`ast_devstate2str`), as `queue show` prints it.
    pub fn text(self) -> &'static str {
        match self {
            DeviceState::Unknown => "Unknown",
            DeviceState::NotInUse => "Not in use",
            DeviceState::InUse => "In use",
            DeviceState::Busy => "Busy",
            DeviceState::Invalid => "Invalid",
            DeviceState::Unavailable => "Unavailable",
            DeviceState::Ringing => "Ringing",
            DeviceState::RingInUse => "Ring+Inuse",
            DeviceState::OnHold => "On Hold",
        }
    }

    /// `member_status_available()`: idle or unknown.
    pub(crate) fn is_free(self) -> bool {
        matches!(self, DeviceState::NotInUse | DeviceState::Unknown)
    }
}

/// How a simulated member (the person at a phone) reacts when rung.
///
/// Durations are drawn uniformly from the ranges with the simulator's seeded RNG. The default
/// never answers by itself (tests answer through the control API).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberBehavior {
    /// Time from the start of ringing to answering; `None`: does not answer by itself.
    pub answer_after: Option<RangeInclusive<Duration>>,
    /// Probability of answering at all when rung (else rings until the queue gives up).
    pub answer_probability: f64,
    /// Time from answering to hanging up; `None`: talks until the caller hangs up.
    pub talk_for: Option<RangeInclusive<Duration>>,
}

impl Default for MemberBehavior {
    fn default() -> Self {
        MemberBehavior::never_answers()
    }
}

impl MemberBehavior {
    /// Never answers by itself.
    pub fn never_answers() -> Self {
        MemberBehavior {
            answer_after: None,
            answer_probability: 1.0,
            talk_for: None,
        }
    }

    /// Answers `after` the start of ringing and stays until the caller hangs up.
    pub fn answers_after(after: Duration) -> Self {
        MemberBehavior {
            answer_after: Some(after..=after),
            answer_probability: 1.0,
            talk_for: None,
        }
    }

    /// Builder: hangs up `d` after answering.
    pub fn talks_for(mut self, d: Duration) -> Self {
        self.talk_for = Some(d..=d);
        self
    }

    /// Random answer delay and talk time; answers with probability `p`.
    pub fn random(
        answer_after: RangeInclusive<Duration>,
        p: f64,
        talk_for: RangeInclusive<Duration>,
    ) -> Self {
        MemberBehavior {
            answer_after: Some(answer_after),
            answer_probability: p,
            talk_for: Some(talk_for),
        }
    }
}

/// A call placed through the control API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOptions {
    /// Caller number (`CallerIDNum`).
    pub caller_num: String,
    /// Caller name (`CallerIDName`; empty: `<unknown>`).
    pub caller_name: String,
    /// `Queue()`'s timeout: leave unanswered after this long in the queue.
    pub max_wait: Option<Duration>,
    /// The caller hangs up this long after the call was answered by the PBX (abandons if
    /// still waiting then).
    pub patience: Option<Duration>,
    /// Delay between the channel's creation and joining the queue (dialplan `Answer()`).
    pub answer_delay: Duration,
}

impl CallOptions {
    /// A caller with this number and name who waits until answered or hung up.
    pub fn new(num: impl Into<String>, name: impl Into<String>) -> Self {
        CallOptions {
            caller_num: num.into(),
            caller_name: name.into(),
            max_wait: None,
            patience: None,
            answer_delay: Duration::ZERO,
        }
    }
}

/// Whether `addr` is a loopback address (the only kind the simulator binds).
pub(crate) fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_round_trip() {
        for s in [
            Strategy::RingAll,
            Strategy::LeastRecent,
            Strategy::FewestCalls,
            Strategy::Random,
            Strategy::RrMemory,
            Strategy::RrOrdered,
            Strategy::Linear,
            Strategy::WRandom,
        ] {
            assert_eq!(Strategy::parse(s.as_str()), Some(s));
        }
        assert_eq!(Strategy::parse("roundrobin"), Some(Strategy::RrMemory));
        assert_eq!(Strategy::parse("bogus"), None);
    }

    #[test]
    fn only_loopback_is_accepted() {
        assert!(is_loopback(&"127.0.0.1:0".parse().unwrap()));
        assert!(is_loopback(&"127.3.2.1:5038".parse().unwrap()));
        assert!(is_loopback(&"[::1]:0".parse().unwrap()));
        assert!(!is_loopback(&"0.0.0.0:0".parse().unwrap()));
        assert!(!is_loopback(&"192.168.1.100:5038".parse().unwrap()));
    }
}
