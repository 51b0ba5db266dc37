//! The manager protocol of the simulated Asterisk: what each action does to a session and
//! what it answers, word for word as `main/manager.c` and `apps/app_queue.c` of 22.10.1.
//!
//! Owns action dispatch (`process_message()`: `Missing action in request`, `Permission denied`
//! before login, `Invalid/unknown command: …`), login (plain `Secret`, MD5 `Challenge`/`Key`,
//! `Authentication failed` then close), `Logoff`, `Ping`, `Events` (event masks as
//! `strings_to_mask()` reads them), `CoreSettings`, `CoreStatus`, `Command` (14+ `Output:`
//! format; the CLI itself is in `cli.rs`), the queue actions (`QueueStatus`, `QueueSummary`,
//! `QueueAdd`, `QueueRemove`, `QueuePause`, `QueuePenalty`, `QueueReload`, `QueueReset`,
//! `QueueLog`), `Originate` of a caller into a queue, `Reload` (of the modules it knows),
//! Asterisk's database (`DBPut`, `DBGet`, `DBDel`, `DBDelTree`), `UserEvent`, and the security events
//! (`SuccessfulAuth`, `RequestBadFormat`). Replies are queued on the session through the
//! engine, so they and the events an action causes keep Asterisk's order (reply first).

use std::time::Duration;

use super::clock;
use super::config::CallOptions;
use super::engine::{class, event, Engine, SessionId};
use super::SimError;
use crate::ami::client::md5_key;
use crate::ami::{Message, MessageKind};

/// What the connection does after an action.
#[derive(Debug)]
pub(crate) enum Flow {
    /// Read the next action.
    Continue,
    /// Close the connection after the queued replies (`Logoff`).
    Close,
    /// Wait `delay`, send `reply`, close (`Authentication failed`).
    AuthFailed {
        /// The error reply.
        reply: Message,
        /// Asterisk's `sleep(1)`.
        delay: Duration,
    },
}

/// `Response: <status>` + `ActionID` (when the action had one) + `Message`.
pub(crate) fn response(status: &str, action: &Message, message: Option<&str>) -> Message {
    let mut r = Message::new(MessageKind::Response).with("Response", status);
    if let Some(id) = action_id(action) {
        r.push("ActionID", id);
    }
    if let Some(msg) = message {
        r.push("Message", msg);
    }
    r
}

fn action_id(m: &Message) -> Option<&str> {
    m.get("ActionID").filter(|v| !v.is_empty())
}

/// `astman_get_header()`: first value, empty when absent.
fn header<'a>(m: &'a Message, key: &str) -> &'a str {
    m.get(key).unwrap_or("")
}

/// `ast_true()`.
pub(crate) fn ast_true(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "yes" | "true" | "y" | "t" | "1" | "on"
    )
}

/// `ast_false()`.
pub(crate) fn ast_false(s: &str) -> bool {
    matches!(
        s.to_ascii_lowercase().as_str(),
        "no" | "false" | "n" | "f" | "0" | "off"
    )
}

/// `strings_to_mask()`: `-1` for an empty mask (an error), else the class bits.
pub(crate) fn strings_to_mask(s: &str) -> i64 {
    if s.is_empty() {
        return -1;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().unwrap_or(0);
    }
    if ast_false(s) {
        return 0;
    }
    if ast_true(s) {
        return i64::from(class::ALL);
    }
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let mut mask = 0i64;
    for (name, bit) in class::NAMES {
        if parts.iter().any(|p| p.eq_ignore_ascii_case(name)) {
            mask |= i64::from(bit);
        }
    }
    if parts.iter().any(|p| p.eq_ignore_ascii_case("all")) {
        mask |= i64::from(class::ALL);
    }
    mask
}

/// `Name <number>` / `"Name" <number>` / `number` (`ast_callerid_parse()`, simplified).
pub(crate) fn parse_callerid(s: &str) -> (String, String) {
    let s = s.trim();
    if let (Some(lt), true) = (s.rfind('<'), s.ends_with('>')) {
        let num = s[lt + 1..s.len() - 1].trim().to_owned();
        let name = s[..lt].trim().trim_matches('"').trim().to_owned();
        return (name, num);
    }
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b"+*#".contains(&b)) {
        return (String::new(), s.to_owned());
    }
    (s.trim_matches('"').to_owned(), String::new())
}

/// The manager actions app_queue registers (absent while Asterisk boots).
const APP_QUEUE_ACTIONS: &[&str] = &[
    "queuestatus",
    "queuesummary",
    "queueadd",
    "queueremove",
    "queuepause",
    "queuepenalty",
    "queuereload",
    "queuereset",
    "queuelog",
];

