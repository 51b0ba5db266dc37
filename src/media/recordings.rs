//! Recording files (录音列表, manual §6): what a file's name and header say about the call,
//! the reconcile of the index with the recording folders (flash, and USB disks that come and
//! go), checked access to a recording's file, who may see what, and ZIP downloads streamed
//! without a temporary file.
//!
//! File names. Asterisk's `app_queue` names a queue recording `<caller uniqueid>.<format>`
//! (`monitor-format`, as in `ami-traces/`). Recordings started by our own dialplan are named
//! `<type>-<YYYYMMDD>-<HHMMSS>-<queue or "dout">-<job number or "x">-<customer number>-<uniqueid>.<format>`
//! (type `in`, `auto` or `out`), possibly in date folders, so a file written while the
//! daemon was down still tells its call type, queue, agent and customer. AMI adds what a
//! name cannot say (the caller's name, the agent who answered).
//!
//! The index never hands out a path a request named: a request names an id, the id names a
//! row, and the row's path must resolve (symlinks followed) inside a configured folder.

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::accounts::masking::Viewer;
use crate::store::recordings::{self as index, CallType, NewRecording, RecordingRow, Scope};

/// Audio formats MixMonitor writes, by file extension.
const AUDIO_EXTENSIONS: &[&str] = &[
    "wav", "WAV", "gsm", "wav49", "ulaw", "alaw", "sln", "g722", "mp3", "ogg",
];

/// How deep date folders may go under a recordings folder (`YYYY/MM/DD`, and one spare).
const MAX_DEPTH: usize = 4;

/// At most this many recordings in one ZIP (manual §6: 一次下载限制 20 条).
pub const MAX_ZIP_ENTRIES: usize = 20;

/// The content type a browser plays a recording with.
pub fn content_type(file: &str) -> &'static str {
    match extension(file) {
        "wav" | "WAV" | "wav49" => "audio/wav",
        "gsm" => "audio/gsm",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        _ => "application/octet-stream",
    }
}

fn extension(file: &str) -> &str {
    file.rsplit_once('.').map(|(_, ext)| ext).unwrap_or("")
}

fn is_audio(file: &str) -> bool {
    !file.starts_with('.') && AUDIO_EXTENSIONS.contains(&extension(file))
}

/// What a recording's file name says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameFacts {
    pub uniqueid: String,
    pub started_at: Option<i64>,
    pub call_type: Option<CallType>,
    pub queue: Option<String>,
    pub agent_job: Option<String>,
    pub customer_number: Option<String>,
}

/// Reads a recording's file name (see the module doc for the two conventions).
pub fn parse_file_name(file: &str) -> NameFacts {
    let stem = match file.rsplit_once('.') {
        Some((stem, ext)) if AUDIO_EXTENSIONS.contains(&ext) => stem,
        _ => file,
    };
    let parts: Vec<&str> = stem.split('-').collect();
    if let [kind, date, time, queue, job, number, uniqueid] = parts[..] {
        let call_type = match kind {
            "in" => Some(CallType::Inbound),
            "auto" => Some(CallType::AutoOutbound),
            "out" => Some(CallType::ManualOutbound),
            _ => None,
        };
        let started_at =
            chrono::NaiveDateTime::parse_from_str(&format!("{date}{time}"), "%Y%m%d%H%M%S")
                .ok()
                .and_then(|t| t.and_local_timezone(chrono::Local).earliest())
                .map(|t| t.timestamp_millis());
        if let (Some(call_type), Some(started_at)) = (call_type, started_at) {
            return NameFacts {
                uniqueid: uniqueid.to_string(),
                started_at: Some(started_at),
                call_type: Some(call_type),
                queue: (queue != "dout" && !queue.is_empty()).then(|| queue.to_string()),
                agent_job: (job != "x" && !job.is_empty()).then(|| job.to_string()),
                customer_number: Some(number.to_string()),
            };
        }
    }
    // Asterisk's own name: the uniqueid, `<epoch seconds>.<sequence>`.
    let started_at = stem
        .split_once('.')
        .and_then(|(secs, seq)| {
            (seq.chars().all(|c| c.is_ascii_digit()) && !seq.is_empty())
                .then(|| secs.parse::<i64>().ok())
                .flatten()
        })
        .filter(|secs| *secs > 1_000_000_000)
        .map(|secs| secs * 1000);
    NameFacts {
        uniqueid: stem.to_string(),
        started_at,
        ..NameFacts::default()
    }
}

