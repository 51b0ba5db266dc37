//! The recordings index (录音列表, manual §6): one row per MixMonitor file, with the call's
//! facts (customer, queue, agent, call type, start, duration, size), the leader's note, and
//! whether the disk holding it is plugged in. Owns the search (filters, scoping, paging) and
//! the folder-by-folder bookkeeping the reconcile with the disk needs.
//!
//! Scale: the appliance keeps a million rows. Every typical filter has an index that also
//! orders by start time; the fuzzy customer search goes through the FTS5 trigram table
//! `recordings_fts`; the filter lists come from `recording_pairs`, kept by triggers.

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OptionalExtension};

use super::like_pattern;

/// 呼叫类型.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallType {
    /// 呼入: a caller who came through a queue.
    Inbound,
    /// 自动外呼: a call placed by an outbound plan.
    AutoOutbound,
    /// 手动外呼: an agent dialling out (the manual's DOUT).
    ManualOutbound,
}

impl CallType {
    pub fn code(self) -> &'static str {
        match self {
            CallType::Inbound => "inbound",
            CallType::AutoOutbound => "auto_outbound",
            CallType::ManualOutbound => "manual_outbound",
        }
    }

    pub fn from_code(code: &str) -> Option<CallType> {
        match code {
            "inbound" => Some(CallType::Inbound),
            "auto_outbound" => Some(CallType::AutoOutbound),
            "manual_outbound" => Some(CallType::ManualOutbound),
            _ => None,
        }
    }
}

/// A recording as indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRow {
    pub id: i64,
    pub uniqueid: String,
    pub dir: String,
    pub file: String,
    pub started_at: i64,
    pub duration_ms: Option<i64>,
    pub customer_number: String,
    pub customer_name: String,
    pub queue: Option<String>,
    pub agent_job: Option<String>,
    pub agent_name: Option<String>,
    pub call_type: CallType,
    pub size_bytes: Option<i64>,
    pub available: bool,
    pub note: Option<String>,
    pub note_by: Option<String>,
    pub noted_at: Option<i64>,
}

impl RecordingRow {
    pub fn path(&self) -> std::path::PathBuf {
        std::path::Path::new(&self.dir).join(&self.file)
    }
}

const COLUMNS: &str = "id, uniqueid, dir, file, started_at, duration_ms, customer_number, \
    customer_name, queue, agent_job, agent_name, call_type, size_bytes, available, note, note_by, noted_at";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RecordingRow> {
    let call_type: String = row.get(11)?;
    Ok(RecordingRow {
        id: row.get(0)?,
        uniqueid: row.get(1)?,
        dir: row.get(2)?,
        file: row.get(3)?,
        started_at: row.get(4)?,
        duration_ms: row.get(5)?,
        customer_number: row.get(6)?,
        customer_name: row.get(7)?,
        queue: row.get(8)?,
        agent_job: row.get(9)?,
        agent_name: row.get(10)?,
        call_type: CallType::from_code(&call_type).unwrap_or(CallType::Inbound),
        size_bytes: row.get(12)?,
        available: row.get(13)?,
        note: row.get(14)?,
        note_by: row.get(15)?,
        noted_at: row.get(16)?,
    })
}

/// A recording to add to the index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRecording {
    pub uniqueid: String,
    pub dir: String,
    pub file: String,
    pub started_at: i64,
    pub duration_ms: Option<i64>,
    pub customer_number: String,
    pub customer_name: String,
    pub queue: Option<String>,
    pub agent_job: Option<String>,
    pub agent_name: Option<String>,
    pub call_type: Option<CallType>,
    pub size_bytes: Option<i64>,
}

/// Adds a recording; a file already indexed is left as it is. Returns whether it was new.
pub fn insert(conn: &Connection, r: &NewRecording) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO recordings (uniqueid, dir, file, started_at, duration_ms,
             customer_number, customer_name, queue, agent_job, agent_name, call_type, size_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            r.uniqueid,
            r.dir,
            r.file,
            r.started_at,
            r.duration_ms,
            r.customer_number,
            r.customer_name,
            r.queue,
            r.agent_job,
            r.agent_name,
            r.call_type.unwrap_or(CallType::Inbound).code(),
            r.size_bytes,
        ])?;
    if n == 1 {
        index_name(conn, conn.last_insert_rowid(), &r.customer_name)?;
    }
    Ok(n == 1)
}

/// Indexes a customer name's characters and character pairs for short fuzzy searches.
fn index_name(conn: &Connection, id: i64, name: &str) -> rusqlite::Result<()> {
    let grams = name_grams(name);
    if !grams.is_empty() {
        conn.prepare_cached("INSERT INTO recordings_names (rowid, grams) VALUES (?1, ?2)")?
            .execute(params![id, grams])?;
    }
    Ok(())
}

