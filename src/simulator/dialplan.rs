//! The part of a dialplan the simulated Asterisk runs: coocenterd's generated include
//! (`extensions_coocenter.conf` in [`SimConfig::asterisk_config_dir`](super::SimConfig::asterisk_config_dir)),
//! read at start and at every dialplan reload, and what `Queue()` does with its AGI and gosub
//! arguments once a member answered (`apps/app_queue.c`, `try_calling`, 22.10.1):
//!
//! * the 7th argument is a context: `s,1` in it runs on the **member's** channel
//!   (`ast_app_exec_sub(qe->chan, peer, "ctx,s,1")`); a context that does not exist logs
//!   `Gosub attempted to reach non-existent destination '…,s,1' from '…'` and nothing runs;
//! * the 6th runs `AGI()` on the **caller's** channel; the script's `GOSUB ctx ext prio`
//!   commands run that dialplan there. The script is read, not executed: its `GOSUB` lines
//!   are what it does (a missing file logs `Failed to execute '…': File does not exist`).
//!
//! Each step that runs raises `Newexten` on its channel with the step's context, extension,
//! priority, application and data (data as written: variables are not substituted, and
//! steps are listed, not evaluated: `Gosub`, `ExecIf` and the like do not branch).

use std::collections::HashMap;
use std::path::Path;

use super::channel::ChanId;
use super::engine::{class, Engine};

/// One `exten =>` / `same =>` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Step {
    pub priority: u32,
    pub app: String,
    pub data: String,
}

/// Context → extension → steps in priority order.
#[derive(Debug, Default)]
pub(crate) struct Dialplan {
    contexts: HashMap<String, HashMap<String, Vec<Step>>>,
}

impl Dialplan {
    /// The include in `dir`, or `None` when there is none.
    pub(crate) fn load(dir: &Path) -> Option<Dialplan> {
        let text = std::fs::read_to_string(dir.join("extensions_coocenter.conf")).ok()?;
        Some(Dialplan::parse(&text))
    }

    pub(crate) fn parse(text: &str) -> Dialplan {
        let mut plan = Dialplan::default();
        let mut context: Option<String> = None;
        let mut last: Option<(String, u32)> = None;
        for raw in text.lines() {
            let line = raw.split(';').next().unwrap_or("").trim();
            if let Some(rest) = line.strip_prefix('[') {
                context = rest.find(']').map(|end| rest[..end].trim().to_string());
                last = None;
                continue;
            }
            let Some(ctx) = &context else { continue };
            let (is_same, body) = if let Some(b) = line.strip_prefix("same") {
                (true, b)
            } else if let Some(b) = line.strip_prefix("exten") {
                (false, b)
            } else {
                continue;
            };
            let Some(body) = body.trim_start().strip_prefix("=>") else {
                continue;
            };
            let mut parts = body.trim().splitn(if is_same { 2 } else { 3 }, ',');
            let exten = if is_same {
                match &last {
                    Some((e, _)) => e.clone(),
                    None => continue,
                }
            } else {
                parts.next().unwrap_or("").trim().to_string()
            };
            let priority_text = parts.next().unwrap_or("").trim();
            // `n`, `n(label)`, `2`, `10(label)`.
            let number = priority_text.split('(').next().unwrap_or("").trim();
            let priority = match (number, &last) {
                ("n", Some((e, p))) if *e == exten => p + 1,
                ("n", _) => 1,
                (n, _) => n.parse().unwrap_or(1),
            };
            let application = parts.next().unwrap_or("").trim();
            let (app, data) = match application.find('(') {
                Some(open) => (
                    application[..open].to_string(),
                    application[open + 1..]
                        .strip_suffix(')')
                        .unwrap_or(&application[open + 1..])
                        .to_string(),
                ),
                None => (application.to_string(), String::new()),
            };
            plan.contexts
                .entry(ctx.clone())
                .or_default()
                .entry(exten.clone())
                .or_default()
                .push(Step {
                    priority,
                    app,
                    data,
                });
            last = Some((exten, priority));
        }
        plan
    }

    /// The steps of `exten` in `context`.
    pub(crate) fn steps(&self, context: &str, exten: &str) -> Option<&[Step]> {
        self.contexts.get(context)?.get(exten).map(Vec::as_slice)
    }

    /// The arguments of the first `Queue()` in `context` (`_X.`), split as app_queue's
    /// `AST_STANDARD_APP_ARGS` splits them (commas outside `${…}` and `$[…]`).
    pub(crate) fn queue_arguments(&self, context: &str) -> Option<Vec<String>> {
        let exts = self.contexts.get(context)?;
        let mut steps: Vec<&Step> = exts.values().flatten().collect();
        steps.sort_by_key(|s| s.priority);
        let queue = steps.iter().find(|s| s.app.eq_ignore_ascii_case("Queue"))?;
        Some(split_args(&queue.data))
    }
}

fn split_args(data: &str) -> Vec<String> {
    let mut args = vec![String::new()];
    let mut depth = 0i32;
    for c in data.chars() {
        match c {
            '{' | '[' | '(' => depth += 1,
            '}' | ']' | ')' => depth -= 1,
            ',' if depth == 0 => {
                args.push(String::new());
                continue;
            }
            _ => {}
        }
        args.last_mut().expect("one argument at least").push(c);
    }
    args
}

