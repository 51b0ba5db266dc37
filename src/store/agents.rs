//! Agents (坐席, manual §4) and the queue memberships we keep as the source of truth, plus the
//! extensions last seen in the PBX (so an agent can be checked against them while Asterisk is
//! briefly away).

use rusqlite::{params, Connection, OptionalExtension};

use super::now_millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: i64,
    pub name: String,
    pub job_number: String,
    pub leader: bool,
    pub extension: String,
    /// The extension's password: shown masked, revealed on request, never logged.
    pub extension_password: String,
    pub extension_type: String,
}

/// What a create or edit writes.
#[derive(Debug, Clone)]
pub struct AgentFields<'a> {
    pub name: &'a str,
    pub job_number: &'a str,
    pub leader: bool,
    pub extension: &'a str,
    pub extension_password: &'a str,
    pub extension_type: &'a str,
}

const COLUMNS: &str = "id, name, job_number, leader, extension, extension_password, extension_type";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Agent> {
    Ok(Agent {
        id: row.get(0)?,
        name: row.get(1)?,
        job_number: row.get(2)?,
        leader: row.get(3)?,
        extension: row.get(4)?,
        extension_password: row.get(5)?,
        extension_type: row.get(6)?,
    })
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<Agent>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM agents ORDER BY job_number"))?;
    let rows = stmt.query_map([], from_row)?;
    rows.collect()
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Agent>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM agents WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// The agent who logs in with this job number or extension.
pub fn find_for_login(conn: &Connection, login: &str) -> rusqlite::Result<Option<Agent>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM agents WHERE job_number = ?1 OR extension = ?1 ORDER BY job_number = ?1 DESC LIMIT 1"),
        [login],
        from_row,
    )
    .optional()
}

/// Another agent holding this job number or extension (for the uniqueness refusals).
pub fn holder_of_job_number(
    conn: &Connection,
    job_number: &str,
    except: Option<i64>,
) -> rusqlite::Result<Option<Agent>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM agents WHERE job_number = ?1 AND id IS NOT ?2"),
        params![job_number, except],
        from_row,
    )
    .optional()
}

pub fn holder_of_extension(
    conn: &Connection,
    extension: &str,
    except: Option<i64>,
) -> rusqlite::Result<Option<Agent>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM agents WHERE extension = ?1 AND id IS NOT ?2"),
        params![extension, except],
        from_row,
    )
    .optional()
}

pub fn insert(conn: &Connection, fields: &AgentFields<'_>) -> rusqlite::Result<i64> {
    let now = now_millis();
    conn.execute(
        "INSERT INTO agents (name, job_number, leader, extension, extension_password, extension_type, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![
            fields.name,
            fields.job_number,
            fields.leader,
            fields.extension,
            fields.extension_password,
            fields.extension_type,
            now
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn update(conn: &Connection, id: i64, fields: &AgentFields<'_>) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE agents SET name = ?2, job_number = ?3, leader = ?4, extension = ?5,
             extension_password = ?6, extension_type = ?7, updated_at = ?8
         WHERE id = ?1",
        params![
            id,
            fields.name,
            fields.job_number,
            fields.leader,
            fields.extension,
            fields.extension_password,
            fields.extension_type,
            now_millis()
        ],
    )?;
    Ok(changed == 1)
}

pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM agents WHERE id = ?1", [id])? == 1)
}

pub fn count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM agents", [], |row| {
        row.get::<_, i64>(0)
    })
    .map(|n| n as u64)
}

/// An extension the PBX offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxExtension {
    pub extension: String,
    pub interface: String,
    pub technology: String,
}

/// Replaces the cached list of the PBX's extensions.
pub fn replace_extensions(
    conn: &mut Connection,
    extensions: &[PbxExtension],
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM pbx_extensions", [])?;
    let now = now_millis();
    for e in extensions {
        tx.execute(
            "INSERT OR REPLACE INTO pbx_extensions (extension, interface, technology, seen_at) VALUES (?1, ?2, ?3, ?4)",
            params![e.extension, e.interface, e.technology, now],
        )?;
    }
    tx.commit()
}

pub fn extensions(conn: &Connection) -> rusqlite::Result<Vec<PbxExtension>> {
    let mut stmt = conn.prepare(
        "SELECT extension, interface, technology FROM pbx_extensions ORDER BY extension",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(PbxExtension {
            extension: row.get(0)?,
            interface: row.get(1)?,
            technology: row.get(2)?,
        })
    })?;
    rows.collect()
}

pub fn extension(conn: &Connection, extension: &str) -> rusqlite::Result<Option<PbxExtension>> {
    conn.query_row(
        "SELECT extension, interface, technology FROM pbx_extensions WHERE extension = ?1",
        [extension],
        |row| {
            Ok(PbxExtension {
                extension: row.get(0)?,
                interface: row.get(1)?,
                technology: row.get(2)?,
            })
        },
    )
    .optional()
}
