//! What the simulated Asterisk reads from its configuration folder, when it has one
//! ([`SimConfig::asterisk_config_dir`](super::SimConfig::asterisk_config_dir)): the `strategy`
//! of each queue in `queues.conf`, read as `main/config.c` and `apps/app_queue.c` of 22.10.1
//! read it. Everything else about a queue still comes from [`SimConfig::queues`](super::SimConfig::queues).
//!
//! Owns the file syntax that decides a strategy: `;` comments, `#include` (relative to the
//! folder, with or without quotes), a `[name]` header opening a category, `[name](+)`
//! appending to the category of that name, a second plain `[name]` being a category of its
//! own that app_queue skips ("Queue '…' already defined! Skipping!"), and
//! `ast_variable_retrieve`'s rule that the *first* `strategy` of a category counts. A queue
//! category without one rings `ringall`. An `#include` of a missing file invalidates the
//! whole file (seen on 22.10.1: app_queue declines to load), so the base image ships empty
//! includes until coocenterd writes its own.

use std::collections::HashMap;
use std::path::Path;

use super::config::QueueConfig;

/// Includes deeper than this are not followed (Asterisk has no limit but loops).
const MAX_INCLUDE_DEPTH: usize = 8;

/// One category as config.c builds it: its name and its variables in order.
struct Category {
    name: String,
    vars: Vec<(String, String)>,
}

/// Queue name (lower case) → the strategy word app_queue reads for it (`None`: no
/// `strategy` line, i.e. ringall). `None` when there is no queues.conf or it is invalid (an
/// `#include` of a file that does not exist): the queues keep what they had.
pub(crate) fn queue_strategies(dir: &Path) -> Option<HashMap<String, Option<String>>> {
    let mut categories: Vec<Category> = vec![];
    read(dir, "queues.conf", 0, &mut categories).ok()?;
    let mut strategies = HashMap::new();
    for category in &categories {
        let key = category.name.to_ascii_lowercase();
        if key == "general" || strategies.contains_key(&key) {
            continue; // the first category of a name is the queue; later ones are skipped
        }
        let first = category
            .vars
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("strategy"))
            .map(|(_, v)| v.clone());
        strategies.insert(key, first);
    }
    Some(strategies)
}

fn read(
    dir: &Path,
    file: &str,
    depth: usize,
    categories: &mut Vec<Category>,
) -> std::io::Result<()> {
    let text = std::fs::read_to_string(dir.join(file))?;
    let mut current: Option<usize> = categories.len().checked_sub(1);
    for raw in text.lines() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(include) = line.strip_prefix("#include") {
            let name = include
                .trim()
                .trim_matches('"')
                .trim_matches('<')
                .trim_matches('>');
            if depth < MAX_INCLUDE_DEPTH {
                // A missing include makes the whole file invalid: on a real 22.10.1
                // "The file '…' was listed as a #include but it does not exist.", then
                // "Config file queues.conf is in an invalid format.  Aborting." and app_queue
                // declines to load (at a reload it keeps what it had).
                read(dir, name, depth + 1, categories)?;
                current = categories.len().checked_sub(1);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(end) = rest.find(']') else { continue };
            let name = rest[..end].trim().to_string();
            let options = rest[end + 1..].trim();
            let appends = options.starts_with('(') && options.contains('+');
            current = match categories
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(&name))
            {
                Some(existing) if appends => Some(existing),
                _ => {
                    categories.push(Category { name, vars: vec![] });
                    Some(categories.len() - 1)
                }
            };
            continue;
        }
        let Some(at) = current else { continue };
        if let Some((key, value)) = line.split_once('=') {
            let value = value.strip_prefix('>').unwrap_or(value);
            categories[at]
                .vars
                .push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    Ok(())
}

/// A `queues.conf` as the box's PBX UI (port 9999) writes it, after the one of a real
/// 22.10.1 base image (`ami-traces/asterisk-22.10.1-console-driven/queues.conf.used`): a
/// `[general]` section, one section per queue with its own `strategy` line, and the
/// console's include last.
pub fn pbx_ui_queues_conf(queues: &[QueueConfig]) -> String {
    let mut text = String::from(
        "[general]\npersistentmembers = yes\nautofill = yes\nmonitor-type = MixMonitor\nshared_lastcall = yes\n",
    );
    for q in queues {
        text.push_str(&format!(
            "\n[{}]\nstrategy = {}\ntimeout = {}\nretry = {}\nwrapuptime = {}\nringinuse = no\n",
            q.name,
            q.strategy.as_str(),
            q.timeout,
            q.retry,
            q.wrapuptime
        ));
        if let Some(format) = &q.record {
            text.push_str(&format!("monitor-format = {format}\n"));
        }
        text.push_str("joinempty = yes\nleavewhenempty = no\n");
        for m in &q.members {
            text.push_str(&format!("member => {},0,{}\n", m.interface, m.name));
        }
    }
    text.push_str("\n#include queues_coocenter.conf\n");
    text
}

/// The line without its `;` comment (`\;` is a literal semicolon).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b';' && (i == 0 || bytes[i - 1] != b'\\') {
            return &line[..i];
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_strategy_of_a_category_wins_as_in_asterisk_22() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("queues.conf"),
            "[general]\nstrategy=linear\n[222]\nstrategy = ringall\ntimeout=15\n[333]\ntimeout=15\n[444]\n;strategy = ringall\n\n#include queues_coocenter.conf\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("queues_coocenter.conf"),
            "; generated\n[222](+)\nstrategy=rrmemory\n[333](+)\nstrategy=fewestcalls\n[444](+)\nstrategy=rrmemory\n[333]\nstrategy=random\n",
        )
        .unwrap();
        let s = queue_strategies(dir.path()).unwrap();
        assert_eq!(
            s["222"].as_deref(),
            Some("ringall"),
            "queues.conf's own line first"
        );
        assert_eq!(
            s["333"].as_deref(),
            Some("fewestcalls"),
            "appended; the second [333] skipped"
        );
        assert_eq!(
            s["444"].as_deref(),
            Some("rrmemory"),
            "a commented line is no line"
        );
        assert!(!s.contains_key("general"));
        assert!(queue_strategies(&dir.path().join("nowhere")).is_none());
        std::fs::remove_file(dir.path().join("queues_coocenter.conf")).unwrap();
        assert!(
            queue_strategies(dir.path()).is_none(),
            "a missing include makes queues.conf invalid"
        );
    }

    #[test]
    fn the_pbx_ui_file_gives_each_queue_its_own_strategy() {
        use super::super::config::{MemberConfig, Strategy};
        let dir = tempfile::tempdir().unwrap();
        let queues = [
            QueueConfig::new("222").member(MemberConfig::new("Local/8001@agents", "Agent1")),
            QueueConfig::new("333").strategy(Strategy::RrMemory),
        ];
        let text = pbx_ui_queues_conf(&queues);
        assert!(text.contains("[222]\nstrategy = ringall\n"), "{text}");
        assert!(text.contains("member => Local/8001@agents,0,Agent1\n"));
        std::fs::write(dir.path().join("queues.conf"), &text).unwrap();
        std::fs::write(dir.path().join("queues_coocenter.conf"), "; empty\n").unwrap();
        let s = queue_strategies(dir.path()).unwrap();
        assert_eq!(s["222"].as_deref(), Some("ringall"));
        assert_eq!(s["333"].as_deref(), Some("rrmemory"));
    }
}