/// `王秀英` → `王 秀 英 王秀 秀英`: every character and every pair of neighbouring characters
/// of each word of the name, lower-cased, as space-separated tokens.
pub fn name_grams(name: &str) -> String {
    let mut grams: Vec<String> = Vec::new();
    for word in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let chars: Vec<char> = word.to_lowercase().chars().collect();
        for (i, c) in chars.iter().enumerate() {
            grams.push(c.to_string());
            if let Some(next) = chars.get(i + 1) {
                grams.push(format!("{c}{next}"));
            }
        }
    }
    grams.sort();
    grams.dedup();
    grams.join(" ")
}

/// The agent who answered the call of `uniqueid` (AgentConnect comes after the recording
/// started). Recordings that already name an agent keep it.
pub fn set_agent_of_call(
    conn: &Connection,
    uniqueid: &str,
    agent_job: &str,
    agent_name: &str,
) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE recordings SET agent_job = ?2, agent_name = ?3
         WHERE uniqueid = ?1 AND agent_job IS NULL",
        params![uniqueid, agent_job, agent_name],
    )
}

/// The ids of the recordings of a call.
pub fn ids_of_call(conn: &Connection, uniqueid: &str) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM recordings WHERE uniqueid = ?1")?;
    let rows = stmt.query_map([uniqueid], |row| row.get(0))?;
    rows.collect()
}

/// What the file itself says: its length in time and bytes.
pub fn set_file_facts(
    conn: &Connection,
    id: i64,
    duration_ms: Option<i64>,
    size_bytes: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE recordings SET duration_ms = coalesce(?2, duration_ms), size_bytes = ?3 WHERE id = ?1",
        params![id, duration_ms, size_bytes],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<RecordingRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM recordings WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// The rows of `ids` that exist, in the order asked.
pub fn get_many(conn: &Connection, ids: &[i64]) -> rusqlite::Result<Vec<RecordingRow>> {
    let mut found = Vec::with_capacity(ids.len());
    for &id in ids {
        if let Some(row) = get(conn, id)? {
            found.push(row);
        }
    }
    Ok(found)
}

pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM recordings WHERE id = ?1", [id])? == 1)
}

/// Sets (or, with `None`, clears) the 批注 of a recording.
pub fn set_note(
    conn: &Connection,
    id: i64,
    note: Option<&str>,
    by: &str,
    at: i64,
) -> rusqlite::Result<bool> {
    let n = match note {
        Some(note) => conn.execute(
            "UPDATE recordings SET note = ?2, note_by = ?3, noted_at = ?4 WHERE id = ?1",
            params![id, note, by, at],
        )?,
        None => conn.execute(
            "UPDATE recordings SET note = NULL, note_by = NULL, noted_at = NULL WHERE id = ?1",
            [id],
        )?,
    };
    Ok(n == 1)
}

/// How many recordings there are (from the trigger-kept pairs, not a scan).
pub fn count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT coalesce(SUM(n), 0) FROM recording_pairs",
        [],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n as u64)
}

/// One (queue, agent) pair with recordings: `queue` and `agent_job` are `""` for none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub queue: String,
    pub agent_job: String,
    pub agent_name: String,
    pub count: u64,
}

pub fn pairs(conn: &Connection) -> rusqlite::Result<Vec<Pair>> {
    let mut stmt = conn.prepare_cached(
        "SELECT queue, agent_job, agent_name, n FROM recording_pairs ORDER BY queue, agent_job",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(Pair {
            queue: row.get(0)?,
            agent_job: row.get(1)?,
            agent_name: row.get(2)?,
            count: row.get::<_, i64>(3)? as u64,
        })
    })?;
    rows.collect()
}

// --- search ---

/// How the 客户 box matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Match {
    Exact,
    Fuzzy,
}

/// The search form of manual §6. Times are milliseconds, `[from, to)`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub customer: Option<(String, Match)>,
    pub number: Option<String>,
    pub queue: Option<String>,
    pub agent_job: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub call_type: Option<CallType>,
    /// 隐藏电话号码 is on for this viewer: numbers are searched as the viewer sees them
    /// (`mask_number(customer_number)`), so the hidden digits match nothing.
    pub masked: bool,
}

impl Filter {
    /// No condition at all: the page as it opens.
    pub fn is_empty(&self) -> bool {
        self.customer.is_none()
            && self.number.is_none()
            && self.queue.is_none()
            && self.agent_job.is_none()
            && self.from.is_none()
            && self.to.is_none()
            && self.call_type.is_none()
    }
}

