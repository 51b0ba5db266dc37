//! Customers (CRM, manual §9.2 直呼分配坐席): the part the call flow needs — a customer's
//! assigned agent, and assigning the first agent who answers an unassigned caller. The
//! schema is the shared contract's; the CRM work owns the rest of this table's use.

use rusqlite::{params, Connection, OptionalExtension};

use super::now_millis;

pub fn name_of(conn: &Connection, number: &str) -> rusqlite::Result<Option<String>> {
    conn.query_row(
        "SELECT name FROM customers WHERE number = ?1",
        [number],
        |row| row.get(0),
    )
    .optional()
}

pub fn assigned_agent(conn: &Connection, number: &str) -> rusqlite::Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT assigned_agent_id FROM customers WHERE number = ?1",
            [number],
            |row| row.get::<_, Option<i64>>(0),
        )
        .optional()?
        .flatten())
}

/// Makes `agent_id` the customer's agent unless one is assigned already (creating the
/// customer when unknown). Returns whether this call assigned it.
pub fn assign_if_unassigned(
    conn: &Connection,
    number: &str,
    agent_id: i64,
) -> rusqlite::Result<bool> {
    let now = now_millis();
    let changed = conn.execute(
        "INSERT INTO customers (number, assigned_agent_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?3)
         ON CONFLICT(number) DO UPDATE SET assigned_agent_id = excluded.assigned_agent_id,
                                           updated_at = excluded.updated_at
         WHERE customers.assigned_agent_id IS NULL",
        params![number, agent_id, now],
    )?;
    Ok(changed > 0)
}

/// Every (customer number, assigned agent's extension), to load Asterisk's lookup table.
pub fn assignments(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT c.number, a.extension FROM customers c
         JOIN agents a ON a.id = c.assigned_agent_id ORDER BY c.number",
    )?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_agent_stays_assigned() {
        let conn = crate::store::open_in_memory();
        for (id, ext) in [(1, "1001"), (2, "1002")] {
            conn.execute(
                "INSERT INTO agents (id, name, job_number, extension, extension_password,
                 extension_type, created_at, updated_at) VALUES (?1, 'a', ?2, ?2, 'p', 'sip', 0, 0)",
                params![id, ext],
            )
            .unwrap();
        }
        assert_eq!(assigned_agent(&conn, "13800138000").unwrap(), None);
        assert!(assign_if_unassigned(&conn, "13800138000", 1).unwrap());
        assert!(!assign_if_unassigned(&conn, "13800138000", 2).unwrap());
        assert_eq!(assigned_agent(&conn, "13800138000").unwrap(), Some(1));
        assert_eq!(name_of(&conn, "13800138000").unwrap().as_deref(), Some(""));
        assert_eq!(
            assignments(&conn).unwrap(),
            [("13800138000".to_string(), "1001".to_string())]
        );
    }
}