/// The length of a recording in milliseconds, from its header and size: WAV (PCM, any rate;
/// MixMonitor's header is 44 bytes and its sizes are only right once the file is closed, so
/// the file's length is used), GSM (33 bytes per 20 ms) and WAV49 (65 bytes per 40 ms).
pub fn duration_ms(path: &Path, size: u64) -> Option<i64> {
    match extension(&path.to_string_lossy()) {
        "wav" | "WAV" => {
            let spec = hound::WavReader::open(path).ok()?.spec();
            let bytes_per_second = u64::from(spec.sample_rate)
                * u64::from(spec.channels)
                * u64::from(spec.bits_per_sample).div_ceil(8);
            (bytes_per_second > 0)
                .then(|| (size.saturating_sub(44) * 1000 / bytes_per_second) as i64)
        }
        "gsm" => Some((size / 33 * 20) as i64),
        "wav49" => Some((size.saturating_sub(60) / 65 * 40) as i64),
        _ => None,
    }
}

/// What a reconcile changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub added: usize,
    pub removed: usize,
    pub now_unavailable: usize,
    pub now_available: usize,
    pub folders_listed: usize,
}

/// Brings the index in line with the recording folders. A folder that is not there (a USB
/// disk unplugged) keeps its rows, marked unavailable; in a folder that is there, files
/// nobody announced are added and rows whose file is gone are removed. Folders whose
/// modification time has not changed since the last pass are not listed again. Blocking.
pub fn reconcile(
    conn: &mut rusqlite::Connection,
    roots: &[PathBuf],
) -> rusqlite::Result<ReconcileReport> {
    let mut report = ReconcileReport::default();
    for root in roots {
        let root_text = root.to_string_lossy().trim_end_matches('/').to_string();
        if !root.is_dir() {
            report.now_unavailable += index::set_available_under(conn, &root_text, false)?;
            // When it comes back every folder is listed again.
            for dir in index::dirs_under(conn, &root_text)? {
                index::forget_dir_mtime(conn, &dir)?;
            }
            continue;
        }
        report.now_available += index::set_available_under(conn, &root_text, true)?;
        let mut seen_dirs = Vec::new();
        walk(root, 0, &mut |dir, mtime_ns| {
            seen_dirs.push((dir.to_path_buf(), mtime_ns));
        });
        // Immediate: take the write lock before reading, so a write by another connection in
        // between cannot void the transaction (SQLITE_BUSY_SNAPSHOT in WAL mode).
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for (dir, mtime_ns) in &seen_dirs {
            let dir_text = dir.to_string_lossy().to_string();
            if index::dir_mtime(&tx, &dir_text)? == Some(*mtime_ns) {
                continue;
            }
            report.folders_listed += 1;
            reconcile_dir(&tx, dir, &dir_text, &mut report)?;
            index::set_dir_mtime(&tx, &dir_text, *mtime_ns)?;
        }
        // Folders in the index that are no longer on the disk lost all their files.
        let listed: std::collections::HashSet<String> = seen_dirs
            .iter()
            .map(|(d, _)| d.to_string_lossy().to_string())
            .collect();
        for dir in index::dirs_under(&tx, &root_text)? {
            if !listed.contains(&dir) {
                for gone in index::files_in(&tx, &dir)? {
                    index::delete(&tx, gone.id)?;
                    report.removed += 1;
                }
                index::forget_dir_mtime(&tx, &dir)?;
            }
        }
        tx.commit()?;
    }
    Ok(report)
}

