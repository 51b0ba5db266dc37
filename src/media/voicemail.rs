//! The Asterisk voicemail spool of the queue mailboxes (manual §7 客户留言).
//!
//! Owns: reading Asterisk's FILE_STORAGE spool (`<root>/<context>/<mailbox>/<folder>/
//! msgNNNN.txt` + `msgNNNN.<fmt>`, see `ami-traces/VOICEMAIL.md`), the in-memory index of
//! messages with stable ids, the 客户留言 table query (search / sort / paging over the
//! displayed columns), deleting a message the way `app_voicemail.c` keeps a folder consistent
//! (Asterisk's `.lock`, then contiguous renumbering), and a cheap polling watcher that
//! republishes the index when the spool changes.
//!
//! May call: the filesystem (std), `tokio` for the watcher, `chrono` for display. It does not
//! talk to Asterisk: after a delete the caller (the media service) should send AMI
//! `VoicemailRefresh` for that mailbox so MWI / `MailboxCount` catch up. It does not serve
//! HTTP: the http layer streams [`AudioFile::path`] using [`crate::media::range`].
//!
//! # Decisions
//!
//! - **Identity.** `msgNNNN` is renumbered by Asterisk whenever a message is deleted or moved,
//!   so a message's id is its `msg_id` (`<epoch>-<counter>`, stable across moves between
//!   folders). Files written before `msg_id` existed get `h` + FNV-1a-64 of
//!   `context/mailbox/folder/origtime` (a hash fixed by this file, not by the std hasher, so
//!   it survives daemon upgrades). Ids are URL-safe (`[A-Za-z0-9._-]`); a `msg_id` with other
//!   characters falls back to the hash. If two messages end up with the same id (the same
//!   `msg_id` copied to two mailboxes), the first in (context, mailbox, folder, number) order
//!   keeps it and the next get `-` + 8 hex digits of the hash of their context/mailbox/folder
//!   (and `-n` if that still collides). Ids are resolved only through a scanned
//!   [`VoicemailIndex`]; no path is ever built from request text.
//! - **Commit point.** Asterisk renames the audio into the folder first and the `.txt` last,
//!   so a message exists when its `.txt` exists. A `.txt` without `duration=` (still being
//!   recorded / copied) or without any audio file beside it is skipped silently (debug log),
//!   not an error, and the watcher keeps an eye on it until it completes.
//! - **Audio choice.** Of the formats Asterisk wrote (`format=` in voicemail.conf), the
//!   browser-playable one wins: `.wav` (16-bit PCM) > `.wav16` > `.ogg` > `.mp3` > `.opus`;
//!   otherwise `.WAV` (wav49 = GSM in WAV), `.gsm`, `.ulaw`, `.alaw`, `.g722`, `.sln`… are
//!   offered for download with `browser_playable = false`. The choice is by extension only
//!   (Asterisk's format modules fix the extension → codec mapping); files are not sniffed.
//! - **Folders.** INBOX, Old, Urgent, Work, Family, Friends, Cust1…Cust5 are listed;
//!   `Deleted/` (Asterisk's `backupdeleted` copies) and `tmp/` (recordings in progress) never.
//!   Deleting removes the files for good; it does not copy into `Deleted/`.
//! - **Path safety.** The root is canonicalized once; every directory and file found is
//!   canonicalized and must stay under it. A symlink that leads outside is skipped with a
//!   warning; one that stays inside is followed (its canonical path is what gets used).
//!   Names that are not UTF-8 or start with `.` are skipped.
//! - **Locking.** Asterisk's default `lockmode=lockfile` (`ast_lock_path_lockfile()` in
//!   `main/utils.c`): create `<folder>/.lock-XXXXXXXX` (8 random hex digits) with
//!   `O_CREAT|O_EXCL` mode 0666, `link()` it to `<folder>/.lock` until that succeeds or the
//!   timeout passes (Asterisk's own is 5 s), unlink the temporary name; release = unlink
//!   `.lock`. We never steal a lock (neither does Asterisk): on timeout the delete fails with
//!   [`VoicemailError::LockTimeout`] and nothing is changed. Asterisk *drops the voicemail*
//!   when it cannot lock within 5 s, so the lock is held only for the unlinks and renames
//!   (milliseconds). We release only a `.lock` that is still our inode. `lockmode=flock` is
//!   not supported: the rootfs must keep Asterisk's default.
//! - **Delete = `vm_delete()` + `resequence_mailbox()`.** Under the lock: re-read the folder,
//!   find the message by id again (it may have been renumbered since the scan), unlink its
//!   `.txt` first (so it stops existing for every reader) then its other `msgNNNN.*` files,
//!   then rename every later `msgNNNN.*` group down so numbers stay contiguous, audio first
//!   and `.txt` last (as `rename_file()` does), never over an existing name; fsync the folder;
//!   unlock. The plan is computed by the pure [`delete_plan`] / [`resequence_plan`].
//! - **Table.** Columns as displayed: 客户号码 number, 客户名 name, 队列名 queue (the queue's
//!   display name from a mailbox → name map, else the mailbox number), 日期 date (local
//!   `YYYY-MM-DD HH:MM:SS`), 时长 duration (`M:SS`). Search is case-insensitive substring
//!   matching on those strings; several words separated by spaces must each match some column
//!   (DataTables' "smart" search; a single word is the manual's example: `37`). Sorting
//!   compares the displayed strings except date (by `origtime`) and duration (by seconds);
//!   ties go newest first, then by id. Default: newest first. `per_page` ∈ {10, 25, 50, 100},
//!   pages are 1-based and a page past the end is clamped to the last page.
//! - **Bounds.** At most [`MAX_DIR_ENTRIES`] entries are read per directory, `.txt` files
//!   larger than [`MAX_TXT_BYTES`] are skipped and at most [`MAX_ITEMS`] messages are indexed
//!   (each with a warning), so a broken spool cannot exhaust the appliance's memory.
//! - **Watcher.** Every `poll_interval` it stats the root, context, mailbox and folder
//!   directories (and any half-written `.txt`): a changed mtime triggers a rescan (run on the
//!   blocking pool) and the new index is published on a `tokio::sync::watch` channel. A full
//!   rescan also happens every `full_rescan_interval` (covers filesystems with coarse mtimes)
//!   and on [`VoicemailWatcher::trigger`] / [`VoicemailWatcher::refresh`]. No inotify.
//!
//! The daemon needs write access to the spool folders: run it as the `asterisk` user or in its
//! group with a umask that leaves the folders group-writable (app_voicemail creates them with
//! `VOICEMAIL_DIR_MODE` 0777 and files with 0666, both masked by Asterisk's umask).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::{TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Folders listed, in display/scan order (`mailbox_folders[]` in app_voicemail.c, without
/// `Deleted`).
pub const FOLDERS: [&str; 11] = [
    "INBOX", "Old", "Urgent", "Work", "Family", "Friends", "Cust1", "Cust2", "Cust3", "Cust4",
    "Cust5",
];

/// The page sizes the 客户留言 table offers (显示项).
pub const PER_PAGE_CHOICES: [u32; 4] = [10, 25, 50, 100];

/// A `msgNNNN.txt` larger than this is not a message file (real ones are ~300 bytes).
pub const MAX_TXT_BYTES: u64 = 64 * 1024;

/// At most this many directory entries are read from one directory.
pub const MAX_DIR_ENTRIES: usize = 50_000;

/// At most this many messages are indexed (Asterisk's own limit is 9999 per folder).
pub const MAX_ITEMS: usize = 100_000;

/// The longest search string accepted.
pub const MAX_SEARCH_LEN: usize = 200;

/// Asterisk's own lock wait (`ast_lock_path_lockfile()`).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

/// Errors of this module. [`VoicemailError::http_status`] maps them for the http layer.
#[derive(Debug, thiserror::Error)]
pub enum VoicemailError {
    /// A `msgNNNN.txt` that is not a message file.
    #[error("invalid voicemail message file (line {line}): {reason}")]
    Parse { line: usize, reason: String },
    /// No message with that id in the index, or it vanished since the scan.
    #[error("voicemail {0:?} does not exist (it may have been deleted or moved)")]
    NotFound(String),
    /// Bad table query (page size, page number, search text).
    #[error("invalid voicemail query: {0}")]
    InvalidQuery(String),
    /// A mailbox name that is not `mailbox[@context]` of safe path components.
    #[error("invalid mailbox {0:?}: expected mailbox@context of letters, digits, '-', '_', '.'")]
    InvalidMailbox(String),
    /// Asterisk (or another deleter) held the folder lock for the whole timeout.
    #[error("the voicemail folder is busy (locked by Asterisk); nothing was changed, try again")]
    LockTimeout { folder: PathBuf },
    /// A path that leaves the spool root or is not what the index said it was.
    #[error("refusing unsafe voicemail path {path}: {reason}")]
    UnsafePath { path: PathBuf, reason: String },
    /// A filesystem error.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

impl VoicemailError {
    /// The HTTP status the http layer should answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            VoicemailError::NotFound(_) => 404,
            VoicemailError::InvalidQuery(_) | VoicemailError::InvalidMailbox(_) => 400,
            VoicemailError::LockTimeout { .. } => 503,
            VoicemailError::Parse { .. }
            | VoicemailError::UnsafePath { .. }
            | VoicemailError::Io { .. } => 500,
        }
    }

    fn io(what: impl Into<String>, source: io::Error) -> Self {
        VoicemailError::Io {
            what: what.into(),
            source,
        }
    }
}

/// Result of this module.
pub type Result<T> = std::result::Result<T, VoicemailError>;

// ---------------------------------------------------------------------------------------------
// msgNNNN.txt
// ---------------------------------------------------------------------------------------------

/// The `[message]` section of a `msgNNNN.txt` (see VOICEMAIL.md for each field).
///
/// Text fields are `None` when the key is absent and `Some("")` when present but empty
/// (`macrocontext=` on Asterisk ≤ 20 vs. no such line on 21+).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageInfo {
    pub origmailbox: Option<String>,
    /// Dialplan context of the caller's channel (not the voicemail context).
    pub context: Option<String>,
    pub macrocontext: Option<String>,
    pub exten: Option<String>,
    pub rdnis: Option<String>,
    pub priority: Option<i64>,
    pub callerchan: Option<String>,
    /// The raw `callerid=` value.
    pub callerid: Option<String>,
    /// Number part of `callerid` (`None` for `Unknown`).
    pub caller_number: Option<String>,
    /// Name part of `callerid` (`None` when absent).
    pub caller_name: Option<String>,
    pub origdate: Option<String>,
    /// Unix epoch seconds.
    pub origtime: Option<i64>,
    pub category: Option<String>,
    pub msg_id: Option<String>,
    /// `""` or `"Urgent"`; `None` until recording has finished.
    pub flag: Option<String>,
    /// Seconds; `None` until recording has finished (a half-written file).
    pub duration: Option<u32>,
    /// Keys of `[message]` this module does not know, in file order.
    pub extra: Vec<(String, String)>,
}

impl MessageInfo {
    /// `flag=Urgent`.
    pub fn is_urgent(&self) -> bool {
        self.flag
            .as_deref()
            .is_some_and(|f| f.eq_ignore_ascii_case("urgent"))
    }

    /// Whether Asterisk has finished writing the file (`duration=` present).
    pub fn is_complete(&self) -> bool {
        self.duration.is_some()
    }
}

/// Parses a `msgNNNN.txt`.
///
/// Tolerates CRLF, a UTF-8 BOM, `;`/`#` comment lines, blank lines, `key => value`,
/// unknown keys (kept in [`MessageInfo::extra`]), other sections (ignored) and a missing
/// `macrocontext=`. A `;` inside a value is *not* a comment (`callerchan=Local/…;2` — the
/// writer does not escape it). For a key given twice the first wins (as Asterisk's
/// `ast_variable_retrieve()`). Errors: no `[message]` section, a line in it that is not
/// `key=value`, or a non-numeric `origtime`/`duration`/`priority`. Empty numeric values read
/// as absent.
pub fn parse_message_txt(text: &str) -> Result<MessageInfo> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut info = MessageInfo::default();
    let mut in_message = false;
    let mut seen_message = false;
    let mut seen_keys: HashSet<String> = HashSet::new();

    for (idx, raw) in text.split('\n').enumerate() {
        let line_no = idx + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim();
        if line.is_empty() || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix('[') {
            let Some(end) = rest.find(']') else {
                return Err(VoicemailError::Parse {
                    line: line_no,
                    reason: "unterminated section header".into(),
                });
            };
            in_message = rest[..end].trim().eq_ignore_ascii_case("message");
            seen_message |= in_message;
            continue;
        }
        if !in_message {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(VoicemailError::Parse {
                line: line_no,
                reason: "expected key=value".into(),
            });
        };
        let key = key.trim();
        let value = value.strip_prefix('>').unwrap_or(value).trim();
        if key.is_empty() {
            return Err(VoicemailError::Parse {
                line: line_no,
                reason: "empty key".into(),
            });
        }
        if !seen_keys.insert(key.to_ascii_lowercase()) {
            continue;
        }
        let text = || Some(value.to_string());
        match key.to_ascii_lowercase().as_str() {
            "origmailbox" => info.origmailbox = text(),
            "context" => info.context = text(),
            "macrocontext" => info.macrocontext = text(),
            "exten" => info.exten = text(),
            "rdnis" => info.rdnis = text(),
            "priority" => info.priority = parse_num(value, key, line_no)?,
            "callerchan" => info.callerchan = text(),
            "callerid" => {
                let (number, name) = parse_callerid(value);
                info.callerid = text();
                info.caller_number = number;
                info.caller_name = name;
            }
            "origdate" => info.origdate = text(),
            "origtime" => info.origtime = parse_num(value, key, line_no)?,
            "category" => info.category = text(),
            "msg_id" => info.msg_id = text(),
            "flag" => info.flag = text(),
            "duration" => info.duration = parse_num(value, key, line_no)?,
            _ => info.extra.push((key.to_string(), value.to_string())),
        }
    }
    if !seen_message {
        return Err(VoicemailError::Parse {
            line: 0,
            reason: "no [message] section".into(),
        });
    }
    Ok(info)
}

