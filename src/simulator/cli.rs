//! The few Asterisk CLI commands the simulator answers through `Action: Command`.
//!
//! Owns the command table and the text of each command: `core show version`,
//! `core show uptime [seconds]`, `core show channels [count]`, `core show calls [uptime]`,
//! `queue show [queue]`, and the `No such command '…' (type 'core show help …' for other
//! possible commands)` error, whose suggestion is computed like cli.c's `find_best()`.
//! `queue show` is byte-exact against the 22.10.1 capture; the other texts follow main/cli.c
//! but were not captured (see the report/README of the simulator). Knows nothing of sockets.

use super::clock;
use super::engine::Engine;

/// Commands as cli.c keeps them: words, and whether the last word is optional (`[x]`).
const COMMANDS: [(&[&str], bool); 6] = [
    (&["!"], false),
    (&["core", "show", "version"], false),
    (&["core", "show", "uptime", "[seconds]"], true),
    (&["core", "show", "channels", "[count]"], true),
    (&["core", "show", "calls", "[uptime]"], true),
    (&["queue", "show", "[queue]"], true),
];

/// Other Asterisk 22 commands, by shape only: they make `find_best()`'s suggestion in the
/// "No such command" error look like the real one, but are not executed.
const SHAPES: [&[&str]; 16] = [
    &["help"],
    &["core", "reload"],
    &["core", "stop", "now"],
    &["core", "restart", "now"],
    &["core", "show", "help"],
    &["core", "show", "settings"],
    &["core", "show", "sysinfo"],
    &["queue", "reload", "all"],
    &["queue", "reset", "stats"],
    &["module", "reload"],
    &["module", "show"],
    &["pjsip", "show", "endpoints"],
    &["dialplan", "reload"],
    &["dialplan", "show"],
    &["manager", "show", "connected"],
    &["channel", "request", "hangup"],
];

/// Runs `cmd`; returns (success, output with a final newline).
pub(crate) fn run(e: &Engine, cmd: &str) -> (bool, String) {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
    let w: Vec<&str> = lower.iter().map(String::as_str).collect();
    match w.as_slice() {
        ["core", "show", "version"] => (true, format!("{}\n", e.config.version_line)),
        ["core", "show", "uptime"] => (true, uptime(e, false)),
        ["core", "show", "uptime", "seconds"] => (true, uptime(e, true)),
        ["core", "show", "channels"] => (true, channels(e, false)),
        ["core", "show", "channels", "count"] => (true, channels(e, true)),
        ["core", "show", "calls"] => (true, calls(e)),
        ["core", "show", "calls", "uptime"] => {
            let mut s = calls(e);
            s.push_str(&uptime_line(
                "System uptime",
                e.now().saturating_sub(e.started) / 1_000_000,
                false,
            ));
            (true, s)
        }
        ["queue", "show"] => queue_show(e, None),
        ["queue", "show", _] => queue_show(e, Some(words[2])),
        _ if words.is_empty() => (false, String::new()),
        _ => {
            let best = find_best(&words);
            (
                false,
                format!(
                    "No such command '{}' (type 'core show help {best}' for other possible commands)\n",
                    words.join(" ")
                ),
            )
        }
    }
}

