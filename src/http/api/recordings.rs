//! `/api/v1/recordings` (录音列表, manual §6): the search, playing with HTTP ranges, download
//! of one file or a ZIP of up to 20 streamed as it is written, delete, and the 批注 note.
//! Every route serves any logged-in user within their scope (admin: all; team leader: the
//! manual's rules; agent: their own, numbers masked when 隐藏电话号码 is on); deleting and
//! annotating are for the admin and leaders. Downloads, deletions and notes are audited.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::oplog::local_time;
use crate::accounts::masking::{self, Viewer};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::files::{self, Disposition, DownloadQuery};
use crate::http::json::ApiJson;
use crate::http::query::ApiQuery;
use crate::http::session::{ActiveSession, LeaderOrAdminSession, Session};
use crate::http::{audit, AppState, ClientAddr};
use crate::i18n::Text;
use crate::media::recordings::{self as media, Choice, FileError, MAX_ZIP_ENTRIES};
use crate::store::recordings::{self as index, CallType, Filter, Match, RecordingRow, Scope};

/// Rows per page the table offers.
const PAGE_SIZES: [u64; 4] = [10, 25, 50, 100];
/// The longest 批注.
const MAX_NOTE_CHARS: usize = 500;
/// Paging stops here (a million rows at 100 a page is 10,000 pages).
const MAX_PAGE: u64 = 100_000;

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// 客户: a customer's number or name.
    pub customer: Option<String>,
    /// `fuzzy` (default: part of the number or name) or `exact`.
    #[param(value_type = Option<String>)]
    pub customer_match: Option<Match>,
    /// 号码: an exact customer number.
    pub number: Option<String>,
    /// 队列名: a queue number.
    pub queue: Option<String>,
    /// 坐席名: an agent's job number.
    pub agent: Option<String>,
    /// First day, `YYYY-MM-DD` (local time), inclusive.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`, inclusive.
    pub to: Option<String>,
    /// `inbound`, `auto_outbound` or `manual_outbound`.
    pub call_type: Option<String>,
    pub page: Option<u64>,
    /// 10, 25 (default), 50 or 100.
    pub per_page: Option<u64>,
}