fn parse_num<T: FromStr>(value: &str, key: &str, line: usize) -> Result<Option<T>> {
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| VoicemailError::Parse {
        line,
        reason: format!("{key}={value:?} is not a number"),
    })
}

/// Splits an Asterisk caller id into `(number, name)`, like `ast_callerid_parse()`:
/// `"Name" <number>`, `Name <number>`, `<number>`, `number`, a bare name, or
/// `Unknown`/empty (→ `(None, None)`). Quotes around the name are removed and `\"` unescaped.
pub fn parse_callerid(raw: &str) -> (Option<String>, Option<String>) {
    let s = raw.trim();
    if s.is_empty() || s.eq_ignore_ascii_case("unknown") {
        return (None, None);
    }
    let non_empty = |v: &str| {
        let v = v.trim();
        (!v.is_empty()).then(|| v.to_string())
    };
    // A quoted name may itself contain '<' or '>': skip it before looking for <number>.
    let (quoted_name, rest) = match s.strip_prefix('"').and_then(|r| split_quoted(r)) {
        Some((name, rest)) => (Some(name), rest),
        None => (None, s),
    };
    if let Some(open) = rest.rfind('<') {
        if let Some(close) = rest[open..].find('>') {
            let number = non_empty(&rest[open + 1..open + close]);
            let name = match quoted_name {
                Some(name) => non_empty(&name),
                None => non_empty(rest[..open].trim().trim_matches('"')),
            };
            return (number, name);
        }
    }
    if let Some(name) = quoted_name {
        return (None, non_empty(&name));
    }
    if is_phone_number(s) {
        (Some(s.to_string()), None)
    } else {
        (None, non_empty(s.trim_matches('"')))
    }
}

/// `r` follows an opening quote: returns (unescaped name, text after the closing quote).
fn split_quoted(r: &str) -> Option<(String, &str)> {
    let mut name = String::new();
    let mut chars = r.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, next)) = chars.next() {
                    name.push(next);
                }
            }
            '"' => return Some((name, &r[i + 1..])),
            _ => name.push(c),
        }
    }
    None
}

/// `ast_isphonenumber()`: digits and `0-9*#+`, nothing else (we also allow `-`, ` `, `()`,
/// `.`, which `ast_shrink_phone_number()` would have removed).
fn is_phone_number(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_digit() || "*#+-() .".contains(c))
}

// ---------------------------------------------------------------------------------------------
// Mailboxes, audio formats, index items
// ---------------------------------------------------------------------------------------------

/// A voicemail box: `mailbox@context`, the spool directory `<root>/<context>/<mailbox>`.
///
/// Both parts are validated as safe single path components (letters, digits, `-`, `_`, `.`,
/// `+`, not `.`/`..`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MailboxId {
    context: String,
    mailbox: String,
}

impl MailboxId {
    /// A mailbox id from its parts.
    pub fn new(mailbox: &str, context: &str) -> Result<Self> {
        if !is_safe_component(mailbox) || !is_safe_component(context) {
            return Err(VoicemailError::InvalidMailbox(format!(
                "{mailbox}@{context}"
            )));
        }
        Ok(MailboxId {
            context: context.to_string(),
            mailbox: mailbox.to_string(),
        })
    }

    /// The voicemail context (spool directory level 1), e.g. `default`.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The mailbox (spool directory level 2), e.g. `1000`.
    pub fn mailbox(&self) -> &str {
        &self.mailbox
    }
}

impl fmt::Display for MailboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.mailbox, self.context)
    }
}

impl FromStr for MailboxId {
    type Err = VoicemailError;

    /// `1000@default`, or `1000` (context `default`, as in voicemail.conf).
    fn from_str(s: &str) -> Result<Self> {
        match s.split_once('@') {
            Some((mailbox, context)) => MailboxId::new(mailbox, context),
            None => MailboxId::new(s, "default"),
        }
    }
}

fn is_safe_component(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 80
        && s != "."
        && s != ".."
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
}

/// Queue display names by mailbox (队列名). A mailbox absent here shows its number.
pub type QueueNames = HashMap<MailboxId, String>;

/// How an audio extension is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FormatSpec {
    ext: &'static str,
    content_type: &'static str,
    browser_playable: bool,
}

/// Known Asterisk file formats, best first. Extensions are case-sensitive: `.wav` is PCM
/// (format_wav), `.WAV` is wav49/GSM (format_wav_gsm).
const FORMATS: &[FormatSpec] = &[
    fmt_spec("wav", "audio/wav", true),
    fmt_spec("wav16", "audio/wav", true),
    fmt_spec("ogg", "audio/ogg", true),
    fmt_spec("mp3", "audio/mpeg", true),
    fmt_spec("opus", "audio/ogg; codecs=opus", true),
    fmt_spec("WAV", "audio/wav", false),
    fmt_spec("wav49", "audio/wav", false),
    fmt_spec("gsm", "audio/x-gsm", false),
    fmt_spec("ulaw", "audio/basic", false),
    fmt_spec("ul", "audio/basic", false),
    fmt_spec("mu", "audio/basic", false),
    fmt_spec("pcm", "audio/basic", false),
    fmt_spec("alaw", "audio/x-alaw-basic", false),
    fmt_spec("al", "audio/x-alaw-basic", false),
    fmt_spec("g722", "audio/G722", false),
    fmt_spec("g729", "audio/G729", false),
    fmt_spec("g726-32", "application/octet-stream", false),
    fmt_spec("g726-16", "application/octet-stream", false),
    fmt_spec("g726-24", "application/octet-stream", false),
    fmt_spec("g726-40", "application/octet-stream", false),
    fmt_spec("g723", "audio/G723", false),
    fmt_spec("sln", "application/octet-stream", false),
    fmt_spec("slin", "application/octet-stream", false),
    fmt_spec("raw", "application/octet-stream", false),
    fmt_spec("sln16", "application/octet-stream", false),
    fmt_spec("siren7", "application/octet-stream", false),
    fmt_spec("siren14", "application/octet-stream", false),
    fmt_spec("vox", "application/octet-stream", false),
    fmt_spec("ilbc", "application/octet-stream", false),
];

const fn fmt_spec(ext: &'static str, content_type: &'static str, playable: bool) -> FormatSpec {
    FormatSpec {
        ext,
        content_type,
        browser_playable: playable,
    }
}

fn format_rank(ext: &str) -> Option<(usize, &'static FormatSpec)> {
    FORMATS.iter().enumerate().find(|(_, f)| f.ext == ext)
}

/// The audio file chosen for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFile {
    /// Canonical path, under the spool root.
    pub path: PathBuf,
    /// The extension as on disk (`wav`, `WAV`, `gsm`, …).
    pub ext: String,
    /// `Content-Type` to serve it with.
    pub content_type: &'static str,
    /// Size in bytes at scan time.
    pub size: u64,
    /// Whether an HTML `<audio>` element can play it (else: download only).
    pub browser_playable: bool,
}

/// One voicemail message of the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voicemail {
    /// Stable, URL-safe id (see the module doc).
    pub id: String,
    pub mailbox: MailboxId,
    /// `INBOX`, `Old`, `Urgent`, …
    pub folder: String,
    /// The `NNNN` of `msgNNNN` at scan time (not stable).
    pub msgnum: u32,
    /// `flag=Urgent` or in the `Urgent` folder.
    pub urgent: bool,
    pub caller_number: Option<String>,
    pub caller_name: Option<String>,
    /// Unix epoch seconds (`origtime`, else the `.txt` mtime).
    pub origtime: i64,
    /// Seconds.
    pub duration: u32,
    pub msg_id: Option<String>,
    /// Canonical path of `msgNNNN.txt`.
    pub txt_path: PathBuf,
    pub audio: AudioFile,
    /// Everything the `.txt` said.
    pub info: MessageInfo,
}

impl Voicemail {
    /// A safe file name for `Content-Disposition` downloads, e.g.
    /// `voicemail-1000-20261126-040118-5550100.wav` (UTC time).
    pub fn download_name(&self) -> String {
        let when = Utc
            .timestamp_opt(self.origtime, 0)
            .single()
            .map(|t| t.format("%Y%m%d-%H%M%S").to_string())
            .unwrap_or_else(|| "unknown".into());
        let number: String = self
            .caller_number
            .as_deref()
            .unwrap_or("unknown")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '+')
            .take(32)
            .collect();
        format!(
            "voicemail-{}-{}-{}.{}",
            self.mailbox.mailbox(),
            when,
            if number.is_empty() {
                "unknown"
            } else {
                &number
            },
            self.audio.ext
        )
    }

    /// The folder directory (canonical).
    pub fn folder_path(&self) -> &Path {
        self.txt_path.parent().unwrap_or(Path::new("/"))
    }
}

// ---------------------------------------------------------------------------------------------
// Scanning
// ---------------------------------------------------------------------------------------------

/// A `msgNNNN.<ext>` file name split into number and extension (`ext` may contain dots).
fn split_msg_name(name: &str) -> Option<(u32, &str)> {
    let rest = name.strip_prefix("msg")?;
    let digits = rest.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let ext = rest[4..].strip_prefix('.')?;
    if ext.is_empty() {
        return None;
    }
    Some((digits.parse().ok()?, ext))
}

fn msg_name(num: u32, ext: &str) -> String {
    format!("msg{num:04}.{ext}")
}

/// What [`scan_detailed`] found.
#[derive(Debug, Default, Clone)]
pub struct ScanOutcome {
    /// Complete messages, in (context, mailbox, folder order, number) order.
    pub items: Vec<Voicemail>,
    /// `.txt` files skipped as still being written (no `duration=` or no audio yet).
    pub pending: Vec<PathBuf>,
    /// mtime and size of each pending file as it was read (for the watcher).
    pending_stamps: Vec<Stamp>,
}

/// Scans the spool under `root` and returns its complete messages, restricted to `mailboxes`
/// when given. A missing root is an empty spool (Asterisk creates it lazily).
pub fn scan(root: &Path, mailboxes: Option<&[MailboxId]>) -> Result<Vec<Voicemail>> {
    scan_detailed(root, mailboxes).map(|o| o.items)
}

/// [`scan`], also reporting the half-written messages it skipped.
pub fn scan_detailed(root: &Path, mailboxes: Option<&[MailboxId]>) -> Result<ScanOutcome> {
    let root = match fs::canonicalize(root) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            log::debug!("voicemail spool {} does not exist yet", root.display());
            return Ok(ScanOutcome::default());
        }
        Err(e) => return Err(VoicemailError::io(format!("opening {}", root.display()), e)),
    };
    if !root.is_dir() {
        return Err(VoicemailError::UnsafePath {
            path: root,
            reason: "the voicemail spool is not a directory".into(),
        });
    }
    let filter: Option<HashSet<&MailboxId>> = mailboxes.map(|m| m.iter().collect());
    let mut out = ScanOutcome::default();
    for (box_id, box_dir) in mailbox_dirs(&root, filter.as_ref())? {
        for folder in FOLDERS {
            let Some(dir) = safe_child_dir(&root, &box_dir, folder) else {
                continue;
            };
            scan_folder(&root, &box_id, folder, &dir, &mut out);
            if out.items.len() >= MAX_ITEMS {
                log::warn!(
                    "voicemail spool {}: more than {MAX_ITEMS} messages, the rest is not listed",
                    root.display()
                );
                out.items.truncate(MAX_ITEMS);
                assign_ids(&mut out.items);
                return Ok(out);
            }
        }
    }
    assign_ids(&mut out.items);
    Ok(out)
}

/// Sorted (context, mailbox) directories of the spool that pass the filter.
fn mailbox_dirs(
    root: &Path,
    filter: Option<&HashSet<&MailboxId>>,
) -> Result<Vec<(MailboxId, PathBuf)>> {
    let mut out = Vec::new();
    let contexts = read_dir_names(root)
        .map_err(|e| VoicemailError::io(format!("reading {}", root.display()), e))?;
    for context in contexts {
        let Some(ctx_dir) = safe_child_dir(root, root, &context) else {
            continue;
        };
        let Ok(mailboxes) = read_dir_names(&ctx_dir).map_err(|e| {
            log::warn!("voicemail: cannot read {}: {e}", ctx_dir.display());
        }) else {
            continue;
        };
        for mailbox in mailboxes {
            let Ok(id) = MailboxId::new(&mailbox, &context) else {
                log::debug!("voicemail: ignoring {context}/{mailbox} (not a mailbox name)");
                continue;
            };
            if filter.is_some_and(|f| !f.contains(&id)) {
                continue;
            }
            if let Some(dir) = safe_child_dir(root, &ctx_dir, &mailbox) {
                out.push((id, dir));
            }
        }
    }
    Ok(out)
}

/// Names in `dir` (UTF-8, not starting with '.'), sorted, at most [`MAX_DIR_ENTRIES`].
fn read_dir_names(dir: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir)? {
        if names.len() >= MAX_DIR_ENTRIES {
            log::warn!(
                "voicemail: {} has more than {MAX_DIR_ENTRIES} entries; the rest is ignored",
                dir.display()
            );
            break;
        }
        let entry = entry?;
        match entry.file_name().into_string() {
            Ok(name) if !name.starts_with('.') => names.push(name),
            Ok(_) => {}
            Err(raw) => log::warn!(
                "voicemail: ignoring non-UTF-8 name {:?} in {}",
                raw,
                dir.display()
            ),
        }
    }
    names.sort();
    Ok(names)
}

