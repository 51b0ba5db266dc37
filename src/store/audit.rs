//! The audit trail: every configuration change and security event made through the console
//! (who, when, what, before → after, from which address). Secrets are never written here.

use rusqlite::{params, Connection};

use super::now_millis;

#[derive(Debug, Clone, Default)]
pub struct Record<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub address: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub address: Option<String>,
}

pub fn append(conn: &Connection, record: &Record<'_>) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO audit (at, actor, action, target, before, after, address)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            now_millis(),
            record.actor,
            record.action,
            record.target,
            record.before,
            record.after,
            record.address
        ],
    )?;
    Ok(())
}

/// The newest entries first.
pub fn latest(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT at, actor, action, target, before, after, address
         FROM audit ORDER BY at DESC, id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |row| {
        Ok(Entry {
            at: row.get(0)?,
            actor: row.get(1)?,
            action: row.get(2)?,
            target: row.get(3)?,
            before: row.get(4)?,
            after: row.get(5)?,
            address: row.get(6)?,
        })
    })?;
    rows.collect()
}
