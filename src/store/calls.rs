//! Queue calls and their outcomes (one row per call and queue), the per-queue statistics
//! epoch (counts restart when a queue's configuration changes, as manual §3 says).

use rusqlite::{params, Connection, OptionalExtension};

pub fn insert_joined(
    conn: &Connection,
    uniqueid: &str,
    queue: &str,
    caller_number: &str,
    caller_name: &str,
    at: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO queue_calls (uniqueid, queue, caller_number, caller_name, joined_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![uniqueid, queue, caller_number, caller_name, at],
    )?;
    Ok(())
}

pub fn set_answered(
    conn: &Connection,
    uniqueid: &str,
    queue: &str,
    agent_interface: &str,
    agent_name: &str,
    hold_seconds: i64,
    at: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE queue_calls SET answered_at = ?3, agent_interface = ?4, agent_name = ?5, hold_seconds = ?6
         WHERE uniqueid = ?1 AND queue = ?2",
        params![uniqueid, queue, at, agent_interface, agent_name, hold_seconds],
    )?;
    Ok(())
}

pub fn set_ended(
    conn: &Connection,
    uniqueid: &str,
    queue: &str,
    outcome: &str,
    hold_seconds: Option<i64>,
    talk_seconds: Option<i64>,
    at: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE queue_calls SET ended_at = ?3, outcome = ?4,
             hold_seconds = coalesce(?5, hold_seconds), talk_seconds = ?6
         WHERE uniqueid = ?1 AND queue = ?2 AND outcome IS NULL",
        params![uniqueid, queue, at, outcome, hold_seconds, talk_seconds],
    )?;
    Ok(())
}

/// Finished calls per queue since each queue's statistics epoch: (queue, completed,
/// not answered).
pub fn counts_per_queue(conn: &Connection) -> rusqlite::Result<Vec<(String, u64, u64)>> {
    let mut stmt = conn.prepare(
        "SELECT c.queue,
                SUM(c.outcome = 'answered'),
                SUM(c.outcome IN ('abandoned', 'timeout', 'other'))
         FROM queue_calls c LEFT JOIN queue_stats_epoch e ON e.queue = c.queue
         WHERE c.outcome IS NOT NULL AND c.joined_at >= coalesce(e.since, 0)
         GROUP BY c.queue",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get(0)?,
            row.get::<_, i64>(1)? as u64,
            row.get::<_, i64>(2)? as u64,
        ))
    })?;
    rows.collect()
}

/// Restarts a queue's counts from `since` (a configuration change).
pub fn reset_epoch(conn: &Connection, queue: &str, since: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO queue_stats_epoch (queue, since) VALUES (?1, ?2)
         ON CONFLICT(queue) DO UPDATE SET since = excluded.since",
        params![queue, since],
    )?;
    Ok(())
}

/// (joined_at, answered) of the calls that joined in `[from, to)` and have ended.
pub fn finished_between(
    conn: &Connection,
    from: i64,
    to: i64,
) -> rusqlite::Result<Vec<(i64, bool)>> {
    let mut stmt = conn.prepare(
        "SELECT joined_at, outcome = 'answered' FROM queue_calls
         WHERE joined_at >= ?1 AND joined_at < ?2 AND outcome IS NOT NULL",
    )?;
    let rows = stmt.query_map(params![from, to], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// One call as stored (for tests and the call report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRow {
    pub uniqueid: String,
    pub queue: String,
    pub caller_number: String,
    pub agent_name: Option<String>,
    pub hold_seconds: Option<i64>,
    pub talk_seconds: Option<i64>,
    pub outcome: Option<String>,
}

pub fn all(conn: &Connection) -> rusqlite::Result<Vec<CallRow>> {
    let mut stmt = conn.prepare(
        "SELECT uniqueid, queue, caller_number, agent_name, hold_seconds, talk_seconds, outcome
         FROM queue_calls ORDER BY joined_at, id",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(CallRow {
            uniqueid: row.get(0)?,
            queue: row.get(1)?,
            caller_number: row.get(2)?,
            agent_name: row.get(3)?,
            hold_seconds: row.get(4)?,
            talk_seconds: row.get(5)?,
            outcome: row.get(6)?,
        })
    })?;
    rows.collect()
}

pub fn count_oplog(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM oplog", [], |row| row.get::<_, i64>(0))
        .map(|n| n as u64)
}

pub fn epoch_of(conn: &Connection, queue: &str) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT since FROM queue_stats_epoch WHERE queue = ?1",
        [queue],
        |row| row.get(0),
    )
    .optional()
}
