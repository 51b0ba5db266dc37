//! Customers of the CRM: a caller's number, name, the agent assigned to them (直呼分配坐席,
//! manual §9.2) and their custom-table values (a JSON object keyed by attribute id, see
//! [`super::custom_fields`]). Read for customer names on recordings and by the call flow.

use rusqlite::{params, Connection, OptionalExtension};

use super::now_millis;

#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub number: String,
    pub name: String,
    pub assigned_agent_id: Option<i64>,
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// The customer's name, when the number is known and has one.
pub fn name_of(conn: &Connection, number: &str) -> rusqlite::Result<Option<String>> {
    let name: Option<String> = conn
        .query_row(
            "SELECT name FROM customers WHERE number = ?1",
            [number],
            |row| row.get(0),
        )
        .optional()?;
    Ok(name.filter(|name| !name.is_empty()))
}

/// The agent assigned to the customer, if any.
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

/// Makes `agent_id` the customer's agent unless they already have one (the first agent to
/// answer an unassigned customer becomes theirs). A number not yet known becomes a
/// customer. True when the assignment was made; one statement, so two agents answering at
/// once cannot both win.
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
    Ok(changed == 1)
}

/// Creates or replaces the customer's name and values (the assignment is kept).
pub fn upsert(
    conn: &Connection,
    number: &str,
    name: &str,
    attributes: &serde_json::Map<String, serde_json::Value>,
) -> rusqlite::Result<()> {
    let now = now_millis();
    let attributes = serde_json::Value::Object(attributes.clone()).to_string();
    conn.execute(
        "INSERT INTO customers (number, name, attributes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?4)
         ON CONFLICT(number) DO UPDATE SET name = excluded.name, attributes = excluded.attributes,
             updated_at = excluded.updated_at",
        params![number, name, attributes, now],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, number: &str) -> rusqlite::Result<Option<Customer>> {
    conn.query_row(
        "SELECT number, name, assigned_agent_id, attributes FROM customers WHERE number = ?1",
        [number],
        |row| {
            let attributes: String = row.get(3)?;
            Ok(Customer {
                number: row.get(0)?,
                name: row.get(1)?,
                assigned_agent_id: row.get(2)?,
                attributes: serde_json::from_str(&attributes).unwrap_or_default(),
            })
        },
    )
    .optional()
}

/// Every assigned customer with their agent's extension, for loading Asterisk's AstDB
/// (`coocenter_agent/<number>`) after a (re)connect.
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

    fn agent(conn: &Connection, job: &str) -> i64 {
        crate::store::agents::insert(
            conn,
            &crate::store::agents::AgentFields {
                name: "张伟",
                job_number: job,
                leader: false,
                extension: job,
                extension_password: "secret",
                extension_type: "sip",
            },
        )
        .unwrap()
    }

    #[test]
    fn the_first_agent_to_answer_keeps_the_customer() {
        let conn = crate::store::open_in_memory();
        let (first, second) = (agent(&conn, "8001"), agent(&conn, "8002"));
        assert_eq!(assigned_agent(&conn, "13800138000").unwrap(), None);
        assert!(assign_if_unassigned(&conn, "13800138000", first).unwrap());
        assert!(!assign_if_unassigned(&conn, "13800138000", second).unwrap());
        assert_eq!(assigned_agent(&conn, "13800138000").unwrap(), Some(first));
        // A name given later keeps the assignment.
        upsert(&conn, "13800138000", "李娜", &serde_json::Map::new()).unwrap();
        assert_eq!(
            name_of(&conn, "13800138000").unwrap().as_deref(),
            Some("李娜")
        );
        assert_eq!(assigned_agent(&conn, "13800138000").unwrap(), Some(first));
        // Deleting the agent frees the customer for the next one.
        crate::store::agents::delete(&conn, first).unwrap();
        assert_eq!(assigned_agent(&conn, "13800138000").unwrap(), None);
        assert!(assign_if_unassigned(&conn, "13800138000", second).unwrap());
    }

    #[test]
    fn an_unknown_or_unnamed_number_has_no_name() {
        let conn = crate::store::open_in_memory();
        assert_eq!(name_of(&conn, "10086").unwrap(), None);
        let id = agent(&conn, "8001");
        assign_if_unassigned(&conn, "10086", id).unwrap();
        assert_eq!(name_of(&conn, "10086").unwrap(), None);
        assert_eq!(
            get(&conn, "10086").unwrap().unwrap().assigned_agent_id,
            Some(id)
        );
    }
}
