//! `/api/v1/custom-fields` (自定义表, manual §9.3) and `/api/v1/data-deletion` (删除数据,
//! manual §9.2). Every change is in the audit trail; a refusal names its field and changes
//! nothing. A deletion is confirmed with the row count the user was shown, and refused
//! (409, deleting nothing) when that count is stale.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::crm::{self, CrmError};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::query::ApiQuery;
use crate::http::session::AdminSession;
use crate::http::{audit, AppState, ClientAddr};
use crate::i18n::Text;
use crate::store::custom_fields::CustomField;
use crate::store::data_deletion::DataKind;

fn crm_error(err: CrmError) -> ApiError {
    match err {
        CrmError::Invalid { field, code, text } => ApiError::bad_request(code, text).on_field(field),
        CrmError::Taken { field, code, text } => {
            ApiError::new(StatusCode::CONFLICT, code, text).on_field(field)
        }
        CrmError::NotFound(text) => ApiError::new(StatusCode::NOT_FOUND, "not_found", text),
        CrmError::CountChanged { current } => ApiError::new(
            StatusCode::CONFLICT,
            "count_changed",
            Text::owned(
                format!("数据已变化，现有 {current} 条；未删除任何数据，请重新确认。"),
                format!("The data changed: there are now {current} rows. Nothing was deleted; confirm again."),
            ),
        ),
        CrmError::Store(err) => ApiError::internal(err),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldBody {
    /// 属性名, unique
    pub name: String,
    /// 类型: `input` (输入), `radio` (单选), `checkbox` (多项), `select` (选择), `date` (日期),
    /// `time` (时间) or `text` (文本)
    pub kind: String,
    /// 属性值: the options, required for `radio`, `checkbox` and `select`, refused otherwise
    #[serde(default)]
    pub options: Vec<String>,
    /// 优先级: the order of the table, lower first (0–9999)
    pub priority: i64,
    /// 备注
    #[serde(default)]
    pub remark: String,
    /// 显示: shown directly when a leader looks at a customer
    #[serde(default = "shown")]
    pub visible: bool,
}

fn shown() -> bool {
    true
}

/// The attribute id of the path: anything but a number names no attribute (404 in the API's
/// JSON, rather than the framework's plain-text rejection).
fn field_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            Text::fixed(
                "该属性不存在（可能已被删除）。",
                "No such attribute (it may have been deleted).",
            ),
        )
    })
}

#[derive(Serialize, ToSchema)]
pub struct CustomFieldOut {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub options: Vec<String>,
    pub priority: i64,
    pub remark: String,
    pub visible: bool,
}

fn out(field: CustomField) -> CustomFieldOut {
    CustomFieldOut {
        id: field.id,
        name: field.name,
        kind: field.kind,
        options: field.options,
        priority: field.priority,
        remark: field.remark,
        visible: field.visible,
    }
}

fn describe(field: &CustomField) -> String {
    serde_json::json!({
        "name": field.name, "kind": field.kind, "options": field.options,
        "priority": field.priority, "remark": field.remark, "visible": field.visible,
    })
    .to_string()
}

fn input(body: CustomFieldBody) -> crm::fields::FieldInput {
    crm::fields::FieldInput {
        name: body.name,
        kind: body.kind,
        options: body.options,
        priority: body.priority,
        remark: body.remark,
        visible: body.visible,
    }
}

/// The custom table's attributes, by priority.
#[utoipa::path(get, path = "/api/v1/custom-fields", tag = "crm",
    responses((status = 200, body = [CustomFieldOut]), (status = 401, body = ErrorBody)))]
pub async fn list_fields(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> Result<ApiJson<Vec<CustomFieldOut>>, ApiError> {
    let fields = crm::fields::list(state.accounts.store())
        .await
        .map_err(crm_error)?;
    Ok(ApiJson(fields.into_iter().map(out).collect()))
}

/// Create an attribute (新建表属性).
#[utoipa::path(post, path = "/api/v1/custom-fields", tag = "crm", request_body = CustomFieldBody,
    responses(
        (status = 201, body = CustomFieldOut),
        (status = 400, description = "A field is missing or wrong; `field` names it", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody)
    ))]
pub async fn create_field(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    ApiJson(body): ApiJson<CustomFieldBody>,
) -> Result<(StatusCode, ApiJson<CustomFieldOut>), ApiError> {
    let field = crm::fields::create(state.accounts.store(), input(body))
        .await
        .map_err(crm_error)?;
    audit(
        &state,
        &session.username,
        client,
        "custom_field.created",
        &field.name,
        None,
        Some(describe(&field)),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(out(field))))
}

