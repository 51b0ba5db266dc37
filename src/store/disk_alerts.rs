//! The free-space alert state of each disk (the mail notification of manual §9.2): whether
//! it is below the threshold and whether that was mailed. Kept in the database so a restart
//! neither repeats a mail nor forgets one owed.

use rusqlite::{params, Connection};

use super::now_millis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertState {
    /// Below the threshold at the last check.
    pub low: bool,
    /// The mail for the last change (low, or recovered) went out.
    pub notified: bool,
}

/// Every disk's state, by mount point.
pub fn all(conn: &Connection) -> rusqlite::Result<std::collections::HashMap<String, AlertState>> {
    let mut stmt = conn.prepare("SELECT mount, low, notified FROM disk_alerts")?;
    let rows = stmt.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            AlertState {
                low: row.get(1)?,
                notified: row.get(2)?,
            },
        ))
    })?;
    rows.collect()
}

pub fn put(conn: &Connection, mount: &str, state: AlertState) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO disk_alerts (mount, low, notified, changed_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(mount) DO UPDATE SET low = excluded.low, notified = excluded.notified,
             changed_at = excluded.changed_at",
        params![mount, state.low, state.notified, now_millis()],
    )?;
    Ok(())
}
