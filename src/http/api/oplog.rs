//! `/api/v1/oplog` (操作日志, manual §8) and `/api/v1/audit` (every configuration change):
//! newest first, one search box over every column, paging.

use std::sync::Arc;

use axum::extract::State;
use chrono::{Local, TimeZone};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::query::ApiQuery;
use crate::http::session::AdminSession;
use crate::http::AppState;
use crate::i18n::Text;
use crate::store::{audit, oplog};

#[derive(Deserialize, IntoParams)]
pub struct PageQuery {
    /// Text to find in any column (as shown), empty for all.
    #[serde(default)]
    pub q: String,
    /// 1-based page.
    pub page: Option<u32>,
    /// Rows per page: 10, 25, 50 or 100 (default 25).
    pub per_page: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct OplogRow {
    pub id: i64,
    /// RFC 3339, in the box's time zone.
    pub at: String,
    /// 坐席名 (管理员 for the administrator).
    pub agent_name: String,
    pub job_number: String,
    pub extension: String,
    /// `login`, `logout`, `pause` (忙) or `unpause` (闲).
    pub event_type: String,
    /// 事件详情: the pause reason (未知 when none was chosen), or the address of a login.
    pub detail: String,
}

#[derive(Serialize, ToSchema)]
pub struct OplogPage {
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub rows: Vec<OplogRow>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditRow {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub address: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub rows: Vec<AuditRow>,
}

const PAGE_SIZES: [u32; 4] = [10, 25, 50, 100];
const MAX_QUERY: usize = 100;

fn paging(query: &PageQuery) -> Result<(u32, u32), ApiError> {
    let per_page = query.per_page.unwrap_or(25);
    if !PAGE_SIZES.contains(&per_page) {
        return Err(ApiError::bad_request(
            "invalid_page_size",
            Text::fixed(
                "每页行数只能是 10、25、50 或 100。",
                "Rows per page must be 10, 25, 50 or 100.",
            ),
        )
        .on_field("per_page"));
    }
    let page = query.page.unwrap_or(1);
    if page == 0 || page > 100_000 {
        return Err(ApiError::bad_request(
            "invalid_page",
            Text::fixed("页码无效。", "Invalid page number."),
        )
        .on_field("page"));
    }
    if query.q.chars().count() > MAX_QUERY {
        return Err(ApiError::bad_request(
            "query_too_long",
            Text::fixed("搜索内容过长。", "The search text is too long."),
        )
        .on_field("q"));
    }
    Ok((page, per_page))
}

/// A stored time (ms) as RFC 3339 in the box's time zone, to the second: how every table
/// of the console shows times.
pub fn local_time(ms: i64) -> String {
    Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
        .unwrap_or_default()
}

/// The operation log.
#[utoipa::path(get, path = "/api/v1/oplog", tag = "oplog", params(PageQuery),
    responses((status = 200, body = OplogPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiJson<OplogPage>, ApiError> {
    let (page, per_page) = paging(&query)?;
    let text = query.q.clone();
    let (total, rows) = state
        .accounts
        .store()
        .call(move |conn| oplog::search(conn, &text, per_page, (page - 1) * per_page))
        .await?;
    Ok(ApiJson(OplogPage {
        total,
        page,
        per_page,
        rows: rows
            .into_iter()
            .map(|e| OplogRow {
                id: e.id,
                at: local_time(e.at),
                agent_name: e.agent_name,
                job_number: e.job_number,
                extension: e.extension,
                event_type: e.event_type,
                detail: e.detail,
            })
            .collect(),
    }))
}

/// The audit trail of configuration changes.
#[utoipa::path(get, path = "/api/v1/audit", tag = "oplog", params(PageQuery),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn audit_trail(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<ApiJson<AuditPage>, ApiError> {
    let (page, per_page) = paging(&query)?;
    let text = query.q.clone();
    let (total, rows) = state
        .accounts
        .store()
        .call(move |conn| audit::search(conn, &text, per_page, (page - 1) * per_page))
        .await?;
    Ok(ApiJson(AuditPage {
        total,
        page,
        per_page,
        rows: rows
            .into_iter()
            .map(|e| AuditRow {
                at: local_time(e.at),
                actor: e.actor,
                action: e.action,
                target: e.target,
                before: e.before,
                after: e.after,
                address: e.address,
            })
            .collect(),
    }))
}
