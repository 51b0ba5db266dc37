//! `/api/v1/voicemail` (客户留言, manual §7): the queue mailboxes' messages from Asterisk's
//! spool, as a table (search any column as shown, sort both ways, 10/25/50/100 rows), played
//! with HTTP ranges, downloaded, and deleted the way Asterisk keeps the folder consistent
//! (under its lock, renumbered), after which Asterisk is told to refresh its counts.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::files::{self, DownloadQuery};
use crate::http::query::ApiQuery;
use crate::http::session::AdminSession;
use crate::http::{audit, AppState, ClientAddr};
use crate::i18n::Text;
use crate::media::voicemail::{
    self, MailboxId, SortColumn, SortDir, VoicemailError, VoicemailQuery,
};

#[derive(Deserialize, IntoParams)]
pub struct TableQuery {
    /// Text matched against every column as shown.
    #[serde(default)]
    pub search: String,
    /// `number`, `name`, `queue`, `date` (default) or `duration`.
    #[param(value_type = Option<String>)]
    pub sort: Option<SortColumn>,
    /// `asc` or `desc` (default).
    #[param(value_type = Option<String>)]
    pub dir: Option<SortDir>,
    pub page: Option<u32>,
    /// 10, 25, 50 or 100.
    pub per_page: Option<u32>,
}

fn voicemail_error(err: VoicemailError) -> ApiError {
    let status =
        StatusCode::from_u16(err.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (code, text) = match &err {
        VoicemailError::NotFound(_) => (
            "voicemail_not_found",
            Text::fixed(
                "留言不存在（可能已被删除）。",
                "No such voicemail (it may have been deleted).",
            ),
        ),
        VoicemailError::InvalidQuery(why) => (
            "invalid_query",
            Text::owned(
                format!("查询条件无效：{why}"),
                format!("Invalid query: {why}"),
            ),
        ),
        VoicemailError::LockTimeout { .. } => (
            "voicemail_busy",
            Text::fixed(
                "Asterisk 正在处理该留言箱，未做任何修改，请稍后重试。",
                "Asterisk is busy with this mailbox; nothing was changed, try again shortly.",
            ),
        ),
        _ => return ApiError::internal(err),
    };
    ApiError::new(status, code, text)
}

/// Queue display names by mailbox: a queue's mailbox is its number in `default`.
async fn queue_names(state: &AppState) -> HashMap<MailboxId, String> {
    let settings = state
        .directory
        .store()
        .call(|conn| crate::store::queues::all_settings(conn))
        .await
        .unwrap_or_default();
    settings
        .into_iter()
        .filter_map(|s| {
            let name = s.display_name?;
            Some((MailboxId::new(&s.queue, "default").ok()?, name))
        })
        .collect()
}

/// The voicemail table.
#[utoipa::path(get, path = "/api/v1/voicemail", tag = "voicemail", params(TableQuery),
    responses((status = 200, description = "A page of the table", body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
    ApiQuery(query): ApiQuery<TableQuery>,
) -> Result<Response, ApiError> {
    let index = state.voicemail.current();
    let names = queue_names(&state).await;
    let query = VoicemailQuery {
        search: query.search,
        sort: (
            query.sort.unwrap_or(SortColumn::Date),
            query.dir.unwrap_or(SortDir::Desc),
        ),
        page: query.page.unwrap_or(1),
        per_page: query.per_page.unwrap_or(10),
    };
    let page = voicemail::list(index.items(), &query, &names).map_err(voicemail_error)?;
    Ok(axum::Json(page).into_response())
}

/// The message's audio, with HTTP ranges (seeking in the player).
#[utoipa::path(get, path = "/api/v1/voicemail/{id}/audio", tag = "voicemail",
    params(("id" = String, Path, description = "Message id (msg_id)"), DownloadQuery),
    responses(
        (status = 200, description = "The audio"),
        (status = 206, description = "Part of it"),
        (status = 404, body = ErrorBody),
        (status = 416, description = "Range past the end")
    ))]
pub async fn audio(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<DownloadQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let index = state.voicemail.current();
    // Files are reached only through the index: the id never becomes a path.
    let item = index
        .get(&id)
        .ok_or_else(|| voicemail_error(VoicemailError::NotFound(id.clone())))?;
    let path = item.audio.path.clone();
    let content_type = item.audio.content_type;
    let name = item.download_name();
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(_) => {
            state.voicemail.trigger();
            return Err(voicemail_error(VoicemailError::NotFound(id)));
        }
    };
    files::serve(file, content_type, &name, query.disposition(), &headers).await
}

/// Delete a message (under Asterisk's folder lock; the folder is renumbered).
#[utoipa::path(delete, path = "/api/v1/voicemail/{id}", tag = "voicemail",
    params(("id" = String, Path, description = "Message id (msg_id)")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let index = state.voicemail.current();
    let target = id.clone();
    let report = tokio::task::spawn_blocking(move || {
        voicemail::delete(&index, &target, &voicemail::DeleteOptions::default())
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(voicemail_error)?;
    state.voicemail.refresh().await;
    // Asterisk re-reads the mailbox so its message-waiting counts stay right.
    if state.pbx.is_connected() {
        let action = crate::ami::Action::new("VoicemailRefresh")
            .field("Context", report.mailbox.context())
            .field("Mailbox", report.mailbox.mailbox());
        if let Err(err) = state.pbx.client().send(action).await {
            log::warn!("VoicemailRefresh failed: {err}");
        }
    }
    audit(
        &state,
        &session.username,
        client,
        "voicemail.deleted",
        &report.mailbox.to_string(),
        Some(id),
        None,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