/// One recording as the table shows it.
#[derive(Serialize, ToSchema)]
pub struct RecordingItem {
    pub id: i64,
    /// RFC 3339 in the box's time zone.
    pub started_at: String,
    pub duration_seconds: Option<i64>,
    pub customer_number: String,
    pub customer_name: String,
    pub queue: Option<String>,
    pub queue_name: Option<String>,
    pub agent_job_number: Option<String>,
    pub agent_name: Option<String>,
    /// `inbound`, `auto_outbound` or `manual_outbound`.
    #[schema(value_type = String)]
    pub call_type: CallType,
    pub size_bytes: Option<i64>,
    /// False while the USB disk holding it is unplugged.
    pub available: bool,
    pub note: Option<String>,
    pub note_by: Option<String>,
    pub noted_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ChoiceItem {
    /// The queue number or job number.
    pub key: String,
    pub name: String,
    /// The manual's 【删除】: no longer the leader's queue, or no longer in their queues.
    pub removed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SearchPage {
    pub items: Vec<RecordingItem>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub queues: Vec<ChoiceItem>,
    pub agents: Vec<ChoiceItem>,
    pub can_delete: bool,
    pub can_annotate: bool,
    pub can_download: bool,
}

/// Who is asking, as the recordings see it.
struct Requester {
    session: Session,
    scope: Scope,
    viewer: Viewer,
}

impl Requester {
    fn may_change(&self) -> bool {
        !matches!(self.scope, Scope::Agent { .. })
    }
}

async fn requester(state: &AppState, session: Session) -> Result<Requester, ApiError> {
    let agent_id = session.agent_id;
    let (scope, call_flow) = state
        .recordings
        .store()
        .call(move |conn| {
            Ok((
                media::scope_for(conn, agent_id)?,
                crate::store::settings::get(conn, "call_flow")?,
            ))
        })
        .await
        .map_err(ApiError::internal)?;
    // An agent deleted while logged in sees nothing.
    let scope = scope.ok_or_else(ApiError::not_logged_in)?;
    let viewer = match scope {
        Scope::All => Viewer::Admin,
        Scope::Leader { .. } => Viewer::Leader,
        Scope::Agent { .. } => Viewer::Agent {
            hide_numbers: masking::hide_numbers_from_settings(call_flow.as_deref()),
        },
    };
    Ok(Requester {
        session,
        scope,
        viewer,
    })
}

fn invalid(field: &'static str, zh: &str, en: &str) -> ApiError {
    ApiError::bad_request("invalid_query", Text::owned(zh.to_string(), en.to_string()))
        .on_field(field)
}

fn local_day_start(text: &str, field: &'static str) -> Result<i64, ApiError> {
    let day = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        invalid(
            field,
            &format!("日期格式应为 YYYY-MM-DD：{text}"),
            &format!("Dates are YYYY-MM-DD: {text}"),
        )
    })?;
    let midnight = day.and_hms_opt(0, 0, 0).expect("midnight exists");
    Ok(midnight
        .and_local_timezone(chrono::Local)
        .earliest()
        .unwrap_or_else(|| midnight.and_utc().with_timezone(&chrono::Local))
        .timestamp_millis())
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn filter_of(query: &SearchQuery, viewer: Viewer) -> Result<Filter, ApiError> {
    let customer = non_empty(query.customer.clone())
        .map(|text| (text, query.customer_match.unwrap_or(Match::Fuzzy)));
    if let Some((text, Match::Fuzzy)) = &customer {
        // One or two digits are in nearly every number: a search for them finds everything.
        if text.chars().count() < 3 && text.chars().all(|c| c.is_ascii_digit()) {
            return Err(invalid(
                "customer",
                "模糊查询号码请至少输入 3 位。",
                "Type at least 3 digits to search numbers by part.",
            ));
        }
    }
    let from = match non_empty(query.from.clone()) {
        Some(day) => Some(local_day_start(&day, "from")?),
        None => None,
    };
    let to = match non_empty(query.to.clone()) {
        // Inclusive: up to the start of the next day.
        Some(day) => Some(local_day_start(&day, "to")? + 86_400_000),
        None => None,
    };
    if let (Some(from), Some(to)) = (from, to) {
        if from >= to {
            return Err(invalid(
                "to",
                "结束日期早于开始日期。",
                "The end date is before the start date.",
            ));
        }
    }
    let call_type = match non_empty(query.call_type.clone()) {
        Some(code) => Some(CallType::from_code(&code).ok_or_else(|| {
            invalid(
                "call_type",
                &format!("未知的呼叫类型：{code}"),
                &format!("Unknown call type: {code}"),
            )
        })?),
        None => None,
    };
    Ok(Filter {
        customer,
        number: non_empty(query.number.clone()),
        queue: non_empty(query.queue.clone()),
        agent_job: non_empty(query.agent.clone()),
        from,
        to,
        call_type,
        masked: viewer.masks(),
    })
}

fn item_of(row: RecordingRow, viewer: Viewer, names: &HashMap<String, String>) -> RecordingItem {
    RecordingItem {
        id: row.id,
        started_at: local_time(row.started_at),
        duration_seconds: row.duration_ms.map(|ms| (ms + 500) / 1000),
        customer_number: viewer.show(&row.customer_number),
        customer_name: row.customer_name,
        queue_name: row.queue.as_ref().and_then(|q| names.get(q).cloned()),
        queue: row.queue,
        agent_job_number: row.agent_job,
        agent_name: row.agent_name,
        call_type: row.call_type,
        size_bytes: row.size_bytes,
        available: row.available,
        note: row.note,
        note_by: row.note_by,
        noted_at: row.noted_at.map(local_time),
    }
}

/// Queue display names (队列名), by queue number.
async fn queue_names(state: &AppState) -> HashMap<String, String> {
    let mut names = HashMap::new();
    if let Ok(settings) = state
        .recordings
        .store()
        .call(|conn| crate::store::queues::all_settings(conn))
        .await
    {
        for s in settings {
            names.insert(s.queue.clone(), s.display_name.unwrap_or(s.queue));
        }
    }
    names
}

fn choice_items(choices: Vec<Choice>) -> Vec<ChoiceItem> {
    choices
        .into_iter()
        .map(|c| ChoiceItem {
            key: c.key,
            name: c.name,
            removed: c.removed,
        })
        .collect()
}

/// The search (newest first), with the filter lists of the viewer's scope.
#[utoipa::path(get, path = "/api/v1/recordings", tag = "recordings", params(SearchQuery),
    responses((status = 200, body = SearchPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    ActiveSession(session): ActiveSession,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Response, ApiError> {
    let who = requester(&state, session).await?;
    let per_page = query.per_page.unwrap_or(25);
    if !PAGE_SIZES.contains(&per_page) {
        return Err(invalid(
            "per_page",
            "每页行数只能是 10、25、50 或 100。",
            "Rows per page are 10, 25, 50 or 100.",
        ));
    }
    let page = query.page.unwrap_or(1);
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(invalid("page", "页码无效。", "Invalid page number."));
    }
    let filter = filter_of(&query, who.viewer)?;
    let names = queue_names(&state).await;
    let scope = who.scope.clone();
    let names_for_choices = names.clone();
    let ((mut rows, total), (queues, agents)) = state
        .recordings
        .store()
        .call(move |conn| {
            Ok((
                index::search(conn, &filter, &scope, (page - 1) * per_page, per_page)?,
                media::choices(conn, &scope, &names_for_choices)?,
            ))
        })
        .await
        .map_err(ApiError::internal)?;
    // A file found on disk names its agent by job number only: show the agent's name.
    for row in rows
        .iter_mut()
        .filter(|r| r.agent_name.as_deref().unwrap_or("").is_empty())
    {
        if let Some(choice) = agents
            .iter()
            .find(|c| Some(&c.key) == row.agent_job.as_ref())
        {
            row.agent_name = Some(choice.name.clone());
        }
    }
    let may_change = who.may_change();
    Ok(axum::Json(SearchPage {
        items: rows
            .into_iter()
            .map(|row| item_of(row, who.viewer, &names))
            .collect(),
        total,
        page,
        per_page,
        queues: choice_items(queues),
        agents: choice_items(agents),
        can_delete: may_change,
        can_annotate: may_change,
        can_download: true,
    })
    .into_response())
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "recording_not_found",
        Text::fixed(
            "录音不存在（可能已被删除）。",
            "No such recording (it may have been deleted).",
        ),
    )
}

fn file_missing() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "recording_file_missing",
        Text::fixed(
            "录音文件已不存在，已从列表中移除。",
            "The recording's file no longer exists; it has been removed from the list.",
        ),
    )
}

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "recording_unavailable",
        Text::fixed(
            "该录音所在的 U 盘未连接，请插入后重试。",
            "The USB disk holding this recording is not connected; plug it in and try again.",
        ),
    )
}

