//! The live call-center model: queues, their waiting callers and their members, as Asterisk's
//! `app_queue` sees them. Rebuilt from a `QueueStatus` answer after every (re)connect and kept
//! current by applying events one at a time. Pure: no I/O, no clock of its own (callers pass
//! `now_ms`, Unix milliseconds), so replaying a capture gives the same figures every time.
//!
//! Accepts both event vocabularies: Asterisk 12+ (`QueueCallerJoin`, `Interface`, …) and the
//! Asterisk 11 names (`Join`, `Leave`, `Location`, `QueueMemberPaused`, …).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ami::Message;

/// One queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Queue {
    pub name: String,
    pub strategy: String,
    /// Asterisk's own counters (reset when Asterisk restarts or reloads the queue).
    pub completed: u64,
    pub abandoned: u64,
    /// Waiting callers, in queue order (position = index + 1).
    pub callers: Vec<Caller>,
    /// Members by interface (`PJSIP/1001`, `Local/201@agents/n`).
    pub members: BTreeMap<String, Member>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub uniqueid: String,
    pub channel: String,
    pub number: String,
    pub name: String,
    /// When the caller joined, Unix milliseconds (wall clock, so it survives being shown in
    /// another process or browser).
    pub joined_ms: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    pub interface: String,
    pub name: String,
    pub state_interface: String,
    /// `static` (queues.conf), `dynamic` (QueueAdd) or `realtime`.
    pub membership: String,
    /// Asterisk device state code (0–8, see [`AgentStatus::from_device_state`]).
    pub device_state: u8,
    pub paused: bool,
    pub pause_reason: String,
    pub in_call: bool,
    pub calls_taken: u64,
    /// Unix seconds of the end of the last call (0 = never).
    pub last_call: u64,
    pub penalty: i64,
    /// The caller this member is being rung for (between `AgentCalled` and its answer or
    /// `AgentRingNoAnswer`). Local/ members never report device state 6, so this is how the
    /// console can show 响铃 for them too.
    pub ringing_for: Option<String>,
}

/// The six words the manual (§3) uses for an agent's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// 空闲
    Idle,
    /// 设备忙
    Busy,
    /// 响铃
    Ringing,
    /// 保持
    OnHold,
    /// 离线
    Offline,
    /// 未知
    Unknown,
}

impl AgentStatus {
    /// Maps Asterisk's device state (`enum ast_device_state`) to the manual's words:
    /// 1 idle; 2 in use, 3 busy, 7 ring-in-use → busy; 6 ringing; 8 on hold; 4 invalid,
    /// 5 unavailable → offline; 0 and anything else unknown.
    pub fn from_device_state(state: u8) -> AgentStatus {
        match state {
            1 => AgentStatus::Idle,
            2 | 3 | 7 => AgentStatus::Busy,
            6 => AgentStatus::Ringing,
            8 => AgentStatus::OnHold,
            4 | 5 => AgentStatus::Offline,
            _ => AgentStatus::Unknown,
        }
    }
}

impl Member {
    /// What the console shows: the device state, except that a member being rung for a queue
    /// caller while its device looks idle (or unknown) is shown ringing.
    pub fn status(&self) -> AgentStatus {
        let from_device = AgentStatus::from_device_state(self.device_state);
        match (&self.ringing_for, from_device) {
            (Some(_), AgentStatus::Idle | AgentStatus::Unknown) => AgentStatus::Ringing,
            _ => from_device,
        }
    }
}

/// Queues by their name (the queue number on the appliance, e.g. `222`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveModel {
    pub queues: BTreeMap<String, Queue>,
}

fn number(message: &Message, key: &str) -> u64 {
    message
        .get(key)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v.max(0.0) as u64)
}

fn flag(message: &Message, key: &str) -> bool {
    matches!(
        message
            .get(key)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref(),
        Some("1" | "true" | "yes" | "on")
    )
}

/// Caller-ID fields are `<unknown>` when empty.
fn caller_id(message: &Message, key: &str) -> String {
    match message.get(key) {
        Some("<unknown>") | None => String::new(),
        Some(value) => value.to_string(),
    }
}

/// The member's interface, under its 12+ or Asterisk 11 key.
fn interface_of(message: &Message) -> Option<&str> {
    message
        .get("Interface")
        .or_else(|| message.get("Location"))
        .or_else(|| message.get("Member"))
        .or_else(|| message.get("AgentCalled"))
}

