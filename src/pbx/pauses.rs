//! The operation log's 忙 / 闲 rows (manual §8): one row per agent action, wherever it was
//! made. Asterisk reports a pause as one `QueueMemberPause` per queue, and a pause from the
//! console, a phone's feature code or another AMI client all end in those events.
//!
//! Owns the pause each extension was last logged with, shared by the PBX worker (which logs
//! what the events say) and the console's own pause (which logs before it answers, so the
//! agent's next action is logged after it). Whoever changes the remembered state first
//! writes the row; the other sees no change and writes nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::oplog::{self, Actor, EventType};
use crate::store::Store;

/// (paused, reason); the reason is empty when not paused.
pub type PauseState = (bool, String);

#[derive(Clone, Default)]
pub struct PauseLog(Arc<Mutex<HashMap<String, PauseState>>>);

impl PauseLog {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, PauseState>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes `now` as the extension's logged state. `Some(previous)` when it changed (the
    /// caller writes the row, or gives it back with [`PauseLog::restore`]); `None` when it
    /// was already so.
    pub fn claim(&self, extension: &str, now: PauseState) -> Option<Option<PauseState>> {
        let mut map = self.map();
        if map.get(extension) == Some(&now) {
            return None;
        }
        Some(map.insert(extension.to_string(), now))
    }

    /// Undoes a [`PauseLog::claim`] whose action did not happen.
    pub fn restore(&self, extension: &str, previous: Option<PauseState>) {
        let mut map = self.map();
        match previous {
            Some(state) => map.insert(extension.to_string(), state),
            None => map.remove(extension),
        };
    }

    /// What Asterisk says at a resync: pauses that were there then are no new action.
    pub fn reset(&self, states: HashMap<String, PauseState>) {
        *self.map() = states;
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
}
