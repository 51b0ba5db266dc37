//! `queues.conf`, the file the PBX UI (port 9999, manual §5) writes, as far as the console's
//! 振铃方式 needs it.
//!
//! Asterisk 22 reads a queue's strategy with `ast_variable_retrieve`, which answers the
//! *first* `strategy` line of the queue's category (`apps/app_queue.c`,
//! `reload_single_queue`); the `[222](+)` section our include appends comes after the PBX
//! UI's own `[222]`, so a `strategy` line there wins and the console's choice is ignored (seen
//! on a real 22.10.1, issue 16). The manual gives 振铃方式 to the console and everything else
//! about a queue to the PBX UI, so the console takes that one line over: it comments out the
//! `strategy` lines of the queue's own section, byte for byte otherwise, and says why in the
//! line itself. If the PBX UI writes the line back, the check after the next reload shows it.

/// The PBX UI's file, in Asterisk's configuration folder.
pub const FILE_NAME: &str = "queues.conf";

/// The comment that marks a line the console took over.
pub const TAKEN_OVER: &str =
    "; 振铃方式由 coocenterd 控制台设置 (queues_coocenter.conf) / ring strategy set in the coocenterd console";

/// The section a header line opens: `[222]`, `[222](+)`, `[222](template)` → `222`.
fn section_name(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix('[')?;
    Some(rest[..rest.find(']')?].trim())
}

/// The key of a `key = value` / `key => value` line, comments and blank lines excluded.
fn key_of(line: &str) -> Option<&str> {
    let code = line.trim_start();
    if code.starts_with(';') || code.starts_with('#') {
        return None;
    }
    let key = code[..code.find('=')?].trim();
    (!key.is_empty()).then_some(key)
}

/// The 1-based numbers of the `strategy` lines in `queue`'s sections of this file.
pub fn strategy_lines(text: &str, queue: &str) -> Vec<usize> {
    let mut in_queue = false;
    let mut found = vec![];
    for (index, line) in text.lines().enumerate() {
        if let Some(name) = section_name(line) {
            in_queue = name.eq_ignore_ascii_case(queue);
        } else if in_queue && key_of(line).is_some_and(|k| k.eq_ignore_ascii_case("strategy")) {
            found.push(index + 1);
        }
    }
    found
}

/// The file with `queue`'s `strategy` lines commented out, or `None` when it has none.
pub fn hand_over_strategy(text: &str, queue: &str) -> Option<String> {
    let lines = strategy_lines(text, queue);
    if lines.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + lines.len() * 128);
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if lines.contains(&(index + 1)) {
            let body = line.trim_end_matches(['\r', '\n']);
            let ending = &line[body.len()..];
            out.push(';');
            out.push_str(body);
            out.push(' ');
            out.push_str(TAKEN_OVER);
            out.push_str(ending);
        } else {
            out.push_str(line);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PBX_UI: &str = "[general]\r\npersistentmembers = yes\r\nstrategy = leastrecent\r\n\r\n[222]\r\nstrategy = ringall ; from the PBX UI\r\ntimeout = 15\r\nmember => Local/8001@agents,0,Agent1\r\n\r\n[333]\r\nstrategy=ringall\r\n\r\n#include queues_coocenter.conf\r\n";

    #[test]
    fn only_the_queues_own_strategy_line_is_taken_over() {
        assert_eq!(strategy_lines(PBX_UI, "222"), vec![6]);
        let edited = hand_over_strategy(PBX_UI, "222").unwrap();
        let expected = PBX_UI.replace(
            "strategy = ringall ; from the PBX UI\r\n",
            &format!(";strategy = ringall ; from the PBX UI {TAKEN_OVER}\r\n"),
        );
        assert_eq!(edited, expected);
        assert!(strategy_lines(&edited, "222").is_empty());
        assert_eq!(
            strategy_lines(&edited, "333"),
            vec![11],
            "other queues untouched"
        );
        assert_eq!(
            hand_over_strategy(&edited, "222"),
            None,
            "a second time: nothing"
        );
    }

    #[test]
    fn templates_appends_and_case_count_as_the_queue() {
        let text = "[222](tpl)\nStrategy => rrmemory\n;strategy = old\n[222](+)\nstrategy=linear\n[2222]\nstrategy=ringall\n";
        assert_eq!(strategy_lines(text, "222"), vec![2, 5]);
        assert_eq!(
            strategy_lines("no sections\nstrategy=x\n", "222"),
            Vec::<usize>::new()
        );
    }
}