/// The `(context, extension, priority)` of each `GOSUB` an AGI script sends.
pub(crate) fn agi_gosubs(script: &str) -> Vec<(String, String, u32)> {
    script
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let at = l.find("GOSUB ")?;
            let words: Vec<&str> = l[at + 6..]
                .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
                .filter(|w| !w.is_empty())
                .collect();
            Some((
                words.first()?.to_string(),
                words.get(1)?.to_string(),
                words.get(2)?.parse().ok()?,
            ))
        })
        .collect()
}

/// The context inbound routes send queue calls to (`Goto(coocenter-queue,<queue>,1)`).
const QUEUE_CONTEXT: &str = "coocenter-queue";

impl Engine {
    /// Re-reads the include (start, `dialplan reload`, `Reload` of pbx_config).
    pub(crate) fn reload_dialplan(&mut self) {
        self.dialplan = self
            .config
            .asterisk_config_dir
            .as_deref()
            .and_then(Dialplan::load);
    }

    /// What `Queue()` runs between a member's answer and the bridge: its gosub on the
    /// member's channel, then its AGI on the caller's.
    pub(crate) fn run_queue_answer_hooks(&mut self, caller: ChanId, member: ChanId) {
        let Some(args) = self
            .dialplan
            .as_ref()
            .and_then(|p| p.queue_arguments(QUEUE_CONTEXT))
        else {
            return;
        };
        let agi = args.get(5).cloned().unwrap_or_default();
        let gosub = args.get(6).cloned().unwrap_or_default();
        if !gosub.is_empty() {
            self.run_gosub(member, &gosub, "s", 1);
        }
        if !agi.is_empty() {
            match std::fs::read_to_string(&agi) {
                Ok(script) => {
                    for (context, exten, priority) in agi_gosubs(&script) {
                        self.run_gosub(caller, &context, &exten, priority);
                    }
                }
                Err(_) => {
                    let name = self.chan(caller).name.clone();
                    self.log_line(format!(
                        "WARNING[{name}] res_agi.c: Failed to execute '{agi}': File does not exist."
                    ));
                }
            }
        }
    }

    /// Runs `context,exten,priority` on `chan` to its end, one `Newexten` per step; the
    /// channel's own place in the dialplan is restored afterwards (a gosub returns).
    fn run_gosub(&mut self, chan: ChanId, context: &str, exten: &str, priority: u32) {
        let steps: Vec<Step> = match self.dialplan.as_ref().and_then(|p| p.steps(context, exten)) {
            Some(steps) => steps
                .iter()
                .filter(|s| s.priority >= priority)
                .cloned()
                .collect(),
            None => vec![],
        };
        let (name, saved) = {
            let c = self.chan(chan);
            (
                c.name.clone(),
                (c.context.clone(), c.exten.clone(), c.priority),
            )
        };
        if steps.is_empty() {
            self.log_line(format!(
                "ERROR[{name}] app_stack.c: Gosub attempted to reach non-existent destination '{context},{exten},{priority}' from '{},{},{}'",
                saved.0, saved.1, saved.2
            ));
            return;
        }
        for step in steps {
            {
                let c = self.chan_mut(chan);
                c.context = context.to_string();
                c.exten = exten.to_string();
                c.priority = step.priority;
            }
            let mut m = self.chan_event("Newexten", class::DIALPLAN, chan);
            m.push("Extension", exten);
            m.push("Application", step.app.as_str());
            m.push("AppData", step.data.as_str());
            self.emit(class::DIALPLAN, &m);
            if step.app.eq_ignore_ascii_case("Return") {
                break;
            }
        }
        let c = self.chan_mut(chan);
        (c.context, c.exten, c.priority) = saved;
    }

    /// A line of Asterisk's own log (`full`), kept for tests.
    pub(crate) fn log_line(&mut self, line: String) {
        log::debug!("simulator: {line}");
        self.full_log.push(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_priorities_and_queue_arguments_as_asterisk_reads_them() {
        let plan = Dialplan::parse(
            "[coocenter-queue]\nexten => _X.,1,NoOp(x ${EXTEN})\n same => n,Answer()\n same => n(queue),Queue(${EXTEN},c,,,,/a/b.agi,coocenter-member) ; comment\n\n[coocenter-direct]\nexten => s,1,Goto(caller)\nexten => s,2,Wait(12)\n same => n,Hangup()\nexten => s,10(caller),Gosub(coocenter-answer,s,1)\n",
        );
        assert_eq!(
            plan.queue_arguments("coocenter-queue").unwrap(),
            ["${EXTEN}", "c", "", "", "", "/a/b.agi", "coocenter-member"]
        );
        let direct: Vec<(u32, &str)> = plan
            .steps("coocenter-direct", "s")
            .unwrap()
            .iter()
            .map(|s| (s.priority, s.app.as_str()))
            .collect();
        assert_eq!(
            direct,
            [(1, "Goto"), (2, "Wait"), (3, "Hangup"), (10, "Gosub")]
        );
        assert_eq!(
            agi_gosubs("#!/bin/sh\n# GOSUB not this\necho \"GOSUB coocenter-answer s 1\"\n"),
            [("coocenter-answer".to_string(), "s".to_string(), 1)]
        );
    }
}
