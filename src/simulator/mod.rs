//! A simulated Asterisk 22.10.1 for `coocenterd`: a manager (AMI) server on loopback that
//! speaks the exact wire format of the real one and behaves like `app_queue`.
//!
//! Used by `coocenterd demo` (a lively call center, [`DemoScenario`]), by integration tests
//! (drive calls through [`SimHandle`], assert on what the daemon sent with
//! [`SimHandle::received_actions`]) and by benchmarks. It is the one simulated peer of the
//! daemon; nothing outside this folder depends on it, so it can sit behind a cargo feature.
//!
//! Owns everything below it:
//!
//! | module | owns |
//! |---|---|
//! | `config` | [`SimConfig`], queues and members, simulated people's behaviour, clock mode |
//! | `conf_files` | the queue strategies of a real `queues.conf` and its includes, read as Asterisk reads them |
//! | `clock` | simulated time and Asterisk's time formats |
//! | `channel` | channels, their AMI snapshots, names, bridge ids |
//! | `engine` | the one state of the PBX: timers, channels, sessions, event fan-out |
//! | `queue` | app_queue: callers, ringing, connecting, counters, queue_log |
//! | `dialplan` | coocenterd's dialplan include: what `Queue()`'s gosub and AGI run, on which channel |
//! | `outbound` | calls agents dial out from their phones (`DialBegin`/`DialEnd`, hang-ups) |
//! | `manager` | the AMI actions and their replies, login, security events |
//! | `cli` | the CLI commands of `Action: Command` |
//! | `server` | TCP on loopback, connections, [`Simulator`], [`SimHandle`] and its control API |
//! | `demo` | [`DemoScenario`]: random calls, agents and pauses for a demo |
//!
//! It uses `crate::ami` (codec, message types, the MD5 key) and nothing else of the daemon.
//!
//! # Fidelity
//!
//! What is checked against the byte-exact 22.10.1 capture in `ami-traces/` is listed with the
//! tests (`tests/scenario.rs`). Channel events beyond what the queue needs (`Cdr`, `Newexten`,
//! `NewCallerid`, `NewConnectedLine`, `LocalBridge`, `SoftHangupRequest`, `VarSet` other than
//! `MIXMONITOR_FILENAME` and `QUEUESTATUS`) are not simulated; `HangupRequest` is, on a
//! queued caller who hangs up, since it is what tells an abandon from a queue timeout.
//! Of coocenterd's own dialplan, what `Queue()` runs between a member's answer and the bridge
//! is simulated (`dialplan.rs`: its gosub and AGI, as `Newexten` on the channel each runs on);
//! the rest is not, but what it raises is: a caller given a score with
//! [`SimHandle::answer_survey`] raises `UserEvent: CooCenterSurvey` on the caller channel
//! after the agent hangs up. `Reload` answers as Asterisk does but raises no `Reload` event.
//!
//! # Example
//!
//! ```text
//! let sim = Simulator::start(SimConfig { queues: vec![QueueConfig::new("222")
//!     .member(MemberConfig::new("PJSIP/1001", "张伟"))], ..SimConfig::default() }).await?;
//! let call = sim.place_call("222", "13800138000", "李女士")?;
//! sim.answer(call, "PJSIP/1001")?;   // AgentConnect on every logged-in session
//! sim.hangup_agent(call)?;           // AgentComplete Reason: agent
//! ```

mod channel;
mod cli;
mod clock;
mod conf_files;
mod config;
mod demo;
mod dialplan;
mod engine;
mod manager;
mod outbound;
mod queue;
mod server;

#[cfg(test)]
mod tests;

pub use conf_files::pbx_ui_queues_conf;
pub use config::{
    CallOptions, ClockMode, DeviceState, MemberBehavior, MemberConfig, QueueConfig, SimConfig,
    Strategy,
};
pub use demo::{DemoAgent, DemoQueue, DemoScenario};
pub use outbound::OutboundId;
pub use queue::{write_recording_file, CallEnd, CallId, CallState};
pub use server::{SimHandle, Simulator};

use std::net::SocketAddr;

/// Errors of the simulator and of its control API.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The simulator only listens on loopback.
    #[error("the simulator listens on loopback addresses only, not {0}")]
    NotLoopback(SocketAddr),
    /// Binding or accepting failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// No queue of that name.
    #[error("no such queue: {0}")]
    NoSuchQueue(String),
    /// Unknown call.
    #[error("no such call: {0}")]
    NoSuchCall(CallId),
    /// The member is not ringing for this call.
    #[error("{0} is not ringing for this call")]
    NotRinging(String),
    /// The call is not connected to a member.
    #[error("{0} is not connected to a member")]
    NotConnected(CallId),
    /// The call was answered already.
    #[error("{0} was answered already")]
    AlreadyAnswered(CallId),
    /// The call is over.
    #[error("{0} has ended")]
    CallEnded(CallId),
    /// No such member (in that queue).
    #[error("no such member: {0}")]
    NoSuchMember(String),
    /// The member is already in the queue.
    #[error("member already in the queue: {0}")]
    MemberExists(String),
    /// Static members cannot be removed.
    #[error("member is not dynamic: {0}")]
    NotDynamic(String),
    /// A value out of range.
    #[error("invalid {0}")]
    InvalidValue(String),
    /// Time control needs [`ClockMode::Manual`].
    #[error("the simulator's clock is not manual")]
    NotManualClock,
}