/// Calls `visit` for `dir` and its sub-folders (not following symlinks), with their mtimes.
fn walk(dir: &Path, depth: usize, visit: &mut dyn FnMut(&Path, i64)) {
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    visit(dir, mtime_ns(&meta));
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        walk(&sub, depth + 1, visit);
    }
}

fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn reconcile_dir(
    conn: &rusqlite::Connection,
    dir: &Path,
    dir_text: &str,
    report: &mut ReconcileReport,
) -> rusqlite::Result<()> {
    let mut on_disk: HashMap<String, std::fs::Metadata> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            // Regular files only: a symlink could point out of the folder.
            match entry.metadata() {
                Ok(meta)
                    if meta.is_file()
                        && !entry.file_type().map(|t| t.is_symlink()).unwrap_or(true)
                        && is_audio(&name) =>
                {
                    on_disk.insert(name, meta);
                }
                _ => {}
            }
        }
    }
    for indexed in index::files_in(conn, dir_text)? {
        match on_disk.remove(&indexed.file) {
            None => {
                index::delete(conn, indexed.id)?;
                report.removed += 1;
            }
            Some(meta) => {
                if indexed.size_bytes != Some(meta.len() as i64) {
                    let path = dir.join(&indexed.file);
                    index::set_file_facts(
                        conn,
                        indexed.id,
                        duration_ms(&path, meta.len()),
                        meta.len() as i64,
                    )?;
                }
            }
        }
    }
    for (file, meta) in on_disk {
        let path = dir.join(&file);
        let new = facts_of_found_file(conn, dir_text, &file, &path, &meta)?;
        if index::insert(conn, &new)? {
            report.added += 1;
        }
    }
    Ok(())
}

/// The index row for a file nobody announced: what its name says, completed by the queue
/// call of the same uniqueid when we saw one, and by its mtime as a last resort.
fn facts_of_found_file(
    conn: &rusqlite::Connection,
    dir: &str,
    file: &str,
    path: &Path,
    meta: &std::fs::Metadata,
) -> rusqlite::Result<NewRecording> {
    let name = parse_file_name(file);
    let size = meta.len();
    let duration = duration_ms(path, size);
    let call = index::call_facts(conn, &name.uniqueid)?;
    let modified_ms = mtime_ns(meta) / 1_000_000;
    let started_at = name
        .started_at
        .or(call.as_ref().map(|c| c.joined_at))
        .unwrap_or(modified_ms - duration.unwrap_or(0));
    let (queue, number, caller_name, agent_name) = match call {
        Some(c) => (Some(c.queue), c.caller_number, c.caller_name, c.agent_name),
        None => (None, String::new(), String::new(), None),
    };
    // A name without our annotation is app_queue's own: a queue call, so 呼入.
    let call_type = Some(name.call_type.unwrap_or(CallType::Inbound));
    let agent = match &name.agent_job {
        Some(job) => crate::store::agents::holder_of_job_number(conn, job, None)?
            .map(|a| (a.job_number, a.name))
            .or(Some((job.clone(), agent_name.unwrap_or_default()))),
        None => None,
    };
    let customer_number = name.customer_number.unwrap_or(number);
    let customer_name = crm_name(conn, &customer_number)?.unwrap_or(caller_name);
    Ok(NewRecording {
        uniqueid: name.uniqueid,
        dir: dir.to_string(),
        file: file.to_string(),
        started_at,
        duration_ms: duration,
        customer_number,
        customer_name,
        queue: name.queue.or(queue),
        agent_job: agent.as_ref().map(|a| a.0.clone()),
        agent_name: agent.map(|a| a.1),
        call_type,
        size_bytes: Some(size as i64),
    })
}

