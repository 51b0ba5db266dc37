//! AMI messages as plain data: the decoded [`Message`] (banner, response, event, …) and the
//! outgoing [`Action`].
//!
//! Owns: the ordered multimap of `Key: Value` fields, case-insensitive lookup, the two
//! `Command` output formats folded into one [`Message::output`] list, and masking of secrets
//! in `Debug` output. Knows nothing of sockets, framing, queues or agents.
//!
//! A message keeps every field in wire order, repeated keys included (`ChanVariable`,
//! `Variable`, `Output`); unknown events and unknown fields are kept as they came.

use std::fmt;

/// Keys whose values never appear in `Debug` output (login secret, MD5 key).
const SECRET_KEYS: [&str; 2] = ["Secret", "Key"];

/// The type of a decoded frame.
///
/// `Banner`, `Response` and `Event` are what Asterisk sends. `Action` is what a client sends
/// (seen when decoding captured client traffic or inside a test server); `Other` is a block
/// that has none of the `Event`, `Response`, `Action` keys (kept, never an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// The one-line `Asterisk Call Manager/x.y.z` greeting sent on connect.
    Banner,
    /// A block with a `Response:` key and no `Event:` key (the reply to an action).
    Response,
    /// A block with an `Event:` key (wins over `Response:`, as in `OriginateResponse`).
    Event,
    /// A block with an `Action:` key and neither `Event:` nor `Response:`.
    Action,
    /// Any other block of lines.
    Other,
}

/// One decoded AMI frame: an ordered list of `(key, value)` fields.
///
/// Lookups by key are ASCII case-insensitive (AMI keys are case-insensitive). For a banner
/// the fields are empty and [`Message::banner_version`] gives the version. For a pre-14
/// `Response: Follows` reply the raw CLI lines are kept apart from the header fields and
/// returned by [`Message::output`], which also returns the `Output:` values of the 14+ format.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    kind: MessageKind,
    fields: Vec<(String, String)>,
    /// Banner: the banner line. Follows reply: the raw lines before `--END COMMAND--`.
    raw: Vec<String>,
    follows: bool,
}

impl Message {
    /// An empty message of the given kind (no fields).
    pub fn new(kind: MessageKind) -> Self {
        Message {
            kind,
            fields: Vec::new(),
            raw: Vec::new(),
            follows: false,
        }
    }

    /// A banner frame for `line` (e.g. `Asterisk Call Manager/11.0.0`, without CRLF).
    pub fn banner(line: impl Into<String>) -> Self {
        let mut m = Message::new(MessageKind::Banner);
        m.raw.push(line.into());
        m
    }

    /// A pre-14 `Command` reply: `Response: Follows` + `headers` (e.g. `Privilege`,
    /// `ActionID`) + the raw output `lines`, as Asterisk ≤ 13 sends it.
    pub fn follows(headers: Vec<(String, String)>, lines: Vec<String>) -> Self {
        let mut m = Message::new(MessageKind::Response);
        m.fields.push(("Response".to_owned(), "Follows".to_owned()));
        m.fields.extend(headers);
        m.raw = lines;
        m.follows = true;
        m
    }

    /// Builder form of [`Message::push`].
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.push(key, value);
        self
    }

    /// Appends a field (keeps any earlier field with the same key).
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.fields.push((key.into(), value.into()));
    }

    /// The frame type.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// All fields in wire order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The value of the first field named `key` (ASCII case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The values of every field named `key` (ASCII case-insensitive), in wire order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a field named `key` is present (ASCII case-insensitive).
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The `Event:` value, for events.
    pub fn event(&self) -> Option<&str> {
        match self.kind {
            MessageKind::Event => self.get("Event"),
            _ => None,
        }
    }

    /// The `Response:` value (`Success`, `Error`, `Follows`, `Goodbye`, `Pong`), for responses.
    pub fn response(&self) -> Option<&str> {
        match self.kind {
            MessageKind::Response => self.get("Response"),
            _ => None,
        }
    }

    /// The `ActionID:` value, if any.
    pub fn action_id(&self) -> Option<&str> {
        self.get("ActionID")
    }

    /// `true` for a response other than `Response: Error`.
    pub fn is_success(&self) -> bool {
        self.response()
            .is_some_and(|r| !r.eq_ignore_ascii_case("Error"))
    }

    /// The banner version (`11.0.0` for `Asterisk Call Manager/11.0.0`), for banners.
    pub fn banner_version(&self) -> Option<&str> {
        match self.kind {
            MessageKind::Banner => self
                .raw
                .first()
                .map(|line| line.rsplit_once('/').map_or(line.as_str(), |(_, v)| v)),
            _ => None,
        }
    }

    /// The banner line without its CRLF, for banners.
    pub fn banner_line(&self) -> Option<&str> {
        match self.kind {
            MessageKind::Banner => self.raw.first().map(String::as_str),
            _ => None,
        }
    }

    /// `true` for a pre-14 `Response: Follows` reply (raw CLI lines until `--END COMMAND--`).
    pub fn is_follows(&self) -> bool {
        self.follows
    }

    /// The CLI output of a `Command` reply, one entry per line, in either format: the raw lines
    /// of a pre-14 `Response: Follows` reply, or the `Output:` values of the 14+ format. Empty
    /// for other messages.
    pub fn output(&self) -> Vec<&str> {
        if self.follows {
            self.raw.iter().map(String::as_str).collect()
        } else {
            self.get_all("Output").collect()
        }
    }

    /// Raw lines: the banner line, or the body of a `Follows` reply (used by the encoder).
    pub(crate) fn raw_lines(&self) -> &[String] {
        &self.raw
    }

    pub(crate) fn set_kind(&mut self, kind: MessageKind) {
        self.kind = kind;
    }

    pub(crate) fn set_follows(&mut self) {
        self.follows = true;
    }

    pub(crate) fn push_raw(&mut self, line: String) {
        self.raw.push(line);
    }

    /// The kind a finished block of fields has: a block that starts with `Action:` is an
    /// action (`QueueLog` and `UserEvent` actions carry an `Event:` parameter); otherwise
    /// `Event` wins over `Response` (`OriginateResponse`), then `Action`, else `Other`.
    pub(crate) fn classify(&self) -> MessageKind {
        let first_is_action = self
            .fields
            .first()
            .is_some_and(|(k, _)| k.eq_ignore_ascii_case("Action"));
        if first_is_action {
            MessageKind::Action
        } else if self.contains("Event") {
            MessageKind::Event
        } else if self.contains("Response") {
            MessageKind::Response
        } else if self.contains("Action") {
            MessageKind::Action
        } else {
            MessageKind::Other
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Message");
        d.field("kind", &self.kind);
        d.field("fields", &MaskedFields(&self.fields));
        if !self.raw.is_empty() {
            d.field("raw", &self.raw);
        }
        d.finish()
    }
}