impl LiveModel {
    /// Replaces the whole model with a `QueueStatus` answer (its `QueueParams`,
    /// `QueueMember` and `QueueEntry` items). Ringing marks survive for members still present.
    pub fn rebuild(&mut self, items: &[Message], now_ms: i64) {
        let mut queues: BTreeMap<String, Queue> = BTreeMap::new();
        for item in items {
            let Some(queue_name) = item.get("Queue") else {
                continue;
            };
            match item.event() {
                Some("QueueParams") => {
                    let queue = queues.entry(queue_name.to_string()).or_default();
                    queue.name = queue_name.to_string();
                    queue.strategy = item.get("Strategy").unwrap_or("").to_string();
                    queue.completed = number(item, "Completed");
                    queue.abandoned = number(item, "Abandoned");
                }
                Some("QueueMember") => {
                    let Some(interface) = item.get("Location").or_else(|| item.get("Interface"))
                    else {
                        continue;
                    };
                    let queue = queues.entry(queue_name.to_string()).or_default();
                    queue.name = queue_name.to_string();
                    let mut member = Member {
                        interface: interface.to_string(),
                        name: item
                            .get("Name")
                            .or_else(|| item.get("MemberName"))
                            .unwrap_or(interface)
                            .to_string(),
                        ..Member::default()
                    };
                    member.state_interface = item.get("StateInterface").unwrap_or("").to_string();
                    member.membership = item.get("Membership").unwrap_or("").to_string();
                    member.device_state = number(item, "Status") as u8;
                    member.paused = flag(item, "Paused");
                    member.pause_reason = item.get("PausedReason").unwrap_or("").to_string();
                    member.in_call = flag(item, "InCall") || flag(item, "IsInCall");
                    member.calls_taken = number(item, "CallsTaken");
                    member.last_call = number(item, "LastCall");
                    member.penalty = item
                        .get("Penalty")
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(0);
                    member.ringing_for = self
                        .queues
                        .get(queue_name)
                        .and_then(|q| q.members.get(interface))
                        .and_then(|m| m.ringing_for.clone());
                    queue.members.insert(member.interface.clone(), member);
                }
                Some("QueueEntry") => {
                    let queue = queues.entry(queue_name.to_string()).or_default();
                    queue.name = queue_name.to_string();
                    let wait_ms = number(item, "Wait") as i64 * 1000;
                    queue.callers.push(Caller {
                        uniqueid: item.get("Uniqueid").unwrap_or("").to_string(),
                        channel: item.get("Channel").unwrap_or("").to_string(),
                        number: caller_id(item, "CallerIDNum"),
                        name: caller_id(item, "CallerIDName"),
                        joined_ms: now_ms - wait_ms,
                    });
                }
                _ => {}
            }
        }
        self.queues = queues;
    }