/// Whose recordings a viewer may see (the rules are in `media::recordings::scope_for`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The administrator: everything.
    All,
    /// A team leader: every recording in `led_queues`, their own anywhere, and the direct
    /// (no queue) recordings of the agents in `team`.
    Leader {
        me: String,
        led_queues: Vec<String>,
        team: Vec<String>,
    },
    /// An agent: their own.
    Agent { me: String },
}

impl Scope {
    /// Whether a viewer with this scope may see `row`: the same rule as the search's WHERE
    /// clause, for requests that name one recording.
    pub fn allows(&self, row: &RecordingRow) -> bool {
        match self {
            Scope::All => true,
            Scope::Agent { me } => row.agent_job.as_ref() == Some(me),
            Scope::Leader {
                me,
                led_queues,
                team,
            } => match (&row.queue, &row.agent_job) {
                (Some(queue), _) if led_queues.contains(queue) => true,
                (_, Some(agent)) if agent == me => true,
                (None, Some(agent)) => team.contains(agent),
                _ => false,
            },
        }
    }
}

/// The FTS5 trigram index finds substrings of three characters or more; shorter ones scan.
const TRIGRAM: usize = 3;

/// One or two letters or CJK characters (not digits: a two-digit fragment of a number finds
/// everything and is refused by the API): what the character-pair index answers.
fn is_gram(text: &str) -> bool {
    let n = text.chars().count();
    (1..TRIGRAM).contains(&n) && text.chars().all(|c| c.is_alphabetic())
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

fn where_clause(filter: &Filter, scope: &Scope) -> (String, Vec<Value>) {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    match scope {
        Scope::All => {}
        Scope::Agent { me } => {
            clauses.push("agent_job = ?".into());
            args.push(Value::Text(me.clone()));
        }
        Scope::Leader {
            me,
            led_queues,
            team,
        } => {
            // `+column`: the scope is broad (a leader sees a good part of the index), so it
            // must not be what SQLite picks an index for; the other filters, or the
            // newest-first scan, narrow far better.
            clauses.push(format!(
                "(+queue IN ({}) OR +agent_job = ? OR (+queue IS NULL AND +agent_job IN ({})))",
                placeholders(led_queues.len()),
                placeholders(team.len())
            ));
            args.extend(led_queues.iter().cloned().map(Value::Text));
            args.push(Value::Text(me.clone()));
            args.extend(team.iter().cloned().map(Value::Text));
        }
    }
    // The number as the viewer sees it: masked viewers never match on the hidden digits.
    let number = if filter.masked {
        "mask_number(customer_number)"
    } else {
        "customer_number"
    };
    if let Some((text, how)) = &filter.customer {
        match how {
            Match::Exact => {
                clauses.push(format!("({number} = ? OR customer_name = ?)"));
                args.push(Value::Text(text.clone()));
                args.push(Value::Text(text.clone()));
            }
            Match::Fuzzy if filter.masked => {
                // The trigram index holds the full number, so a masked viewer scans their own
                // (few) rows instead, comparing with the masked form.
                clauses.push(format!(
                    "({number} LIKE ? ESCAPE '\\' OR customer_name LIKE ? ESCAPE '\\')"
                ));
                args.push(Value::Text(like_pattern(text)));
                args.push(Value::Text(like_pattern(text)));
            }
            Match::Fuzzy if text.chars().count() >= TRIGRAM => {
                clauses.push(
                    "id IN (SELECT rowid FROM recordings_fts WHERE recordings_fts MATCH ?)".into(),
                );
                // One FTS5 phrase: the text as a substring, its quotes doubled.
                args.push(Value::Text(format!("\"{}\"", text.replace('"', "\"\""))));
            }
            Match::Fuzzy if is_gram(text) => {
                // One or two characters of a name: the character-pair index.
                clauses.push(
                    "id IN (SELECT rowid FROM recordings_names WHERE recordings_names MATCH ?)"
                        .into(),
                );
                args.push(Value::Text(format!("\"{}\"", text.to_lowercase())));
            }
            Match::Fuzzy => {
                clauses.push(
                    "(customer_number LIKE ? ESCAPE '\\' OR customer_name LIKE ? ESCAPE '\\')"
                        .into(),
                );
                args.push(Value::Text(like_pattern(text)));
                args.push(Value::Text(like_pattern(text)));
            }
        }
    }
    if let Some(number_text) = &filter.number {
        clauses.push(format!("{number} = ?"));
        args.push(Value::Text(number_text.clone()));
    }
    if let Some(queue) = &filter.queue {
        clauses.push("queue = ?".into());
        args.push(Value::Text(queue.clone()));
    }
    if let Some(agent) = &filter.agent_job {
        clauses.push("agent_job = ?".into());
        args.push(Value::Text(agent.clone()));
    }
    if let Some(from) = filter.from {
        clauses.push("started_at >= ?".into());
        args.push(Value::Integer(from));
    }
    if let Some(to) = filter.to {
        clauses.push("started_at < ?".into());
        args.push(Value::Integer(to));
    }
    if let Some(call_type) = filter.call_type {
        clauses.push("call_type = ?".into());
        args.push(Value::Text(call_type.code().into()));
    }
    if clauses.is_empty() {
        (String::new(), args)
    } else {
        (format!("WHERE {}", clauses.join(" AND ")), args)
    }
}

/// How many recordings a scope sees in all, from `recording_pairs` (queue and agent are `''`
/// there for none).
fn count_in_scope(conn: &Connection, scope: &Scope) -> rusqlite::Result<i64> {
    let (clause, args): (String, Vec<Value>) = match scope {
        Scope::All => (String::new(), vec![]),
        Scope::Agent { me } => ("WHERE agent_job = ?".into(), vec![Value::Text(me.clone())]),
        Scope::Leader {
            me,
            led_queues,
            team,
        } => {
            let mut args: Vec<Value> = led_queues.iter().cloned().map(Value::Text).collect();
            args.push(Value::Text(me.clone()));
            args.extend(team.iter().cloned().map(Value::Text));
            (
                format!(
                    "WHERE queue IN ({}) OR agent_job = ? OR (queue = '' AND agent_job IN ({}))",
                    placeholders(led_queues.len()),
                    placeholders(team.len())
                ),
                args,
            )
        }
    };
    conn.prepare_cached(&format!(
        "SELECT coalesce(SUM(n), 0) FROM recording_pairs {clause}"
    ))?
    .query_row(params_from_iter(args.iter()), |row| row.get(0))
}

/// One page of the search, newest first, and how many rows match in all.
pub fn search(
    conn: &Connection,
    filter: &Filter,
    scope: &Scope,
    offset: u64,
    limit: u64,
) -> rusqlite::Result<(Vec<RecordingRow>, u64)> {
    let (clause, mut args) = where_clause(filter, scope);
    let total: i64 = if filter.is_empty() {
        // The page as it opens: counted from the trigger-kept pairs, not a million rows.
        count_in_scope(conn, scope)?
    } else {
        conn.prepare_cached(&format!("SELECT COUNT(*) FROM recordings {clause}"))?
            .query_row(params_from_iter(args.iter()), |row| row.get(0))?
    };
    args.push(Value::Integer(limit as i64));
    args.push(Value::Integer(offset as i64));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM recordings {clause}
         ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?"
    ))?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total as u64))
}

