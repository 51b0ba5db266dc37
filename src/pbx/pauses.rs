//! The operation log's 忙 / 闲 rows (manual §8): one row per agent action, wherever it was
//! made. Asterisk reports a pause as one `QueueMemberPause` per queue, and a pause from the
//! console, a phone's feature code or another AMI client all end in those events.
//!
//! Owns the pause each extension was last logged with, shared by the PBX worker (which logs
//! what the events say) and the console's own pause (which logs before it answers, so the
//! agent's next action is logged after it). Whoever changes the remembered state first
//! writes the row; the other sees no change and writes nothing.

//! The console's own action is echoed by one event per queue, and those events may arrive
//! after the console's *next* action has already been logged (Asterisk sends the response
//! before stasis delivers the events). So the console also notes the echoes it expects
//! ([`PauseLog::expect_echoes`]) and the worker takes those as echoes ([`PauseLog::is_echo`])
//! instead of as a new change back to an older state.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::store::oplog::{self, Actor, EventType};
use crate::store::Store;

/// (paused, reason); the reason is empty when not paused.
pub type PauseState = (bool, String);

/// An echo never seen within this time is given up (the member left the queue meanwhile).
const ECHO_TIMEOUT: Duration = Duration::from_secs(10);

/// Events a console action will cause: its state, in these queues still to be heard from.
#[derive(Debug)]
struct Echo {
    state: PauseState,
    queues: HashSet<String>,
    since: Instant,
}

#[derive(Default)]
struct Inner {
    logged: HashMap<String, PauseState>,
    echoes: HashMap<String, VecDeque<Echo>>,
}

#[derive(Clone, Default)]
pub struct PauseLog(Arc<Mutex<Inner>>);

impl PauseLog {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The console is about to set `state` on `extension`, a member of `queues`: one
    /// `QueueMemberPause` per queue will follow.
    pub fn expect_echoes(&self, extension: &str, state: &PauseState, queues: HashSet<String>) {
        if queues.is_empty() {
            return;
        }
        self.inner()
            .echoes
            .entry(extension.to_string())
            .or_default()
            .push_back(Echo {
                state: state.clone(),
                queues,
                since: Instant::now(),
            });
    }

    /// Forgets the expected echoes of an action that failed (the newest one).
    pub fn cancel_echoes(&self, extension: &str) {
        if let Some(queue) = self.inner().echoes.get_mut(extension) {
            queue.pop_back();
        }
    }

    /// Whether this event is the echo of a console action. Events come in order per queue,
    /// so the echo of an action also settles that queue for every earlier action.
    pub fn is_echo(&self, extension: &str, queue: &str, state: &PauseState) -> bool {
        let mut inner = self.inner();
        let Some(pending) = inner.echoes.get_mut(extension) else {
            return false;
        };
        pending.retain(|echo| echo.since.elapsed() < ECHO_TIMEOUT);
        let matched = pending
            .iter()
            .position(|echo| echo.queues.contains(queue) && echo.state == *state);
        if let Some(last) = matched {
            for echo in pending.iter_mut().take(last + 1) {
                echo.queues.remove(queue);
            }
            pending.retain(|echo| !echo.queues.is_empty());
        }
        if pending.is_empty() {
            inner.echoes.remove(extension);
        }
        matched.is_some()
    }

    /// Takes `now` as the extension's logged state. `Some(previous)` when it changed (the
    /// caller writes the row, or gives it back with [`PauseLog::restore`]); `None` when it
    /// was already so.
    pub fn claim(&self, extension: &str, now: PauseState) -> Option<Option<PauseState>> {
        let logged = &mut self.inner().logged;
        if logged.get(extension) == Some(&now) {
            return None;
        }
        Some(logged.insert(extension.to_string(), now))
    }

    /// Undoes a [`PauseLog::claim`] whose action did not happen.
    pub fn restore(&self, extension: &str, previous: Option<PauseState>) {
        let logged = &mut self.inner().logged;
        match previous {
            Some(state) => logged.insert(extension.to_string(), state),
            None => logged.remove(extension),
        };
    }

    /// What Asterisk says at a resync: pauses that were there then are no new action, and
    /// the events of the old connection will not come.
    pub fn reset(&self, states: HashMap<String, PauseState>) {
        let mut inner = self.inner();
        inner.logged = states;
        inner.echoes.clear();
    }
}

/// The state a pause with this (possibly empty) reason leaves.
pub fn state(paused: bool, reason: &str) -> PauseState {
    (
        paused,
        if paused {
            reason.trim().to_string()
        } else {
            String::new()
        },
    )
}

/// Writes the row: 忙 with the reason (未知 when there is none), or 闲.
pub async fn write(store: &Store, actor: Actor, (paused, reason): PauseState) {
    let (kind, detail) = if !paused {
        (EventType::Unpause, String::new())
    } else if reason.is_empty() {
        (EventType::Pause, oplog::UNKNOWN_REASON.to_string())
    } else {
        (EventType::Pause, reason)
    };
    let written = store
        .call(move |conn| oplog::append(conn, &actor, kind, &detail))
        .await;
    if let Err(err) = written {
        log::error!("cannot log a pause in the operation log: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_claim_per_change_and_a_failed_action_gives_it_back() {
        let log = PauseLog::default();
        assert_eq!(log.claim("1001", state(true, "午休")), Some(None));
        assert_eq!(
            log.claim("1001", state(true, " 午休 ")),
            None,
            "the second queue's event"
        );
        assert_eq!(
            log.claim("1001", state(true, "会议")),
            Some(Some(state(true, "午休")))
        );
        log.restore("1001", Some(state(true, "午休")));
        assert_eq!(log.claim("1001", state(true, "午休")), None);
        assert_eq!(state(false, "午休"), (false, String::new()));
        log.reset(HashMap::new());
        assert_eq!(log.claim("1001", state(true, "午休")), Some(None));
    }

    #[test]
    fn late_echoes_of_earlier_actions_are_not_new_changes() {
        let log = PauseLog::default();
        let queues = || HashSet::from(["222".to_string(), "333".to_string()]);
        // 置闲, then 置忙 at once: the unpause's events arrive after the pause was claimed.
        for now in [state(false, ""), state(true, "")] {
            assert!(log.claim("1002", now.clone()).is_some());
            log.expect_echoes("1002", &now, queues());
        }
        for queue in ["222", "333"] {
            assert!(log.is_echo("1002", queue, &state(false, "")), "{queue}");
        }
        for queue in ["222", "333"] {
            assert!(log.is_echo("1002", queue, &state(true, "")), "{queue}");
        }
        // All echoes heard: a pause from a phone is a change again.
        assert!(!log.is_echo("1002", "222", &state(true, "会议")));
        assert!(log.claim("1002", state(true, "会议")).is_some());
        // A failed action's echoes are forgotten.
        log.expect_echoes("1002", &state(false, ""), queues());
        log.cancel_echoes("1002");
        assert!(!log.is_echo("1002", "222", &state(false, "")));
    }
}