/// `parent/name` canonicalized, if it exists, stays under `root` and satisfies `want`.
fn safe_child(root: &Path, parent: &Path, name: &str, want_dir: bool) -> Option<PathBuf> {
    let path = parent.join(name);
    let meta = fs::symlink_metadata(&path).ok()?;
    let canonical = if meta.file_type().is_symlink() {
        match fs::canonicalize(&path) {
            Ok(c) => c,
            Err(e) => {
                log::warn!("voicemail: skipping dangling link {}: {e}", path.display());
                return None;
            }
        }
    } else {
        path.clone()
    };
    if !canonical.starts_with(root) || canonical == root {
        log::warn!(
            "voicemail: skipping {} (leads outside the spool {})",
            path.display(),
            root.display()
        );
        return None;
    }
    let meta = fs::metadata(&canonical).ok()?;
    if (want_dir && meta.is_dir()) || (!want_dir && meta.is_file()) {
        Some(canonical)
    } else {
        None
    }
}

fn safe_child_dir(root: &Path, parent: &Path, name: &str) -> Option<PathBuf> {
    safe_child(root, parent, name, true)
}

/// Reads a `.txt` of at most [`MAX_TXT_BYTES`] (lossy UTF-8: names may be Latin-1).
fn read_txt(path: &Path) -> io::Result<String> {
    read_txt_stamped(path).map(|(text, _)| text)
}

/// [`read_txt`], with the file's stamp taken before reading.
fn read_txt_stamped(path: &Path) -> io::Result<(String, Stamp)> {
    let mut file = fs::File::open(path)?;
    let meta = file.metadata()?;
    let stamp = (path.to_path_buf(), meta.modified().ok(), meta.len());
    let mut bytes = Vec::new();
    file.by_ref()
        .take(MAX_TXT_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_TXT_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {MAX_TXT_BYTES} bytes"),
        ));
    }
    Ok((String::from_utf8_lossy(&bytes).into_owned(), stamp))
}

/// Files of one folder grouped by message number: `num → [(ext, name)]`.
fn group_msg_files(names: &[String]) -> BTreeMap<u32, Vec<(String, String)>> {
    let mut groups: BTreeMap<u32, Vec<(String, String)>> = BTreeMap::new();
    for name in names {
        if let Some((num, ext)) = split_msg_name(name) {
            groups
                .entry(num)
                .or_default()
                .push((ext.to_string(), name.clone()));
        }
    }
    groups
}

fn scan_folder(root: &Path, box_id: &MailboxId, folder: &str, dir: &Path, out: &mut ScanOutcome) {
    let names = match read_dir_names(dir) {
        Ok(n) => n,
        Err(e) => {
            log::warn!("voicemail: cannot read {}: {e}", dir.display());
            return;
        }
    };
    for (num, files) in group_msg_files(&names) {
        let Some((_, txt_name)) = files.iter().find(|(ext, _)| ext == "txt") else {
            continue; // audio without envelope: not committed (or an orphan)
        };
        let Some(txt_path) = safe_child(root, dir, txt_name, false) else {
            continue;
        };
        let parsed = read_txt_stamped(&txt_path)
            .map_err(|e| e.to_string())
            .and_then(|(t, stamp)| {
                parse_message_txt(&t)
                    .map(|info| (info, stamp))
                    .map_err(|e| e.to_string())
            });
        let (info, stamp) = match parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                log::warn!("voicemail: skipping {}: {e}", txt_path.display());
                continue;
            }
        };
        let Some(duration) = info.duration else {
            log::debug!("voicemail: {} is still being written", txt_path.display());
            out.pending.push(txt_path);
            out.pending_stamps.push(stamp);
            continue;
        };
        let audio = files
            .iter()
            .filter_map(|(ext, name)| {
                let (rank, spec) = format_rank(ext)?;
                let path = safe_child(root, dir, name, false)?;
                let size = fs::metadata(&path).ok()?.len();
                Some((
                    rank,
                    AudioFile {
                        path,
                        ext: ext.clone(),
                        content_type: spec.content_type,
                        size,
                        browser_playable: spec.browser_playable,
                    },
                ))
            })
            .min_by_key(|(rank, _)| *rank)
            .map(|(_, a)| a);
        let Some(audio) = audio else {
            log::debug!("voicemail: {} has no audio file yet", txt_path.display());
            out.pending.push(txt_path);
            out.pending_stamps.push(stamp);
            continue;
        };
        let origtime = info.origtime.unwrap_or_else(|| {
            fs::metadata(&txt_path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs() as i64)
        });
        out.items.push(Voicemail {
            id: String::new(),
            mailbox: box_id.clone(),
            folder: folder.to_string(),
            msgnum: num,
            urgent: info.is_urgent() || folder == "Urgent",
            caller_number: info.caller_number.clone(),
            caller_name: info.caller_name.clone(),
            origtime,
            duration,
            msg_id: info.msg_id.clone().filter(|m| !m.is_empty()),
            txt_path,
            audio,
            info,
        });
    }
}

/// FNV-1a, 64 bit: a hash fixed by this file (ids must survive daemon upgrades).
fn fnv1a64(data: &str) -> u64 {
    data.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn is_url_safe_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// The id a message gets when it does not collide with another one.
fn base_id(v: &Voicemail) -> String {
    match v.msg_id.as_deref() {
        Some(m) if is_url_safe_id(m) => m.to_string(),
        _ => format!(
            "h{:016x}",
            fnv1a64(&format!(
                "{}/{}/{}/{}",
                v.mailbox.context(),
                v.mailbox.mailbox(),
                v.folder,
                v.origtime
            ))
        ),
    }
}

fn assign_ids(items: &mut [Voicemail]) {
    let mut used: HashSet<String> = HashSet::new();
    for v in items.iter_mut() {
        let mut id = base_id(v);
        if used.contains(&id) {
            let qualified = format!(
                "{id}-{:08x}",
                fnv1a64(&format!(
                    "{}/{}/{}",
                    v.mailbox.context(),
                    v.mailbox.mailbox(),
                    v.folder
                )) as u32
            );
            id = qualified.clone();
            let mut n = 2;
            while used.contains(&id) {
                id = format!("{qualified}-{n}");
                n += 1;
            }
            log::debug!("voicemail: duplicate id, {} is {id}", v.txt_path.display());
        }
        used.insert(id.clone());
        v.id = id;
    }
}

// ---------------------------------------------------------------------------------------------
// Index
// ---------------------------------------------------------------------------------------------

/// A scanned spool: the messages and a lookup by id. Cheap to share behind an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct VoicemailIndex {
    root: PathBuf,
    items: Vec<Voicemail>,
    by_id: HashMap<String, usize>,
    pending: Vec<PathBuf>,
    generation: u64,
}

impl VoicemailIndex {
    /// Scans `root` (see [`scan`]).
    pub fn scan(root: &Path, mailboxes: Option<&[MailboxId]>) -> Result<Self> {
        let outcome = scan_detailed(root, mailboxes)?;
        let root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        Ok(Self::from_outcome(root, outcome, 0))
    }

    fn from_outcome(root: PathBuf, outcome: ScanOutcome, generation: u64) -> Self {
        let by_id = outcome
            .items
            .iter()
            .enumerate()
            .map(|(i, v)| (v.id.clone(), i))
            .collect();
        VoicemailIndex {
            root,
            items: outcome.items,
            by_id,
            pending: outcome.pending,
            generation,
        }
    }

    /// The canonical spool root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// All messages.
    pub fn items(&self) -> &[Voicemail] {
        &self.items
    }

    /// The message with this id.
    pub fn get(&self, id: &str) -> Option<&Voicemail> {
        self.by_id.get(id).map(|&i| &self.items[i])
    }

    /// How many messages.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// No messages.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Increases with every scan the watcher publishes (0 for a standalone scan).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// `.txt` files skipped because they were still being written.
    pub fn pending(&self) -> &[PathBuf] {
        &self.pending
    }
}

// ---------------------------------------------------------------------------------------------
// The 客户留言 table
// ---------------------------------------------------------------------------------------------

/// A sortable column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortColumn {
    /// 客户号码
    Number,
    /// 客户名
    Name,
    /// 队列名
    Queue,
    /// 日期
    Date,
    /// 时长
    Duration,
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortDir {
    Asc,
    Desc,
}

/// A table request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VoicemailQuery {
    /// 搜索: substring(s) matched against the displayed columns; empty = everything.
    pub search: String,
    pub sort: (SortColumn, SortDir),
    /// 1-based.
    pub page: u32,
    /// One of [`PER_PAGE_CHOICES`].
    pub per_page: u32,
}

impl Default for VoicemailQuery {
    fn default() -> Self {
        VoicemailQuery {
            search: String::new(),
            sort: (SortColumn::Date, SortDir::Desc),
            page: 1,
            per_page: 10,
        }
    }
}

/// One row of the table, as displayed, plus what the 操作 buttons need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub id: String,
    /// 客户号码 (empty when unknown).
    pub number: String,
    /// 客户名 (empty when unknown).
    pub name: String,
    /// 队列名.
    pub queue: String,
    /// 日期, local `YYYY-MM-DD HH:MM:SS`.
    pub date: String,
    /// 时长, `M:SS`.
    pub duration: String,
    /// `mailbox@context`.
    pub mailbox: String,
    pub folder: String,
    pub urgent: bool,
    pub origtime: i64,
    pub duration_secs: u32,
    pub content_type: &'static str,
    pub size: u64,
    pub browser_playable: bool,
}

/// A page of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page {
    /// Rows matching the search.
    pub total: usize,
    /// Rows before the search.
    pub unfiltered: usize,
    /// The page actually returned (clamped to the last one).
    pub page: u32,
    pub per_page: u32,
    pub rows: Vec<Row>,
}