/// Edit an attribute.
#[utoipa::path(put, path = "/api/v1/custom-fields/{id}", tag = "crm", request_body = CustomFieldBody,
    params(("id" = i64, Path, description = "Attribute id")),
    responses(
        (status = 200, body = CustomFieldOut),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ))]
pub async fn update_field(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CustomFieldBody>,
) -> Result<ApiJson<CustomFieldOut>, ApiError> {
    let id = field_id(&id)?;
    let (before, after) = crm::fields::update(state.accounts.store(), id, input(body))
        .await
        .map_err(crm_error)?;
    audit(
        &state,
        &session.username,
        client,
        "custom_field.updated",
        &after.name,
        Some(describe(&before)),
        Some(describe(&after)),
    )
    .await?;
    Ok(ApiJson(out(after)))
}

/// Delete an attribute (and every customer's value of it).
#[utoipa::path(delete, path = "/api/v1/custom-fields/{id}", tag = "crm",
    params(("id" = i64, Path, description = "Attribute id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_field(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = field_id(&id)?;
    let field = crm::fields::delete(state.accounts.store(), id)
        .await
        .map_err(crm_error)?;
    audit(
        &state,
        &session.username,
        client,
        "custom_field.deleted",
        &field.name,
        Some(describe(&field)),
        None,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many rows each kind of data has.
#[derive(Serialize, ToSchema)]
pub struct DataCounts {
    /// 客户信息
    pub customers: u64,
    /// 操作日志
    pub oplog: u64,
    /// 外呼计划
    pub outbound_plans: u64,
    /// 服务记录
    pub service_records: u64,
}

fn counts_out(counts: &BTreeMap<&'static str, u64>) -> DataCounts {
    let get = |kind: DataKind| counts.get(kind.code()).copied().unwrap_or(0);
    DataCounts {
        customers: get(DataKind::Customers),
        oplog: get(DataKind::Oplog),
        outbound_plans: get(DataKind::OutboundPlans),
        service_records: get(DataKind::ServiceRecords),
    }
}

/// The row counts 删除数据 confirms with.
#[utoipa::path(get, path = "/api/v1/data-deletion", tag = "crm",
    responses((status = 200, body = DataCounts), (status = 401, body = ErrorBody)))]
pub async fn data_counts(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> Result<ApiJson<DataCounts>, ApiError> {
    let counts = crm::deletion::counts(state.accounts.store())
        .await
        .map_err(crm_error)?;
    Ok(ApiJson(counts_out(&counts)))
}

#[derive(Deserialize, IntoParams)]
pub struct DeletionQuery {
    /// The row count the user confirmed (from `GET /api/v1/data-deletion`).
    pub confirmed_count: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    pub deleted: u64,
}

/// Delete every row of one kind: `customers`, `oplog`, `outbound_plans` or
/// `service_records`, if the count is still the confirmed one.
#[utoipa::path(delete, path = "/api/v1/data-deletion/{kind}", tag = "crm",
    params(("kind" = String, Path, description = "customers, oplog, outbound_plans or service_records"), DeletionQuery),
    responses(
        (status = 200, body = Deleted),
        (status = 400, description = "No or a bad confirmed count", body = ErrorBody),
        (status = 404, description = "Unknown kind", body = ErrorBody),
        (status = 409, description = "The count changed since it was confirmed; nothing deleted", body = ErrorBody)
    ))]
pub async fn delete_data(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    Path(kind): Path<String>,
    ApiQuery(query): ApiQuery<DeletionQuery>,
) -> Result<ApiJson<Deleted>, ApiError> {
    let kind = DataKind::from_code(&kind).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_data_kind",
            Text::owned(
                format!("没有“{kind}”这类数据；可删除：customers、oplog、outbound_plans、service_records。"),
                format!("There is no data kind “{kind}”; these can be deleted: customers, oplog, outbound_plans, service_records."),
            ),
        )
    })?;
    let confirmed = query
        .confirmed_count
        .as_deref()
        .and_then(|n| n.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "confirmation_required",
                Text::fixed(
                    "删除前须确认将删除的条数（confirmed_count）。",
                    "Confirm the number of rows to delete (confirmed_count) first.",
                ),
            )
            .on_field("confirmed_count")
        })?;
    let deleted = crm::deletion::delete(state.accounts.store(), kind, confirmed)
        .await
        .map_err(crm_error)?;
    audit(
        &state,
        &session.username,
        client,
        "data.deleted",
        kind.code(),
        Some(format!("{deleted} rows")),
        Some("0 rows".to_string()),
    )
    .await?;
    Ok(ApiJson(Deleted { deleted }))
}