/// The job numbers and names of the agents who are members of any of `queues` (a leader's
/// team, the leader included when a member).
pub fn members_of(conn: &Connection, queues: &[String]) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT DISTINCT a.job_number, a.name FROM queue_members m JOIN agents a ON a.id = m.agent_id
         WHERE m.queue IN ({}) ORDER BY a.job_number",
        placeholders(queues.len())
    ))?;
    let rows = stmt.query_map(params_from_iter(queues.iter()), |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?;
    rows.collect()
}

// --- reconcile bookkeeping ---

/// What the index knows of one file in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFile {
    pub id: i64,
    pub file: String,
    pub size_bytes: Option<i64>,
    pub available: bool,
}

/// The indexed files directly in `dir`.
pub fn files_in(conn: &Connection, dir: &str) -> rusqlite::Result<Vec<IndexedFile>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, file, size_bytes, available FROM recordings WHERE dir = ?1")?;
    let rows = stmt.query_map([dir], |row| {
        Ok(IndexedFile {
            id: row.get(0)?,
            file: row.get(1)?,
            size_bytes: row.get(2)?,
            available: row.get(3)?,
        })
    })?;
    rows.collect()
}

/// The indexed folders at or under `root`.
pub fn dirs_under(conn: &Connection, root: &str) -> rusqlite::Result<Vec<String>> {
    let (lower, upper) = prefix_range(root);
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT dir FROM recordings WHERE dir = ?1 OR (dir >= ?2 AND dir < ?3)",
    )?;
    let rows = stmt.query_map(params![root, lower, upper], |row| row.get(0))?;
    rows.collect()
}