impl Engine {
    /// `process_message()` for one received action.
    pub(crate) fn handle_action(&mut self, sid: SessionId, m: &Message) -> Flow {
        self.actions.push(m.clone());
        let action = m
            .get_all("Action")
            .find(|v| !v.is_empty())
            .unwrap_or("")
            .to_owned();
        if action.is_empty() {
            let r = response("Error", m, Some("Missing action in request"));
            self.send_to(sid, &r);
            self.request_bad_format(sid, "NONE");
            return Flow::Continue;
        }
        let authenticated = self.sessions.get(&sid).is_some_and(|s| s.authenticated);
        let lower = action.to_ascii_lowercase();
        if !authenticated && !matches!(lower.as_str(), "login" | "logoff" | "challenge") {
            let r = response("Error", m, Some("Permission denied"));
            self.send_to(sid, &r);
            return Flow::Continue;
        }
        if self.booting && APP_QUEUE_ACTIONS.contains(&lower.as_str()) {
            // Asterisk registers these when app_queue loads, after the manager is up.
            self.unknown_command(sid, m, &action);
            return Flow::Continue;
        }
        match lower.as_str() {
            "login" => return self.action_login(sid, m),
            "challenge" => self.action_challenge(sid, m),
            "logoff" => {
                let r = response("Goodbye", m, Some("Thanks for all the fish."));
                self.send_to(sid, &r);
                return Flow::Close;
            }
            "ping" => {
                let mut r = response("Success", m, None);
                r.push("Ping", "Pong");
                r.push("Timestamp", clock::timeval(self.now()));
                self.send_to(sid, &r);
            }
            "events" => self.action_events(sid, m),
            "coresettings" => self.action_coresettings(sid, m),
            "corestatus" => self.action_corestatus(sid, m),
            "command" => self.action_command(sid, m),
            "queuestatus" => self.action_queue_status(sid, m),
            "queuesummary" => self.action_queue_summary(sid, m),
            "queueadd" => self.action_queue_add(sid, m),
            "queueremove" => self.action_queue_remove(sid, m),
            "queuepause" => self.action_queue_pause(sid, m),
            "queuepenalty" => self.action_queue_penalty(sid, m),
            "queuereload" => self.action_queue_reload(sid, m),
            "queuereset" => self.action_queue_reset(sid, m),
            "queuelog" => self.action_queue_log(sid, m),
            "originate" => self.action_originate(sid, m),
            "pjsipshowendpoints" => self.action_pjsip_show_endpoints(sid, m),
            "reload" => self.action_reload(sid, m),
            "dbput" => self.action_db_put(sid, m),
            "dbget" => self.action_db_get(sid, m),
            "dbdel" => self.action_db_del(sid, m),
            "dbdeltree" => self.action_db_del_tree(sid, m),
            "userevent" => self.action_user_event(sid, m),
            _ => self.unknown_command(sid, m, &action),
        }
        Flow::Continue
    }

    /// The reply to an action no loaded module registered.
    fn unknown_command(&mut self, sid: SessionId, m: &Message, action: &str) {
        let text = format!(
            "Invalid/unknown command: {action}. Use Action: ListCommands to show available commands."
        );
        let r = response("Error", m, Some(&text));
        self.send_to(sid, &r);
        self.request_bad_format(sid, action);
    }

    /// The end of a boot: `FullyBooted` to every session that reads the `system` class
    /// (`publish_fully_booted` in `asterisk.c`, at "Asterisk Ready.").
    pub(crate) fn finish_boot(&mut self) {
        if !self.booting {
            return;
        }
        self.booting = false;
        // asterisk.c publishes it as JSON: Status first (the login's copy, from manager.c,
        // puts it last). Both orders seen on 22.10.1.
        let now = self.now();
        let mut e = event("FullyBooted", class::SYSTEM);
        e.push("Status", "Fully Booted");
        e.push("Uptime", ((now - self.started) / 1_000_000).to_string());
        e.push(
            "LastReload",
            ((now - self.last_reload) / 1_000_000).to_string(),
        );
        self.emit(class::SYSTEM, &e);
    }

    fn fully_booted_event(&self) -> Message {
        let now = self.now();
        let mut e = event("FullyBooted", class::SYSTEM);
        e.push("Uptime", ((now - self.started) / 1_000_000).to_string());
        e.push(
            "LastReload",
            ((now - self.last_reload) / 1_000_000).to_string(),
        );
        e.push("Status", "Fully Booted");
        e
    }

    fn reply(&mut self, sid: SessionId, status: &str, m: &Message, text: &str) {
        let r = response(status, m, Some(text));
        self.send_to(sid, &r);
    }

    // ----- authentication -----

    fn action_challenge(&mut self, sid: SessionId, m: &Message) {
        if !header(m, "AuthType").eq_ignore_ascii_case("MD5") {
            self.reply(sid, "Error", m, "Must specify AuthType");
            return;
        }
        let challenge = {
            let fresh = match &self.config.fixed_challenge {
                Some(c) => c.clone(),
                None => rand::Rng::gen_range(&mut self.rng, 0..i64::from(i32::MAX)).to_string(),
            };
            let s = self.sessions.get_mut(&sid).expect("session");
            s.challenge.get_or_insert(fresh).clone()
        };
        let mut r = response("Success", m, None);
        r.push("Challenge", challenge);
        self.send_to(sid, &r);
    }