    /// Applies one event. Returns whether anything the console shows changed.
    pub fn apply(&mut self, event: &Message, now_ms: i64) -> bool {
        let Some(name) = event.event() else {
            return false;
        };
        let Some(queue_name) = event.get("Queue") else {
            return false;
        };
        match name {
            "QueueCallerJoin" | "Join" => {
                let queue = self.queue_mut(queue_name);
                let uniqueid = event.get("Uniqueid").unwrap_or("").to_string();
                if queue.callers.iter().any(|c| c.uniqueid == uniqueid) {
                    return false;
                }
                let caller = Caller {
                    uniqueid,
                    channel: event.get("Channel").unwrap_or("").to_string(),
                    number: caller_id(event, "CallerIDNum"),
                    name: caller_id(event, "CallerIDName"),
                    joined_ms: now_ms,
                };
                // Position is 1-based after insertion; trust it when it fits.
                let position = (number(event, "Position") as usize).saturating_sub(1);
                let at = position.min(queue.callers.len());
                queue.callers.insert(at, caller);
                true
            }
            "QueueCallerLeave" | "Leave" => {
                let uniqueid = event.get("Uniqueid").unwrap_or("");
                let queue = self.queue_mut(queue_name);
                let before = queue.callers.len();
                queue.callers.retain(|c| c.uniqueid != uniqueid);
                before != queue.callers.len()
            }
            "QueueCallerAbandon" => {
                let uniqueid = event.get("Uniqueid").unwrap_or("").to_string();
                let queue = self.queue_mut(queue_name);
                queue.abandoned += 1;
                clear_ringing(queue, &uniqueid);
                true
            }
            "AgentCalled" => {
                let uniqueid = event.get("Uniqueid").unwrap_or("").to_string();
                let (interface, member_name) = member_keys(event);
                let member = self.member_mut(queue_name, &interface, &member_name);
                member.ringing_for = Some(uniqueid);
                true
            }
            "AgentRingNoAnswer" => {
                let (interface, member_name) = member_keys(event);
                let member = self.member_mut(queue_name, &interface, &member_name);
                member.ringing_for = None;
                true
            }
            "AgentConnect" => {
                let uniqueid = event.get("Uniqueid").unwrap_or("").to_string();
                let (interface, member_name) = member_keys(event);
                let queue = self.queue_mut(queue_name);
                clear_ringing(queue, &uniqueid);
                let member = self.member_mut(queue_name, &interface, &member_name);
                member.in_call = true;
                true
            }
            "AgentComplete" | "AgentDump" => {
                let (interface, member_name) = member_keys(event);
                let completed = name == "AgentComplete";
                if completed {
                    self.queue_mut(queue_name).completed += 1;
                }
                let member = self.member_mut(queue_name, &interface, &member_name);
                member.in_call = false;
                member.ringing_for = None;
                if completed {
                    member.calls_taken += 1;
                }
                true
            }
            "QueueMemberRemoved" => {
                let Some(interface) = interface_of(event) else {
                    return false;
                };
                let interface = interface.to_string();
                self.queue_mut(queue_name)
                    .members
                    .remove(&interface)
                    .is_some()
            }
            "QueueMemberStatus"
            | "QueueMemberAdded"
            | "QueueMemberPause"
            | "QueueMemberPaused"
            | "QueueMemberPenalty"
            | "QueueMemberRinginuse" => {
                let (interface, member_name) = member_keys(event);
                if interface.is_empty() {
                    return false;
                }
                let member = self.member_mut(queue_name, &interface, &member_name);
                let before = member.clone();
                update_member(member, event);
                *member != before
            }
            _ => false,
        }
    }

    fn queue_mut(&mut self, name: &str) -> &mut Queue {
        self.queues
            .entry(name.to_string())
            .or_insert_with(|| Queue {
                name: name.to_string(),
                ..Queue::default()
            })
    }

    fn member_mut(&mut self, queue: &str, interface: &str, name: &str) -> &mut Member {
        let queue = self.queue_mut(queue);
        let member = queue
            .members
            .entry(interface.to_string())
            .or_insert_with(|| Member {
                interface: interface.to_string(),
                name: name.to_string(),
                ..Member::default()
            });
        if !name.is_empty() && member.name != name {
            member.name = name.to_string();
        }
        member
    }
}

fn member_keys(event: &Message) -> (String, String) {
    let interface = interface_of(event).unwrap_or("").to_string();
    let name = event
        .get("MemberName")
        .or_else(|| event.get("AgentName"))
        .unwrap_or("")
        .to_string();
    (interface, name)
}

fn clear_ringing(queue: &mut Queue, uniqueid: &str) {
    for member in queue.members.values_mut() {
        if member.ringing_for.as_deref() == Some(uniqueid) {
            member.ringing_for = None;
        }
    }
}