/// The index row for a recording MixMonitor announced on AMI (`VarSet MIXMONITOR_FILENAME`)
/// at `now_ms`: the file name's facts, completed by the queue call we followed (caller
/// number and name, queue). A recording outside any queue is an agent dialling out (手动外呼)
/// unless its name says otherwise. Blocking.
pub fn announced(
    conn: &rusqlite::Connection,
    uniqueid: &str,
    path: &str,
    queue: Option<String>,
    now_ms: i64,
) -> rusqlite::Result<NewRecording> {
    let path = Path::new(path);
    let dir = path
        .parent()
        .map(|d| d.to_string_lossy().to_string())
        .unwrap_or_default();
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    let name = parse_file_name(&file);
    let call = index::call_facts(conn, uniqueid)?;
    let queue = name
        .queue
        .clone()
        .or(queue)
        .or(call.as_ref().map(|c| c.queue.clone()));
    let call_type = name.call_type.unwrap_or(if queue.is_some() {
        CallType::Inbound
    } else {
        CallType::ManualOutbound
    });
    let (number, caller_name) = call
        .map(|c| (c.caller_number, c.caller_name))
        .unwrap_or_default();
    let customer_number = name.customer_number.clone().unwrap_or(number);
    let customer_name = crm_name(conn, &customer_number)?.unwrap_or(caller_name);
    let agent = match &name.agent_job {
        Some(job) => crate::store::agents::holder_of_job_number(conn, job, None)?
            .map(|a| (a.job_number, a.name)),
        None => None,
    };
    Ok(NewRecording {
        uniqueid: uniqueid.to_string(),
        dir,
        file,
        started_at: now_ms,
        duration_ms: None,
        customer_number,
        customer_name,
        queue,
        agent_job: agent.as_ref().map(|a| a.0.clone()),
        agent_name: agent.map(|a| a.1),
        call_type: Some(call_type),
        size_bytes: None,
    })
}

/// The agent (job number, name) behind a queue member interface (`PJSIP/1001`,
/// `Local/1001@agents/n`, `SIP/1001`): the agent on that extension. Blocking.
pub fn agent_for_interface(
    conn: &rusqlite::Connection,
    interface: &str,
) -> rusqlite::Result<Option<(String, String)>> {
    let extension = interface
        .split_once('/')
        .map(|(_, rest)| rest)
        .unwrap_or(interface);
    let extension = extension.split(['@', '/', '-']).next().unwrap_or("");
    if extension.is_empty() {
        return Ok(None);
    }
    Ok(
        crate::store::agents::holder_of_extension(conn, extension, None)?
            .map(|a| (a.job_number, a.name)),
    )
}

/// Reads the size and length of the files of a call's recordings (after the call ended and
/// MixMonitor closed them). Blocking.
pub fn refresh_file_facts(conn: &rusqlite::Connection, uniqueid: &str) -> rusqlite::Result<()> {
    for id in index::ids_of_call(conn, uniqueid)? {
        let Some(row) = index::get(conn, id)? else {
            continue;
        };
        let path = row.path();
        if let Ok(meta) = std::fs::metadata(&path) {
            index::set_file_facts(conn, id, duration_ms(&path, meta.len()), meta.len() as i64)?;
        }
    }
    Ok(())
}

/// The customer's name from the CRM (自定义表's customers), which beats the caller-ID name.
fn crm_name(conn: &rusqlite::Connection, number: &str) -> rusqlite::Result<Option<String>> {
    if number.is_empty() {
        return Ok(None);
    }
    crate::store::customers::name_of(conn, number)
}

/// Why a recording's file cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file is gone (deleted behind our back): the row should go too.
    #[error("the recording's file is missing")]
    Missing,
    /// On a disk that is not plugged in.
    #[error("the recording's disk is not available")]
    Unavailable,
    /// The path leads out of the recording folders (a symlink, a moved folder).
    #[error("the recording's path is outside the recording folders")]
    Outside,
}