    fn action_login(&mut self, sid: SessionId, m: &Message) -> Flow {
        if self.sessions.get(&sid).is_some_and(|s| s.authenticated) {
            self.reply(sid, "Success", m, "Already authenticated");
            return Flow::Continue;
        }
        let user_ok = header(m, "Username") == self.config.username;
        let secret = self.config.secret.clone();
        let pass_ok = if header(m, "AuthType").eq_ignore_ascii_case("MD5") {
            let challenge = self.sessions.get(&sid).and_then(|s| s.challenge.clone());
            let key = header(m, "Key");
            challenge
                .is_some_and(|c| !key.is_empty() && key.eq_ignore_ascii_case(&md5_key(&c, &secret)))
        } else {
            header(m, "Secret") == secret
        };
        if !(user_ok && pass_ok) {
            return Flow::AuthFailed {
                reply: response("Error", m, Some("Authentication failed")),
                delay: self.config.auth_failure_delay,
            };
        }
        let now = self.now();
        let events = header(m, "Events").to_owned();
        {
            let s = self.sessions.get_mut(&sid).expect("session");
            s.authenticated = true;
            s.username = header(m, "Username").to_owned();
            s.created = now;
            if !events.is_empty() {
                let mask = strings_to_mask(&events);
                if mask >= 0 {
                    s.send_events = mask as u32;
                }
            }
        }
        self.reply(sid, "Success", m, "Authentication accepted");
        if !self.booting && self.sessions[&sid].send_events & class::SYSTEM != 0 {
            let e = self.fully_booted_event();
            self.send_to(sid, &e);
        }
        let s = &self.sessions[&sid];
        let mut e = event("SuccessfulAuth", class::SECURITY);
        e.push("EventTV", clock::event_tv(now));
        e.push("Severity", "Informational");
        e.push("Service", "AMI");
        e.push("EventVersion", "1");
        e.push("AccountID", s.username.clone());
        e.push("SessionID", s.pointer.clone());
        e.push("LocalAddress", addr_text(&s.local));
        e.push("RemoteAddress", addr_text(&s.remote));
        e.push("UsingPassword", "0");
        e.push("SessionTV", clock::event_tv(s.created));
        self.emit(class::SECURITY, &e);
        Flow::Continue
    }

    /// `report_req_bad_format()`: the `RequestBadFormat` security event.
    fn request_bad_format(&mut self, sid: SessionId, action: &str) {
        let Some(s) = self.sessions.get(&sid) else {
            return;
        };
        let mut e = event("RequestBadFormat", class::SECURITY);
        e.push("EventTV", clock::event_tv(self.now()));
        e.push("Severity", "Error");
        e.push("Service", "AMI");
        e.push("EventVersion", "1");
        e.push("SessionID", s.pointer.clone());
        e.push("LocalAddress", addr_text(&s.local));
        e.push("RemoteAddress", addr_text(&s.remote));
        e.push("RequestType", format!("Action: {action}"));
        e.push("SessionTV", clock::event_tv(s.created));
        e.push("AccountID", s.username.clone());
        self.emit(class::SECURITY, &e);
    }