/// The row of `id` if the requester may see it (else 404: a recording outside one's scope is
/// not admitted to exist).
async fn visible_row(state: &AppState, who: &Requester, id: i64) -> Result<RecordingRow, ApiError> {
    let row = state
        .recordings
        .store()
        .call(move |conn| index::get(conn, id))
        .await
        .map_err(ApiError::internal)?
        .filter(|row| who.scope.allows(row))
        .ok_or_else(not_found)?;
    Ok(row)
}

/// The checked path of a row's file; a file that vanished takes its row with it.
async fn file_of(state: &AppState, row: &RecordingRow) -> Result<std::path::PathBuf, ApiError> {
    match media::checked_path(row, state.recordings.roots()) {
        Ok(path) => Ok(path),
        Err(FileError::Unavailable) => Err(unavailable()),
        Err(FileError::Outside) => {
            log::warn!("recording {} points outside the recording folders", row.id);
            Err(not_found())
        }
        Err(FileError::Missing) => {
            let id = row.id;
            let _ = state
                .recordings
                .store()
                .call(move |conn| index::delete(conn, id))
                .await;
            Err(file_missing())
        }
    }
}

/// The recording's audio, with HTTP ranges (seeking in the player), or as a download.
#[utoipa::path(get, path = "/api/v1/recordings/{id}/audio", tag = "recordings",
    params(("id" = i64, Path, description = "Recording id"), DownloadQuery),
    responses(
        (status = 200, description = "The audio"),
        (status = 206, description = "Part of it"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "On a USB disk that is not connected"),
        (status = 416, description = "Range past the end")
    ))]