/// Marks every recording at or under `root` available or not (a USB disk plugged or
/// unplugged). Returns how many rows changed.
pub fn set_available_under(
    conn: &Connection,
    root: &str,
    available: bool,
) -> rusqlite::Result<usize> {
    let (lower, upper) = prefix_range(root);
    conn.execute(
        "UPDATE recordings SET available = ?4
         WHERE (dir = ?1 OR (dir >= ?2 AND dir < ?3)) AND available != ?4",
        params![root, lower, upper, available],
    )
}

pub fn set_available(conn: &Connection, id: i64, available: bool) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE recordings SET available = ?2 WHERE id = ?1",
        params![id, available],
    )?;
    Ok(())
}

/// `[root/, root0)`: every path under `root` (`0` follows `/` in byte order).
fn prefix_range(root: &str) -> (String, String) {
    let root = root.trim_end_matches('/');
    (format!("{root}/"), format!("{root}0"))
}

/// The folder's modification time at its last reconcile.
pub fn dir_mtime(conn: &Connection, dir: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT mtime_ns FROM recording_dirs WHERE dir = ?1",
        [dir],
        |row| row.get(0),
    )
    .optional()
}

pub fn set_dir_mtime(conn: &Connection, dir: &str, mtime_ns: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO recording_dirs (dir, mtime_ns) VALUES (?1, ?2)
         ON CONFLICT(dir) DO UPDATE SET mtime_ns = excluded.mtime_ns",
        params![dir, mtime_ns],
    )?;
    Ok(())
}

pub fn forget_dir_mtime(conn: &Connection, dir: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM recording_dirs WHERE dir = ?1", [dir])?;
    Ok(())
}

/// What the queue-call table knows of a call (a file found on disk that AMI never announced
/// to us, e.g. written while the daemon was down).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFacts {
    pub queue: String,
    pub caller_number: String,
    pub caller_name: String,
    pub agent_name: Option<String>,
    pub joined_at: i64,
}