    fn action_events(&mut self, sid: SessionId, m: &Message) {
        let mask = strings_to_mask(header(m, "EventMask"));
        if mask < 0 {
            self.reply(sid, "Error", m, "Invalid event mask");
            return;
        }
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.send_events = mask as u32;
        }
        let mut r = response("Success", m, None);
        r.push("Events", if mask > 0 { "On" } else { "Off" });
        self.send_to(sid, &r);
    }

    // ----- reload, AstDB, user events (manager.c) -----

    /// `Reload`: `ast_module_reload()` of `Module` (all when empty). The modules the
    /// simulator knows answer `Module Reloaded`; `pbx_config` counts a dialplan reload,
    /// `app_queue` reloads the queues as `reload app_queue` does.
    fn action_reload(&mut self, sid: SessionId, m: &Message) {
        let module = header(m, "Module").to_owned();
        let known = module.is_empty()
            || super::engine::MODULES
                .iter()
                .any(|k| k.eq_ignore_ascii_case(module.trim_end_matches(".so")));
        if !known {
            return self.reply(sid, "Error", m, "No such module");
        }
        let name = module.trim_end_matches(".so").to_ascii_lowercase();
        if name.is_empty() || name == "pbx_config" {
            self.dialplan_reloads += 1;
            self.reload_dialplan();
        }
        self.reply(sid, "Success", m, "Module Reloaded");
        if name.is_empty() || name == "app_queue" {
            self.reload_queues(None, true);
            self.read_strategies_from_files(None);
        }
    }

    fn db_family_key(&mut self, sid: SessionId, m: &Message) -> Option<(String, String)> {
        let family = header(m, "Family").to_owned();
        if family.is_empty() {
            self.reply(sid, "Error", m, "No family specified.");
            return None;
        }
        let key = header(m, "Key").to_owned();
        if key.is_empty() {
            self.reply(sid, "Error", m, "No key specified.");
            return None;
        }
        Some((family, key))
    }

    fn action_db_put(&mut self, sid: SessionId, m: &Message) {
        let Some((family, key)) = self.db_family_key(sid, m) else {
            return;
        };
        let value = header(m, "Val").to_owned();
        self.astdb.insert(format!("/{family}/{key}"), value);
        self.reply(sid, "Success", m, "Updated database successfully");
    }

    /// `DBGet`: a one-item event list (`DBGetResponse`).
    fn action_db_get(&mut self, sid: SessionId, m: &Message) {
        let Some((family, key)) = self.db_family_key(sid, m) else {
            return;
        };
        let Some(value) = self.astdb.get(&format!("/{family}/{key}")).cloned() else {
            return self.reply(sid, "Error", m, "Database entry not found");
        };
        let mut r = response("Success", m, Some("Result will follow"));
        r.push("EventList", "start");
        self.send_to(sid, &r);
        let mut item = Message::new(MessageKind::Event).with("Event", "DBGetResponse");
        item.push("Family", family);
        item.push("Key", key);
        item.push("Val", value);
        if let Some(id) = action_id(m) {
            item.push("ActionID", id);
        }
        self.send_to(sid, &item);
        let mut done = Message::new(MessageKind::Event).with("Event", "DBGetComplete");
        if let Some(id) = action_id(m) {
            done.push("ActionID", id);
        }
        done.push("EventList", "Complete");
        done.push("ListItems", "1");
        self.send_to(sid, &done);
    }

    fn action_db_del(&mut self, sid: SessionId, m: &Message) {
        let Some((family, key)) = self.db_family_key(sid, m) else {
            return;
        };
        match self.astdb.remove(&format!("/{family}/{key}")) {
            Some(_) => self.reply(sid, "Success", m, "Key deleted successfully"),
            None => self.reply(sid, "Error", m, "Database entry not found"),
        }
    }

    /// `DBDelTree`: the family (or the `Key` subtree of it).
    fn action_db_del_tree(&mut self, sid: SessionId, m: &Message) {
        let family = header(m, "Family").to_owned();
        if family.is_empty() {
            return self.reply(sid, "Error", m, "No family specified.");
        }
        let key = header(m, "Key");
        let prefix = if key.is_empty() {
            format!("/{family}/")
        } else {
            format!("/{family}/{key}/")
        };
        let exact = format!("/{family}/{key}");
        let before = self.astdb.len();
        self.astdb
            .retain(|k, _| !k.starts_with(&prefix) && (key.is_empty() || *k != exact));
        if self.astdb.len() == before {
            self.reply(sid, "Error", m, "Database entry not found");
        } else {
            self.reply(sid, "Success", m, "Key tree deleted successfully");
        }
    }

    /// `UserEvent`: acknowledged (`Event Sent`), then raised as `Event: UserEvent` (class
    /// `user`) with every header of the action but `Action` and `UserEvent` after the name.
    fn action_user_event(&mut self, sid: SessionId, m: &Message) {
        let name = header(m, "UserEvent").to_owned();
        self.reply(sid, "Success", m, "Event Sent");
        let mut e = event("UserEvent", class::USER);
        e.push("UserEvent", name);
        for (k, v) in m.fields() {
            if !k.eq_ignore_ascii_case("UserEvent") && !k.eq_ignore_ascii_case("Action") {
                e.push(k.clone(), v.clone());
            }
        }
        self.emit(class::USER, &e);
    }

    // ----- core -----

    fn action_coresettings(&mut self, sid: SessionId, m: &Message) {
        let mut r = response("Success", m, None);
        for (k, v) in [
            ("AMIversion", self.config.ami_version.as_str()),
            ("AsteriskVersion", self.config.asterisk_version.as_str()),
            ("SystemName", ""),
            ("CoreMaxCalls", "0"),
            ("CoreMaxLoadAvg", "0.000000"),
            ("CoreRunUser", ""),
            ("CoreRunGroup", ""),
            ("CoreMaxFilehandles", "0"),
            ("CoreRealTimeEnabled", "No"),
            ("CoreCDRenabled", "Yes"),
            ("CoreHTTPenabled", "No"),
            ("SoundsSearchCustomDir", "No"),
        ] {
            r.push(k, v);
        }
        self.send_to(sid, &r);
    }

    fn action_corestatus(&mut self, sid: SessionId, m: &Message) {
        let mut r = response("Success", m, None);
        r.push("CoreStartupDate", clock::date(self.started));
        r.push("CoreStartupTime", clock::time_of_day(self.started));
        r.push("CoreReloadDate", clock::date(self.last_reload));
        r.push("CoreReloadTime", clock::time_of_day(self.last_reload));
        r.push("CoreCurrentCalls", self.channels.len().to_string());
        r.push("CoreProcessedCalls", self.processed_calls.to_string());
        self.send_to(sid, &r);
    }

    fn action_command(&mut self, sid: SessionId, m: &Message) {
        let cmd = header(m, "Command").to_owned();
        if cmd.is_empty() {
            self.reply(sid, "Error", m, "No command provided");
            return;
        }
        let (ok, output) = super::cli::run(self, &cmd);
        let mut r = response(
            if ok { "Success" } else { "Error" },
            m,
            Some("Command output follows"),
        );
        let body = output.strip_suffix('\n').unwrap_or(&output);
        for line in body.split('\n') {
            r.push("Output", line);
        }
        self.send_to(sid, &r);
    }

    // ----- queues -----

    fn list_start(&mut self, sid: SessionId, m: &Message, text: &str) {
        let mut r = Message::new(MessageKind::Response).with("Response", "Success");
        if let Some(id) = action_id(m) {
            r.push("ActionID", id);
        }
        r.push("EventList", "start");
        r.push("Message", text);
        self.send_to(sid, &r);
    }

    fn list_complete(&mut self, sid: SessionId, m: &Message, name: &str, items: usize) {
        let mut e = Message::new(MessageKind::Event).with("Event", name);
        if let Some(id) = action_id(m) {
            e.push("ActionID", id);
        }
        e.push("EventList", "Complete");
        e.push("ListItems", items.to_string());
        self.send_to(sid, &e);
    }

    /// A list item: no `Privilege`, `ActionID` last.
    fn list_item(&mut self, sid: SessionId, m: &Message, mut item: Message) {
        if let Some(id) = action_id(m) {
            item.push("ActionID", id);
        }
        self.send_to(sid, &item);
    }

    fn action_queue_status(&mut self, sid: SessionId, m: &Message) {
        self.list_start(sid, m, "Queue status will follow");
        let qfilter = header(m, "Queue").to_owned();
        let mfilter = header(m, "Member").to_owned();
        let now = self.now_secs();
        let mut items = 0;
        for qi in 0..self.queues.len() {
            let q = &self.queues[qi];
            if !qfilter.is_empty() && !q.name().eq_ignore_ascii_case(&qfilter) {
                continue;
            }
            let (sl, sl2) = q.service_levels();
            let item = Message::new(MessageKind::Event)
                .with("Event", "QueueParams")
                .with("Queue", q.name())
                .with("Max", q.cfg.maxlen.to_string())
                .with("Strategy", q.cfg.strategy.as_str())
                .with("Calls", q.entries.len().to_string())
                .with("Holdtime", q.holdtime.to_string())
                .with("TalkTime", q.talktime.to_string())
                .with("Completed", q.completed.to_string())
                .with("Abandoned", q.abandoned.to_string())
                .with("ServiceLevel", q.cfg.servicelevel.to_string())
                .with("ServicelevelPerf", sl)
                .with("ServicelevelPerf2", sl2)
                .with("Weight", q.cfg.weight.to_string());
            self.list_item(sid, m, item);
            items += 1;
            for mi in self.queues[qi].member_order() {
                let q = &self.queues[qi];
                let mem = &q.members[mi];
                if !mfilter.is_empty() && mem.interface != mfilter && mem.name != mfilter {
                    continue;
                }
                let item = Message::new(MessageKind::Event)
                    .with("Event", "QueueMember")
                    .with("Queue", q.name())
                    .with("Name", mem.name.as_str())
                    .with("Location", mem.interface.as_str())
                    .with("StateInterface", mem.state_interface.as_str())
                    .with("Membership", if mem.dynamic { "dynamic" } else { "static" })
                    .with("Penalty", mem.penalty.to_string())
                    .with("CallsTaken", mem.calls.to_string())
                    .with("LastCall", mem.lastcall.to_string())
                    .with("LastPause", mem.lastpause.to_string())
                    .with("LoginTime", mem.logintime.to_string())
                    .with("InCall", u8::from(mem.in_call).to_string())
                    .with("Status", self.member_status(mem).code().to_string())
                    .with("Paused", u8::from(mem.paused).to_string())
                    .with("PausedReason", mem.reason.as_str())
                    .with("Wrapuptime", mem.wrapuptime.to_string());
                self.list_item(sid, m, item);
                items += 1;
            }
            let entries = self.queues[qi].entries.clone();
            for (pos, call) in entries.into_iter().enumerate() {
                let c = &self.calls[&call];
                let ch = self.chan(c.chan);
                let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
                let item = Message::new(MessageKind::Event)
                    .with("Event", "QueueEntry")
                    .with("Queue", self.queues[qi].name())
                    .with("Position", (pos + 1).to_string())
                    .with("Channel", ch.name.as_str())
                    .with("Uniqueid", ch.uniqueid.as_str())
                    .with("CallerIDNum", or_unknown(&ch.cid_num))
                    .with("CallerIDName", or_unknown(&ch.cid_name))
                    .with("ConnectedLineNum", or_unknown(&ch.conn_num))
                    .with("ConnectedLineName", or_unknown(&ch.conn_name))
                    .with("Wait", (now - clock::secs(c.start)).to_string())
                    .with("Priority", "0");
                self.list_item(sid, m, item);
                items += 1;
            }
        }
        self.list_complete(sid, m, "QueueStatusComplete", items);
    }

    fn action_queue_summary(&mut self, sid: SessionId, m: &Message) {
        self.list_start(sid, m, "Queue summary will follow");
        let qfilter = header(m, "Queue").to_owned();
        let now = self.now_secs();
        let mut items = 0;
        for qi in 0..self.queues.len() {
            let q = &self.queues[qi];
            if !qfilter.is_empty() && !q.name().eq_ignore_ascii_case(&qfilter) {
                continue;
            }
            let (mut logged_in, mut available) = (0, 0);
            for mem in &q.members {
                let st = self.member_status(mem);
                if !matches!(
                    st,
                    super::config::DeviceState::Unavailable | super::config::DeviceState::Invalid
                ) {
                    logged_in += 1;
                    if st.is_free() && !mem.paused {
                        available += 1;
                    }
                }
            }
            let longest = q
                .entries
                .iter()
                .map(|c| now - clock::secs(self.calls[c].start))
                .max()
                .unwrap_or(0)
                .max(0);
            let item = Message::new(MessageKind::Event)
                .with("Event", "QueueSummary")
                .with("Queue", q.name())
                .with("LoggedIn", logged_in.to_string())
                .with("Available", available.to_string())
                .with("Callers", q.entries.len().to_string())
                .with("HoldTime", q.holdtime.to_string())
                .with("TalkTime", q.talktime.to_string())
                .with("LongestHoldTime", longest.to_string());
            self.list_item(sid, m, item);
            items += 1;
        }
        self.list_complete(sid, m, "QueueSummaryComplete", items);
    }

    /// `PJSIPShowEndpoints` as res_pjsip answers it: an ack, one `EndpointList` per endpoint
    /// (`ActionID` right after `Event`, as `ast_sip_create_ami_event()` writes it), then
    /// `EndpointListComplete`. The endpoints are the PJSIP queue members and the configured
    /// extra ones.
    fn action_pjsip_show_endpoints(&mut self, sid: SessionId, m: &Message) {
        let mut names: Vec<String> = self
            .queues
            .iter()
            .flat_map(|q| q.members.iter())
            .filter_map(|mem| mem.interface.strip_prefix("PJSIP/").map(str::to_owned))
            .chain(self.config.endpoints.iter().cloned())
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            return self.reply(sid, "Error", m, "No endpoints found");
        }
        self.list_start(
            sid,
            m,
            "A listing of Endpoints follows, presented as EndpointList events",
        );
        for name in &names {
            let state = self.device_state(&format!("PJSIP/{name}"));
            let mut item = Message::new(MessageKind::Event).with("Event", "EndpointList");
            if let Some(id) = action_id(m) {
                item.push("ActionID", id);
            }
            let item = item
                .with("ObjectType", "endpoint")
                .with("ObjectName", name.as_str())
                .with("Transport", "transport-udp")
                .with("Aor", name.as_str())
                .with("Auths", name.as_str())
                .with("OutboundAuths", "")
                .with("Contacts", "")
                .with("DeviceState", state.text())
                .with("ActiveChannels", "");
            self.send_to(sid, &item);
        }
        self.list_complete(sid, m, "EndpointListComplete", names.len());
    }

    fn action_queue_add(&mut self, sid: SessionId, m: &Message) {
        let queue = header(m, "Queue").to_owned();
        let interface = header(m, "Interface").to_owned();
        if queue.is_empty() {
            return self.reply(sid, "Error", m, "'Queue' not specified.");
        }
        if interface.is_empty() {
            return self.reply(sid, "Error", m, "'Interface' not specified.");
        }
        let penalty = header(m, "Penalty")
            .trim()
            .parse::<i32>()
            .unwrap_or(0)
            .max(0);
        let paused = ast_true(header(m, "Paused"));
        let res = self.add_member_reply(sid, m, &queue, &interface, penalty, paused);
        let _ = res;
    }

    fn add_member_reply(
        &mut self,
        sid: SessionId,
        m: &Message,
        queue: &str,
        interface: &str,
        penalty: i32,
        paused: bool,
    ) -> Result<(), SimError> {
        // The ack goes out before the QueueMemberAdded event, as in the capture.
        if self.queue_idx(queue).is_none() {
            self.reply(
                sid,
                "Error",
                m,
                "Unable to add interface to queue: No such queue",
            );
            return Err(SimError::NoSuchQueue(queue.to_owned()));
        }
        let qi = self.queue_idx(queue).expect("checked");
        if self.queues[qi].member_index(interface).is_some() {
            self.reply(sid, "Error", m, "Unable to add interface: Already there");
            return Err(SimError::MemberExists(interface.to_owned()));
        }
        self.reply(sid, "Success", m, "Added interface to queue");
        self.add_member(
            queue,
            interface,
            header(m, "MemberName"),
            header(m, "StateInterface"),
            penalty,
            paused,
            header(m, "Reason"),
        )
    }

    fn action_queue_remove(&mut self, sid: SessionId, m: &Message) {
        let queue = header(m, "Queue").to_owned();
        let interface = header(m, "Interface").to_owned();
        if queue.is_empty() || interface.is_empty() {
            return self.reply(sid, "Error", m, "Need 'Queue' and 'Interface' parameters.");
        }
        let check = match self.queue_idx(&queue) {
            None => Err("Unable to remove interface from queue: No such queue"),
            Some(qi) => match self.queues[qi].member_index(&interface) {
                None => Err("Unable to remove interface: Not there"),
                Some(mi) if !self.queues[qi].members[mi].dynamic => Err("Member not dynamic"),
                Some(_) => Ok(()),
            },
        };
        match check {
            Err(text) => self.reply(sid, "Error", m, text),
            Ok(()) => {
                self.reply(sid, "Success", m, "Removed interface from queue");
                let _ = self.remove_member(&queue, &interface);
            }
        }
    }

    fn action_queue_pause(&mut self, sid: SessionId, m: &Message) {
        let interface = header(m, "Interface").to_owned();
        let paused_s = header(m, "Paused").to_owned();
        if interface.is_empty() || paused_s.is_empty() {
            return self.reply(sid, "Error", m, "Need 'Interface' and 'Paused' parameters.");
        }
        let paused = ast_true(&paused_s);
        let queue = header(m, "Queue").to_owned();
        let queue = (!queue.is_empty()).then_some(queue);
        let exists = self.queues.iter().any(|q| {
            queue
                .as_deref()
                .is_none_or(|n| q.name().eq_ignore_ascii_case(n))
                && q.member_index(&interface).is_some()
        });
        if !exists {
            return self.reply(sid, "Error", m, "Interface not found");
        }
        self.reply(
            sid,
            "Success",
            m,
            if paused {
                "Interface paused successfully"
            } else {
                "Interface unpaused successfully"
            },
        );
        let reason = header(m, "Reason").to_owned();
        let _ = self.set_paused(queue.as_deref(), &interface, paused, &reason);
    }

    fn action_queue_penalty(&mut self, sid: SessionId, m: &Message) {
        let interface = header(m, "Interface").to_owned();
        let penalty_s = header(m, "Penalty").to_owned();
        if interface.is_empty() || penalty_s.is_empty() {
            return self.reply(
                sid,
                "Error",
                m,
                "Need 'Interface' and 'Penalty' parameters.",
            );
        }
        let penalty = atoi(&penalty_s);
        let queue = header(m, "Queue").to_owned();
        let queue = (!queue.is_empty()).then_some(queue);
        let exists = penalty >= 0
            && self.queues.iter().any(|q| {
                queue
                    .as_deref()
                    .is_none_or(|n| q.name().eq_ignore_ascii_case(n))
                    && q.member_index(&interface).is_some()
            });
        if !exists {
            return self.reply(sid, "Error", m, "Invalid interface, queuename or penalty");
        }
        self.reply(sid, "Success", m, "Interface penalty set successfully");
        let _ = self.set_penalty(queue.as_deref(), &interface, penalty);
    }

    fn action_queue_reload(&mut self, sid: SessionId, m: &Message) {
        let yes = |k: &str| header(m, k).eq_ignore_ascii_case("yes");
        let any = yes("Members") || yes("Rules") || yes("Parameters");
        let members = !any || yes("Members");
        let queue = header(m, "Queue").to_owned();
        self.reply(sid, "Success", m, "Queue reloaded successfully");
        let only = (!queue.is_empty()).then_some(queue.as_str());
        self.reload_queues(only, members);
        if !any || yes("Parameters") {
            self.read_strategies_from_files(only);
        }
    }

    fn action_queue_reset(&mut self, sid: SessionId, m: &Message) {
        let queue = header(m, "Queue").to_owned();
        match self.reset_stats((!queue.is_empty()).then_some(queue.as_str())) {
            Ok(()) => self.reply(sid, "Success", m, "Queue stats reset successfully"),
            Err(_) => self.reply(
                sid,
                "Error",
                m,
                "Error encountered while resetting queue stats",
            ),
        }
    }

    fn action_queue_log(&mut self, sid: SessionId, m: &Message) {
        let queue = header(m, "Queue").to_owned();
        let ev = header(m, "Event").to_owned();
        if queue.is_empty() || ev.is_empty() {
            return self.reply(sid, "Error", m, "Need 'Queue' and 'Event' parameters.");
        }
        let uid = header(m, "UniqueId");
        let uid = if uid.is_empty() { "NONE" } else { uid }.to_owned();
        let iface = header(m, "Interface").to_owned();
        let msg = header(m, "Message").to_owned();
        self.qlog(&queue, &uid, &iface, &ev, &msg);
        self.reply(sid, "Success", m, "Event added successfully");
    }

    /// `Originate`. Only `Local/<queue>@<entry context>` is simulated (a caller entering
    /// that queue); its `;1` half runs `Context`/`Exten`, where the capture's idiom
    /// `hold<N>` (`Wait(N)` then `Hangup()`) makes the caller hang up after N seconds. Any
    /// other channel is accepted and then fails with `OriginateResponse: Failure`.
    fn action_originate(&mut self, sid: SessionId, m: &Message) {
        let channel = header(m, "Channel").to_owned();
        if channel.is_empty() {
            return self.reply(sid, "Error", m, "Channel not specified");
        }
        self.reply(sid, "Success", m, "Originate successfully queued");
        let (name, num) = parse_callerid(header(m, "CallerID"));
        let context = match header(m, "Context") {
            "" => "default".to_owned(),
            c => c.to_owned(),
        };
        let exten = match header(m, "Exten") {
            "" => "s".to_owned(),
            e => e.to_owned(),
        };
        let priority = header(m, "Priority").trim().parse::<u32>().unwrap_or(1);
        let target = channel
            .strip_prefix("Local/")
            .map(|r| r.split('/').next().unwrap_or(r))
            .and_then(|r| r.split_once('@'));
        let entry = self.config.entry_context.clone();
        let queue = target.filter(|(_, ctx)| *ctx == entry).and_then(|(q, _)| {
            self.queue_idx(q)
                .map(|qi| self.queues[qi].name().to_owned())
        });
        let Some(queue) = queue else {
            let mut e = event("OriginateResponse", class::CALL);
            if let Some(id) = action_id(m) {
                e.push("ActionID", id);
            }
            e.push("Response", "Failure");
            e.push("Channel", channel.as_str());
            e.push("Context", context.as_str());
            e.push("Exten", exten.as_str());
            e.push("Reason", "0");
            e.push("Uniqueid", "<null>");
            e.push(
                "CallerIDNum",
                if num.is_empty() { "<unknown>" } else { &num },
            );
            e.push(
                "CallerIDName",
                if name.is_empty() { "<unknown>" } else { &name },
            );
            self.emit(class::CALL, &e);
            return;
        };
        let patience = exten
            .strip_prefix("hold")
            .and_then(|n| n.parse::<u64>().ok())
            .map(Duration::from_secs);
        let opts = CallOptions {
            caller_num: num,
            caller_name: name,
            max_wait: None,
            patience,
            // Answer() on a channel without media waits 500 ms for the first frame; with the
            // Local channel setup the capture shows 503–511 ms from Originate to Queue().
            answer_delay: Duration::from_millis(505),
        };
        let id = action_id(m).map(str::to_owned);
        self.originate_into_queue(
            &queue,
            &entry,
            opts,
            &context,
            &exten,
            priority,
            id.as_deref(),
        );
    }
}