pub async fn audio(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    ActiveSession(session): ActiveSession,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<DownloadQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let who = requester(&state, session).await?;
    let row = visible_row(&state, &who, id).await?;
    let path = file_of(&state, &row).await?;
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(_) => return Err(file_of(&state, &row).await.err().unwrap_or_else(not_found)),
    };
    let download = query.download == Some(1);
    if download {
        audit(
            &state,
            &who.session.username,
            client,
            "recording.downloaded",
            &row.path().to_string_lossy(),
            None,
            None,
        )
        .await?;
    }
    files::serve(
        file,
        media::content_type(&row.file),
        &media::download_name(&row, who.viewer),
        query.disposition(),
        &headers,
    )
    .await
}

#[derive(Deserialize, IntoParams)]
pub struct ZipQuery {
    /// The checked rows' ids, comma-separated (at most 20).
    pub ids: String,
}

/// The checked recordings as one ZIP, streamed as it is written (no temporary file).
#[utoipa::path(get, path = "/api/v1/recordings/zip", tag = "recordings", params(ZipQuery),
    responses(
        (status = 200, description = "application/zip"),
        (status = 400, body = ErrorBody, description = "No ids, a bad id, or more than 20"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ))]
pub async fn zip(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    ActiveSession(session): ActiveSession,
    ApiQuery(query): ApiQuery<ZipQuery>,
) -> Result<Response, ApiError> {
    let mut ids: Vec<i64> = Vec::new();
    for part in query
        .ids
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let id = part.parse().map_err(|_| {
            invalid(
                "ids",
                &format!("录音编号无效：{part}"),
                &format!("Invalid recording id: {part}"),
            )
        })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err(invalid(
            "ids",
            "请先勾选要下载的录音。",
            "Check the recordings to download first.",
        ));
    }
    if ids.len() > MAX_ZIP_ENTRIES {
        return Err(ApiError::bad_request(
            "too_many_recordings",
            Text::owned(
                format!(
                    "一次最多下载 {MAX_ZIP_ENTRIES} 条录音，已选择 {} 条。",
                    ids.len()
                ),
                format!(
                    "At most {MAX_ZIP_ENTRIES} recordings per download; {} were checked.",
                    ids.len()
                ),
            ),
        )
        .on_field("ids"));
    }
    let who = requester(&state, session).await?;
    let mut rows = Vec::with_capacity(ids.len());
    for id in &ids {
        rows.push(visible_row(&state, &who, *id).await?);
    }
    let mut files = Vec::with_capacity(rows.len());
    for row in &rows {
        files.push(file_of(&state, row).await?);
    }
    let names = media::unique_names(
        rows.iter()
            .map(|row| media::download_name(row, who.viewer))
            .collect(),
    );
    let entries: Vec<(String, std::path::PathBuf)> = names.into_iter().zip(files).collect();
    audit(
        &state,
        &who.session.username,
        client,
        "recording.zip_downloaded",
        &ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
        None,
        None,
    )
    .await?;
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    tokio::task::spawn_blocking(move || {
        let error_sender = sender.clone();
        if let Err(err) = media::write_zip(&entries, media::ChannelWriter::new(sender)) {
            log::warn!("recordings ZIP stopped: {err}");
            // Ends the body with an error so the browser does not keep a truncated ZIP as done.
            let _ = error_sender.blocking_send(Err(std::io::Error::other(err.to_string())));
        }
    });
    let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let body = Body::from_stream(chunks);
    let name = format!(
        "recordings-{}.zip",
        chrono::Local::now().format("%Y%m%d-%H%M%S")
    );
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        "application/zip".parse().expect("static"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        files::content_disposition(&name, Disposition::Attachment)
            .parse()
            .map_err(ApiError::internal)?,
    );
    Ok(response)
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    /// The file was already gone; only the list entry was removed.
    pub file_was_missing: bool,
}