pub fn call_facts(conn: &Connection, uniqueid: &str) -> rusqlite::Result<Option<CallFacts>> {
    conn.query_row(
        "SELECT queue, caller_number, caller_name, agent_name, joined_at FROM queue_calls
         WHERE uniqueid = ?1 ORDER BY joined_at DESC LIMIT 1",
        [uniqueid],
        |row| {
            Ok(CallFacts {
                queue: row.get(0)?,
                caller_number: row.get(1)?,
                caller_name: row.get(2)?,
                agent_name: row.get(3)?,
                joined_at: row.get(4)?,
            })
        },
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::open_in_memory;

    fn rec(
        file: &str,
        at: i64,
        number: &str,
        queue: Option<&str>,
        agent: Option<&str>,
    ) -> NewRecording {
        NewRecording {
            uniqueid: format!("u-{file}"),
            dir: "/m".into(),
            file: file.into(),
            started_at: at,
            customer_number: number.into(),
            customer_name: format!("客户{number}"),
            queue: queue.map(str::to_string),
            agent_job: agent.map(str::to_string),
            agent_name: agent.map(|a| format!("坐席{a}")),
            call_type: Some(if queue.is_some() {
                CallType::Inbound
            } else {
                CallType::ManualOutbound
            }),
            ..NewRecording::default()
        }
    }

    fn files(conn: &Connection, filter: &Filter, scope: &Scope) -> Vec<String> {
        search(conn, filter, scope, 0, 100)
            .unwrap()
            .0
            .into_iter()
            .map(|r| r.file)
            .collect()
    }

    #[test]
    fn the_old_table_is_carried_over_with_its_paths_split() {
        // A row stored by migration 2's table (a `path` column) survives migration 4.
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::migrations::apply_to(&mut conn, 3);
        conn.execute(
            "INSERT INTO recordings (uniqueid, path, started_at, queue)
             VALUES ('1764.1', '/var/spool/asterisk/monitor/1764.1.wav', 7, '222')",
            [],
        )
        .unwrap();
        crate::store::migrations::apply(&mut conn).unwrap();
        let rows = search(&conn, &Filter::default(), &Scope::All, 0, 10)
            .unwrap()
            .0;
        assert_eq!(rows[0].dir, "/var/spool/asterisk/monitor");
        assert_eq!(rows[0].file, "1764.1.wav");
        assert_eq!(rows[0].queue.as_deref(), Some("222"));
        assert_eq!(count(&conn).unwrap(), 1);
        let fuzzy = Filter {
            customer: Some(("".into(), Match::Fuzzy)),
            ..Filter::default()
        };
        assert_eq!(search(&conn, &fuzzy, &Scope::All, 0, 10).unwrap().1, 1);
    }

    #[test]
    fn newest_first_with_paging_and_total() {
        let conn = open_in_memory();
        for i in 0..30 {
            insert(
                &conn,
                &rec(&format!("{i:02}.wav"), i, "1", Some("222"), None),
            )
            .unwrap();
        }
        let (page, total) = search(&conn, &Filter::default(), &Scope::All, 25, 25).unwrap();
        assert_eq!(total, 30);
        let names: Vec<_> = page.iter().map(|r| r.file.as_str()).collect();
        assert_eq!(names, ["04.wav", "03.wav", "02.wav", "01.wav", "00.wav"]);
        assert_eq!(count(&conn).unwrap(), 30);
    }

    #[test]
    fn customer_search_exact_and_fuzzy_on_number_and_name() {
        let conn = open_in_memory();
        insert(&conn, &rec("a.wav", 1, "13800138000", Some("222"), None)).unwrap();
        insert(&conn, &rec("b.wav", 2, "13900139000", Some("222"), None)).unwrap();
        let fuzzy = |t: &str| Filter {
            customer: Some((t.into(), Match::Fuzzy)),
            ..Filter::default()
        };
        assert_eq!(files(&conn, &fuzzy("0138"), &Scope::All), ["a.wav"]);
        assert_eq!(files(&conn, &fuzzy("客户139"), &Scope::All), ["b.wav"]);
        assert_eq!(
            files(&conn, &fuzzy("00"), &Scope::All),
            ["b.wav", "a.wav"],
            "short: LIKE"
        );
        assert_eq!(
            files(&conn, &fuzzy("1%"), &Scope::All),
            Vec::<String>::new()
        );
        assert_eq!(
            files(&conn, &fuzzy("\"13"), &Scope::All),
            Vec::<String>::new()
        );
        let exact = |t: &str| Filter {
            customer: Some((t.into(), Match::Exact)),
            ..Filter::default()
        };
        assert_eq!(files(&conn, &exact("13800138000"), &Scope::All), ["a.wav"]);
        assert_eq!(
            files(&conn, &exact("客户13900139000"), &Scope::All),
            ["b.wav"]
        );
        assert!(files(&conn, &exact("138"), &Scope::All).is_empty());
        let number = Filter {
            number: Some("13900139000".into()),
            ..Filter::default()
        };
        assert_eq!(files(&conn, &number, &Scope::All), ["b.wav"]);
    }

    #[test]
    fn a_masked_viewer_searches_the_numbers_as_shown() {
        let conn = open_in_memory();
        let mut r = rec("a.wav", 1, "13812345678", Some("222"), None);
        r.customer_name = "王先生".into();
        insert(&conn, &r).unwrap();
        let masked = |customer: Option<(&str, Match)>, number: Option<&str>| Filter {
            customer: customer.map(|(t, m)| (t.to_string(), m)),
            number: number.map(str::to_string),
            masked: true,
            ..Filter::default()
        };
        let found = |f: &Filter| files(&conn, f, &Scope::All).len();
        // The hidden digits (1234) match nothing, whichever way they are asked for.
        assert_eq!(found(&masked(Some(("1234", Match::Fuzzy)), None)), 0);
        assert_eq!(found(&masked(Some(("812", Match::Fuzzy)), None)), 0);
        assert_eq!(found(&masked(Some(("13812345678", Match::Exact)), None)), 0);
        assert_eq!(found(&masked(None, Some("13812345678"))), 0);
        // What the agent sees finds the row.
        assert_eq!(found(&masked(Some(("5678", Match::Fuzzy)), None)), 1);
        assert_eq!(found(&masked(Some(("138", Match::Fuzzy)), None)), 1);
        assert_eq!(found(&masked(Some(("138****5678", Match::Exact)), None)), 1);
        assert_eq!(found(&masked(None, Some("138****5678"))), 1);
        // The name is not hidden.
        assert_eq!(found(&masked(Some(("王先生", Match::Fuzzy)), None)), 1);
        // Unmasked, the full number matches as before.
        let plain = Filter {
            customer: Some(("1234".into(), Match::Fuzzy)),
            ..Filter::default()
        };
        assert_eq!(found(&plain), 1);
    }

    #[test]
    fn one_or_two_characters_of_a_name_use_the_pair_index() {
        let conn = open_in_memory();
        let mut r = rec("a.wav", 1, "13800138000", Some("222"), None);
        r.customer_name = "王秀英".into();
        insert(&conn, &r).unwrap();
        let mut r = rec("b.wav", 2, "13900139000", Some("222"), None);
        r.customer_name = "王芳".into();
        insert(&conn, &r).unwrap();
        let mut r = rec("c.wav", 3, "13700137000", Some("222"), None);
        r.customer_name = "Li Na".into();
        insert(&conn, &r).unwrap();
        let fuzzy = |t: &str| Filter {
            customer: Some((t.into(), Match::Fuzzy)),
            ..Filter::default()
        };
        assert_eq!(files(&conn, &fuzzy("王"), &Scope::All), ["b.wav", "a.wav"]);
        assert_eq!(files(&conn, &fuzzy("王芳"), &Scope::All), ["b.wav"]);
        assert_eq!(files(&conn, &fuzzy("秀英"), &Scope::All), ["a.wav"]);
        assert_eq!(files(&conn, &fuzzy("na"), &Scope::All), ["c.wav"]);
        assert!(files(&conn, &fuzzy("芳王"), &Scope::All).is_empty());
        assert_eq!(name_grams("王秀英"), "王 王秀 秀 秀英 英");
        let id = files_in(&conn, "/m")
            .unwrap()
            .into_iter()
            .find(|f| f.file == "b.wav")
            .unwrap()
            .id;
        delete(&conn, id).unwrap();
        assert!(files(&conn, &fuzzy("王芳"), &Scope::All).is_empty());
    }

    #[test]
    fn the_unfiltered_count_comes_from_the_pairs_and_agrees() {
        let conn = open_in_memory();
        insert(&conn, &rec("a.wav", 1, "1", Some("222"), Some("8002"))).unwrap();
        insert(&conn, &rec("b.wav", 2, "1", Some("333"), Some("8001"))).unwrap();
        insert(&conn, &rec("c.wav", 3, "1", None, Some("8002"))).unwrap();
        insert(&conn, &rec("d.wav", 4, "1", None, Some("8003"))).unwrap();
        insert(&conn, &rec("e.wav", 5, "1", Some("333"), None)).unwrap();
        let scopes = [
            Scope::All,
            Scope::Agent { me: "8002".into() },
            Scope::Leader {
                me: "8001".into(),
                led_queues: vec!["222".into()],
                team: vec!["8001".into(), "8002".into()],
            },
        ];
        for scope in &scopes {
            let (rows, total) = search(&conn, &Filter::default(), scope, 0, 100).unwrap();
            assert_eq!(total as usize, rows.len(), "{scope:?}");
            assert_eq!(count_in_scope(&conn, scope).unwrap() as usize, rows.len());
        }
    }

    #[test]
    fn the_fulltext_index_follows_updates_and_deletes() {
        let conn = open_in_memory();
        insert(&conn, &rec("a.wav", 1, "13800138000", Some("222"), None)).unwrap();
        let id = search(&conn, &Filter::default(), &Scope::All, 0, 1)
            .unwrap()
            .0[0]
            .id;
        conn.execute(
            "UPDATE recordings SET customer_number = '15000150000', customer_name = '王五' WHERE id = ?1",
            [id],
        )
        .unwrap();
        let fuzzy = |t: &str| Filter {
            customer: Some((t.into(), Match::Fuzzy)),
            ..Filter::default()
        };
        assert!(files(&conn, &fuzzy("138001"), &Scope::All).is_empty());
        assert_eq!(files(&conn, &fuzzy("150001"), &Scope::All), ["a.wav"]);
        assert!(delete(&conn, id).unwrap());
        assert!(files(&conn, &fuzzy("150001"), &Scope::All).is_empty());
        assert_eq!(count(&conn).unwrap(), 0);
        assert!(pairs(&conn).unwrap().is_empty());
    }

    #[test]
    fn leader_scope_follows_the_manual() {
        let conn = open_in_memory();
        // 8001 leads 222 now; used to be in 333. 8002 is in 222; 8003 was, and left.
        insert(
            &conn,
            &rec("q222-8002.wav", 1, "1", Some("222"), Some("8002")),
        )
        .unwrap();
        insert(
            &conn,
            &rec("q222-8003.wav", 2, "1", Some("222"), Some("8003")),
        )
        .unwrap();
        insert(&conn, &rec("dout-8002.wav", 3, "1", None, Some("8002"))).unwrap();
        insert(&conn, &rec("dout-8003.wav", 4, "1", None, Some("8003"))).unwrap();
        insert(
            &conn,
            &rec("q333-8001.wav", 5, "1", Some("333"), Some("8001")),
        )
        .unwrap();
        insert(
            &conn,
            &rec("q333-8004.wav", 6, "1", Some("333"), Some("8004")),
        )
        .unwrap();
        insert(&conn, &rec("dout-8001.wav", 7, "1", None, Some("8001"))).unwrap();
        let scope = Scope::Leader {
            me: "8001".into(),
            led_queues: vec!["222".into()],
            team: vec!["8001".into(), "8002".into()],
        };
        assert_eq!(
            files(&conn, &Filter::default(), &scope),
            [
                "dout-8001.wav",
                "q333-8001.wav",
                "dout-8002.wav",
                "q222-8003.wav",
                "q222-8002.wav"
            ]
        );
        let agent = Scope::Agent { me: "8003".into() };
        assert_eq!(
            files(&conn, &Filter::default(), &agent),
            ["dout-8003.wav", "q222-8003.wav"]
        );
        // `allows` says the same as the search, row by row.
        let everything = search(&conn, &Filter::default(), &Scope::All, 0, 100)
            .unwrap()
            .0;
        for scope in [&scope, &agent] {
            let visible = files(&conn, &Filter::default(), scope);
            for row in &everything {
                assert_eq!(
                    scope.allows(row),
                    visible.contains(&row.file),
                    "{scope:?} {}",
                    row.file
                );
            }
        }
    }

    #[test]
    fn filters_combine() {
        let conn = open_in_memory();
        insert(&conn, &rec("a.wav", 1_000, "1", Some("222"), Some("8002"))).unwrap();
        insert(&conn, &rec("b.wav", 2_000, "1", Some("333"), Some("8002"))).unwrap();
        insert(&conn, &rec("c.wav", 3_000, "1", None, Some("8002"))).unwrap();
        let f = Filter {
            agent_job: Some("8002".into()),
            from: Some(1_500),
            to: Some(3_500),
            ..Filter::default()
        };
        assert_eq!(files(&conn, &f, &Scope::All), ["c.wav", "b.wav"]);
        let f = Filter {
            call_type: Some(CallType::ManualOutbound),
            ..Filter::default()
        };
        assert_eq!(files(&conn, &f, &Scope::All), ["c.wav"]);
        let f = Filter {
            queue: Some("222".into()),
            ..Filter::default()
        };
        assert_eq!(files(&conn, &f, &Scope::All), ["a.wav"]);
    }

    #[test]
    fn pairs_are_kept_by_the_triggers() {
        let conn = open_in_memory();
        insert(&conn, &rec("a.wav", 1, "1", Some("222"), None)).unwrap();
        insert(&conn, &rec("b.wav", 2, "1", Some("222"), None)).unwrap();
        assert_eq!(
            set_agent_of_call(&conn, "u-a.wav", "8002", "李四").unwrap(),
            1
        );
        let pairs = pairs(&conn).unwrap();
        assert_eq!(
            pairs,
            [
                Pair {
                    queue: "222".into(),
                    agent_job: "".into(),
                    agent_name: "".into(),
                    count: 1
                },
                Pair {
                    queue: "222".into(),
                    agent_job: "8002".into(),
                    agent_name: "李四".into(),
                    count: 1
                },
            ]
        );
    }

    #[test]
    fn folders_and_availability() {
        let conn = open_in_memory();
        let mut r = rec("a.wav", 1, "1", Some("222"), None);
        r.dir = "/usb/rec/2026/11".into();
        insert(&conn, &r).unwrap();
        let mut r = rec("b.wav", 1, "1", Some("222"), None);
        r.dir = "/usb/rec0".into();
        insert(&conn, &r).unwrap();
        assert_eq!(dirs_under(&conn, "/usb/rec").unwrap(), ["/usb/rec/2026/11"]);
        assert_eq!(set_available_under(&conn, "/usb/rec", false).unwrap(), 1);
        assert!(!files_in(&conn, "/usb/rec/2026/11").unwrap()[0].available);
        assert!(files_in(&conn, "/usb/rec0").unwrap()[0].available);
        assert_eq!(set_available_under(&conn, "/usb/rec/", true).unwrap(), 1);
    }

    #[test]
    fn notes_are_set_and_cleared() {
        let conn = open_in_memory();
        insert(&conn, &rec("a.wav", 1, "1", Some("222"), None)).unwrap();
        let id = files_in(&conn, "/m").unwrap()[0].id;
        assert!(set_note(&conn, id, Some("语气很好"), "admin", 5).unwrap());
        let row = get(&conn, id).unwrap().unwrap();
        assert_eq!(row.note.as_deref(), Some("语气很好"));
        assert_eq!(row.note_by.as_deref(), Some("admin"));
        assert!(set_note(&conn, id, None, "admin", 6).unwrap());
        assert_eq!(get(&conn, id).unwrap().unwrap().note, None);
        assert!(!set_note(&conn, 999, Some("x"), "admin", 7).unwrap());
    }
}
