//! The daemon's database: SQLite on flash, through rusqlite (bundled).
//!
//! Owns the connection, its pragmas (WAL, `busy_timeout`, foreign keys), the versioned
//! migrations, and every SQL statement: one module per table family. Nothing above this
//! module writes SQL. SQLite calls block, so [`Store::call`] runs them on tokio's blocking
//! pool, never on the async workers. May not import from the layers above it.

pub mod accounts;
pub mod agents;
pub mod audit;
pub mod calls;
pub mod custom_fields;
pub mod customers;
pub mod data_deletion;
pub mod disk_alerts;
mod migrations;
pub mod oplog;
pub mod prompts;
pub mod queues;
pub mod recordings;
pub mod settings;
pub mod survey;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

/// How long a statement waits for a lock held by another connection (the CLI, a backup).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A failure of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("database worker stopped: {0}")]
    Worker(String),
}

/// A handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    /// Blocking: call it at start-up or from `spawn_blocking`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = Connection::open(path)?;
        configure(&conn)?;
        migrations::apply(&mut conn)?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `job` with the connection on the blocking pool.
    pub async fn call<R, F>(&self, job: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, rusqlite::Error> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock poisons it; the connection itself is still
            // consistent (SQLite rolls back the open transaction), so carry on with it.
            let mut guard = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            job(&mut guard).map_err(StoreError::from)
        })
        .await
        .map_err(|err| StoreError::Worker(err.to_string()))?
    }
}

fn configure(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer. NORMAL is durable against a crash of the daemon;
    // on power loss the last transactions may roll back but the database stays consistent,
    // and it spares the flash an fsync per commit.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    register_functions(conn)
}

/// SQL functions the queries use. `mask_number(text)`: a number as an ordinary agent sees
/// it under 隐藏电话号码 (`accounts::masking`), so their searches compare what they see.
fn register_functions(conn: &Connection) -> Result<(), rusqlite::Error> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "mask_number",
        1,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let number: Option<String> = ctx.get(0)?;
            Ok(number.map(|n| crate::accounts::masking::mask_number(&n)))
        },
    )
}

/// `%text%` for `LIKE … ESCAPE '\'`, with the text's own `\`, `%` and `_` taken literally:
/// the one search pattern of the searchable logs.
pub(crate) fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Milliseconds since the Unix epoch, the time unit of every stored timestamp.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
pub(crate) fn open_in_memory() -> Connection {
    let mut conn = Connection::open_in_memory().unwrap();
    configure(&conn).unwrap();
    migrations::apply(&mut conn).unwrap();
    conn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid_and_idempotent() {
        migrations::validate();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        drop(Store::open(&path).unwrap());
        // A second open on the migrated file applies nothing and succeeds.
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[tokio::test]
    async fn call_runs_off_the_async_workers() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite")).unwrap();
        let n: i64 = store
            .call(|conn| conn.query_row("SELECT 40 + 2", [], |row| row.get(0)))
            .await
            .unwrap();
        assert_eq!(n, 42);
    }
}
