//! 满意度调查 results (manual §9.2): one score 1–5 per surveyed call, with the agent who took
//! it, and the per-agent report (count, average, distribution) over a time range.

use rusqlite::{params, Connection, OptionalExtension};

/// A score as the PBX reported it, with the answering agent's interface.
#[derive(Debug, Clone)]
pub struct NewResult<'a> {
    pub uniqueid: &'a str,
    pub queue: &'a str,
    pub agent_interface: &'a str,
    /// The extension in `agent_interface`, to find our agent.
    pub agent_extension: &'a str,
    /// Asterisk's member name, kept when the extension is not one of our agents.
    pub member_name: &'a str,
    pub score: u8,
    pub at: i64,
}

/// The agent interface that answered the call `uniqueid` in `queue`, as recorded from
/// `AgentConnect`.
pub fn answering_interface(
    conn: &Connection,
    uniqueid: &str,
    queue: &str,
) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT agent_interface, coalesce(agent_name, '') FROM queue_calls
         WHERE uniqueid = ?1 AND queue = ?2 AND agent_interface IS NOT NULL",
        params![uniqueid, queue],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
}

/// Stores a result; a second score for the same call is ignored (returns false).
pub fn insert(conn: &Connection, result: &NewResult<'_>) -> rusqlite::Result<bool> {
    let agent: Option<(i64, String, String)> = conn
        .query_row(
            "SELECT id, name, job_number FROM agents WHERE extension = ?1",
            [result.agent_extension],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let (agent_id, name, job) = match agent {
        Some((id, name, job)) => (Some(id), name, job),
        None => (None, result.member_name.to_string(), String::new()),
    };
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO survey_results
             (uniqueid, queue, agent_interface, agent_id, agent_name, job_number, score, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            result.uniqueid,
            result.queue,
            result.agent_interface,
            agent_id,
            name,
            job,
            result.score,
            result.at
        ],
    )?;
    Ok(inserted > 0)
}

/// One agent's line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentScores {
    pub agent_name: String,
    pub job_number: String,
    pub count: u64,
    pub average: f64,
    /// How many calls scored 1, 2, 3, 4, 5.
    pub distribution: [u64; 5],
}

/// Results with `from <= at < to`, one line per agent (by job number, then name), best
/// average first.
pub fn report(conn: &Connection, from: i64, to: i64) -> rusqlite::Result<Vec<AgentScores>> {
    let mut stmt = conn.prepare(
        "SELECT agent_name, job_number, count(*), avg(score),
                sum(score = 1), sum(score = 2), sum(score = 3), sum(score = 4), sum(score = 5)
         FROM survey_results WHERE at >= ?1 AND at < ?2
         GROUP BY job_number, agent_name
         ORDER BY avg(score) DESC, job_number, agent_name",
    )?;
    let rows = stmt.query_map(params![from, to], |row| {
        Ok(AgentScores {
            agent_name: row.get(0)?,
            job_number: row.get(1)?,
            count: row.get(2)?,
            average: row.get(3)?,
            distribution: [
                row.get(4)?,
                row.get(5)?,
                row.get(6)?,
                row.get(7)?,
                row.get(8)?,
            ],
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_counts_averages_and_distributes_per_agent() {
        let conn = crate::store::open_in_memory();
        conn.execute(
            "INSERT INTO agents (id, name, job_number, extension, extension_password,
             extension_type, created_at, updated_at) VALUES (1, '张伟', '8001', '1001', 'p', 'sip', 0, 0)",
            [],
        )
        .unwrap();
        let add = |uid: &str, ext: &str, score: u8, at: i64| {
            insert(
                &conn,
                &NewResult {
                    uniqueid: uid,
                    queue: "222",
                    agent_interface: &format!("PJSIP/{ext}"),
                    agent_extension: ext,
                    member_name: "外部",
                    score,
                    at,
                },
            )
            .unwrap()
        };
        assert!(add("1.1", "1001", 5, 100));
        assert!(add("1.2", "1001", 4, 200));
        assert!(!add("1.2", "1001", 1, 250), "one score per call");
        assert!(add("1.3", "1009", 2, 300));
        assert!(add("1.4", "1001", 1, 5000));
        let lines = report(&conn, 0, 1000).unwrap();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].agent_name, "张伟");
        assert_eq!(lines[0].job_number, "8001");
        assert_eq!(lines[0].count, 2);
        assert!((lines[0].average - 4.5).abs() < 1e-9);
        assert_eq!(lines[0].distribution, [0, 0, 0, 1, 1]);
        assert_eq!(lines[1].agent_name, "外部");
        assert_eq!(lines[1].distribution, [0, 1, 0, 0, 0]);
    }
}
