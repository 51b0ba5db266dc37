//! 自定义表 (manual §9.3) and 删除数据 (manual §9.2) through the API: attributes created,
//! edited, ordered by priority and deleted, each refusal naming its field and changing
//! nothing; deletion of each kind of data confirmed with the count shown, a stale count
//! refused, everything in the audit trail.

mod common;

use common::TestDaemon;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn attribute(name: &str, kind: &str, options: &[&str], priority: i64) -> Value {
    json!({
        "name": name, "kind": kind, "options": options, "priority": priority,
        "remark": "", "visible": true,
    })
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

fn field_rows(daemon: &TestDaemon) -> Vec<(String, String, i64)> {
    let db = daemon.db();
    let mut stmt = db
        .prepare("SELECT name, options, priority FROM custom_fields ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn custom_table_create_edit_order_delete() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    assert_eq!(
        api.get("/api/v1/custom-fields").await.status,
        StatusCode::UNAUTHORIZED
    );
    api.first_login().await;
    assert_eq!(api.get("/api/v1/custom-fields").await.body, json!([]));

    let level = api
        .send(
            Method::POST,
            "/api/v1/custom-fields",
            Some(attribute("级别", "select", &["1", "2"], 5)),
        )
        .await;
    assert_eq!(level.status, StatusCode::CREATED, "{}", level.body);
    assert_eq!(level.body["options"], json!(["1", "2"]));
    let level_id = level.body["id"].as_i64().unwrap();
    for (name, kind, priority) in [
        ("地址", "input", 1),
        ("生日", "date", 9),
        ("说明", "text", 5),
    ] {
        let answer = api
            .send(
                Method::POST,
                "/api/v1/custom-fields",
                Some(attribute(name, kind, &[], priority)),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    }
    let list = api.get("/api/v1/custom-fields").await.body;
    assert_eq!(
        names(&list),
        ["地址", "级别", "说明", "生日"],
        "by priority, then creation"
    );

    // Edit: new priority moves it first, new options and type are kept.
    let mut edited = attribute("客户级别", "radio", &["VIP", "普通"], 0);
    edited["remark"] = json!("组长可见");
    edited["visible"] = json!(false);
    let answer = api
        .send(
            Method::PUT,
            &format!("/api/v1/custom-fields/{level_id}"),
            Some(edited),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let list = api.get("/api/v1/custom-fields").await.body;
    assert_eq!(names(&list), ["客户级别", "地址", "说明", "生日"]);
    assert_eq!(list[0]["visible"], false);
    assert_eq!(list[0]["remark"], "组长可见");
    assert_eq!(list[0]["kind"], "radio");

    // Every refusal names its field and changes nothing.
    let before = field_rows(&daemon);
    let refusals = [
        (
            attribute(" ", "input", &[], 1),
            "name",
            StatusCode::BAD_REQUEST,
        ),
        (
            attribute("地址", "input", &[], 1),
            "name",
            StatusCode::CONFLICT,
        ),
        (
            attribute("新属性", "list", &[], 1),
            "kind",
            StatusCode::BAD_REQUEST,
        ),
        (
            attribute("新属性", "checkbox", &[], 1),
            "options",
            StatusCode::BAD_REQUEST,
        ),
        (
            attribute("新属性", "input", &["1"], 1),
            "options",
            StatusCode::BAD_REQUEST,
        ),
        (
            attribute("新属性", "time", &["8:00"], 1),
            "options",
            StatusCode::BAD_REQUEST,
        ),
        (
            attribute("新属性", "select", &["1", "1"], 1),
            "options",
            StatusCode::BAD_REQUEST,
        ),
        (
            attribute("新属性", "select", &["1", ""], 1),
            "options",
            StatusCode::BAD_REQUEST,
        ),
        (
            attribute("新属性", "input", &[], 10000),
            "priority",
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (body, field, status) in refusals {
        let answer = api
            .send(Method::POST, "/api/v1/custom-fields", Some(body.clone()))
            .await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        assert_eq!(answer.body["error"]["field"], field, "{body}");
        assert!(!answer.message().is_empty());
        // The same refusal on an edit.
        let answer = api
            .send(
                Method::PUT,
                &format!("/api/v1/custom-fields/{level_id}"),
                Some(body.clone()),
            )
            .await;
        assert_eq!(answer.status, status, "edit {body}: {}", answer.body);
    }
    assert_eq!(field_rows(&daemon), before, "refusals changed nothing");
    let answer = api
        .send(
            Method::POST,
            "/api/v1/custom-fields",
            Some(attribute("新属性", "radio", &[], 1)),
        )
        .await;
    assert_eq!(answer.code(), "options_required");
    assert!(answer.message().contains("单选"), "{}", answer.message());
    api.lang = "en";
    let answer = api
        .send(
            Method::POST,
            "/api/v1/custom-fields",
            Some(attribute("新属性", "date", &["x"], 1)),
        )
        .await;
    assert!(
        answer.message().contains("takes no options"),
        "{}",
        answer.message()
    );
    api.lang = "zh-CN";

    // Delete, and the customers' values of it go too.
    daemon
        .db()
        .execute(
            "INSERT INTO customers (number, name, attributes) VALUES ('13800138000', '张三', ?1)",
            [json!({ level_id.to_string(): "VIP" }).to_string()],
        )
        .unwrap();
    let answer = api
        .send(
            Method::DELETE,
            &format!("/api/v1/custom-fields/{level_id}"),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.body);
    let answer = api
        .send(
            Method::DELETE,
            &format!("/api/v1/custom-fields/{level_id}"),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    // An id that is not a number names no attribute: the API's JSON 404.
    let answer = api
        .send(Method::DELETE, "/api/v1/custom-fields/abc", None)
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.code(), "not_found");
    assert_eq!(
        names(&api.get("/api/v1/custom-fields").await.body),
        ["地址", "说明", "生日"]
    );
    let values: String = daemon
        .db()
        .query_row("SELECT attributes FROM customers", [], |r| r.get(0))
        .unwrap();
    assert_eq!(values, "{}");

    let audit = api.get("/api/v1/audit?q=custom_field").await.body;
    assert_eq!(audit["total"], 6, "4 created, 1 edited, 1 deleted: {audit}");
    daemon.stop().await;
}

#[tokio::test]
async fn data_deletion_is_confirmed_with_the_count() {
    let daemon = TestDaemon::start().await;
    let mut api = daemon.api();
    api.first_login().await;
    {
        let db = daemon.db();
        for number in ["13800138000", "13900139000", "10086"] {
            db.execute(
                "INSERT INTO customers (number, name) VALUES (?1, '客户')",
                [number],
            )
            .unwrap();
        }
        db.execute(
            "INSERT INTO outbound_plans (queue, number, created_at) VALUES ('222', '13800138000', 0)",
            [],
        )
        .unwrap();
        db.execute(
            "INSERT INTO service_records (customer_number, content, created_at) VALUES ('10086', '回访', 0)",
            [],
        )
        .unwrap();
    }
    let counts = api.get("/api/v1/data-deletion").await.body;
    assert_eq!(counts["customers"], 3, "{counts}");
    assert_eq!(counts["outbound_plans"], 1);
    assert_eq!(counts["service_records"], 1);
    let oplog = counts["oplog"].as_u64().unwrap();
    assert!(
        oplog >= 1,
        "the admin's logins are in the operation log: {counts}"
    );

    // No confirmation, an unknown kind, a stale count: refused, nothing deleted.
    let answer = api
        .send(Method::DELETE, "/api/v1/data-deletion/customers", None)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "confirmation_required");
    let answer = api
        .send(
            Method::DELETE,
            "/api/v1/data-deletion/audit?confirmed_count=0",
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.code(), "unknown_data_kind");
    daemon
        .db()
        .execute("INSERT INTO customers (number) VALUES ('95588')", [])
        .unwrap();
    let answer = api
        .send(
            Method::DELETE,
            "/api/v1/data-deletion/customers?confirmed_count=3",
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.code(), "count_changed");
    assert!(answer.message().contains('4'), "{}", answer.message());
    assert_eq!(api.get("/api/v1/data-deletion").await.body["customers"], 4);

    // Confirmed with the current count: gone, and only that kind.
    let answer = api
        .send(
            Method::DELETE,
            "/api/v1/data-deletion/customers?confirmed_count=4",
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["deleted"], 4);
    let counts = api.get("/api/v1/data-deletion").await.body;
    assert_eq!(counts["customers"], 0);
    assert_eq!(counts["outbound_plans"], 1);

    for kind in ["outbound_plans", "service_records"] {
        let answer = api
            .send(
                Method::DELETE,
                &format!("/api/v1/data-deletion/{kind}?confirmed_count=1"),
                None,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{kind}: {}", answer.body);
    }
    let oplog = api.get("/api/v1/data-deletion").await.body["oplog"]
        .as_u64()
        .unwrap();
    let answer = api
        .send(
            Method::DELETE,
            &format!("/api/v1/data-deletion/oplog?confirmed_count={oplog}"),
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(api.get("/api/v1/oplog").await.body["total"], 0);

    // The audit trail (never itself deleted) has each deletion.
    let audit = api.get("/api/v1/audit?q=data.deleted").await.body;
    assert_eq!(audit["total"], 4, "{audit}");
    let targets: Vec<&str> = audit["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        ["oplog", "service_records", "outbound_plans", "customers"]
    );
    daemon.stop().await;
}