/// Delete a recording: its file and its row together.
#[utoipa::path(delete, path = "/api/v1/recordings/{id}", tag = "recordings",
    params(("id" = i64, Path, description = "Recording id")),
    responses((status = 200, body = Deleted), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    LeaderOrAdminSession(session): LeaderOrAdminSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let who = requester(&state, session).await?;
    // A leader demoted since logging in has an agent's scope now.
    if !who.may_change() {
        return Err(crate::http::session::leaders_only());
    }
    let row = visible_row(&state, &who, id).await?;
    let file_was_missing = match media::checked_path(&row, state.recordings.roots()) {
        Ok(path) => match tokio::fs::remove_file(&path).await {
            Ok(()) => false,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => true,
            Err(err) => return Err(ApiError::internal(err)),
        },
        Err(FileError::Missing) => true,
        Err(FileError::Unavailable) => return Err(unavailable()),
        Err(FileError::Outside) => return Err(not_found()),
    };
    state
        .recordings
        .store()
        .call(move |conn| index::delete(conn, id))
        .await
        .map_err(ApiError::internal)?;
    state.pbx.refresh_stats();
    audit(
        &state,
        &who.session.username,
        client,
        "recording.deleted",
        &row.path().to_string_lossy(),
        Some(format!(
            "{} {} {}",
            row.customer_number,
            row.queue.as_deref().unwrap_or("dout"),
            row.agent_job.as_deref().unwrap_or("")
        )),
        None,
    )
    .await?;
    Ok(axum::Json(Deleted { file_was_missing }).into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct NoteInput {
    /// The 批注; empty clears it. At most 500 characters.
    pub note: String,
}

/// Set or clear the 批注 of a recording (the agent sees it on their page).
#[utoipa::path(put, path = "/api/v1/recordings/{id}/note", tag = "recordings",
    params(("id" = i64, Path, description = "Recording id")), request_body = NoteInput,
    responses((status = 200, body = RecordingItem), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn note(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    LeaderOrAdminSession(session): LeaderOrAdminSession,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<NoteInput>,
) -> Result<Response, ApiError> {
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let who = requester(&state, session).await?;
    // A leader demoted since logging in has an agent's scope now.
    if !who.may_change() {
        return Err(crate::http::session::leaders_only());
    }
    let text = input.note.trim().to_string();
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::bad_request(
            "note_too_long",
            Text::owned(
                format!("批注最多 {MAX_NOTE_CHARS} 个字。"),
                format!("A note is at most {MAX_NOTE_CHARS} characters."),
            ),
        )
        .on_field("note"));
    }
    let before = visible_row(&state, &who, id).await?;
    let by = who.session.username.clone();
    let new_note = (!text.is_empty()).then(|| text.clone());
    let row = state
        .recordings
        .store()
        .call(move |conn| {
            index::set_note(
                conn,
                id,
                new_note.as_deref(),
                &by,
                crate::store::now_millis(),
            )?;
            index::get(conn, id)
        })
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    audit_note(&state, &who, client, &before, &row).await?;
    let names = queue_names(&state).await;
    Ok(axum::Json(item_of(row, who.viewer, &names)).into_response())
}

async fn audit_note(
    state: &AppState,
    who: &Requester,
    client: SocketAddr,
    before: &RecordingRow,
    after: &RecordingRow,
) -> Result<(), ApiError> {
    audit(
        state,
        &who.session.username,
        client,
        "recording.noted",
        &after.path().to_string_lossy(),
        before.note.clone(),
        after.note.clone(),
    )
    .await
}
