//! Call outcomes: follows each queue call from the events and says, once per call, how it
//! ended, so statistics survive Asterisk restarts (its own counters do not).
//!
//! AMI reports a caller who hung up and a caller whose queue timed out with the same
//! `QueueCallerAbandon`; only `queue_log` separates ABANDON from EXITWITHTIMEOUT. We tell them
//! apart the way the channel does: a caller who hangs up has a `HangupRequest` (or
//! `SoftHangupRequest`) on their channel *before* the abandon, while a timed-out caller's
//! channel lives on and `Queue()` sets `QUEUESTATUS` (`TIMEOUT`, `LEAVEEMPTY`, …) after it.
//! Pure: times come from the caller.

use std::collections::HashMap;

use crate::ami::Message;

/// How a queue call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Answered,
    Abandoned,
    Timeout,
    /// Left the queue another way: empty queue, key press, withdrawn, or lost with Asterisk.
    Other,
}

impl Outcome {
    pub fn code(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Abandoned => "abandoned",
            Outcome::Timeout => "timeout",
            Outcome::Other => "other",
        }
    }
}

/// What to persist. Times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallUpdate {
    Joined {
        uniqueid: String,
        queue: String,
        caller_number: String,
        caller_name: String,
        at: i64,
    },
    Answered {
        uniqueid: String,
        queue: String,
        agent_interface: String,
        agent_name: String,
        hold_seconds: i64,
        at: i64,
    },
    Ended {
        uniqueid: String,
        queue: String,
        outcome: Outcome,
        hold_seconds: Option<i64>,
        talk_seconds: Option<i64>,
        at: i64,
    },
}

#[derive(Debug, Clone)]
struct Tracked {
    queue: String,
    joined_at: i64,
    answered_at: Option<i64>,
    hold_seconds: Option<i64>,
    hangup_requested: bool,
    /// Abandoned without a hang-up: waiting for `QUEUESTATUS` or the channel's end.
    exit_pending: bool,
}

/// Calls in progress are forgotten after this long without an ending (a lost event).
const STALE_AFTER_MS: i64 = 12 * 3600 * 1000;
/// At most this many calls are followed at once; beyond it the oldest are dropped.
const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Default)]
pub struct CallTracker {
    calls: HashMap<String, Tracked>,
}

fn seconds(message: &Message, key: &str) -> Option<i64> {
    message.get(key).and_then(|v| v.trim().parse().ok())
}

fn text(message: &Message, key: &str) -> String {
    match message.get(key) {
        Some("<unknown>") | None => String::new(),
        Some(value) => value.to_string(),
    }
}