/// The recording's file, if it is a regular file inside one of `roots` once every symlink is
/// resolved.
pub fn checked_path(row: &RecordingRow, roots: &[PathBuf]) -> Result<PathBuf, FileError> {
    if !row.available {
        return Err(FileError::Unavailable);
    }
    let path = row.path();
    let Some(root) = roots.iter().find(|root| path.starts_with(root)) else {
        return Err(FileError::Outside);
    };
    if !root.is_dir() {
        return Err(FileError::Unavailable);
    }
    let real = match path.canonicalize() {
        Ok(real) => real,
        Err(_) => return Err(FileError::Missing),
    };
    let real_root = root.canonicalize().map_err(|_| FileError::Unavailable)?;
    if !real.starts_with(&real_root) {
        return Err(FileError::Outside);
    }
    match std::fs::metadata(&real) {
        Ok(meta) if meta.is_file() => Ok(real),
        Ok(_) => Err(FileError::Outside),
        Err(_) => Err(FileError::Missing),
    }
}

/// The name a downloaded recording gets: when, who called, which queue and agent.
pub fn download_name(row: &RecordingRow, viewer: Viewer) -> String {
    let when = chrono::DateTime::from_timestamp_millis(row.started_at)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y%m%d-%H%M%S")
                .to_string()
        })
        .unwrap_or_else(|| "unknown".into());
    let clean = |s: &str| -> String {
        s.chars()
            // A masked digit: `*` is not allowed in Windows file names.
            .map(|c| if c == '*' { 'x' } else { c })
            .filter(|c| c.is_alphanumeric() || matches!(c, '+' | '_'))
            .take(32)
            .collect()
    };
    let mut parts = vec![when];
    // The file name carries the number as the viewer may see it (隐藏电话号码).
    let number = viewer.show(&row.customer_number);
    for part in [
        number.as_str(),
        row.queue.as_deref().unwrap_or("dout"),
        row.agent_job.as_deref().unwrap_or(""),
    ] {
        let part = clean(part);
        if !part.is_empty() {
            parts.push(part);
        }
    }
    format!("{}.{}", parts.join("_"), extension(&row.file))
}

/// The viewer's scope: admin all; a team leader the queues they are a member of (they lead
/// the queues they belong to), their own recordings anywhere, and the direct recordings of
/// the agents now in those queues; an ordinary agent their own. Blocking.
pub fn scope_for(
    conn: &rusqlite::Connection,
    agent_id: Option<i64>,
) -> rusqlite::Result<Option<Scope>> {
    let Some(agent_id) = agent_id else {
        return Ok(Some(Scope::All));
    };
    let Some(agent) = crate::store::agents::get(conn, agent_id)? else {
        return Ok(None);
    };
    if !agent.leader {
        return Ok(Some(Scope::Agent {
            me: agent.job_number,
        }));
    }
    let led_queues = crate::store::queues::queues_of(conn, agent_id)?;
    let mut team: Vec<String> = index::members_of(conn, &led_queues)?
        .into_iter()
        .map(|(job, _)| job)
        .collect();
    if !team.contains(&agent.job_number) {
        team.push(agent.job_number.clone());
    }
    Ok(Some(Scope::Leader {
        me: agent.job_number,
        led_queues,
        team,
    }))
}

/// One choice of the 队列名 or 坐席名 list; `removed` is the manual's 【删除】.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Choice {
    pub key: String,
    pub name: String,
    pub removed: bool,
}

