//! The custom table's attribute definitions (自定义表, manual §9.3): what the CRM records about
//! a customer beyond number and name. Each has a name (unique), a kind, its options (a JSON
//! array, for the choice kinds), a priority (the order of the table, lower first; ties by
//! creation), a remark, and whether leaders see it directly. Values live in
//! `customers.attributes`, keyed by the attribute's id, and go with the definition.

use rusqlite::{params, Connection, OptionalExtension};

use super::now_millis;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomField {
    pub id: i64,
    pub name: String,
    /// `input`, `radio`, `checkbox`, `select`, `date`, `time` or `text`.
    pub kind: String,
    pub options: Vec<String>,
    pub priority: i64,
    pub remark: String,
    pub visible: bool,
}

/// What a create or edit writes.
#[derive(Debug, Clone)]
pub struct FieldValues<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub options: &'a [String],
    pub priority: i64,
    pub remark: &'a str,
    pub visible: bool,
}

const COLUMNS: &str = "id, name, kind, options, priority, remark, visible";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CustomField> {
    let options: String = row.get(3)?;
    Ok(CustomField {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: row.get(2)?,
        options: serde_json::from_str(&options).map_err(|err| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, err.into())
        })?,
        priority: row.get(4)?,
        remark: row.get(5)?,
        visible: row.get(6)?,
    })
}

fn options_json(options: &[String]) -> String {
    serde_json::to_string(options).expect("a list of strings serializes")
}

/// Every attribute, in the table's order.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<CustomField>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM custom_fields ORDER BY priority, id"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    rows.collect()
}

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<CustomField>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM custom_fields WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// Another attribute (not `except`) with this name.
pub fn holder_of_name(
    conn: &Connection,
    name: &str,
    except: Option<i64>,
) -> rusqlite::Result<Option<CustomField>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM custom_fields WHERE name = ?1 AND id IS NOT ?2"),
        params![name, except],
        from_row,
    )
    .optional()
}

pub fn insert(conn: &Connection, values: &FieldValues<'_>) -> rusqlite::Result<i64> {
    let now = now_millis();
    conn.execute(
        "INSERT INTO custom_fields (name, kind, options, priority, remark, visible, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        params![
            values.name,
            values.kind,
            options_json(values.options),
            values.priority,
            values.remark,
            values.visible,
            now
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn update(conn: &Connection, id: i64, values: &FieldValues<'_>) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE custom_fields SET name = ?2, kind = ?3, options = ?4, priority = ?5, remark = ?6,
             visible = ?7, updated_at = ?8
         WHERE id = ?1",
        params![
            id,
            values.name,
            values.kind,
            options_json(values.options),
            values.priority,
            values.remark,
            values.visible,
            now_millis()
        ],
    )?;
    Ok(changed == 1)
}

/// Deletes the attribute and every customer's value of it, in one transaction. False when
/// there is no such attribute (nothing changed).
pub fn delete(conn: &mut Connection, id: i64) -> rusqlite::Result<bool> {
    let tx = conn.transaction()?;
    if tx.execute("DELETE FROM custom_fields WHERE id = ?1", [id])? == 0 {
        return Ok(false);
    }
    tx.execute(
        "UPDATE customers SET attributes = json_remove(attributes, '$.\"' || ?1 || '\"')
         WHERE json_type(attributes, '$.\"' || ?1 || '\"') IS NOT NULL",
        [id],
    )?;
    tx.commit()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(name: &'a str, priority: i64, options: &'a [String]) -> FieldValues<'a> {
        FieldValues {
            name,
            kind: if options.is_empty() {
                "input"
            } else {
                "select"
            },
            options,
            priority,
            remark: "",
            visible: true,
        }
    }

    #[test]
    fn listed_by_priority_then_creation() {
        let conn = crate::store::open_in_memory();
        let levels = vec!["1".to_string(), "2".to_string()];
        let b = insert(&conn, &values("级别", 5, &levels)).unwrap();
        let a = insert(&conn, &values("地址", 1, &[])).unwrap();
        let c = insert(&conn, &values("备注二", 5, &[])).unwrap();
        let ids: Vec<i64> = list(&conn).unwrap().iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![a, b, c]);
        assert_eq!(get(&conn, b).unwrap().unwrap().options, levels);
        assert_eq!(holder_of_name(&conn, "地址", None).unwrap().unwrap().id, a);
        assert!(holder_of_name(&conn, "地址", Some(a)).unwrap().is_none());
        assert!(update(&conn, a, &values("地址", 9, &[])).unwrap());
        let ids: Vec<i64> = list(&conn).unwrap().iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![b, c, a]);
    }

    #[test]
    fn deleting_an_attribute_removes_its_values_only() {
        let mut conn = crate::store::open_in_memory();
        let keep = insert(&conn, &values("地址", 1, &[])).unwrap();
        let gone = insert(&conn, &values("级别", 2, &[])).unwrap();
        let attributes = serde_json::json!({ keep.to_string(): "北京", gone.to_string(): "1" });
        conn.execute(
            "INSERT INTO customers (number, name, attributes) VALUES ('13800138000', '张三', ?1)",
            [attributes.to_string()],
        )
        .unwrap();
        assert!(delete(&mut conn, gone).unwrap());
        assert!(!delete(&mut conn, gone).unwrap(), "already gone");
        let left: String = conn
            .query_row("SELECT attributes FROM customers", [], |row| row.get(0))
            .unwrap();
        let left: serde_json::Value = serde_json::from_str(&left).unwrap();
        assert_eq!(left, serde_json::json!({ keep.to_string(): "北京" }));
    }
}
