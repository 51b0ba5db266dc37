//! The read side of the voice prompts table (owned by the prompts work, manual §9.1): what
//! the call-flow settings need to check a prompt name and add up durations for the 10 s
//! rule. The schema is the shared contract's; the prompts branch owns the writes.

use rusqlite::{Connection, OptionalExtension, Row};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptRow {
    /// The safe file stem, what settings refer to.
    pub name: String,
    /// The file in the prompts folder, e.g. `welcome.wav`.
    pub file_name: String,
    /// `mp3`, `wav`, `browser` or `tts`.
    pub source_format: String,
    pub size_bytes: i64,
    pub duration_ms: i64,
    pub created_at: i64,
}

fn row(row: &Row<'_>) -> rusqlite::Result<PromptRow> {
    Ok(PromptRow {
        name: row.get(0)?,
        file_name: row.get(1)?,
        source_format: row.get(2)?,
        size_bytes: row.get(3)?,
        duration_ms: row.get(4)?,
        created_at: row.get(5)?,
    })
}

const COLUMNS: &str = "name, file_name, source_format, size_bytes, duration_ms, created_at";

pub fn get(conn: &Connection, name: &str) -> rusqlite::Result<Option<PromptRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM prompts WHERE name = ?1"),
        [name],
        row,
    )
    .optional()
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<PromptRow>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM prompts ORDER BY name"))?;
    let rows = stmt.query_map([], row)?;
    rows.collect()
}