/// The 队列名 and 坐席名 lists of a scope. For a leader: the queues they lead, then the queues
/// they have recordings in but no longer lead (【删除】); the agents of their queues, then the
/// agents with recordings in their queues who have left them (【删除】). For the admin: every
/// queue and agent with recordings, and the current ones. For an agent: their own.
pub fn choices(
    conn: &rusqlite::Connection,
    scope: &Scope,
    queue_names: &HashMap<String, String>,
) -> rusqlite::Result<(Vec<Choice>, Vec<Choice>)> {
    let pairs = index::pairs(conn)?;
    let agents = crate::store::agents::list(conn)?;
    let agent_name = |job: &str, fallback: &str| -> String {
        agents
            .iter()
            .find(|a| a.job_number == job)
            .map(|a| a.name.clone())
            .unwrap_or_else(|| fallback.to_string())
    };
    let queue_choice = |queue: &str, removed: bool| Choice {
        key: queue.to_string(),
        name: queue_names
            .get(queue)
            .cloned()
            .unwrap_or_else(|| queue.to_string()),
        removed,
    };
    let mut queues: Vec<Choice> = Vec::new();
    let mut people: Vec<Choice> = Vec::new();
    let push_unique = |list: &mut Vec<Choice>, choice: Choice| {
        if !list.iter().any(|c| c.key == choice.key) {
            list.push(choice);
        }
    };
    match scope {
        Scope::All => {
            let mut all_queues: Vec<String> = queue_names.keys().cloned().collect();
            all_queues.extend(
                pairs
                    .iter()
                    .filter(|p| !p.queue.is_empty())
                    .map(|p| p.queue.clone()),
            );
            all_queues.sort();
            all_queues.dedup();
            for q in all_queues {
                queues.push(queue_choice(&q, false));
            }
            for a in &agents {
                push_unique(
                    &mut people,
                    Choice {
                        key: a.job_number.clone(),
                        name: a.name.clone(),
                        removed: false,
                    },
                );
            }
            for p in pairs.iter().filter(|p| !p.agent_job.is_empty()) {
                push_unique(
                    &mut people,
                    Choice {
                        key: p.agent_job.clone(),
                        name: agent_name(&p.agent_job, &p.agent_name),
                        removed: false,
                    },
                );
            }
        }
        Scope::Agent { me } => {
            for p in pairs
                .iter()
                .filter(|p| &p.agent_job == me && !p.queue.is_empty())
            {
                push_unique(&mut queues, queue_choice(&p.queue, false));
            }
            push_unique(
                &mut people,
                Choice {
                    key: me.clone(),
                    name: agent_name(me, ""),
                    removed: false,
                },
            );
        }
        Scope::Leader {
            me,
            led_queues,
            team,
        } => {
            for q in led_queues {
                push_unique(&mut queues, queue_choice(q, false));
            }
            for p in pairs
                .iter()
                .filter(|p| &p.agent_job == me && !p.queue.is_empty())
            {
                if !led_queues.contains(&p.queue) {
                    push_unique(&mut queues, queue_choice(&p.queue, true));
                }
            }
            for job in team {
                push_unique(
                    &mut people,
                    Choice {
                        key: job.clone(),
                        name: agent_name(job, ""),
                        removed: false,
                    },
                );
            }
            for p in pairs
                .iter()
                .filter(|p| led_queues.contains(&p.queue) && !p.agent_job.is_empty())
            {
                if !team.contains(&p.agent_job) {
                    push_unique(
                        &mut people,
                        Choice {
                            key: p.agent_job.clone(),
                            name: agent_name(&p.agent_job, &p.agent_name),
                            removed: true,
                        },
                    );
                }
            }
        }
    }
    Ok((queues, people))
}

/// A `Write` that hands what it is given to an async receiver in chunks: the ZIP is written
/// on a blocking thread while the response streams it, so no part of it is ever on disk and
/// at most a few chunks are in memory.
pub struct ChannelWriter {
    sender: tokio::sync::mpsc::Sender<io::Result<bytes::Bytes>>,
}

