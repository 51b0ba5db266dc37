//! Console accounts (the administrator now; agents and team leaders sign in through their own
//! table later) and the history of their password hashes, so old passwords are not reused.

use rusqlite::{params, Connection, OptionalExtension};

use super::now_millis;

/// How many earlier password hashes are kept per account.
pub const PASSWORD_HISTORY_DEPTH: usize = 5;

#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub role: String,
    pub password_hash: String,
    pub must_change_password: bool,
}

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: row.get(0)?,
        username: row.get(1)?,
        role: row.get(2)?,
        password_hash: row.get(3)?,
        must_change_password: row.get(4)?,
    })
}

const COLUMNS: &str = "id, username, role, password_hash, must_change_password";

pub fn find_by_username(conn: &Connection, username: &str) -> rusqlite::Result<Option<Account>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM accounts WHERE username = ?1"),
        [username],
        from_row,
    )
    .optional()
}

pub fn find_by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<Account>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM accounts", [], |row| row.get(0))
}

/// Creates an account unless one with that name exists. Returns whether it was created.
pub fn insert_if_absent(
    conn: &Connection,
    username: &str,
    role: &str,
    password_hash: &str,
    must_change_password: bool,
) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "INSERT OR IGNORE INTO accounts (username, role, password_hash, must_change_password, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![username, role, password_hash, must_change_password, now_millis()],
    )?;
    Ok(changed == 1)
}

/// The hashes of the account's current and recent passwords, newest first.
pub fn recent_hashes(conn: &Connection, account_id: i64) -> rusqlite::Result<Vec<String>> {
    let mut hashes = vec![];
    if let Some(account) = find_by_id(conn, account_id)? {
        hashes.push(account.password_hash);
    }
    let mut stmt = conn.prepare(
        "SELECT password_hash FROM password_history WHERE account_id = ?1
         ORDER BY replaced_at DESC, rowid DESC LIMIT ?2",
    )?;
    let older = stmt.query_map(params![account_id, PASSWORD_HISTORY_DEPTH as i64], |row| {
        row.get::<_, String>(0)
    })?;
    for hash in older {
        hashes.push(hash?);
    }
    Ok(hashes)
}

/// Replaces the password in one transaction: the old hash goes into the history (trimmed to
/// its depth) and the must-change flag is set as given.
pub fn set_password(
    conn: &mut Connection,
    account_id: i64,
    new_hash: &str,
    must_change_password: bool,
) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    let now = now_millis();
    tx.execute(
        "INSERT INTO password_history (account_id, password_hash, replaced_at)
         SELECT id, password_hash, ?2 FROM accounts WHERE id = ?1",
        params![account_id, now],
    )?;
    tx.execute(
        "DELETE FROM password_history WHERE account_id = ?1 AND rowid NOT IN (
            SELECT rowid FROM password_history WHERE account_id = ?1
            ORDER BY replaced_at DESC, rowid DESC LIMIT ?2)",
        params![account_id, PASSWORD_HISTORY_DEPTH as i64],
    )?;
    tx.execute(
        "UPDATE accounts SET password_hash = ?2, must_change_password = ?3, password_changed_at = ?4
         WHERE id = ?1",
        params![account_id, new_hash, must_change_password, now],
    )?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_the_latest_hashes() {
        let mut conn = crate::store::open_in_memory();
        assert!(insert_if_absent(&conn, "admin", "admin", "h0", true).unwrap());
        assert!(!insert_if_absent(&conn, "admin", "admin", "other", false).unwrap());
        let id = find_by_username(&conn, "admin").unwrap().unwrap().id;
        for n in 1..=8 {
            set_password(&mut conn, id, &format!("h{n}"), false).unwrap();
        }
        let hashes = recent_hashes(&conn, id).unwrap();
        assert_eq!(hashes, vec!["h8", "h7", "h6", "h5", "h4", "h3"]);
        let account = find_by_id(&conn, id).unwrap().unwrap();
        assert!(!account.must_change_password);
    }
}