impl CallTracker {
    /// Follows one event; returns what changed for persistence.
    pub fn apply(&mut self, event: &Message, now_ms: i64) -> Vec<CallUpdate> {
        let Some(name) = event.event() else {
            return vec![];
        };
        let Some(uniqueid) = event.get("Uniqueid").map(str::to_string) else {
            return vec![];
        };
        match name {
            "QueueCallerJoin" | "Join" => {
                let Some(queue) = event.get("Queue") else {
                    return vec![];
                };
                if self.calls.contains_key(&uniqueid) {
                    return vec![];
                }
                self.make_room(now_ms);
                self.calls.insert(
                    uniqueid.clone(),
                    Tracked {
                        queue: queue.to_string(),
                        joined_at: now_ms,
                        answered_at: None,
                        hold_seconds: None,
                        hangup_requested: false,
                        exit_pending: false,
                    },
                );
                vec![CallUpdate::Joined {
                    uniqueid,
                    queue: queue.to_string(),
                    caller_number: text(event, "CallerIDNum"),
                    caller_name: text(event, "CallerIDName"),
                    at: now_ms,
                }]
            }
            "HangupRequest" | "SoftHangupRequest" => {
                if let Some(call) = self.calls.get_mut(&uniqueid) {
                    call.hangup_requested = true;
                }
                vec![]
            }
            "AgentConnect" => {
                let Some(call) = self.calls.get_mut(&uniqueid) else {
                    return vec![];
                };
                let hold = seconds(event, "HoldTime").unwrap_or((now_ms - call.joined_at) / 1000);
                call.answered_at = Some(now_ms);
                call.hold_seconds = Some(hold);
                vec![CallUpdate::Answered {
                    uniqueid,
                    queue: call.queue.clone(),
                    agent_interface: event
                        .get("Interface")
                        .or_else(|| event.get("Member"))
                        .unwrap_or("")
                        .to_string(),
                    agent_name: text(event, "MemberName"),
                    hold_seconds: hold,
                    at: now_ms,
                }]
            }
            "AgentComplete" => {
                let Some(call) = self.calls.remove(&uniqueid) else {
                    return vec![];
                };
                vec![CallUpdate::Ended {
                    uniqueid,
                    queue: call.queue,
                    outcome: Outcome::Answered,
                    hold_seconds: seconds(event, "HoldTime").or(call.hold_seconds),
                    talk_seconds: seconds(event, "TalkTime"),
                    at: now_ms,
                }]
            }
            "QueueCallerAbandon" => {
                let hold = seconds(event, "HoldTime");
                let Some(call) = self.calls.get_mut(&uniqueid) else {
                    return vec![];
                };
                call.hold_seconds = hold;
                if call.hangup_requested {
                    let call = self.calls.remove(&uniqueid).expect("present");
                    return vec![ended(uniqueid, call, Outcome::Abandoned, now_ms)];
                }
                call.exit_pending = true;
                vec![]
            }
            "VarSet" if event.get("Variable") == Some("QUEUESTATUS") => {
                let pending = self
                    .calls
                    .get(&uniqueid)
                    .is_some_and(|c| c.exit_pending || c.answered_at.is_none());
                if !pending {
                    return vec![];
                }
                let outcome = match event.get("Value") {
                    Some("TIMEOUT") => Outcome::Timeout,
                    _ => Outcome::Other,
                };
                let call = self.calls.remove(&uniqueid).expect("present");
                vec![ended(uniqueid, call, outcome, now_ms)]
            }
            "Hangup" => {
                let Some(call) = self.calls.get(&uniqueid) else {
                    return vec![];
                };
                if call.answered_at.is_some() {
                    // AgentComplete ends answered calls; it follows the hangup.
                    return vec![];
                }
                let outcome = if call.hangup_requested && !call.exit_pending {
                    Outcome::Abandoned
                } else {
                    Outcome::Other
                };
                let call = self.calls.remove(&uniqueid).expect("present");
                vec![ended(uniqueid, call, outcome, now_ms)]
            }
            _ => vec![],
        }
    }

    /// After a reconnect: calls Asterisk no longer has (not among the `still_waiting`
    /// uniqueids of the new `QueueStatus`) cannot end normally any more. Answered ones are
    /// closed as answered, talk time counted until now; unanswered ones as `Other`.
    pub fn reconcile(&mut self, still_waiting: &[String], now_ms: i64) -> Vec<CallUpdate> {
        let gone: Vec<String> = self
            .calls
            .keys()
            .filter(|uid| !still_waiting.contains(uid))
            .cloned()
            .collect();
        let mut updates = vec![];
        for uniqueid in gone {
            let call = self.calls.remove(&uniqueid).expect("present");
            let update = match call.answered_at {
                Some(answered) => CallUpdate::Ended {
                    uniqueid,
                    queue: call.queue,
                    outcome: Outcome::Answered,
                    hold_seconds: call.hold_seconds,
                    talk_seconds: Some((now_ms - answered) / 1000),
                    at: now_ms,
                },
                None => ended(uniqueid, call, Outcome::Other, now_ms),
            };
            updates.push(update);
        }
        updates
    }

    /// The queue a call in progress is in.
    pub fn queue_of(&self, uniqueid: &str) -> Option<&str> {
        self.calls.get(uniqueid).map(|c| c.queue.as_str())
    }

    pub fn in_progress(&self) -> usize {
        self.calls.len()
    }

    fn make_room(&mut self, now_ms: i64) {
        self.calls
            .retain(|_, c| now_ms - c.joined_at < STALE_AFTER_MS);
        while self.calls.len() >= MAX_TRACKED {
            let oldest = self
                .calls
                .iter()
                .min_by_key(|(_, c)| c.joined_at)
                .map(|(uid, _)| uid.clone())
                .expect("not empty");
            self.calls.remove(&oldest);
        }
    }
}

fn ended(uniqueid: String, call: Tracked, outcome: Outcome, now_ms: i64) -> CallUpdate {
    CallUpdate::Ended {
        uniqueid,
        queue: call.queue,
        outcome,
        hold_seconds: call.hold_seconds.or(Some((now_ms - call.joined_at) / 1000)),
        talk_seconds: None,
        at: now_ms,
    }
}