impl ChannelWriter {
    pub fn new(sender: tokio::sync::mpsc::Sender<io::Result<bytes::Bytes>>) -> ChannelWriter {
        ChannelWriter { sender }
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sender
            .blocking_send(Ok(bytes::Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the download was cancelled"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes `files` (entry name, path) as a stored (uncompressed: recordings hardly compress
/// and the box's CPU is small) ZIP to `out`. Blocking.
pub fn write_zip<W: Write>(files: &[(String, PathBuf)], out: W) -> zip::result::ZipResult<()> {
    let mut zip = zip::ZipWriter::new_stream(io::BufWriter::with_capacity(64 * 1024, out));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    for (name, path) in files {
        let mut file = std::fs::File::open(path)?;
        zip.start_file(name.as_str(), options)?;
        io::copy(&mut file, &mut zip)?;
    }
    zip.finish()?.flush()?;
    Ok(())
}

/// Entry names unique within one ZIP (`name`, `name (2)`, …).
pub fn unique_names(names: Vec<String>) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    names
        .into_iter()
        .map(|name| {
            let n = seen.entry(name.clone()).or_insert(0);
            *n += 1;
            if *n == 1 {
                name
            } else {
                match name.rsplit_once('.') {
                    Some((stem, ext)) => format!("{stem} ({n}).{ext}"),
                    None => format!("{name} ({n})"),
                }
            }
        })
        .collect()
}

/// A full reconcile runs this often; a USB disk coming or going is noticed within
/// [`PRESENCE_CHECK`].
pub const RECONCILE_EVERY: std::time::Duration = std::time::Duration::from_secs(600);
pub const PRESENCE_CHECK: std::time::Duration = std::time::Duration::from_secs(30);

/// The recordings index as a running service: the store, the configured folders, and the
/// task that keeps the index in line with them.
pub struct RecordingIndex {
    store: crate::store::Store,
    roots: Vec<PathBuf>,
    wake: tokio::sync::Notify,
}

impl RecordingIndex {
    /// Reconciles once now (so a start finds what was written while we were down), then in the
    /// background until `shutdown`.
    pub fn start(
        store: crate::store::Store,
        roots: Vec<PathBuf>,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> std::sync::Arc<RecordingIndex> {
        let index = std::sync::Arc::new(RecordingIndex {
            store,
            roots,
            wake: tokio::sync::Notify::new(),
        });
        let task = std::sync::Arc::clone(&index);
        tokio::spawn(async move { task.run(shutdown).await });
        index
    }

    pub fn store(&self) -> &crate::store::Store {
        &self.store
    }

    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Asks for a reconcile soon (a file found missing, a folder changed).
    pub fn trigger(&self) {
        self.wake.notify_one();
    }

    /// Reconciles now and says what changed.
    pub async fn reconcile_now(&self) -> Result<ReconcileReport, crate::store::StoreError> {
        let roots = self.roots.clone();
        self.store.call(move |conn| reconcile(conn, &roots)).await
    }

    async fn run(&self, shutdown: tokio_util::sync::CancellationToken) {
        let present = |roots: &[PathBuf]| roots.iter().map(|r| r.is_dir()).collect::<Vec<_>>();
        let mut last_presence: Option<Vec<bool>> = None;
        let mut last_full = tokio::time::Instant::now();
        let mut check = tokio::time::interval(PRESENCE_CHECK);
        loop {
            let now_present = present(&self.roots);
            let due = last_presence.as_ref() != Some(&now_present)
                || last_full.elapsed() >= RECONCILE_EVERY;
            if due {
                match self.reconcile_now().await {
                    Ok(report) => {
                        if report != ReconcileReport::default() {
                            log::info!("recordings reconciled with the disk: {report:?}");
                        }
                        last_presence = Some(now_present);
                    }
                    // Tried again at the next check.
                    Err(err) => log::error!("cannot reconcile the recordings: {err}"),
                }
                last_full = tokio::time::Instant::now();
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = check.tick() => {}
                _ = self.wake.notified() => { last_presence = None; }
            }
        }
    }
}

#[cfg(test)]
mod tests;
