//! 删除数据 (manual §9.2): clearing a whole kind of call-center data — customer information,
//! the operation log, outbound plans, service records — after the user has seen how many
//! rows will go. The deletion happens only if the count is still the one confirmed, in the
//! same transaction as the check, so a confirmation made stale by new rows deletes nothing.
//! The audit trail is never among them.

use rusqlite::{Connection, TransactionBehavior};

/// A kind of data that can be cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// 客户信息: the CRM's customers (names, assignments, custom-table values).
    Customers,
    /// 操作日志 (manual §8).
    Oplog,
    /// 外呼计划: numbers queued to be called.
    OutboundPlans,
    /// 服务记录: what agents recorded about calls.
    ServiceRecords,
}

impl DataKind {
    pub const ALL: [DataKind; 4] = [
        DataKind::Customers,
        DataKind::Oplog,
        DataKind::OutboundPlans,
        DataKind::ServiceRecords,
    ];

    pub fn code(self) -> &'static str {
        match self {
            DataKind::Customers => "customers",
            DataKind::Oplog => "oplog",
            DataKind::OutboundPlans => "outbound_plans",
            DataKind::ServiceRecords => "service_records",
        }
    }

    pub fn from_code(code: &str) -> Option<DataKind> {
        DataKind::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// The table holding it; a fixed name, never text from a request.
    fn table(self) -> &'static str {
        match self {
            DataKind::Customers => "customers",
            DataKind::Oplog => "oplog",
            DataKind::OutboundPlans => "outbound_plans",
            DataKind::ServiceRecords => "service_records",
        }
    }
}

pub fn count(conn: &Connection, kind: DataKind) -> rusqlite::Result<u64> {
    conn.query_row(
        &format!("SELECT COUNT(*) FROM {}", kind.table()),
        [],
        |row| row.get::<_, i64>(0),
    )
    .map(|n| n as u64)
}

/// The outcome of a deletion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deletion {
    /// This many rows were deleted (the confirmed count).
    Deleted(u64),
    /// The count is no longer the confirmed one; nothing was deleted.
    CountChanged { current: u64 },
}

/// Deletes every row of `kind` if there are exactly `confirmed` rows, all or nothing.
pub fn delete_all(
    conn: &mut Connection,
    kind: DataKind,
    confirmed: u64,
) -> rusqlite::Result<Deletion> {
    // IMMEDIATE: the write lock is taken before counting, so no row can slip in between.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = count(&tx, kind)?;
    if current != confirmed {
        return Ok(Deletion::CountChanged { current });
    }
    let deleted = tx.execute(&format!("DELETE FROM {}", kind.table()), [])? as u64;
    tx.commit()?;
    Ok(Deletion::Deleted(deleted))
}

/// Adds an outbound plan entry (a number to call for a queue).
pub fn add_outbound_plan(
    conn: &Connection,
    queue: &str,
    number: &str,
    customer_name: &str,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO outbound_plans (queue, number, customer_name, created_at) VALUES (?1, ?2, ?3, ?4)",
        rusqlite::params![queue, number, customer_name, super::now_millis()],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Adds a service record (what an agent noted about a call with a customer).
pub fn add_service_record(
    conn: &Connection,
    uniqueid: Option<&str>,
    customer_number: &str,
    agent_id: Option<i64>,
    queue: Option<&str>,
    content: &str,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO service_records (uniqueid, customer_number, agent_id, queue, content, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        rusqlite::params![uniqueid, customer_number, agent_id, queue, content, super::now_millis()],
    )?;
    Ok(conn.last_insert_rowid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deletes_only_with_the_confirmed_count() {
        let mut conn = crate::store::open_in_memory();
        add_outbound_plan(&conn, "222", "13800138000", "张三").unwrap();
        add_outbound_plan(&conn, "222", "13900139000", "").unwrap();
        add_service_record(
            &conn,
            Some("1700000000.1"),
            "13800138000",
            None,
            None,
            "回访",
        )
        .unwrap();
        assert_eq!(count(&conn, DataKind::OutboundPlans).unwrap(), 2);
        assert_eq!(
            delete_all(&mut conn, DataKind::OutboundPlans, 1).unwrap(),
            Deletion::CountChanged { current: 2 }
        );
        assert_eq!(
            count(&conn, DataKind::OutboundPlans).unwrap(),
            2,
            "nothing deleted"
        );
        assert_eq!(
            delete_all(&mut conn, DataKind::OutboundPlans, 2).unwrap(),
            Deletion::Deleted(2)
        );
        assert_eq!(count(&conn, DataKind::OutboundPlans).unwrap(), 0);
        assert_eq!(
            count(&conn, DataKind::ServiceRecords).unwrap(),
            1,
            "other kinds kept"
        );
    }

    #[test]
    fn codes_round_trip() {
        for kind in DataKind::ALL {
            assert_eq!(DataKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(DataKind::from_code("audit"), None);
    }
}