/// `M:SS` (minutes are not wrapped into hours: 3725 s → `62:05`).
pub fn format_duration(secs: u32) -> String {
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// `YYYY-MM-DD HH:MM:SS` of `origtime` in `tz` (empty if out of range).
pub fn format_date<Tz: TimeZone>(origtime: i64, tz: &Tz) -> String
where
    Tz::Offset: fmt::Display,
{
    tz.timestamp_opt(origtime, 0)
        .earliest()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The table page for `query`, dates in the appliance's local time zone.
pub fn list(items: &[Voicemail], query: &VoicemailQuery, queues: &QueueNames) -> Result<Page> {
    list_in(items, query, queues, &chrono::Local)
}

/// [`list`] with dates shown in `tz` (tests, or a configured zone).
pub fn list_in<Tz: TimeZone>(
    items: &[Voicemail],
    query: &VoicemailQuery,
    queues: &QueueNames,
    tz: &Tz,
) -> Result<Page>
where
    Tz::Offset: fmt::Display,
{
    if !PER_PAGE_CHOICES.contains(&query.per_page) {
        return Err(VoicemailError::InvalidQuery(format!(
            "per_page must be one of 10, 25, 50, 100 (got {})",
            query.per_page
        )));
    }
    if query.page == 0 {
        return Err(VoicemailError::InvalidQuery(
            "page numbers start at 1".into(),
        ));
    }
    if query.search.chars().count() > MAX_SEARCH_LEN {
        return Err(VoicemailError::InvalidQuery(format!(
            "search text longer than {MAX_SEARCH_LEN} characters"
        )));
    }
    let words: Vec<String> = query
        .search
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();

    let mut rows: Vec<Row> = items
        .iter()
        .map(|v| to_row(v, queues, tz))
        .filter(|row| {
            words.iter().all(|w| {
                [&row.number, &row.name, &row.queue, &row.date, &row.duration]
                    .iter()
                    .any(|col| col.to_lowercase().contains(w.as_str()))
            })
        })
        .collect();

    let (column, dir) = query.sort;
    rows.sort_by(|a, b| {
        let primary = match column {
            SortColumn::Number => a.number.cmp(&b.number),
            SortColumn::Name => a.name.cmp(&b.name),
            SortColumn::Queue => a.queue.cmp(&b.queue),
            SortColumn::Date => a.origtime.cmp(&b.origtime),
            SortColumn::Duration => a.duration_secs.cmp(&b.duration_secs),
        };
        let primary = match dir {
            SortDir::Asc => primary,
            SortDir::Desc => primary.reverse(),
        };
        primary
            .then_with(|| b.origtime.cmp(&a.origtime))
            .then_with(|| a.id.cmp(&b.id))
    });

    let total = rows.len();
    let per_page = query.per_page as usize;
    let last_page = total.div_ceil(per_page).max(1) as u32;
    let page = query.page.min(last_page);
    let start = (page as usize - 1) * per_page;
    let rows = rows.into_iter().skip(start).take(per_page).collect();
    Ok(Page {
        total,
        unfiltered: items.len(),
        page,
        per_page: query.per_page,
        rows,
    })
}

fn to_row<Tz: TimeZone>(v: &Voicemail, queues: &QueueNames, tz: &Tz) -> Row
where
    Tz::Offset: fmt::Display,
{
    Row {
        id: v.id.clone(),
        number: v.caller_number.clone().unwrap_or_default(),
        name: v.caller_name.clone().unwrap_or_default(),
        queue: queues
            .get(&v.mailbox)
            .cloned()
            .unwrap_or_else(|| v.mailbox.mailbox().to_string()),
        date: format_date(v.origtime, tz),
        duration: format_duration(v.duration),
        mailbox: v.mailbox.to_string(),
        folder: v.folder.clone(),
        urgent: v.urgent,
        origtime: v.origtime,
        duration_secs: v.duration,
        content_type: v.audio.content_type,
        size: v.audio.size,
        browser_playable: v.audio.browser_playable,
    }
}

// ---------------------------------------------------------------------------------------------
// Locking (ast_lock_path, lockmode=lockfile)
// ---------------------------------------------------------------------------------------------

/// Asterisk's lock on a voicemail folder, held until dropped.
#[derive(Debug)]
pub struct FolderLock {
    lock_path: PathBuf,
    identity: (u64, u64, i64, i64),
}

/// What tells our lock file from another one: device, inode and ctime.
fn lock_identity(meta: &fs::Metadata) -> (u64, u64, i64, i64) {
    (meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
}

impl FolderLock {
    /// Takes `<folder>/.lock` as `ast_lock_path_lockfile()` does, waiting up to `timeout`.
    /// Never removes somebody else's lock.
    pub fn acquire(folder: &Path, timeout: Duration) -> Result<FolderLock> {
        let lock_path = folder.join(".lock");
        let temp_path = create_lock_temp(folder)?;
        let started = Instant::now();
        let result = loop {
            match fs::hard_link(&temp_path, &lock_path) {
                Ok(()) => break Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if started.elapsed() >= timeout {
                        break Err(VoicemailError::LockTimeout {
                            folder: folder.to_path_buf(),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => {
                    break Err(VoicemailError::io(
                        format!("locking {}", folder.display()),
                        e,
                    ))
                }
            }
        };
        if let Err(e) = fs::remove_file(&temp_path) {
            log::warn!("voicemail: cannot remove {}: {e}", temp_path.display());
        }
        result?;
        // Stamped after the temporary name is gone (unlinking changes the inode's ctime), so
        // a lock file recreated later on a recycled inode number is still told apart.
        let identity = fs::symlink_metadata(&lock_path)
            .map(|m| lock_identity(&m))
            .map_err(|e| VoicemailError::io(format!("locking {}", folder.display()), e))?;
        log::debug!("voicemail: locked {}", folder.display());
        Ok(FolderLock {
            lock_path,
            identity,
        })
    }
}

/// Creates `<folder>/.lock-XXXXXXXX` exclusively (retrying on a name clash).
fn create_lock_temp(folder: &Path) -> Result<PathBuf> {
    let mut last_err = None;
    for _ in 0..8 {
        let path = folder.join(format!(".lock-{:08x}", rand::random::<u32>()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => {
                return Err(VoicemailError::io(
                    format!("creating a lock file in {}", folder.display()),
                    e,
                ))
            }
        }
    }
    Err(VoicemailError::io(
        format!("creating a lock file in {}", folder.display()),
        last_err.unwrap_or_else(|| io::Error::other("name clash")),
    ))
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        match fs::symlink_metadata(&self.lock_path) {
            Ok(m) if lock_identity(&m) == self.identity => {
                if let Err(e) = fs::remove_file(&self.lock_path) {
                    log::error!("voicemail: cannot unlock {}: {e}", self.lock_path.display());
                }
            }
            Ok(_) => log::warn!(
                "voicemail: {} is no longer our lock; left alone",
                self.lock_path.display()
            ),
            Err(e) => log::warn!(
                "voicemail: our lock {} vanished: {e}",
                self.lock_path.display()
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Delete + resequence
// ---------------------------------------------------------------------------------------------

/// One rename of a plan (file names within one folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rename {
    pub from: String,
    pub to: String,
}

/// What deleting one message does to a folder (file names within it).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DeletePlan {
    /// `msgNNNN.txt` first, then the other `msgNNNN.*` of the message.
    pub remove: Vec<String>,
    /// Renumbering of the later messages, in execution order.
    pub renames: Vec<Rename>,
}

/// The renames that make the `msgNNNN.*` groups among `names` contiguous from `msg0000`, as
/// `resequence_mailbox()` does: ascending, each group moved to the lowest free number, its
/// non-`.txt` files first and `.txt` last. Names that are not `msgNNNN.<ext>` are untouched.
pub fn resequence_plan<S: AsRef<str>>(names: &[S]) -> Vec<Rename> {
    let names: Vec<String> = names.iter().map(|n| n.as_ref().to_string()).collect();
    let mut renames = Vec::new();
    for (dest, (num, mut files)) in group_msg_files(&names).into_iter().enumerate() {
        let dest = dest as u32;
        if num == dest {
            continue;
        }
        files.sort_by(|(a_ext, a), (b_ext, b)| (a_ext == "txt", a).cmp(&(b_ext == "txt", b)));
        for (ext, name) in files {
            renames.push(Rename {
                from: name,
                to: msg_name(dest, &ext),
            });
        }
    }
    renames
}

/// The plan for deleting message `msgnum` from a folder holding `names`.
pub fn delete_plan<S: AsRef<str>>(names: &[S], msgnum: u32) -> DeletePlan {
    let mut remove: Vec<String> = Vec::new();
    let mut rest: Vec<String> = Vec::new();
    for name in names.iter().map(AsRef::as_ref) {
        match split_msg_name(name) {
            Some((num, _)) if num == msgnum => remove.push(name.to_string()),
            _ => rest.push(name.to_string()),
        }
    }
    remove.sort_by(|a, b| (!a.ends_with(".txt"), a).cmp(&(!b.ends_with(".txt"), b)));
    DeletePlan {
        remove,
        renames: resequence_plan(&rest),
    }
}

/// Options of [`delete`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteOptions {
    /// How long to wait for Asterisk's folder lock.
    pub lock_timeout: Duration,
}

impl Default for DeleteOptions {
    fn default() -> Self {
        DeleteOptions {
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
        }
    }
}

/// What [`delete`] did (paths are canonical, under the spool root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteReport {
    pub id: String,
    pub mailbox: MailboxId,
    pub folder: String,
    pub removed: Vec<PathBuf>,
    pub renamed: Vec<(PathBuf, PathBuf)>,
}

/// Deletes the message `id` of `index` and renumbers its folder (see the module doc).
///
/// Blocking (it may wait for the lock): call it from `spawn_blocking`. Errors: `NotFound` for
/// an id not in the index or gone from the folder, `LockTimeout` when Asterisk held the lock
/// (nothing changed), `UnsafePath` when the folder is no longer where the index put it.
pub fn delete(index: &VoicemailIndex, id: &str, options: &DeleteOptions) -> Result<DeleteReport> {
    let item = index
        .get(id)
        .ok_or_else(|| VoicemailError::NotFound(id.to_string()))?;
    let folder = item.folder_path().to_path_buf();
    verify_folder(index.root(), item, &folder)?;

    let _lock = FolderLock::acquire(&folder, options.lock_timeout)?;

    let names = read_dir_names(&folder)
        .map_err(|e| VoicemailError::io(format!("reading {}", folder.display()), e))?;
    let msgnum =
        locate(&folder, &names, item).ok_or_else(|| VoicemailError::NotFound(id.into()))?;
    let plan = delete_plan(&names, msgnum);

    let mut report = DeleteReport {
        id: item.id.clone(),
        mailbox: item.mailbox.clone(),
        folder: item.folder.clone(),
        removed: Vec::new(),
        renamed: Vec::new(),
    };
    for name in &plan.remove {
        let path = folder.join(name);
        fs::remove_file(&path)
            .map_err(|e| VoicemailError::io(format!("deleting {}", path.display()), e))?;
        report.removed.push(path);
    }
    for rename in &plan.renames {
        let from = folder.join(&rename.from);
        let to = folder.join(&rename.to);
        if fs::symlink_metadata(&to).is_ok() {
            return Err(VoicemailError::io(
                format!("renumbering {}", from.display()),
                io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists", to.display()),
                ),
            ));
        }
        fs::rename(&from, &to)
            .map_err(|e| VoicemailError::io(format!("renumbering {}", from.display()), e))?;
        report.renamed.push((from, to));
    }
    if let Err(e) = fs::File::open(&folder).and_then(|d| d.sync_all()) {
        log::warn!("voicemail: fsync {}: {e}", folder.display());
    }
    log::info!(
        "voicemail: deleted {} from {} {} ({} files renumbered)",
        item.id,
        item.mailbox,
        item.folder,
        report.renamed.len()
    );
    Ok(report)
}

/// The folder must still be the canonical directory the scan found, under the root.
fn verify_folder(root: &Path, item: &Voicemail, folder: &Path) -> Result<()> {
    let unsafe_path = |reason: &str| VoicemailError::UnsafePath {
        path: folder.to_path_buf(),
        reason: reason.into(),
    };
    if !FOLDERS.contains(&item.folder.as_str())
        || folder.file_name().and_then(|n| n.to_str()) != Some(item.folder.as_str())
    {
        return Err(unsafe_path("not a voicemail folder"));
    }
    match fs::canonicalize(folder) {
        Ok(c) if c == folder && c.starts_with(root) && c != root => Ok(()),
        Ok(_) => Err(unsafe_path(
            "the folder moved outside the spool since the scan",
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(VoicemailError::NotFound(item.id.clone()))
        }
        Err(e) => Err(VoicemailError::io(
            format!("checking {}", folder.display()),
            e,
        )),
    }
}

/// The current number of `item` in its folder (it may have been renumbered since the scan).
fn locate(folder: &Path, names: &[String], item: &Voicemail) -> Option<u32> {
    let groups = group_msg_files(names);
    let candidates = std::iter::once(item.msgnum)
        .filter(|n| groups.contains_key(n))
        .chain(groups.keys().copied().filter(|&n| n != item.msgnum));
    for num in candidates {
        if !groups[&num].iter().any(|(ext, _)| ext == "txt") {
            continue;
        }
        let Ok(text) = read_txt(&folder.join(msg_name(num, "txt"))) else {
            continue;
        };
        let Ok(info) = parse_message_txt(&text) else {
            continue;
        };
        if same_message(&info, item) {
            return Some(num);
        }
    }
    None
}

fn same_message(info: &MessageInfo, item: &Voicemail) -> bool {
    let msg_id = info.msg_id.as_deref().filter(|m| !m.is_empty());
    match item.msg_id.as_deref() {
        Some(id) => msg_id == Some(id),
        None => {
            msg_id.is_none()
                && info.origtime == item.info.origtime
                && info.callerid == item.info.callerid
                && info.duration == item.info.duration
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Watcher
// ---------------------------------------------------------------------------------------------

/// Settings of [`VoicemailWatcher`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatcherConfig {
    /// The spool root, e.g. `/var/spool/asterisk/voicemail`.
    pub root: PathBuf,
    /// Only these mailboxes (the queues'), or all.
    pub mailboxes: Option<Vec<MailboxId>>,
    /// How often directory mtimes are compared.
    pub poll_interval: Duration,
    /// A full rescan at least this often, whatever the mtimes say.
    pub full_rescan_interval: Duration,
}

impl WatcherConfig {
    /// Defaults: poll every 2 s, full rescan every 5 min.
    pub fn new(root: impl Into<PathBuf>, mailboxes: Option<Vec<MailboxId>>) -> Self {
        WatcherConfig {
            root: root.into(),
            mailboxes,
            poll_interval: Duration::from_secs(2),
            full_rescan_interval: Duration::from_secs(300),
        }
    }
}

/// A path's mtime and size (`None`, 0 when it cannot be read).
type Stamp = (PathBuf, Option<SystemTime>, u64);

/// Stamps of every directory that changes when a message appears or goes, then of the
/// pending (half-written) `.txt` files.
type Fingerprint = Vec<Stamp>;

fn stamp(path: &Path) -> Stamp {
    match fs::metadata(path) {
        Ok(m) => (path.to_path_buf(), m.modified().ok(), m.len()),
        Err(_) => (path.to_path_buf(), None, 0),
    }
}

/// Cheap: stats of the root, context, mailbox and folder directories.
fn dir_fingerprint(config: &WatcherConfig) -> Fingerprint {
    let mut fp = vec![stamp(&config.root)];
    let Ok(root) = fs::canonicalize(&config.root) else {
        return fp;
    };
    let filter: Option<HashSet<&MailboxId>> = config.mailboxes.as_ref().map(|m| m.iter().collect());
    let Ok(boxes) = mailbox_dirs(&root, filter.as_ref()) else {
        return fp;
    };
    let mut last_ctx: Option<PathBuf> = None;
    for (_, box_dir) in boxes {
        if let Some(ctx_dir) = box_dir.parent() {
            if last_ctx.as_deref() != Some(ctx_dir) {
                fp.push(stamp(ctx_dir));
                last_ctx = Some(ctx_dir.to_path_buf());
            }
        }
        fp.push(stamp(&box_dir));
        for folder in FOLDERS {
            if let Some(dir) = safe_child_dir(&root, &box_dir, folder) {
                fp.push(stamp(&dir));
            }
        }
    }
    fp
}

struct WatchState {
    fingerprint: Fingerprint,
    last_full: Instant,
    generation: u64,
}

struct WatchShared {
    config: WatcherConfig,
    tx: tokio::sync::watch::Sender<Arc<VoicemailIndex>>,
    notify: tokio::sync::Notify,
    /// Serializes scans so an older result is never published after a newer one.
    state: tokio::sync::Mutex<WatchState>,
}

impl WatchShared {
    /// Scans (on the blocking pool) and publishes. Errors keep the previous index.
    async fn rescan(&self, state: &mut WatchState) -> Arc<VoicemailIndex> {
        let config = self.config.clone();
        let result = tokio::task::spawn_blocking(move || {
            // Directories are stamped before the scan and pending files as they were read,
            // so a change during the scan is seen by the next poll.
            let mut fp = dir_fingerprint(&config);
            let outcome = scan_detailed(&config.root, config.mailboxes.as_deref());
            if let Ok(o) = &outcome {
                fp.extend(o.pending_stamps.iter().cloned());
            }
            let root = fs::canonicalize(&config.root).unwrap_or_else(|_| config.root.clone());
            (outcome, root, fp)
        })
        .await;
        state.last_full = Instant::now();
        match result {
            Ok((Ok(outcome), root, fp)) => {
                state.generation += 1;
                state.fingerprint = fp;
                let index = Arc::new(VoicemailIndex::from_outcome(
                    root,
                    outcome,
                    state.generation,
                ));
                self.tx.send_replace(index.clone());
                index
            }
            Ok((Err(e), _, fp)) => {
                log::warn!("voicemail: scanning {}: {e}", self.config.root.display());
                state.fingerprint = fp;
                self.tx.borrow().clone()
            }
            Err(e) => {
                log::error!("voicemail: scan task failed: {e}");
                self.tx.borrow().clone()
            }
        }
    }

    /// Rescans when the fingerprint changed or the full-rescan interval has passed.
    async fn poll(&self) {
        let mut state = self.state.lock().await;
        if state.last_full.elapsed() >= self.config.full_rescan_interval {
            self.rescan(&mut state).await;
            return;
        }
        let config = self.config.clone();
        let pending = self.tx.borrow().pending.clone();
        let Ok(fp) = tokio::task::spawn_blocking(move || {
            let mut fp = dir_fingerprint(&config);
            fp.extend(pending.iter().map(|p| stamp(p)));
            fp
        })
        .await
        else {
            return;
        };
        if fp != state.fingerprint {
            log::debug!("voicemail: spool changed, rescanning");
            self.rescan(&mut state).await;
        }
    }
}

/// Keeps a [`VoicemailIndex`] of the spool current (see the module doc) and publishes it.
///
/// Dropping the watcher stops its task.
pub struct VoicemailWatcher {
    shared: Arc<WatchShared>,
    task: tokio::task::JoinHandle<()>,
}

impl VoicemailWatcher {
    /// Scans once, then polls in a task. Must be called inside a tokio runtime.
    pub async fn start(config: WatcherConfig) -> VoicemailWatcher {
        let (tx, _) = tokio::sync::watch::channel(Arc::new(VoicemailIndex::default()));
        let shared = Arc::new(WatchShared {
            config,
            tx,
            notify: tokio::sync::Notify::new(),
            state: tokio::sync::Mutex::new(WatchState {
                fingerprint: Vec::new(),
                last_full: Instant::now(),
                generation: 0,
            }),
        });
        {
            let mut state = shared.state.lock().await;
            shared.rescan(&mut state).await;
        }
        let task_shared = shared.clone();
        let task = tokio::spawn(async move {
            let shared = task_shared;
            let mut ticker = tokio::time::interval(shared.config.poll_interval);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticker.tick().await; // the first tick is immediate; we just scanned
            loop {
                tokio::select! {
                    _ = ticker.tick() => shared.poll().await,
                    _ = shared.notify.notified() => {
                        let mut state = shared.state.lock().await;
                        shared.rescan(&mut state).await;
                    }
                }
            }
        });
        VoicemailWatcher { shared, task }
    }

    /// The latest index.
    pub fn current(&self) -> Arc<VoicemailIndex> {
        self.shared.tx.borrow().clone()
    }

    /// A receiver that sees every published index.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<Arc<VoicemailIndex>> {
        self.shared.tx.subscribe()
    }

    /// Asks for a rescan soon (coalesced; does not wait).
    pub fn trigger(&self) {
        self.shared.notify.notify_one();
    }

    /// Rescans now and returns the new index (e.g. right after a delete).
    pub async fn refresh(&self) -> Arc<VoicemailIndex> {
        let mut state = self.shared.state.lock().await;
        self.shared.rescan(&mut state).await
    }
}

impl Drop for VoicemailWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use std::os::unix::fs::{symlink, PermissionsExt};

    const SPOOL_22: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/ami-traces/asterisk-22.10.1-queue-scenario/spool/voicemail"
    );
    const SPOOL_WAZO: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/ami-traces/wazo-calld/integration_tests/assets/asterisk-voicemail"
    );

    // ---- helpers ------------------------------------------------------------------------

    /// Copies a fixture tree into `dst`, making it writable (the fixtures are read-only).
    fn copy_tree(src: &Path, dst: &Path) {
        fs::create_dir_all(dst).unwrap();
        fs::set_permissions(dst, fs::Permissions::from_mode(0o755)).unwrap();
        for entry in fs::read_dir(src).unwrap() {
            let entry = entry.unwrap();
            let to = dst.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_tree(&entry.path(), &to);
            } else {
                fs::copy(entry.path(), &to).unwrap();
                fs::set_permissions(&to, fs::Permissions::from_mode(0o644)).unwrap();
            }
        }
    }

    /// Every file under `root` (relative path → content), directories as `path/`.
    fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
            for entry in fs::read_dir(dir).unwrap() {
                let entry = entry.unwrap();
                let path = entry.path();
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let ft = entry.file_type().unwrap();
                if ft.is_symlink() {
                    out.insert(rel, b"->".to_vec());
                } else if ft.is_dir() {
                    out.insert(format!("{rel}/"), Vec::new());
                    walk(root, &path, out);
                } else {
                    out.insert(rel, fs::read(&path).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(root, root, &mut out);
        out
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    fn txt(origtime: i64, msg_id: &str, callerid: &str, duration: Option<u32>) -> String {
        let mut s = format!(
            ";\n; Message Information file\n;\n[message]\norigmailbox=1000\ncontext=vm-leave\n\
             exten=1000\nrdnis=unknown\npriority=1\ncallerchan=Local/1000@vm-leave-00000010;2\n\
             callerid={callerid}\norigdate=whatever\norigtime={origtime}\ncategory=\n\
             msg_id={msg_id}\n"
        );
        if let Some(d) = duration {
            s.push_str(&format!("flag=\nduration={d}\n"));
        }
        s
    }

    /// Writes msgNNNN.txt (+ the given audio extensions) into `dir`.
    fn write_msg(dir: &Path, num: u32, text: &str, audio: &[&str]) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(msg_name(num, "txt")), text).unwrap();
        for ext in audio {
            fs::write(dir.join(msg_name(num, ext)), format!("audio {num} {ext}")).unwrap();
        }
    }

    fn china() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    // ---- msgNNNN.txt ----------------------------------------------------------------------

    struct Expected {
        path: &'static str,
        origmailbox: &'static str,
        context: &'static str,
        macrocontext: Option<&'static str>,
        exten: &'static str,
        rdnis: &'static str,
        priority: i64,
        callerchan: &'static str,
        number: &'static str,
        name: &'static str,
        origdate: &'static str,
        origtime: i64,
        msg_id: &'static str,
        flag: &'static str,
        duration: u32,
    }

    fn expected_fixtures() -> Vec<Expected> {
        let wazo =
            |path, mailbox, context, chan, name, number, date, time, id, duration| Expected {
                path,
                origmailbox: mailbox,
                context,
                macrocontext: Some(""),
                exten: "voicemail",
                rdnis: mailbox,
                priority: 7,
                callerchan: chan,
                number,
                name,
                origdate: date,
                origtime: time,
                msg_id: id,
                flag: "",
                duration,
            };
        vec![
            Expected {
                path: "22/default/1000/INBOX/msg0000.txt",
                origmailbox: "1000",
                context: "vm-leave",
                macrocontext: None,
                exten: "1000",
                rdnis: "unknown",
                priority: 1,
                callerchan: "Local/1000@vm-leave-00000010;2",
                number: "5550100",
                name: "Voice Caller",
                origdate: "Thu Nov 26 04:01:18 AM UTC 2026",
                origtime: 1795665678,
                msg_id: "1795665678-00000000",
                flag: "",
                duration: 4,
            },
            Expected {
                path: "22/default/1001/Urgent/msg0000.txt",
                origmailbox: "1001",
                context: "vm-leave",
                macrocontext: None,
                exten: "1001",
                rdnis: "unknown",
                priority: 1,
                callerchan: "Local/1001@vm-leave-00000011;2",
                number: "5550101",
                name: "Urgent Caller",
                origdate: "Thu Nov 26 04:01:27 AM UTC 2026",
                origtime: 1795665687,
                msg_id: "1795665687-00000001",
                flag: "Urgent",
                duration: 4,
            },
            wazo(
                "wazo/default/8000/INBOX/msg0000.txt",
                "8000",
                "default",
                "SIP/jih45z-00000005",
                "Alice",
                "1001",
                "Mon Aug 19 10:49:28 PM UTC 2024",
                1724107750,
                "1724107750-00000001",
                19,
            ),
            wazo(
                "wazo/default/8001/INBOX/msg0000.txt",
                "8001",
                "default",
                "SIP/qQh25b-00000001",
                "Bob",
                "1002",
                "Mon Aug 23 06:11:28 PM UTC 2024",
                1724436688,
                "1724436688-00000001",
                3,
            ),
            wazo(
                "wazo/default/8001/INBOX/msg0001.txt",
                "8001",
                "default",
                "SIP/qQh25b-00000002",
                "Bob",
                "1002",
                "Mon Aug 23 06:12:35 PM UTC 2024",
                1724436755,
                "1724436755-00000002",
                59,
            ),
            wazo(
                "wazo/default/8001/INBOX/msg0002.txt",
                "8001",
                "default",
                "SIP/qQh25b-00000002",
                "Bob",
                "1002",
                "Mon Aug 23 06:16:35 PM UTC 2024",
                1724436995,
                "1724436995-00000003",
                0,
            ),
            wazo(
                "wazo/multitenant-1/8001/INBOX/msg0000.txt",
                "8001",
                "multitenant-1",
                "SIP/jih45z-00000005",
                "Alice",
                "1001",
                "Mon Aug 19 10:49:28 PM UTC 2024",
                1724107750,
                "1724107750-00000011",
                19,
            ),
            wazo(
                "wazo/multitenant-2/8002/INBOX/msg0000.txt",
                "8002",
                "multitenant-2",
                "SIP/jih45z-00000005",
                "Alice",
                "1001",
                "Mon Aug 19 10:49:28 PM UTC 2024",
                1724107750,
                "1724107750-00000021",
                19,
            ),
        ]
    }

    fn fixture_path(p: &str) -> PathBuf {
        let (spool, rest) = p.split_once('/').unwrap();
        let root = if spool == "22" { SPOOL_22 } else { SPOOL_WAZO };
        Path::new(root).join(rest)
    }

    /// Every msgNNNN.txt of both fixture spools.
    fn all_fixture_txts() -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|e| e == "txt") {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(Path::new(SPOOL_22), &mut out);
        walk(Path::new(SPOOL_WAZO), &mut out);
        out.sort();
        out
    }

    #[test]
    fn parses_every_real_message_file() {
        let expected = expected_fixtures();
        let mut covered: Vec<PathBuf> = expected.iter().map(|e| fixture_path(e.path)).collect();
        covered.sort();
        assert_eq!(
            covered,
            all_fixture_txts(),
            "every fixture .txt has expectations"
        );

        for e in &expected {
            let text = fs::read_to_string(fixture_path(e.path)).unwrap();
            let info = parse_message_txt(&text).unwrap();
            let s = |v: &str| Some(v.to_string());
            assert_eq!(info.origmailbox, s(e.origmailbox), "{}", e.path);
            assert_eq!(info.context, s(e.context), "{}", e.path);
            assert_eq!(info.macrocontext.as_deref(), e.macrocontext, "{}", e.path);
            assert_eq!(info.exten, s(e.exten), "{}", e.path);
            assert_eq!(info.rdnis, s(e.rdnis), "{}", e.path);
            assert_eq!(info.priority, Some(e.priority), "{}", e.path);
            assert_eq!(info.callerchan, s(e.callerchan), "{}", e.path);
            assert_eq!(
                info.callerid,
                s(&format!("\"{}\" <{}>", e.name, e.number)),
                "{}",
                e.path
            );
            assert_eq!(info.caller_number, s(e.number), "{}", e.path);
            assert_eq!(info.caller_name, s(e.name), "{}", e.path);
            assert_eq!(info.origdate, s(e.origdate), "{}", e.path);
            assert_eq!(info.origtime, Some(e.origtime), "{}", e.path);
            assert_eq!(info.category, s(""), "{}", e.path);
            assert_eq!(info.msg_id, s(e.msg_id), "{}", e.path);
            assert_eq!(info.flag, s(e.flag), "{}", e.path);
            assert_eq!(info.is_urgent(), e.flag == "Urgent", "{}", e.path);
            assert_eq!(info.duration, Some(e.duration), "{}", e.path);
            assert!(info.extra.is_empty(), "{}", e.path);
            assert!(info.is_complete());
        }
    }

    #[test]
    fn callerid_forms() {
        let cases: &[(&str, Option<&str>, Option<&str>)] = &[
            ("\"Bob\" <1002>", Some("1002"), Some("Bob")),
            (
                "\"Voice Caller\" <5550100>",
                Some("5550100"),
                Some("Voice Caller"),
            ),
            ("Bob <1002>", Some("1002"), Some("Bob")),
            ("<1002>", Some("1002"), None),
            ("\"\" <1002>", Some("1002"), None),
            ("1002", Some("1002"), None),
            ("+86 10 1234-5678", Some("+86 10 1234-5678"), None),
            ("Unknown", None, None),
            ("unknown", None, None),
            ("", None, None),
            ("Bob", None, Some("Bob")),
            ("\"Bob\"", None, Some("Bob")),
            ("\"张三\" <13800137000>", Some("13800137000"), Some("张三")),
            ("\"A <b> \\\"c\\\"\" <42>", Some("42"), Some("A <b> \"c\"")),
            ("\"Bob\" <>", None, Some("Bob")),
            ("anonymous", None, Some("anonymous")),
        ];
        for (raw, number, name) in cases {
            let (n, m) = parse_callerid(raw);
            assert_eq!(n.as_deref(), *number, "{raw:?}");
            assert_eq!(m.as_deref(), *name, "{raw:?}");
        }
    }

    #[test]
    fn parse_tolerates_crlf_bom_comments_unknown_keys() {
        let text = "\u{feff};\r\n; Message Information file\r\n;\r\n# hash comment\r\n\r\n\
                    [message]\r\norigmailbox=1000\r\ncontext = vm-leave \r\n\
                    exten => 1000\r\nx-custom=hello=world\r\ncallerid=5550100\r\n\
                    origtime=1795665678\r\nmsg_id=1795665678-00000000\r\nduration=4\r\n\
                    duration=99\r\n[other]\r\nduration=7\r\nnonsense line\r\n";
        let info = parse_message_txt(text).unwrap();
        assert_eq!(info.origmailbox.as_deref(), Some("1000"));
        assert_eq!(info.context.as_deref(), Some("vm-leave"));
        assert_eq!(info.exten.as_deref(), Some("1000"));
        assert_eq!(info.macrocontext, None);
        assert_eq!(info.caller_number.as_deref(), Some("5550100"));
        assert_eq!(info.caller_name, None);
        assert_eq!(info.origtime, Some(1795665678));
        assert_eq!(
            info.duration,
            Some(4),
            "first duration wins, [other] ignored"
        );
        assert_eq!(info.flag, None);
        assert!(!info.is_urgent());
        assert_eq!(
            info.extra,
            vec![("x-custom".to_string(), "hello=world".to_string())]
        );
        // The ';' inside a value is not a comment.
        let info = parse_message_txt("[message]\ncallerchan=Local/1@x-1;2\n").unwrap();
        assert_eq!(info.callerchan.as_deref(), Some("Local/1@x-1;2"));
        // No trailing newline.
        let info = parse_message_txt("[message]\nduration=12").unwrap();
        assert_eq!(info.duration, Some(12));
    }

    #[test]
    fn parse_half_written_and_empty_values() {
        let info = parse_message_txt(&txt(1, "1-1", "Unknown", None)).unwrap();
        assert_eq!(info.duration, None);
        assert!(!info.is_complete());
        assert_eq!(info.caller_number, None);
        assert_eq!(info.callerid.as_deref(), Some("Unknown"));
        let info = parse_message_txt("[message]\norigtime=\nduration=\n").unwrap();
        assert_eq!(info.origtime, None);
        assert_eq!(info.duration, None);
    }

    #[test]
    fn parse_errors() {
        for bad in [
            "",
            "; only comments\n",
            "origtime=1\nduration=2\n",
            "[message\norigtime=1\n",
            "[message]\nthis is not a pair\n",
            "[message]\n=value\n",
            "[message]\norigtime=yesterday\n",
            "[message]\nduration=-1\n",
            "[message]\npriority=one\n",
        ] {
            let err = parse_message_txt(bad).unwrap_err();
            assert!(matches!(err, VoicemailError::Parse { .. }), "{bad:?}");
            assert_eq!(err.http_status(), 500);
        }
    }

    // ---- scanning -------------------------------------------------------------------------

    #[test]
    fn scans_the_asterisk_22_spool() {
        let items = scan(Path::new(SPOOL_22), None).unwrap();
        assert_eq!(items.len(), 2);
        let a = &items[0];
        assert_eq!(a.id, "1795665678-00000000");
        assert_eq!(a.mailbox.to_string(), "1000@default");
        assert_eq!(a.folder, "INBOX");
        assert_eq!(a.msgnum, 0);
        assert!(!a.urgent);
        assert_eq!(a.caller_number.as_deref(), Some("5550100"));
        assert_eq!(a.caller_name.as_deref(), Some("Voice Caller"));
        assert_eq!(a.origtime, 1795665678);
        assert_eq!(a.duration, 4);
        assert_eq!(a.audio.ext, "wav");
        assert_eq!(a.audio.content_type, "audio/wav");
        assert_eq!(a.audio.size, 64044);
        assert!(a.audio.browser_playable);
        let root = fs::canonicalize(SPOOL_22).unwrap();
        assert_eq!(a.audio.path, root.join("default/1000/INBOX/msg0000.wav"));
        assert_eq!(a.txt_path, root.join("default/1000/INBOX/msg0000.txt"));
        assert_eq!(
            a.download_name(),
            "voicemail-1000-20261126-040118-5550100.wav"
        );

        let b = &items[1];
        assert_eq!(b.id, "1795665687-00000001");
        assert_eq!(b.mailbox.to_string(), "1001@default");
        assert_eq!(b.folder, "Urgent");
        assert!(b.urgent);
        assert_eq!(b.caller_name.as_deref(), Some("Urgent Caller"));
    }

    #[test]
    fn scans_the_wazo_spool_and_filters_mailboxes() {
        let items = scan(Path::new(SPOOL_WAZO), None).unwrap();
        let got: Vec<(String, String, u32, u32, u64)> = items
            .iter()
            .map(|v| {
                (
                    v.id.clone(),
                    v.mailbox.to_string(),
                    v.msgnum,
                    v.duration,
                    v.audio.size,
                )
            })
            .collect();
        let want = [
            ("1724107750-00000001", "8000@default", 0, 19, 14),
            ("1724436688-00000001", "8001@default", 0, 3, 16),
            ("1724436755-00000002", "8001@default", 1, 59, 16),
            ("1724436995-00000003", "8001@default", 2, 0, 16),
            ("1724107750-00000011", "8001@multitenant-1", 0, 19, 16),
            ("1724107750-00000021", "8002@multitenant-2", 0, 19, 16),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(a, b, c, d, e)| (a.to_string(), b.to_string(), *c, *d, *e))
            .collect();
        assert_eq!(got, want);
        for v in &items {
            assert_eq!(v.folder, "INBOX");
            assert!(!v.urgent);
            assert_eq!(v.info.macrocontext.as_deref(), Some(""));
        }

        let filter = [
            "8001@default".parse().unwrap(),
            "8002@multitenant-2".parse().unwrap(),
        ];
        let items = scan(Path::new(SPOOL_WAZO), Some(&filter)).unwrap();
        let ids: Vec<&str> = items.iter().map(|v| v.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "1724436688-00000001",
                "1724436755-00000002",
                "1724436995-00000003",
                "1724107750-00000021"
            ]
        );
        assert!(scan(Path::new(SPOOL_WAZO), Some(&[])).unwrap().is_empty());
    }

    #[test]
    fn missing_root_is_an_empty_spool() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(scan(&tmp.path().join("nope"), None).unwrap().is_empty());
        let file = tmp.path().join("file");
        fs::write(&file, "x").unwrap();
        assert!(matches!(
            scan(&file, None),
            Err(VoicemailError::UnsafePath { .. })
        ));
    }

    #[test]
    fn audio_choice_and_skipped_messages() {
        let tmp = tempfile::tempdir().unwrap();
        let boxdir = tmp.path().join("default/2000");
        let inbox = boxdir.join("INBOX");
        // wav49 + wav + gsm: the PCM .wav wins.
        write_msg(
            &inbox,
            0,
            &txt(100, "100-1", "1", Some(5)),
            &["WAV", "gsm", "wav"],
        );
        // wav49 only: offered, not playable.
        write_msg(&inbox, 1, &txt(101, "101-1", "2", Some(5)), &["WAV"]);
        // gsm + WAV: WAV (wav49) ranks before raw gsm.
        write_msg(&inbox, 2, &txt(102, "102-1", "3", Some(5)), &["gsm", "WAV"]);
        // Half-written: no duration yet.
        write_msg(&inbox, 3, &txt(103, "103-1", "4", None), &["wav"]);
        // Envelope without audio.
        write_msg(&inbox, 4, &txt(104, "104-1", "5", Some(5)), &[]);
        // Audio without envelope.
        fs::write(inbox.join("msg0005.wav"), "x").unwrap();
        // Unknown extension only.
        write_msg(&inbox, 6, &txt(106, "106-1", "7", Some(5)), &["bak"]);
        // Not msgNNNN names.
        fs::write(inbox.join("notes.txt"), "[message]\nduration=1\n").unwrap();
        fs::write(inbox.join("msg12.txt"), "[message]\nduration=1\n").unwrap();
        // Garbage .txt.
        write_msg(&inbox, 7, "garbage\n", &["wav"]);
        // Too big .txt.
        let big = format!(
            "{}\n{}",
            txt(108, "108-1", "9", Some(1)),
            ";".repeat(70_000)
        );
        write_msg(&inbox, 8, &big, &["wav"]);
        // Folders never listed.
        write_msg(
            &boxdir.join("Deleted"),
            0,
            &txt(200, "200-1", "1", Some(5)),
            &["wav"],
        );
        write_msg(
            &boxdir.join("tmp"),
            0,
            &txt(201, "201-1", "1", Some(5)),
            &["wav"],
        );
        // Other folders are.
        write_msg(
            &boxdir.join("Old"),
            0,
            &txt(300, "300-1", "1", Some(5)),
            &["wav"],
        );
        write_msg(
            &boxdir.join("Cust5"),
            0,
            &txt(301, "301-1", "1", Some(5)),
            &["ogg"],
        );
        // Greetings in the mailbox directory are not messages.
        fs::write(boxdir.join("unavail.wav"), "x").unwrap();

        let outcome = scan_detailed(tmp.path(), None).unwrap();
        let got: Vec<(&str, &str, &str, bool)> = outcome
            .items
            .iter()
            .map(|v| {
                (
                    v.id.as_str(),
                    v.folder.as_str(),
                    v.audio.ext.as_str(),
                    v.audio.browser_playable,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("100-1", "INBOX", "wav", true),
                ("101-1", "INBOX", "WAV", false),
                ("102-1", "INBOX", "WAV", false),
                ("300-1", "Old", "wav", true),
                ("301-1", "Cust5", "ogg", true),
            ]
        );
        assert_eq!(outcome.items[4].audio.content_type, "audio/ogg");
        let root = fs::canonicalize(tmp.path()).unwrap();
        let inbox = root.join("default/2000/INBOX");
        assert_eq!(
            outcome.pending,
            vec![
                inbox.join("msg0003.txt"),
                inbox.join("msg0004.txt"),
                inbox.join("msg0006.txt")
            ]
        );
    }

    #[test]
    fn ids_fall_back_to_a_stable_hash_and_stay_unique() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("default/3000/INBOX");
        let b = tmp.path().join("default/3001/INBOX");
        // Pre-msg_id Asterisk: no msg_id line.
        let old = "[message]\ncallerid=\"X\" <1>\norigtime=1700000000\nduration=3\n";
        write_msg(&a, 0, old, &["wav"]);
        // A msg_id that is not URL-safe falls back too.
        write_msg(&a, 1, &txt(1700000001, "../../x", "1", Some(3)), &["wav"]);
        // The same msg_id in two mailboxes (a message left for 3000&3001).
        write_msg(
            &a,
            2,
            &txt(1700000002, "1700000002-00000007", "1", Some(3)),
            &["wav"],
        );
        write_msg(
            &b,
            0,
            &txt(1700000002, "1700000002-00000007", "1", Some(3)),
            &["wav"],
        );

        let items = scan(tmp.path(), None).unwrap();
        let ids: Vec<&str> = items.iter().map(|v| v.id.as_str()).collect();
        let h0 = format!("h{:016x}", fnv1a64("default/3000/INBOX/1700000000"));
        let h1 = format!("h{:016x}", fnv1a64("default/3000/INBOX/1700000001"));
        let dup = format!(
            "1700000002-00000007-{:08x}",
            fnv1a64("default/3001/INBOX") as u32
        );
        assert_eq!(ids, [h0.as_str(), h1.as_str(), "1700000002-00000007", &dup]);
        // Fixed by this file: FNV-1a test vectors.
        assert_eq!(fnv1a64(""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64("a"), 0xaf63dc4c8601ec8c);
        // Stable across scans.
        let again: Vec<String> = scan(tmp.path(), None)
            .unwrap()
            .into_iter()
            .map(|v| v.id)
            .collect();
        assert_eq!(ids, again);
        for id in &ids {
            assert!(is_url_safe_id(id) || id.len() > 64);
        }
    }

    #[test]
    fn mailbox_ids_are_safe_path_components() {
        let m: MailboxId = "1000@default".parse().unwrap();
        assert_eq!((m.mailbox(), m.context()), ("1000", "default"));
        let m: MailboxId = "1000".parse().unwrap();
        assert_eq!(m.to_string(), "1000@default");
        for bad in [
            "",
            "@",
            "1000@",
            "@default",
            "../x@default",
            "1000@..",
            "a/b@c",
            "1000@.",
            "1 0@x",
        ] {
            let err = bad.parse::<MailboxId>().unwrap_err();
            assert_eq!(err.http_status(), 400, "{bad:?}");
        }
    }

    #[test]
    fn symlinks_leading_outside_the_spool_are_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("spool");
        let outside = tmp.path().join("outside");
        // A complete mailbox outside the root.
        write_msg(
            &outside.join("9000/INBOX"),
            0,
            &txt(1, "1-1", "1", Some(1)),
            &["wav"],
        );
        write_msg(
            &outside.join("loose"),
            0,
            &txt(2, "2-1", "1", Some(1)),
            &["wav"],
        );
        fs::create_dir_all(root.join("default")).unwrap();
        // Context, mailbox and folder links leading outside.
        symlink(&outside, root.join("evilctx")).unwrap();
        symlink(outside.join("9000"), root.join("default/9000")).unwrap();
        fs::create_dir_all(root.join("default/9001")).unwrap();
        symlink(outside.join("9000/INBOX"), root.join("default/9001/INBOX")).unwrap();
        // File links leading outside (envelope and audio).
        let inbox = root.join("default/9002/INBOX");
        fs::create_dir_all(&inbox).unwrap();
        symlink(outside.join("loose/msg0000.txt"), inbox.join("msg0000.txt")).unwrap();
        fs::write(inbox.join("msg0000.wav"), "x").unwrap();
        fs::write(inbox.join("msg0001.txt"), txt(3, "3-1", "1", Some(1))).unwrap();
        symlink(outside.join("loose/msg0000.wav"), inbox.join("msg0001.wav")).unwrap();
        // A dangling link.
        symlink(root.join("nowhere"), root.join("default/9003")).unwrap();
        // A link that stays inside is followed (canonical path used).
        write_msg(
            &root.join("default/9004/INBOX"),
            0,
            &txt(4, "4-1", "1", Some(1)),
            &["wav"],
        );
        symlink(root.join("default/9004"), root.join("default/9005")).unwrap();

        let items = scan(&root, None).unwrap();
        let got: Vec<(String, String)> = items
            .iter()
            .map(|v| (v.id.clone(), v.mailbox.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                ("4-1".to_string(), "9004@default".to_string()),
                (
                    "4-1-".to_string() + &format!("{:08x}", fnv1a64("default/9005/INBOX") as u32),
                    "9005@default".to_string()
                ),
            ]
        );
        let canon_root = fs::canonicalize(&root).unwrap();
        for v in &items {
            assert!(v.txt_path.starts_with(&canon_root));
            assert!(v.audio.path.starts_with(canon_root.join("default/9004")));
        }
    }

    // ---- the table ------------------------------------------------------------------------

    fn item(
        id: &str,
        mailbox: &str,
        number: &str,
        name: &str,
        origtime: i64,
        duration: u32,
    ) -> Voicemail {
        let mailbox: MailboxId = mailbox.parse().unwrap();
        Voicemail {
            id: id.into(),
            mailbox,
            folder: "INBOX".into(),
            msgnum: 0,
            urgent: false,
            caller_number: (!number.is_empty()).then(|| number.to_string()),
            caller_name: (!name.is_empty()).then(|| name.to_string()),
            origtime,
            duration,
            msg_id: Some(id.into()),
            txt_path: PathBuf::from("/nonexistent/msg0000.txt"),
            audio: AudioFile {
                path: PathBuf::from("/nonexistent/msg0000.wav"),
                ext: "wav".into(),
                content_type: "audio/wav",
                size: 1,
                browser_playable: true,
            },
            info: MessageInfo::default(),
        }
    }

    // 2024-08-23 10:00:00 +08:00
    const T0: i64 = 1724378400;

    fn table() -> (Vec<Voicemail>, QueueNames) {
        let items = vec![
            item("a", "1000", "13800137000", "张三", T0, 10), // 37 in number
            item("b", "1000", "5550100", "Room 37", T0 + 60, 11), // 37 in name
            item("c", "1037", "5550101", "Li", T0 + 120, 12), // 37 in queue (number)
            item("d", "1000", "5550102", "Wang", T0 + 37 * 60, 13), // 10:37:00 in date
            item("e", "1000", "5550103", "Zhao", T0 + 180, 37), // 0:37
            item("f", "2000", "5550104", "Sun", T0 + 240, 14), // queue "售后37组"
            item("g", "1000", "5550105", "Qian", T0 + 300, 15), // no 37 anywhere
            item("h", "1000", "", "", T0 + 360, 16),          // unknown caller
        ];
        let mut queues = QueueNames::new();
        queues.insert("1000".parse().unwrap(), "销售".into());
        queues.insert("2000".parse().unwrap(), "售后37组".into());
        (items, queues)
    }

    fn ids(page: &Page) -> Vec<&str> {
        page.rows.iter().map(|r| r.id.as_str()).collect()
    }

    fn q(search: &str, col: SortColumn, dir: SortDir, page: u32, per_page: u32) -> VoicemailQuery {
        VoicemailQuery {
            search: search.into(),
            sort: (col, dir),
            page,
            per_page,
        }
    }

    #[test]
    fn rows_are_displayed_as_the_manual_shows() {
        let (items, queues) = table();
        let page = list_in(&items, &VoicemailQuery::default(), &queues, &china()).unwrap();
        let a = page.rows.iter().find(|r| r.id == "a").unwrap();
        assert_eq!(a.number, "13800137000");
        assert_eq!(a.name, "张三");
        assert_eq!(a.queue, "销售");
        assert_eq!(a.date, "2024-08-23 10:00:00");
        assert_eq!(a.duration, "0:10");
        assert_eq!(a.mailbox, "1000@default");
        let c = page.rows.iter().find(|r| r.id == "c").unwrap();
        assert_eq!(c.queue, "1037", "no display name: the mailbox number");
        let h = page.rows.iter().find(|r| r.id == "h").unwrap();
        assert_eq!((h.number.as_str(), h.name.as_str()), ("", ""));
        assert_eq!(format_duration(0), "0:00");
        assert_eq!(format_duration(59), "0:59");
        assert_eq!(format_duration(60), "1:00");
        assert_eq!(format_duration(3725), "62:05");
        assert_eq!(format_date(0, &Utc), "1970-01-01 00:00:00");
        assert_eq!(format_date(1795665678, &china()), "2026-11-26 12:01:18");
    }

    #[test]
    fn search_37_finds_it_in_every_column() {
        let (items, queues) = table();
        let query = q("37", SortColumn::Date, SortDir::Asc, 1, 10);
        let page = list_in(&items, &query, &queues, &china()).unwrap();
        assert_eq!(ids(&page), ["a", "b", "c", "e", "f", "d"]);
        assert_eq!(page.total, 6);
        assert_eq!(page.unfiltered, 8);
    }

    #[test]
    fn search_is_case_insensitive_trimmed_and_word_wise() {
        let (items, queues) = table();
        let search = |s: &str| {
            let p = list_in(
                &items,
                &q(s, SortColumn::Date, SortDir::Asc, 1, 100),
                &queues,
                &china(),
            )
            .unwrap();
            ids(&p).into_iter().map(String::from).collect::<Vec<_>>()
        };
        assert_eq!(search("room"), ["b"]);
        assert_eq!(search("  ROOM  "), ["b"]);
        assert_eq!(search("销售 room"), ["b"]);
        assert_eq!(search("售后"), ["f"]);
        assert_eq!(search("2024-08-23 10:37"), ["d"]);
        assert_eq!(search("0:37"), ["e", "d"], "0:37 is also in 10:37:00");
        assert_eq!(search("nobody"), Vec::<String>::new());
        assert_eq!(search("").len(), 8);
    }

    #[test]
    fn every_column_sorts_both_ways() {
        let (items, queues) = table();
        let sorted = |col, dir| {
            let p = list_in(&items, &q("", col, dir, 1, 100), &queues, &china()).unwrap();
            ids(&p).into_iter().map(String::from).collect::<Vec<_>>()
        };
        use SortColumn::*;
        use SortDir::*;
        // Default: newest first.
        let default = list_in(&items, &VoicemailQuery::default(), &queues, &china()).unwrap();
        assert_eq!(ids(&default), ["d", "h", "g", "f", "e", "c", "b", "a"]);
        assert_eq!(sorted(Date, Desc), ids(&default));
        assert_eq!(sorted(Date, Asc), ["a", "b", "c", "e", "f", "g", "h", "d"]);
        assert_eq!(
            sorted(Duration, Asc),
            ["a", "b", "c", "d", "f", "g", "h", "e"]
        );
        assert_eq!(
            sorted(Duration, Desc),
            ["e", "h", "g", "f", "d", "c", "b", "a"]
        );
        // Strings; the unknown caller ("") first ascending.
        assert_eq!(
            sorted(Number, Asc),
            ["h", "a", "b", "c", "d", "e", "f", "g"]
        );
        assert_eq!(
            sorted(Number, Desc),
            ["g", "f", "e", "d", "c", "b", "a", "h"]
        );
        assert_eq!(sorted(Name, Asc), ["h", "c", "g", "b", "f", "d", "e", "a"]);
        assert_eq!(sorted(Name, Desc), ["a", "e", "d", "f", "b", "g", "c", "h"]);
        // Queue: "1037" < "售后37组" < "销售"; ties newest first.
        assert_eq!(sorted(Queue, Asc), ["c", "f", "d", "h", "g", "e", "b", "a"]);
        assert_eq!(
            sorted(Queue, Desc),
            ["d", "h", "g", "e", "b", "a", "f", "c"]
        );
    }

    #[test]
    fn paging() {
        let mut items = Vec::new();
        for i in 0..57 {
            items.push(item(&format!("m{i:02}"), "1000", "1", "", T0 + i, 1));
        }
        let queues = QueueNames::new();
        let page = |n, per| {
            list_in(
                &items,
                &q("", SortColumn::Date, SortDir::Asc, n, per),
                &queues,
                &china(),
            )
        };
        let p = page(1, 10).unwrap();
        assert_eq!((p.total, p.page, p.per_page, p.rows.len()), (57, 1, 10, 10));
        assert_eq!(p.rows[0].id, "m00");
        let p = page(6, 10).unwrap();
        assert_eq!(ids(&p), ["m50", "m51", "m52", "m53", "m54", "m55", "m56"]);
        let p = page(2, 25).unwrap();
        assert_eq!((p.rows.len(), p.rows[0].id.as_str()), (25, "m25"));
        let p = page(2, 50).unwrap();
        assert_eq!(p.rows.len(), 7);
        let p = page(1, 100).unwrap();
        assert_eq!(p.rows.len(), 57);
        // Past the end: the last page.
        let p = page(99, 25).unwrap();
        assert_eq!((p.page, p.rows.len()), (3, 7));
        // Empty result: page 1, no rows.
        let p = list_in(&[], &VoicemailQuery::default(), &queues, &china()).unwrap();
        assert_eq!((p.total, p.page, p.rows.len()), (0, 1, 0));
        for (n, per) in [(1, 0), (1, 20), (1, 1000), (0, 10)] {
            let err = page(n, per).unwrap_err();
            assert!(matches!(err, VoicemailError::InvalidQuery(_)), "{n} {per}");
            assert_eq!(err.http_status(), 400);
        }
        let long = q(
            &"x".repeat(MAX_SEARCH_LEN + 1),
            SortColumn::Date,
            SortDir::Asc,
            1,
            10,
        );
        assert!(list_in(&items, &long, &queues, &china()).is_err());
    }

    #[test]
    fn lists_the_real_spool_with_queue_names() {
        let index = VoicemailIndex::scan(Path::new(SPOOL_22), None).unwrap();
        let mut queues = QueueNames::new();
        queues.insert("1000@default".parse().unwrap(), "售后服务".into());
        let page = list(index.items(), &VoicemailQuery::default(), &queues).unwrap();
        assert_eq!(ids(&page), ["1795665687-00000001", "1795665678-00000000"]);
        assert_eq!(page.rows[1].queue, "售后服务");
        assert_eq!(page.rows[0].queue, "1001");
        assert!(page.rows[0].urgent);
        assert_eq!(page.rows[0].duration, "0:04");
        let query = VoicemailQuery {
            search: "5550101".into(),
            ..VoicemailQuery::default()
        };
        let page = list(index.items(), &query, &queues).unwrap();
        assert_eq!(ids(&page), ["1795665687-00000001"]);
    }

    // ---- delete plans ---------------------------------------------------------------------

    fn r(from: &str, to: &str) -> Rename {
        Rename {
            from: from.into(),
            to: to.into(),
        }
    }

    #[test]
    fn resequence_plan_closes_gaps_audio_first() {
        let names = [
            "msg0000.txt",
            "msg0000.wav",
            "msg0002.WAV",
            "msg0002.txt",
            "msg0002.wav",
            "msg0003.gsm",
            "msg0003.txt",
            "msg0007.txt",
            "msg0007.wav",
            "notes.txt",
            ".lock",
            "msg12.txt",
            "msgabcd.txt",
        ];
        assert_eq!(
            resequence_plan(&names),
            vec![
                r("msg0002.WAV", "msg0001.WAV"),
                r("msg0002.wav", "msg0001.wav"),
                r("msg0002.txt", "msg0001.txt"),
                r("msg0003.gsm", "msg0002.gsm"),
                r("msg0003.txt", "msg0002.txt"),
                r("msg0007.wav", "msg0003.wav"),
                r("msg0007.txt", "msg0003.txt"),
            ]
        );
        assert!(resequence_plan(&["msg0000.txt", "msg0001.txt", "x"]).is_empty());
        assert!(resequence_plan::<&str>(&[]).is_empty());
        // Every destination is free when its rename runs (ascending order).
        let plan = resequence_plan(&names);
        let mut present: HashSet<String> = names.iter().map(|s| s.to_string()).collect();
        for step in &plan {
            assert!(present.remove(&step.from));
            assert!(present.insert(step.to.clone()), "{} overwrites", step.to);
        }
    }

    #[test]
    fn delete_plan_removes_the_txt_first_then_renumbers() {
        let names = [
            "msg0000.txt",
            "msg0000.wav",
            "msg0001.WAV",
            "msg0001.txt",
            "msg0001.wav",
            "msg0002.txt",
            "msg0002.wav",
            "msg0003.txt",
            "msg0003.wav",
        ];
        let plan = delete_plan(&names, 1);
        assert_eq!(plan.remove, ["msg0001.txt", "msg0001.WAV", "msg0001.wav"]);
        assert_eq!(
            plan.renames,
            vec![
                r("msg0002.wav", "msg0001.wav"),
                r("msg0002.txt", "msg0001.txt"),
                r("msg0003.wav", "msg0002.wav"),
                r("msg0003.txt", "msg0002.txt"),
            ]
        );
        let last = delete_plan(&names, 3);
        assert_eq!(last.remove, ["msg0003.txt", "msg0003.wav"]);
        assert!(last.renames.is_empty());
        let absent = delete_plan(&names, 9);
        assert!(absent.remove.is_empty() && absent.renames.is_empty());
    }

    // ---- delete on disk -------------------------------------------------------------------

    /// Both real spools copied into a temp dir, plus files delete must not touch.
    fn temp_spool() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("voicemail");
        copy_tree(Path::new(SPOOL_WAZO), &root);
        copy_tree(Path::new(SPOOL_22), &root);
        let boxdir = root.join("default/8001");
        fs::write(boxdir.join("unavail.wav"), "greeting").unwrap();
        write_msg(
            &boxdir.join("Old"),
            0,
            &txt(5, "5-1", "1", Some(1)),
            &["wav"],
        );
        write_msg(
            &boxdir.join("Deleted"),
            0,
            &txt(6, "6-1", "1", Some(1)),
            &["wav"],
        );
        fs::create_dir_all(boxdir.join("tmp")).unwrap();
        fs::write(boxdir.join("INBOX/notes.txt"), "not a message").unwrap();
        (tmp, root)
    }

    #[test]
    fn delete_renumbers_the_real_spool_like_asterisk() {
        let (_tmp, root) = temp_spool();
        let inbox = root.join("default/8001/INBOX");
        let before = snapshot(&root);
        let index = VoicemailIndex::scan(&root, None).unwrap();
        assert_eq!(index.len(), 9);

        let report = delete(&index, "1724436755-00000002", &DeleteOptions::default()).unwrap();
        let canon = fs::canonicalize(&inbox).unwrap();
        assert_eq!(report.mailbox.to_string(), "8001@default");
        assert_eq!(report.folder, "INBOX");
        assert_eq!(
            report.removed,
            [canon.join("msg0001.txt"), canon.join("msg0001.wav")]
        );
        assert_eq!(
            report.renamed,
            [
                (canon.join("msg0002.wav"), canon.join("msg0001.wav")),
                (canon.join("msg0002.txt"), canon.join("msg0001.txt")),
            ]
        );
        assert_eq!(
            names_in(&inbox),
            [
                "msg0000.txt",
                "msg0000.wav",
                "msg0001.txt",
                "msg0001.wav",
                "notes.txt"
            ]
        );

        // Exactly the expected change, nothing else touched, no lock left behind.
        let mut expected = before.clone();
        let old1_txt = expected.remove("default/8001/INBOX/msg0002.txt").unwrap();
        let old1_wav = expected.remove("default/8001/INBOX/msg0002.wav").unwrap();
        expected.insert("default/8001/INBOX/msg0001.txt".into(), old1_txt);
        expected.insert("default/8001/INBOX/msg0001.wav".into(), old1_wav);
        assert_eq!(snapshot(&root), expected);

        // The renumbered message keeps its id; the deleted one is gone.
        let index = VoicemailIndex::scan(&root, None).unwrap();
        assert_eq!(index.len(), 8);
        assert!(index.get("1724436755-00000002").is_none());
        let moved = index.get("1724436995-00000003").unwrap();
        assert_eq!(moved.msgnum, 1);
        // Deleting it again through the old index: gone.
        let old_index = VoicemailIndex::scan(&root, None).unwrap();
        delete(&old_index, "1724436688-00000001", &DeleteOptions::default()).unwrap();
        assert_eq!(
            names_in(&inbox),
            ["msg0000.txt", "msg0000.wav", "notes.txt"]
        );
        let text = fs::read_to_string(inbox.join("msg0000.txt")).unwrap();
        assert!(text.contains("msg_id=1724436995-00000003"));
        let err = delete(&old_index, "1724436688-00000001", &DeleteOptions::default()).unwrap_err();
        assert!(matches!(err, VoicemailError::NotFound(_)));
        assert_eq!(err.http_status(), 404);
    }

    #[test]
    fn delete_urgent_and_last_message_of_a_folder() {
        let (_tmp, root) = temp_spool();
        let index = VoicemailIndex::scan(&root, None).unwrap();
        delete(&index, "1795665687-00000001", &DeleteOptions::default()).unwrap();
        assert!(names_in(&root.join("default/1001/Urgent")).is_empty());
        assert!(
            root.join("default/1001/Urgent").is_dir(),
            "the folder stays"
        );
    }

    #[test]
    fn delete_finds_a_message_renumbered_since_the_scan() {
        let (_tmp, root) = temp_spool();
        let inbox = root.join("default/8001/INBOX");
        let index = VoicemailIndex::scan(&root, None).unwrap();
        // Meanwhile Asterisk moved msg0000 to Old and resequenced INBOX.
        for ext in ["txt", "wav"] {
            fs::remove_file(inbox.join(format!("msg0000.{ext}"))).unwrap();
            fs::rename(
                inbox.join(format!("msg0001.{ext}")),
                inbox.join(format!("msg0000.{ext}")),
            )
            .unwrap();
            fs::rename(
                inbox.join(format!("msg0002.{ext}")),
                inbox.join(format!("msg0001.{ext}")),
            )
            .unwrap();
        }
        // The index still says 1724436995-00000003 is msg0002; it is msg0001 now.
        assert_eq!(index.get("1724436995-00000003").unwrap().msgnum, 2);
        let report = delete(&index, "1724436995-00000003", &DeleteOptions::default()).unwrap();
        assert!(report.removed[0].ends_with("msg0001.txt"));
        assert!(report.renamed.is_empty());
        let text = fs::read_to_string(inbox.join("msg0000.txt")).unwrap();
        assert!(text.contains("msg_id=1724436755-00000002"));
        assert!(!inbox.join("msg0001.txt").exists());
        // And the message Asterisk moved away is not found in INBOX any more.
        let err = delete(&index, "1724436688-00000001", &DeleteOptions::default()).unwrap_err();
        assert!(matches!(err, VoicemailError::NotFound(_)));
    }

    #[test]
    fn delete_refuses_unknown_ids_without_touching_anything() {
        let (_tmp, root) = temp_spool();
        let before = snapshot(&root);
        let index = VoicemailIndex::scan(&root, None).unwrap();
        for id in [
            "",
            "nope",
            "../../etc/passwd",
            "default/8001/INBOX/msg0000",
            "msg0000",
            "1724436755-00000002/../x",
        ] {
            let err = delete(&index, id, &DeleteOptions::default()).unwrap_err();
            assert!(matches!(err, VoicemailError::NotFound(_)), "{id:?}");
            assert!(err.to_string().contains("does not exist"));
        }
        assert_eq!(snapshot(&root), before);
    }

    #[test]
    fn delete_refuses_a_folder_swapped_for_a_link_outside() {
        let (tmp, root) = temp_spool();
        let index = VoicemailIndex::scan(&root, None).unwrap();
        let outside = tmp.path().join("elsewhere");
        let inbox = root.join("default/8000/INBOX");
        fs::rename(&inbox, &outside).unwrap();
        symlink(&outside, &inbox).unwrap();
        let before = snapshot(&outside);
        let err = delete(&index, "1724107750-00000001", &DeleteOptions::default()).unwrap_err();
        assert!(matches!(err, VoicemailError::UnsafePath { .. }), "{err}");
        assert_eq!(snapshot(&outside), before);
    }

    #[test]
    fn a_held_lock_makes_delete_wait_then_time_out_unchanged() {
        let (_tmp, root) = temp_spool();
        let inbox = root.join("default/8001/INBOX");
        let index = VoicemailIndex::scan(&root, None).unwrap();
        // Asterisk holds the lock.
        fs::write(inbox.join(".lock"), "").unwrap();
        let before = snapshot(&root);
        let options = DeleteOptions {
            lock_timeout: Duration::from_millis(300),
        };
        let started = Instant::now();
        let err = delete(&index, "1724436755-00000002", &options).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(matches!(err, VoicemailError::LockTimeout { .. }), "{err}");
        assert_eq!(err.http_status(), 503);
        // Nothing changed: not the messages, not the lock, no temporary lock names left.
        assert_eq!(snapshot(&root), before);
        assert!(inbox.join(".lock").exists());
    }

    #[test]
    fn delete_waits_for_a_lock_released_in_time() {
        let (_tmp, root) = temp_spool();
        let inbox = root.join("default/8001/INBOX");
        let index = VoicemailIndex::scan(&root, None).unwrap();
        let lock = FolderLock::acquire(&inbox, Duration::from_secs(1)).unwrap();
        assert!(inbox.join(".lock").exists());
        assert_eq!(
            names_in(&inbox)
                .iter()
                .filter(|n| n.starts_with(".lock"))
                .count(),
            1,
            "the temporary .lock-XXXXXXXX is gone"
        );
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(lock);
        });
        let started = Instant::now();
        delete(&index, "1724436688-00000001", &DeleteOptions::default()).unwrap();
        assert!(started.elapsed() >= Duration::from_millis(150));
        releaser.join().unwrap();
        assert!(!inbox.join(".lock").exists());
        assert_eq!(
            names_in(&inbox),
            [
                "msg0000.txt",
                "msg0000.wav",
                "msg0001.txt",
                "msg0001.wav",
                "notes.txt"
            ]
        );
    }

    #[test]
    fn folder_lock_is_exclusive_and_never_removes_a_foreign_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let lock = FolderLock::acquire(dir, Duration::ZERO).unwrap();
        let err = FolderLock::acquire(dir, Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, VoicemailError::LockTimeout { .. }));
        drop(lock);
        assert!(names_in(dir).is_empty());
        // Somebody replaced our lock: we leave theirs alone.
        let lock = FolderLock::acquire(dir, Duration::ZERO).unwrap();
        fs::remove_file(dir.join(".lock")).unwrap();
        fs::write(dir.join(".lock"), "theirs").unwrap();
        drop(lock);
        assert_eq!(fs::read_to_string(dir.join(".lock")).unwrap(), "theirs");
        // A folder we cannot create the temporary file in is an I/O error, not a timeout.
        let err = FolderLock::acquire(&dir.join("missing"), Duration::ZERO).unwrap_err();
        assert!(matches!(err, VoicemailError::Io { .. }));
    }

    // ---- watcher --------------------------------------------------------------------------

    async fn wait_for<F: Fn(&VoicemailIndex) -> bool>(
        rx: &mut tokio::sync::watch::Receiver<Arc<VoicemailIndex>>,
        f: F,
    ) -> Arc<VoicemailIndex> {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let current = rx.borrow_and_update().clone();
                if f(&current) {
                    return current;
                }
                rx.changed().await.unwrap();
            }
        })
        .await
        .expect("watcher did not publish in time")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn watcher_follows_the_spool() {
        let (_tmp, root) = temp_spool();
        let mut config = WatcherConfig::new(&root, Some(vec!["8001@default".parse().unwrap()]));
        config.poll_interval = Duration::from_millis(50);
        let watcher = VoicemailWatcher::start(config).await;
        let first = watcher.current();
        assert_eq!(first.len(), 4, "3 in INBOX + 1 in Old");
        assert_eq!(first.generation(), 1);
        let mut rx = watcher.subscribe();

        // A new message committed the Asterisk way: audio first, then the .txt.
        let inbox = root.join("default/8001/INBOX");
        fs::write(inbox.join("msg0003.wav"), "audio").unwrap();
        fs::write(inbox.join("msg0003.txt"), txt(7, "7-1", "1", Some(2))).unwrap();
        let idx = wait_for(&mut rx, |i| i.get("7-1").is_some()).await;
        assert_eq!(idx.len(), 5);

        // A half-written message appears, then completes in place.
        fs::write(inbox.join("msg0004.wav"), "audio").unwrap();
        fs::write(inbox.join("msg0004.txt"), txt(8, "8-1", "1", None)).unwrap();
        let idx = wait_for(&mut rx, |i| i.pending().len() == 1).await;
        assert!(idx.get("8-1").is_none());
        std::thread::sleep(Duration::from_millis(20));
        fs::OpenOptions::new()
            .append(true)
            .open(inbox.join("msg0004.txt"))
            .and_then(|mut f| io::Write::write_all(&mut f, b"flag=\nduration=3\n"))
            .unwrap();
        let idx = wait_for(&mut rx, |i| i.get("8-1").is_some()).await;
        assert!(idx.pending().is_empty());

        // Mailboxes outside the filter are not watched.
        let other = root.join("default/8000/INBOX");
        fs::write(other.join("msg0001.wav"), "audio").unwrap();
        fs::write(other.join("msg0001.txt"), txt(9, "9-1", "1", Some(2))).unwrap();

        // Delete, then refresh: the new index is returned at once.
        let report = delete(&watcher.current(), "7-1", &DeleteOptions::default()).unwrap();
        assert_eq!(report.removed.len(), 2);
        let idx = watcher.refresh().await;
        assert!(idx.get("7-1").is_none());
        assert!(idx.get("9-1").is_none());
        assert_eq!(idx.get("8-1").unwrap().msgnum, 3);

        // trigger() publishes a new generation even without a change.
        let generation = watcher.current().generation();
        watcher.trigger();
        wait_for(&mut rx, |i| i.generation() > generation).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn watcher_starts_on_a_missing_spool_and_sees_it_appear() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("voicemail");
        let mut config = WatcherConfig::new(&root, None);
        config.poll_interval = Duration::from_millis(50);
        let watcher = VoicemailWatcher::start(config).await;
        assert!(watcher.current().is_empty());
        let mut rx = watcher.subscribe();
        write_msg(
            &root.join("default/1000/INBOX"),
            0,
            &txt(1, "1-1", "1", Some(1)),
            &["wav"],
        );
        let idx = wait_for(&mut rx, |i| i.len() == 1).await;
        assert_eq!(idx.items()[0].id, "1-1");
    }
}
