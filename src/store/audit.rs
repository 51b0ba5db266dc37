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

const COLUMNS: &str = "at, actor, action, target, before, after, address";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        at: row.get(0)?,
        actor: row.get(1)?,
        action: row.get(2)?,
        target: row.get(3)?,
        before: row.get(4)?,
        after: row.get(5)?,
        address: row.get(6)?,
    })
}

/// The newest entries first.
pub fn latest(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit ORDER BY at DESC, id DESC LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit], from_row)?;
    rows.collect()
}

/// A page of the trail, newest first, filtered by a substring of any column or of the local
/// date-time.
pub fn search(
    conn: &Connection,
    query: &str,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<(u64, Vec<Entry>)> {
    let query = query.trim();
    let pattern = super::like_pattern(query);
    let filter = "(?1 = '' OR actor LIKE ?2 ESCAPE '\\' OR action LIKE ?2 ESCAPE '\\'
        OR target LIKE ?2 ESCAPE '\\' OR coalesce(before, '') LIKE ?2 ESCAPE '\\'
        OR coalesce(after, '') LIKE ?2 ESCAPE '\\' OR coalesce(address, '') LIKE ?2 ESCAPE '\\'
        OR strftime('%Y-%m-%d %H:%M:%S', at / 1000, 'unixepoch', 'localtime') LIKE ?2 ESCAPE '\\')";
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM audit WHERE {filter}"),
        params![query, pattern],
        |row| row.get(0),
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit WHERE {filter} ORDER BY at DESC, id DESC LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(params![query, pattern, limit, offset], from_row)?;
    Ok((total as u64, rows.collect::<rusqlite::Result<_>>()?))
}
