//! Our side of each queue (manual §5): the display name, the strategy we want and whether it
//! still has to reach Asterisk, and the members (agents) we keep as the source of truth.

use rusqlite::{params, Connection, OptionalExtension};

use super::now_millis;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueSettings {
    pub queue: String,
    pub display_name: Option<String>,
    pub strategy: Option<String>,
    pub strategy_pending: bool,
}

pub fn all_settings(conn: &Connection) -> rusqlite::Result<Vec<QueueSettings>> {
    let mut stmt = conn.prepare(
        "SELECT queue, display_name, strategy, strategy_pending FROM queue_settings ORDER BY queue",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(QueueSettings {
            queue: row.get(0)?,
            display_name: row.get(1)?,
            strategy: row.get(2)?,
            strategy_pending: row.get(3)?,
        })
    })?;
    rows.collect()
}

pub fn settings(conn: &Connection, queue: &str) -> rusqlite::Result<Option<QueueSettings>> {
    conn.query_row(
        "SELECT queue, display_name, strategy, strategy_pending FROM queue_settings WHERE queue = ?1",
        [queue],
        |row| {
            Ok(QueueSettings {
                queue: row.get(0)?,
                display_name: row.get(1)?,
                strategy: row.get(2)?,
                strategy_pending: row.get(3)?,
            })
        },
    )
    .optional()
}

pub fn set_display_name(
    conn: &Connection,
    queue: &str,
    name: Option<&str>,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO queue_settings (queue, display_name, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(queue) DO UPDATE SET display_name = excluded.display_name, updated_at = excluded.updated_at",
        params![queue, name, now_millis()],
    )?;
    Ok(())
}

pub fn set_strategy(
    conn: &Connection,
    queue: &str,
    strategy: &str,
    pending: bool,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO queue_settings (queue, strategy, strategy_pending, updated_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(queue) DO UPDATE SET strategy = excluded.strategy,
             strategy_pending = excluded.strategy_pending, updated_at = excluded.updated_at",
        params![queue, strategy, pending, now_millis()],
    )?;
    Ok(())
}

pub fn clear_pending(conn: &Connection, queue: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE queue_settings SET strategy_pending = 0 WHERE queue = ?1",
        [queue],
    )?;
    Ok(())
}

/// A member as we want it in Asterisk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredMember {
    pub queue: String,
    pub agent_id: i64,
    pub name: String,
    pub extension: String,
    /// The PBX interface of the agent's extension (`PJSIP/1001`), when the PBX has listed it.
    pub interface: Option<String>,
}

pub fn desired_members(conn: &Connection) -> rusqlite::Result<Vec<DesiredMember>> {
    let mut stmt = conn.prepare(
        "SELECT m.queue, a.id, a.name, a.extension, e.interface
         FROM queue_members m JOIN agents a ON a.id = m.agent_id
         LEFT JOIN pbx_extensions e ON e.extension = a.extension
         ORDER BY m.queue, a.job_number",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(DesiredMember {
            queue: row.get(0)?,
            agent_id: row.get(1)?,
            name: row.get(2)?,
            extension: row.get(3)?,
            interface: row.get(4)?,
        })
    })?;
    rows.collect()
}

pub fn add_member(conn: &Connection, queue: &str, agent_id: i64) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "INSERT OR IGNORE INTO queue_members (queue, agent_id, added_at) VALUES (?1, ?2, ?3)",
        params![queue, agent_id, now_millis()],
    )?;
    Ok(changed == 1)
}

pub fn remove_member(conn: &Connection, queue: &str, agent_id: i64) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "DELETE FROM queue_members WHERE queue = ?1 AND agent_id = ?2",
        params![queue, agent_id],
    )?;
    Ok(changed == 1)
}

/// The queues an agent is a member of.
pub fn queues_of(conn: &Connection, agent_id: i64) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT queue FROM queue_members WHERE agent_id = ?1 ORDER BY queue")?;
    let rows = stmt.query_map([agent_id], |row| row.get(0))?;
    rows.collect()
}
