//! The `prompts` table: one row per voice prompt file in the prompts folder (语音管理).
//! The file itself is written by `media::prompts`; this module only keeps the index that the
//! console lists and the call-flow settings read (durations for the 10 s rule).

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use utoipa::ToSchema;

/// One prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PromptRow {
    /// The safe ASCII file stem: what Asterisk plays (`coocenter/<name>`) and what settings
    /// refer to.
    pub name: String,
    /// What the administrator called it (any language).
    pub display_name: String,
    /// The file in the prompts folder, e.g. `welcome.wav`.
    pub file_name: String,
    /// What was uploaded: `mp3`, `wav`, `browser` (recorded in the browser) or `tts`.
    pub source_format: String,
    /// Size of the converted file.
    pub size_bytes: i64,
    pub duration_ms: i64,
    /// Milliseconds since the epoch.
    pub created_at: i64,
}

const COLUMNS: &str =
    "name, display_name, file_name, source_format, size_bytes, duration_ms, created_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<PromptRow> {
    Ok(PromptRow {
        name: row.get(0)?,
        display_name: row.get(1)?,
        file_name: row.get(2)?,
        source_format: row.get(3)?,
        size_bytes: row.get(4)?,
        duration_ms: row.get(5)?,
        created_at: row.get(6)?,
    })
}

/// The prompt with this file stem.
pub fn get(conn: &Connection, name: &str) -> rusqlite::Result<Option<PromptRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM prompts WHERE name = ?1"),
        [name],
        from_row,
    )
    .optional()
}

/// The prompt the administrator gave this name.
pub fn by_display_name(
    conn: &Connection,
    display_name: &str,
) -> rusqlite::Result<Option<PromptRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM prompts WHERE display_name = ?1"),
        [display_name],
        from_row,
    )
    .optional()
}

/// Every prompt, oldest first.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<PromptRow>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM prompts ORDER BY created_at, name"
    ))?;
    let rows = statement.query_map([], from_row)?;
    rows.collect()
}

pub fn insert(conn: &Connection, row: &PromptRow) -> rusqlite::Result<()> {
    conn.execute(
        &format!("INSERT INTO prompts ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        params![
            row.name,
            row.display_name,
            row.file_name,
            row.source_format,
            row.size_bytes,
            row.duration_ms,
            row.created_at
        ],
    )?;
    Ok(())
}

/// Removes the row; whether there was one.
pub fn delete(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute("DELETE FROM prompts WHERE name = ?1", [name])? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database() -> (tempfile::TempDir, crate::store::Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("db")).unwrap();
        (dir, store)
    }

    fn row(name: &str, display: &str, created_at: i64) -> PromptRow {
        PromptRow {
            name: name.into(),
            display_name: display.into(),
            file_name: format!("{name}.wav"),
            source_format: "mp3".into(),
            size_bytes: 16044,
            duration_ms: 1000,
            created_at,
        }
    }

    #[tokio::test]
    async fn rows_are_kept_listed_found_and_deleted() {
        let (_dir, store) = database();
        store
            .call(|conn| {
                insert(conn, &row("welcome", "欢迎语", 2))?;
                insert(conn, &row("bye", "结束语", 1))?;
                // Names, display names and files are unique.
                assert!(insert(conn, &row("welcome", "other", 3)).is_err());
                assert!(insert(conn, &row("other", "欢迎语", 3)).is_err());
                let mut bad = row("x", "x", 3);
                bad.source_format = "ogg".into();
                assert!(insert(conn, &bad).is_err());
                let all = list(conn)?;
                assert_eq!(
                    all.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
                    ["bye", "welcome"]
                );
                assert_eq!(get(conn, "welcome")?, Some(row("welcome", "欢迎语", 2)));
                assert_eq!(by_display_name(conn, "结束语")?.unwrap().name, "bye");
                assert!(delete(conn, "bye")?);
                assert!(!delete(conn, "bye")?);
                assert_eq!(get(conn, "bye")?, None);
                Ok(())
            })
            .await
            .unwrap();
    }
}