/// Copies the member blob fields an event carries (only those present: Asterisk 11's
/// `QueueMemberPaused` carries just `Paused` and `Reason`).
fn update_member(member: &mut Member, event: &Message) {
    if let Some(value) = event.get("StateInterface") {
        member.state_interface = value.to_string();
    }
    if let Some(value) = event.get("Membership") {
        member.membership = value.to_string();
    }
    if event.contains("Status") {
        member.device_state = number(event, "Status") as u8;
    }
    if event.contains("Paused") {
        member.paused = flag(event, "Paused");
        member.pause_reason = event
            .get("PausedReason")
            .or_else(|| event.get("Reason"))
            .unwrap_or("")
            .to_string();
        if !member.paused && event.get("PausedReason").is_none() {
            member.pause_reason.clear();
        }
    }
    if event.contains("InCall") {
        member.in_call = flag(event, "InCall");
    }
    if event.contains("CallsTaken") {
        member.calls_taken = number(event, "CallsTaken");
    }
    if event.contains("LastCall") {
        member.last_call = number(event, "LastCall");
    }
    if let Some(penalty) = event.get("Penalty").and_then(|p| p.parse().ok()) {
        member.penalty = penalty;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ami::MessageKind;

    fn event(fields: &[(&str, &str)]) -> Message {
        let mut message = Message::new(MessageKind::Event);
        for (key, value) in fields {
            message.push(*key, *value);
        }
        message
    }

    #[test]
    fn device_states_map_to_the_manuals_words() {
        use AgentStatus::*;
        let expected = [
            Unknown, Idle, Busy, Busy, Offline, Offline, Ringing, Busy, OnHold, Unknown,
        ];
        for (state, status) in expected.iter().enumerate() {
            assert_eq!(
                AgentStatus::from_device_state(state as u8),
                *status,
                "state {state}"
            );
        }
        assert_eq!(AgentStatus::from_device_state(200), Unknown);
    }

    #[test]
    fn callers_join_and_leave_in_order() {
        let now = 1_795_665_600_000;
        let mut model = LiveModel::default();
        for (n, uid) in ["a", "b", "c"].iter().enumerate() {
            let position = (n + 1).to_string();
            assert!(model.apply(
                &event(&[
                    ("Event", "QueueCallerJoin"),
                    ("Queue", "222"),
                    ("Uniqueid", uid),
                    ("Position", &position),
                    ("CallerIDNum", "5550001"),
                    ("CallerIDName", "<unknown>")
                ]),
                now
            ));
        }
        let queue = &model.queues["222"];
        assert_eq!(
            queue
                .callers
                .iter()
                .map(|c| c.uniqueid.as_str())
                .collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(queue.callers[0].name, "");
        // A duplicate join (seen in QueueStatus and then as an event) changes nothing.
        assert!(!model.apply(
            &event(&[
                ("Event", "QueueCallerJoin"),
                ("Queue", "222"),
                ("Uniqueid", "b"),
                ("Position", "2")
            ]),
            now
        ));
        assert!(model.apply(
            &event(&[
                ("Event", "QueueCallerLeave"),
                ("Queue", "222"),
                ("Uniqueid", "b")
            ]),
            now
        ));
        assert_eq!(model.queues["222"].callers.len(), 2);
    }

    #[test]
    fn asterisk_11_names_are_understood() {
        let now = 1_795_665_600_000;
        let mut model = LiveModel::default();
        model.apply(
            &event(&[
                ("Event", "Join"),
                ("Queue", "q"),
                ("Uniqueid", "1"),
                ("Position", "1"),
            ]),
            now,
        );
        model.apply(
            &event(&[
                ("Event", "QueueMemberAdded"),
                ("Queue", "q"),
                ("Location", "SIP/1001"),
                ("MemberName", "Ann"),
                ("Status", "1"),
                ("Paused", "0"),
            ]),
            now,
        );
        model.apply(
            &event(&[
                ("Event", "QueueMemberPaused"),
                ("Queue", "q"),
                ("Location", "SIP/1001"),
                ("MemberName", "Ann"),
                ("Paused", "1"),
                ("Reason", "Lunch"),
            ]),
            now,
        );
        let member = &model.queues["q"].members["SIP/1001"];
        assert!(member.paused);
        assert_eq!(member.pause_reason, "Lunch");
        model.apply(
            &event(&[("Event", "Leave"), ("Queue", "q"), ("Uniqueid", "1")]),
            now,
        );
        assert!(model.queues["q"].callers.is_empty());
    }

    #[test]
    fn a_rung_member_shows_ringing_until_answer_or_timeout() {
        let now = 1_795_665_600_000;
        let mut model = LiveModel::default();
        model.apply(
            &event(&[
                ("Event", "QueueMemberAdded"),
                ("Queue", "q"),
                ("Interface", "Local/201@agents/n"),
                ("MemberName", "Alice"),
                ("Status", "1"),
            ]),
            now,
        );
        model.apply(
            &event(&[
                ("Event", "AgentCalled"),
                ("Queue", "q"),
                ("Interface", "Local/201@agents/n"),
                ("MemberName", "Alice"),
                ("Uniqueid", "u1"),
            ]),
            now,
        );
        assert_eq!(
            model.queues["q"].members["Local/201@agents/n"].status(),
            AgentStatus::Ringing
        );
        model.apply(
            &event(&[
                ("Event", "AgentRingNoAnswer"),
                ("Queue", "q"),
                ("Interface", "Local/201@agents/n"),
                ("MemberName", "Alice"),
                ("Uniqueid", "u1"),
            ]),
            now,
        );
        assert_eq!(
            model.queues["q"].members["Local/201@agents/n"].status(),
            AgentStatus::Idle
        );
    }
}
