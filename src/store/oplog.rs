//! The operation log of manual §8: logins, logouts, pauses (忙) and unpauses (闲), by agents
//! and by the administrator, whose name, job number and extension are all 管理员.

use rusqlite::{params, Connection};

use super::now_millis;

/// The kinds of operation the log records. Stored by their code; the UI names them.
/// The detail of a pause without a reason (manual §8: 未知).
pub const UNKNOWN_REASON: &str = "未知";

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

impl Actor {
    /// A configured agent, as the log names it.
    pub fn of(agent: &super::agents::Agent) -> Actor {
        Actor {
            agent_name: agent.name.clone(),
            job_number: agent.job_number.clone(),
            extension: agent.extension.clone(),
        }
    }
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

const COLUMNS: &str = "id, at, agent_name, job_number, extension, event_type, detail";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        id: row.get(0)?,
        at: row.get(1)?,
        agent_name: row.get(2)?,
        job_number: row.get(3)?,
        extension: row.get(4)?,
        event_type: row.get(5)?,
        detail: row.get(6)?,
    })
}

/// The newest entries first.
pub fn latest(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM oplog ORDER BY at DESC, id DESC LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit], from_row)?;
    rows.collect()
}

/// The names the operation log shows for each event type (manual §8: 登录, 退出, 忙, 闲), so
/// that searching for what is on screen finds it.
pub const EVENT_LABELS: &[(&str, &str, &str)] = &[
    ("login", "登录", "Login"),
    ("logout", "退出", "Logout"),
    ("pause", "忙", "Busy"),
    ("unpause", "闲", "Available"),
];

/// A page of the log, newest first, optionally filtered by `query`: a substring of any
/// column as shown (name, job number, extension, event type in either language, detail, or
/// the local date-time `YYYY-MM-DD HH:MM:SS`). Returns the total number of matching rows too.
pub fn search(
    conn: &Connection,
    query: &str,
    limit: u32,
    offset: u32,
) -> rusqlite::Result<(u64, Vec<Entry>)> {
    let query = query.trim();
    let pattern = super::like_pattern(query);
    let lowered = query.to_lowercase();
    let matching_types: Vec<&str> = EVENT_LABELS
        .iter()
        .filter(|(code, zh, en)| {
            !query.is_empty()
                && (code.contains(&lowered)
                    || zh.contains(query)
                    || en.to_lowercase().contains(&lowered))
        })
        .map(|(code, _, _)| *code)
        .collect();
    let types = matching_types.join(",");
    let filter = "(?1 = '' OR agent_name LIKE ?2 ESCAPE '\\' OR job_number LIKE ?2 ESCAPE '\\'
        OR extension LIKE ?2 ESCAPE '\\' OR detail LIKE ?2 ESCAPE '\\'
        OR instr(',' || ?3 || ',', ',' || event_type || ',') > 0
        OR strftime('%Y-%m-%d %H:%M:%S', at / 1000, 'unixepoch', 'localtime') LIKE ?2 ESCAPE '\\')";
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM oplog WHERE {filter}"),
        params![query, pattern, types],
        |row| row.get(0),
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM oplog WHERE {filter} ORDER BY at DESC, id DESC LIMIT ?4 OFFSET ?5"
    ))?;
    let rows = stmt.query_map(params![query, pattern, types, limit, offset], from_row)?;
    Ok((total as u64, rows.collect::<rusqlite::Result<_>>()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(name: &str, job: &str, ext: &str) -> Actor {
        Actor {
            agent_name: name.into(),
            job_number: job.into(),
            extension: ext.into(),
        }
    }

    #[test]
    fn search_covers_every_column_as_shown() {
        let conn = crate::store::open_in_memory();
        append(
            &conn,
            &actor("管理员", "管理员", "管理员"),
            EventType::Login,
            "127.0.0.1",
        )
        .unwrap();
        append(
            &conn,
            &actor("张伟", "8001", "1001"),
            EventType::Pause,
            "午休",
        )
        .unwrap();
        append(
            &conn,
            &actor("王芳", "8002", "1002"),
            EventType::Unpause,
            "",
        )
        .unwrap();
        let hits = |q: &str| {
            search(&conn, q, 50, 0)
                .unwrap()
                .1
                .into_iter()
                .map(|e| e.agent_name)
                .collect::<Vec<_>>()
        };
        assert_eq!(hits(""), vec!["王芳", "张伟", "管理员"], "newest first");
        assert_eq!(hits("8001"), vec!["张伟"]);
        assert_eq!(hits("1002"), vec!["王芳"]);
        assert_eq!(hits("午休"), vec!["张伟"]);
        assert_eq!(hits("忙"), vec!["张伟"]);
        assert_eq!(hits("闲"), vec!["王芳"]);
        assert_eq!(hits("login"), vec!["管理员"]);
        assert_eq!(hits("管理员"), vec!["管理员"]);
        let today = chrono::Local::now().format("%Y-%m-%d").to_string();
        assert_eq!(hits(&today).len(), 3);
        assert_eq!(
            hits("100%"),
            Vec::<String>::new(),
            "LIKE wildcards are literal"
        );
        let (total, page) = search(&conn, "", 2, 2).unwrap();
        assert_eq!((total, page.len()), (3, 1));
    }
}