/// cli.c `find_best()`: the input's words up to and including the first one that no command
/// of that length continues.
fn find_best(words: &[&str]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for (x, word) in words.iter().enumerate() {
        out.push(word);
        let n = x + 1;
        let shapes = COMMANDS
            .iter()
            .map(|(c, opt)| (*c, *opt))
            .chain(SHAPES.iter().map(|c| (*c, false)));
        let continues = shapes.into_iter().any(|(cmd, optional_last)| {
            let required = cmd.len() - usize::from(optional_last);
            let fits = n == cmd.len() || n == required;
            fits && cmd[..n - 1]
                .iter()
                .zip(&out[..n - 1])
                .all(|(c, w)| c.eq_ignore_ascii_case(w))
        });
        if !continues {
            break;
        }
    }
    out.join(" ")
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// cli.c `print_uptimestr()`.
fn uptime_line(prefix: &str, mut secs: u64, printsec: bool) -> String {
    if printsec {
        return format!("{prefix}: {secs}\n");
    }
    const MINUTE: u64 = 60;
    const HOUR: u64 = 3600;
    const DAY: u64 = 86_400;
    const WEEK: u64 = DAY * 7;
    const YEAR: u64 = DAY * 365;
    let mut out = String::new();
    for (unit, name) in [
        (YEAR, "year"),
        (WEEK, "week"),
        (DAY, "day"),
        (HOUR, "hour"),
        (MINUTE, "minute"),
    ] {
        if secs > unit {
            let x = secs / unit;
            secs -= x * unit;
            let comma = if secs > 0 { "," } else { "" };
            out.push_str(&format!("{x} {name}{}{comma} ", plural(x)));
        }
    }
    if secs > 0 || out.is_empty() {
        out.push_str(&format!("{secs} second{}", plural(secs)));
    }
    format!("{prefix}: {}\n", out.trim_end())
}

fn uptime(e: &Engine, printsec: bool) -> String {
    let now = e.now();
    let mut s = uptime_line(
        "System uptime",
        now.saturating_sub(e.started) / 1_000_000,
        printsec,
    );
    s.push_str(&uptime_line(
        "Last reload",
        now.saturating_sub(e.last_reload) / 1_000_000,
        printsec,
    ));
    s
}

fn calls(e: &Engine) -> String {
    let active = e.active_calls() as u64;
    format!(
        "{active} active call{}\n{} call{} processed\n",
        plural(active),
        e.processed_calls,
        plural(e.processed_calls)
    )
}

fn channels(e: &Engine, count_only: bool) -> String {
    let mut out = String::new();
    if !count_only {
        out.push_str(&format!(
            "{:<64.64} {:<32.32} {:<7.7} {:<30.30}\n",
            "Channel", "Location", "State", "Application(Data)"
        ));
        let mut chans: Vec<_> = e.channels.values().collect();
        chans.sort_by(|a, b| a.name.cmp(&b.name));
        for c in chans {
            let loc = format!("{}@{}:{}", c.exten, c.context, c.priority);
            let app = if c.app.is_empty() {
                "(None)".to_owned()
            } else {
                format!("{}({})", c.app, c.app_data)
            };
            out.push_str(&format!(
                "{:<64.64} {:<32.32} {:<7.7} {:<30.30}\n",
                c.name,
                loc,
                c.state.desc(),
                app
            ));
        }
    }
    let n = e.channels.len() as u64;
    out.push_str(&format!("{n} active channel{}\n", plural(n)));
    out.push_str(&calls(e));
    out
}

/// app_queue `__queues_show()`: queues sorted by name, each followed by an empty line.
fn queue_show(e: &Engine, only: Option<&str>) -> (bool, String) {
    let now = e.now_secs();
    let mut idx: Vec<usize> = (0..e.queues.len())
        .filter(|&i| only.is_none_or(|n| e.queues[i].name().eq_ignore_ascii_case(n)))
        .collect();
    idx.sort_by_key(|&i| e.queues[i].name().to_ascii_lowercase());
    if idx.is_empty() {
        return match only {
            Some(n) => (true, format!("No such queue: {n}.\n")),
            None => (true, "No queues.\n".to_owned()),
        };
    }
    let mut out = String::new();
    for qi in idx {
        let q = &e.queues[qi];
        let (sl, sl2) = q.service_levels();
        let max = if q.cfg.maxlen > 0 {
            q.cfg.maxlen.to_string()
        } else {
            "unlimited".to_owned()
        };
        out.push_str(&format!(
            "{} has {} calls (max {max}) in '{}' strategy ({}s holdtime, {}s talktime), W:{}, C:{}, A:{}, SL:{sl}%, SL2:{sl2}% within {}s\n",
            q.name(),
            q.entries.len(),
            q.cfg.strategy.as_str(),
            q.holdtime,
            q.talktime,
            q.cfg.weight,
            q.completed,
            q.abandoned,
            q.cfg.servicelevel
        ));
        if q.members.is_empty() {
            out.push_str("   No Members\n");
        } else {
            out.push_str("   Members: \n");
            for mi in q.member_order() {
                let m = &q.members[mi];
                let mut line = format!("      {}", m.name);
                if !m.name.eq_ignore_ascii_case(&m.interface) {
                    line.push_str(&format!(" ({}", m.interface));
                    if m.state_interface != m.interface {
                        line.push_str(&format!(" from {}", m.state_interface));
                    }
                    line.push(')');
                }
                if m.penalty != 0 {
                    line.push_str(&format!(" with penalty {}", m.penalty));
                }
                line.push_str(" (ringinuse disabled)");
                if m.dynamic {
                    line.push_str(" (dynamic)");
                }
                if m.in_call {
                    line.push_str(" (in call)");
                }
                if m.paused {
                    let (colon, reason) = if m.reason.is_empty() {
                        ("", "")
                    } else {
                        (":", m.reason.as_str())
                    };
                    line.push_str(&format!(
                        " (paused{colon}{reason} was {} secs ago)",
                        now - m.lastpause
                    ));
                }
                line.push_str(&format!(" ({})", e.member_status(m).text()));
                if m.calls > 0 {
                    line.push_str(&format!(
                        " has taken {} calls (last was {} secs ago)",
                        m.calls,
                        now - m.lastcall
                    ));
                } else {
                    line.push_str(" has taken no calls yet");
                }
                line.push_str(&format!(" (login was {} secs ago)\n", now - m.logintime));
                out.push_str(&line);
            }
        }
        if q.entries.is_empty() {
            out.push_str("   No Callers\n");
        } else {
            out.push_str("   Callers: \n");
            for (pos, id) in q.entries.iter().enumerate() {
                let c = &e.calls[id];
                let wait = now - clock::secs(c.start);
                out.push_str(&format!(
                    "      {}. {} (wait: {}:{:02}, prio: 0)\n",
                    pos + 1,
                    e.chan(c.chan).name,
                    wait / 60,
                    wait % 60
                ));
            }
        }
        out.push('\n');
    }
    (true, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_best_matches_the_capture() {
        // cmd-bogus of session1: "no such cli command" → "core show help no such".
        assert_eq!(find_best(&["no", "such", "cli", "command"]), "no such");
        assert_eq!(find_best(&["queue", "foo", "bar"]), "queue foo bar");
        assert_eq!(
            find_best(&["core", "show", "nothing", "x"]),
            "core show nothing x"
        );
        assert_eq!(find_best(&["bogus"]), "bogus");
    }

    #[test]
    fn uptime_text() {
        assert_eq!(
            uptime_line("System uptime", 112, false),
            "System uptime: 1 minute, 52 seconds\n"
        );
        assert_eq!(
            uptime_line("Last reload", 0, false),
            "Last reload: 0 seconds\n"
        );
        assert_eq!(
            uptime_line("System uptime", 3600 * 2 + 1, false),
            "System uptime: 2 hours, 1 second\n"
        );
        assert_eq!(uptime_line("System uptime", 7, true), "System uptime: 7\n");
    }
}