/// C's `atoi()`: leading digits (with sign), 0 if none.
fn atoi(s: &str) -> i32 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n: i64 = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |a, b| {
            (a * 10 + i64::from(b - b'0')).min(i64::from(i32::MAX))
        });
    let n = if neg { -n } else { n };
    n as i32
}

/// `IPV4/TCP/127.0.0.1/15038` as security events write addresses.
fn addr_text(a: &std::net::SocketAddr) -> String {
    match a {
        std::net::SocketAddr::V4(v4) => format!("IPV4/TCP/{}/{}", v4.ip(), v4.port()),
        std::net::SocketAddr::V6(v6) => format!("IPV6/TCP/{}/{}", v6.ip(), v6.port()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_masks_read_like_strings_to_mask() {
        assert_eq!(strings_to_mask(""), -1);
        assert_eq!(strings_to_mask("off"), 0);
        assert_eq!(strings_to_mask("on"), i64::from(class::ALL));
        assert_eq!(
            strings_to_mask("agent,call"),
            i64::from(class::AGENT | class::CALL)
        );
        assert_eq!(strings_to_mask("34"), 34);
        assert_eq!(strings_to_mask("bogus"), 0);
    }

    #[test]
    fn callerid_parsing() {
        assert_eq!(
            parse_callerid("\"Customer One\" <5550001>"),
            ("Customer One".into(), "5550001".into())
        );
        assert_eq!(
            parse_callerid("<5550001>"),
            (String::new(), "5550001".into())
        );
        assert_eq!(parse_callerid("5550001"), (String::new(), "5550001".into()));
        assert_eq!(parse_callerid("张伟"), ("张伟".into(), String::new()));
    }

    #[test]
    fn atoi_is_lenient() {
        assert_eq!(atoi("5"), 5);
        assert_eq!(atoi(" -3x"), -3);
        assert_eq!(atoi("abc"), 0);
    }
}