/// An action to send: `Action: <name>` followed by its parameters, in order.
///
/// The client sets `ActionID` itself (any `ActionID` given here is replaced). Keys and
/// values are checked for CR/LF by the encoder, so a value can never inject a header or an
/// extra action. `Debug` masks `Secret` and `Key`.
#[derive(Clone, PartialEq, Eq)]
pub struct Action {
    fields: Vec<(String, String)>,
}

impl Action {
    /// A new action `Action: <name>`.
    pub fn new(name: impl Into<String>) -> Self {
        Action {
            fields: vec![("Action".to_owned(), name.into())],
        }
    }

    /// Builder form of [`Action::push`].
    pub fn field(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.push(key, value);
        self
    }

    /// Appends a parameter (repeats allowed, e.g. `Variable`).
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.fields.push((key.into(), value.into()));
    }

    /// The action name (value of `Action:`).
    pub fn name(&self) -> &str {
        self.get("Action").unwrap_or("")
    }

    /// The first value of `key` (ASCII case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// All fields in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// Removes every `ActionID` and inserts `id` right after the `Action:` line.
    pub fn set_action_id(&mut self, id: impl Into<String>) {
        self.fields
            .retain(|(k, _)| !k.eq_ignore_ascii_case("ActionID"));
        let at = usize::from(!self.fields.is_empty());
        self.fields.insert(at, ("ActionID".to_owned(), id.into()));
    }
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Action")
            .field("fields", &MaskedFields(&self.fields))
            .finish()
    }
}

/// `Debug` view of fields with secret values replaced by `***`.
struct MaskedFields<'a>(&'a [(String, String)]);

impl fmt::Debug for MaskedFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, v)| {
                let secret = SECRET_KEYS.iter().any(|s| k.eq_ignore_ascii_case(s));
                (k.as_str(), if secret { "***" } else { v.as_str() })
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_ordered() {
        let m = Message::new(MessageKind::Event)
            .with("Event", "VarSet")
            .with("ChanVariable", "a=1")
            .with("chanvariable", "b=2");
        assert_eq!(m.get("EVENT"), Some("VarSet"));
        assert_eq!(
            m.get_all("ChanVariable").collect::<Vec<_>>(),
            ["a=1", "b=2"]
        );
        assert_eq!(m.event(), Some("VarSet"));
        assert_eq!(m.response(), None);
    }

    #[test]
    fn banner_version() {
        let b = Message::banner("Asterisk Call Manager/11.0.0");
        assert_eq!(b.banner_version(), Some("11.0.0"));
        assert_eq!(b.kind(), MessageKind::Banner);
    }

    #[test]
    fn debug_masks_secrets() {
        let a = Action::new("Login")
            .field("Username", "u")
            .field("Secret", "hunter2");
        let s = format!("{a:?}");
        assert!(!s.contains("hunter2"), "{s}");
        assert!(s.contains("***"));
        let m = Message::new(MessageKind::Action).with("key", "0123abcd");
        assert!(!format!("{m:?}").contains("0123abcd"));
    }

    #[test]
    fn set_action_id_replaces() {
        let mut a = Action::new("Ping").field("actionid", "theirs");
        a.set_action_id("ours");
        assert_eq!(
            a.fields(),
            [
                ("Action".to_owned(), "Ping".to_owned()),
                ("ActionID".to_owned(), "ours".to_owned())
            ]
        );
    }
}
