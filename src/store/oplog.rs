//! The operation log of manual §8: logins, logouts, pauses (忙) and unpauses (闲), by agents
//! and by the administrator, whose name, job number and extension are all 管理员.

use rusqlite::{params, Connection};

use super::now_millis;

/// The kinds of operation the log records. Stored by their code; the UI names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Login,
    Logout,
    Pause,
    Unpause,
}

impl EventType {
    pub fn code(self) -> &'static str {
        match self {
            EventType::Login => "login",
            EventType::Logout => "logout",
            EventType::Pause => "pause",
            EventType::Unpause => "unpause",
        }
    }
}

/// Who did it, as the log's three identity columns show.
#[derive(Debug, Clone)]
pub struct Actor {
    pub agent_name: String,
    pub job_number: String,
    pub extension: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub agent_name: String,
    pub job_number: String,
    pub extension: String,
    pub event_type: String,
    pub detail: String,
}

pub fn append(
    conn: &Connection,
    actor: &Actor,
    event: EventType,
    detail: &str,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO oplog (at, agent_name, job_number, extension, event_type, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            now_millis(),
            actor.agent_name,
            actor.job_number,
            actor.extension,
            event.code(),
            detail
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The newest entries first.
pub fn latest(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, agent_name, job_number, extension, event_type, detail
         FROM oplog ORDER BY at DESC, id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |row| {
        Ok(Entry {
            id: row.get(0)?,
            at: row.get(1)?,
            agent_name: row.get(2)?,
            job_number: row.get(3)?,
            extension: row.get(4)?,
            event_type: row.get(5)?,
            detail: row.get(6)?,
        })
    })?;
    rows.collect()
}
