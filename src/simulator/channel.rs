//! Simulated channels and their AMI snapshots.
//!
//! Owns the [`Channel`] record (name, state, caller ID, connected line, dialplan location,
//! uniqueid, linkedid) and the one function that renders it the way
//! `ast_manager_build_channel_state_string_prefix()` does: the 14 snapshot fields, optionally
//! `Dest`-prefixed, in Asterisk's order. Also the naming rules (`PJSIP/1001-0000000a`,
//! `Local/201@agents-00000002;1`), bridge ids and hang-up causes. Knows nothing of queues.

use rand::Rng;

use crate::ami::Message;

/// Channel states (`enum ast_channel_state`) with the text of `ChannelStateDesc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChanState {
    Down = 0,
    Ring = 4,
    Ringing = 5,
    Up = 6,
}

impl ChanState {
    pub(crate) fn desc(self) -> &'static str {
        match self {
            ChanState::Down => "Down",
            ChanState::Ring => "Ring",
            ChanState::Ringing => "Ringing",
            ChanState::Up => "Up",
        }
    }
}

/// Index of a channel in the engine's channel table.
pub(crate) type ChanId = u64;

/// One channel as its snapshot shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Channel {
    pub name: String,
    pub state: ChanState,
    pub cid_num: Option<String>,
    pub cid_name: Option<String>,
    pub conn_num: Option<String>,
    pub conn_name: Option<String>,
    pub context: String,
    pub exten: String,
    pub priority: u32,
    pub uniqueid: String,
    pub linkedid: String,
    /// Whether this channel runs dialplan (counts as a call for `core show calls`).
    pub runs_pbx: bool,
    /// Dialplan application shown by `core show channels`.
    pub app: String,
    pub app_data: String,
}

impl Channel {
    /// Appends the snapshot fields (`Channel`…`Linkedid`) with `prefix` (`""` or `"Dest"`).
    pub(crate) fn snapshot_into(&self, prefix: &str, m: &mut Message) {
        self.snapshot_with(prefix, m, &SnapshotOverride::default());
    }

    /// Like [`Channel::snapshot_into`] with some values replaced: Asterisk publishes some
    /// events with a snapshot taken before app_queue updated the channel (`DialBegin`).
    pub(crate) fn snapshot_with(&self, prefix: &str, m: &mut Message, o: &SnapshotOverride) {
        let unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "<unknown>".to_owned());
        let field = |m: &mut Message, k: &str, v: String| m.push(format!("{prefix}{k}"), v);
        field(m, "Channel", self.name.clone());
        field(m, "ChannelState", (self.state as u8).to_string());
        field(m, "ChannelStateDesc", self.state.desc().to_owned());
        field(m, "CallerIDNum", unknown(&self.cid_num));
        field(m, "CallerIDName", escape_c(&unknown(&self.cid_name)));
        let (cn, cname) = if o.no_connected_line {
            (None, None)
        } else {
            (self.conn_num.clone(), self.conn_name.clone())
        };
        field(m, "ConnectedLineNum", unknown(&cn));
        field(m, "ConnectedLineName", escape_c(&unknown(&cname)));
        field(m, "Language", "en".to_owned());
        field(m, "AccountCode", String::new());
        field(m, "Context", self.context.clone());
        field(
            m,
            "Exten",
            o.exten.clone().unwrap_or_else(|| self.exten.clone()),
        );
        field(m, "Priority", self.priority.to_string());
        field(m, "Uniqueid", self.uniqueid.clone());
        field(m, "Linkedid", self.linkedid.clone());
    }
}

/// Values to show instead of the channel's current ones in a snapshot.
#[derive(Debug, Clone, Default)]
pub(crate) struct SnapshotOverride {
    pub exten: Option<String>,
    pub no_connected_line: bool,
}

/// `ast_escape_c_alloc()`: what CallerIDName/ConnectedLineName go through.
pub(crate) fn escape_c(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            _ => out.push(c),
        }
    }
    out
}

/// What kind of channel dialing `interface` creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tech {
    /// `Local/<exten>@<context>[/options]`: a `;1`/`;2` pair; `;1` is the one app_queue sees.
    Local { exten: String, context: String },
    /// Any other technology (`PJSIP/1001`): one channel `PJSIP/1001-0000000a`.
    Device { resource: String },
}

impl Tech {
    /// Parses a dial interface.
    pub(crate) fn of(interface: &str) -> Tech {
        if let Some(rest) = interface.strip_prefix("Local/") {
            let target = rest.split('/').next().unwrap_or(rest);
            let (exten, context) = target.split_once('@').unwrap_or((target, "default"));
            Tech::Local {
                exten: exten.to_owned(),
                context: context.to_owned(),
            }
        } else {
            Tech::Device {
                resource: interface.to_owned(),
            }
        }
    }
}

/// The channel name for sequence number `seq`: `<base>-%08x`, `;1`/`;2` added for Local.
pub(crate) fn channel_name(base: &str, seq: u32) -> String {
    format!("{base}-{seq:08x}")
}

/// A bridge uniqueid: a random version-4 UUID, as `ast_uuid_generate_str()`.
pub(crate) fn bridge_uuid(rng: &mut impl Rng) -> String {
    let b: [u8; 16] = rng.gen();
    let mut b = b;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Hang-up cause text (`ast_cause2str`) for the causes the simulator uses.
pub(crate) fn cause_text(cause: u32) -> &'static str {
    match cause {
        0 => "Unknown",
        16 => "Normal Clearing",
        17 => "User busy",
        19 => "User alerting, no answer",
        26 => "Answered elsewhere",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ami::MessageKind;

    #[test]
    fn snapshot_order_and_unknowns() {
        let c = Channel {
            name: "Local/202@agents-00000001;1".into(),
            state: ChanState::Down,
            cid_num: None,
            cid_name: None,
            conn_num: None,
            conn_name: None,
            context: "agents".into(),
            exten: "202".into(),
            priority: 1,
            uniqueid: "1795665603.2".into(),
            linkedid: "1795665603.0".into(),
            runs_pbx: false,
            app: String::new(),
            app_data: String::new(),
        };
        let mut m = Message::new(MessageKind::Event);
        c.snapshot_into("Dest", &mut m);
        let keys: Vec<_> = m.fields().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "DestChannel",
                "DestChannelState",
                "DestChannelStateDesc",
                "DestCallerIDNum",
                "DestCallerIDName",
                "DestConnectedLineNum",
                "DestConnectedLineName",
                "DestLanguage",
                "DestAccountCode",
                "DestContext",
                "DestExten",
                "DestPriority",
                "DestUniqueid",
                "DestLinkedid"
            ]
        );
        assert_eq!(m.get("DestCallerIDNum"), Some("<unknown>"));
        assert_eq!(m.get("DestChannelStateDesc"), Some("Down"));
    }

    #[test]
    fn names_interfaces_and_bridge_ids() {
        assert_eq!(
            Tech::of("Local/201@agents/n"),
            Tech::Local {
                exten: "201".into(),
                context: "agents".into()
            }
        );
        assert_eq!(
            Tech::of("PJSIP/1001"),
            Tech::Device {
                resource: "PJSIP/1001".into()
            }
        );
        assert_eq!(
            channel_name("Local/201@agents", 2),
            "Local/201@agents-00000002"
        );
        assert_eq!(escape_c("a\nb\"c"), "a\\nb\\\"c");
        let mut rng = rand::thread_rng();
        let u = bridge_uuid(&mut rng);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
