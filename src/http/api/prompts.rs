//! `/api/v1/prompts` and `/api/v1/tts` (语音管理, manual §9.1): list the voice prompts, upload
//! one (a file, a browser recording or a TTS result — all through the same multipart route and
//! the same checks), play or download it with HTTP ranges, delete it; and turn Chinese text
//! into speech to preview before uploading it. Administrators only; every change is audited.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::files::{self, DownloadQuery};
use crate::http::json::ApiJson;
use crate::http::query::ApiQuery;
use crate::http::session::AdminSession;
use crate::http::{audit, AppState, ClientAddr};
use crate::i18n::Text;
use crate::media::audio::AudioError;
use crate::media::prompts::{PromptError, PromptUse, SourceClaim, MAX_NAME_CHARS};
use crate::media::tts::TtsError;
use crate::store::prompts::PromptRow;

/// The prompts and the limits the page shows.
#[derive(Serialize, ToSchema)]
pub struct PromptList {
    pub prompts: Vec<PromptRow>,
    pub max_upload_seconds: u32,
    pub max_upload_mb: u64,
    pub max_name_chars: usize,
    pub max_tts_chars: usize,
}

/// Maps the prompt store's refusals to answers in both languages.
pub fn prompt_error(err: PromptError) -> ApiError {
    use StatusCode as S;
    let (status, code, text) = match &err {
        PromptError::NameEmpty => (
            S::BAD_REQUEST,
            "name_required",
            Text::fixed("请填写语音文件名。", "Enter a name for the prompt."),
        ),
        PromptError::NameTooLong => (
            S::BAD_REQUEST,
            "name_too_long",
            Text::owned(
                format!("文件名最多 {MAX_NAME_CHARS} 个字。"),
                format!("The name may have at most {MAX_NAME_CHARS} characters."),
            ),
        ),
        PromptError::NameInvalid => (
            S::BAD_REQUEST,
            "name_invalid",
            Text::fixed(
                "文件名不能包含控制字符。",
                "The name must not contain control characters.",
            ),
        ),
        PromptError::NameTaken(name) => (
            S::CONFLICT,
            "prompt_name_taken",
            Text::owned(
                format!("已有名为“{name}”的语音文件，请换一个名称。"),
                format!("A prompt named “{name}” exists; choose another name."),
            ),
        ),
        PromptError::NotFound(_) => (
            S::NOT_FOUND,
            "prompt_not_found",
            Text::fixed(
                "语音文件不存在（可能已被删除）。",
                "No such prompt (it may have been deleted).",
            ),
        ),
        PromptError::InUse { which, .. } => {
            let (zh, en) = match which {
                PromptUse::StartPrompt => ("开始语音", "start prompt"),
                PromptUse::EndPrompt => ("结束语音", "end prompt"),
            };
            (
                S::CONFLICT,
                "prompt_in_use",
                Text::owned(
                    format!("该语音已被选为{zh}（其他设置），不能删除；请先在其他设置中改选。"),
                    format!(
                        "This prompt is selected as the {en} (other settings) and cannot be \
                         deleted; choose another one there first."
                    ),
                ),
            )
        }
        PromptError::UploadTooLarge { limit_mb } => (
            S::PAYLOAD_TOO_LARGE,
            "upload_too_large",
            Text::owned(
                format!("文件超过 {limit_mb} MB 的上限。"),
                format!("The file is larger than the {limit_mb} MB limit."),
            ),
        ),
        PromptError::NoSpace { needed, free } => (
            S::INSUFFICIENT_STORAGE,
            "no_space",
            Text::owned(
                format!(
                    "闪存空间不足：需要 {} KB，仅剩 {} KB。未保存任何内容。",
                    needed / 1024,
                    free / 1024
                ),
                format!(
                    "Not enough space on flash: {} KB needed, {} KB free. Nothing was saved.",
                    needed / 1024,
                    free / 1024
                ),
            ),
        ),
        PromptError::NoFile => (
            S::BAD_REQUEST,
            "file_required",
            Text::fixed(
                "请选择要上传的音频文件。",
                "Choose an audio file to upload.",
            ),
        ),
        PromptError::SourceMismatch { .. } => (
            S::UNPROCESSABLE_ENTITY,
            "source_mismatch",
            Text::fixed(
                "录音和 TTS 结果必须是 WAV 文件。",
                "Recordings and TTS results must be WAV files.",
            ),
        ),
        PromptError::Audio(audio) => match audio {
            AudioError::NotAudio => (
                S::UNPROCESSABLE_ENTITY,
                "not_audio",
                Text::fixed(
                    "该文件不是 MP3 或 WAV 音频，未保存。",
                    "This file is not MP3 or WAV audio; nothing was saved.",
                ),
            ),
            AudioError::Corrupt(why) => (
                S::UNPROCESSABLE_ENTITY,
                "audio_corrupt",
                Text::owned(
                    format!("音频文件不完整或已损坏，未保存（{why}）。"),
                    format!("The audio file is truncated or corrupt; nothing was saved ({why})."),
                ),
            ),
            AudioError::Empty => (
                S::UNPROCESSABLE_ENTITY,
                "audio_empty",
                Text::fixed(
                    "音频文件是空的（没有声音），未保存。",
                    "The audio file is empty (no sound); nothing was saved.",
                ),
            ),
            AudioError::TooLong { limit_seconds } => (
                S::UNPROCESSABLE_ENTITY,
                "audio_too_long",
                Text::owned(
                    format!("音频长于 {limit_seconds} 秒的上限，未保存。"),
                    format!(
                        "The audio is longer than the {limit_seconds} s limit; nothing was saved."
                    ),
                ),
            ),
            AudioError::Io(_) => return ApiError::internal(err),
        },
        PromptError::Tts(tts) => match tts {
            TtsError::EmptyText => (
                S::BAD_REQUEST,
                "tts_text_empty",
                Text::fixed("请输入要转换的文字。", "Enter the text to convert."),
            ),
            TtsError::TooLong { chars, max } => (
                S::BAD_REQUEST,
                "tts_text_too_long",
                Text::owned(
                    format!("文字过长：{chars} 个字，最多 {max} 个字。"),
                    format!("The text is too long: {chars} characters, at most {max}."),
                ),
            ),
            TtsError::EngineMissing { program } => (
                S::SERVICE_UNAVAILABLE,
                "tts_engine_missing",
                Text::owned(
                    format!("语音合成引擎 {program} 未安装。"),
                    format!("The speech engine {program} is not installed."),
                ),
            ),
            TtsError::EngineFailed { reason } => (
                S::BAD_GATEWAY,
                "tts_engine_failed",
                Text::owned(
                    format!("语音合成失败：{reason}"),
                    format!("Speech synthesis failed: {reason}"),
                ),
            ),
            TtsError::Timeout { seconds } => (
                S::GATEWAY_TIMEOUT,
                "tts_timeout",
                Text::owned(
                    format!("语音合成超过 {seconds} 秒未完成，已中止。"),
                    format!("Speech synthesis did not finish within {seconds} s and was stopped."),
                ),
            ),
        },
        PromptError::Io(_) | PromptError::Store(_) => return ApiError::internal(err),
    };
    let error = ApiError::new(status, code, text);
    match &err {
        PromptError::NameEmpty
        | PromptError::NameTooLong
        | PromptError::NameInvalid
        | PromptError::NameTaken(_) => error.on_field("name"),
        PromptError::NoFile | PromptError::Audio(_) | PromptError::UploadTooLarge { .. } => {
            error.on_field("file")
        }
        PromptError::Tts(TtsError::EmptyText | TtsError::TooLong { .. }) => error.on_field("text"),
        _ => error,
    }
}

fn multipart_error(err: MultipartError) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "bad_upload",
        Text::owned(
            format!("上传的表单无法读取：{}", err.body_text()),
            format!("The upload form cannot be read: {}", err.body_text()),
        ),
    )
}

/// The voice prompts (文件名, 格式, 大小, duration) and the upload limits.
#[utoipa::path(get, path = "/api/v1/prompts", tag = "prompts",
    responses((status = 200, body = PromptList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> Result<ApiJson<PromptList>, ApiError> {
    let limits = state.prompts.limits();
    Ok(ApiJson(PromptList {
        prompts: state.prompts.list().await.map_err(prompt_error)?,
        max_upload_seconds: limits.max_seconds,
        max_upload_mb: limits.max_upload_bytes / (1024 * 1024),
        max_name_chars: MAX_NAME_CHARS,
        max_tts_chars: state.prompts.max_tts_chars(),
    }))
}

/// Upload a prompt: multipart form with `name` (what to call it), `file` (mp3 or wav) and
/// optionally `source` (`browser` for a recording made on the page, `tts` for a TTS result).
/// The file is decoded completely and converted to 8 kHz mono 16-bit WAV before anything is
/// saved; the size limit is enforced while it streams in.
#[utoipa::path(post, path = "/api/v1/prompts", tag = "prompts",
    request_body(content_type = "multipart/form-data", description = "name, file, source"),
    responses(
        (status = 201, description = "Saved", body = PromptRow),
        (status = 400, description = "No name, no file, unreadable form", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 413, description = "Over the size limit", body = ErrorBody),
        (status = 422, description = "Not audio, truncated or corrupt, empty, too long", body = ErrorBody),
        (status = 507, description = "Not enough free flash", body = ErrorBody)
    ))]
pub async fn upload(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    form: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, ApiJson<PromptRow>), ApiError> {
    let mut form = form.map_err(|rejection| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "multipart_required",
            Text::owned(
                format!(
                    "请以 multipart/form-data 表单上传（{}）。",
                    rejection.body_text()
                ),
                format!(
                    "Upload as a multipart/form-data form ({}).",
                    rejection.body_text()
                ),
            ),
        )
    })?;
    let mut name: Option<String> = None;
    let mut claim = SourceClaim::File;
    let mut staged = None;
    let mut extension = None;
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("name") => name = Some(field.text().await.map_err(multipart_error)?),
            Some("source") => {
                let value = field.text().await.map_err(multipart_error)?;
                claim = SourceClaim::parse(value.trim()).ok_or_else(|| {
                    ApiError::bad_request(
                        "invalid_source",
                        Text::fixed(
                            "来源只能是 file、browser 或 tts。",
                            "The source must be file, browser or tts.",
                        ),
                    )
                    .on_field("source")
                })?;
            }
            Some("file") if staged.is_none() => {
                extension = field
                    .file_name()
                    .and_then(|f| f.rsplit_once('.'))
                    .map(|(_, ext)| ext.to_ascii_lowercase());
                let mut upload = state.prompts.stage().await.map_err(prompt_error)?;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    upload.write(&chunk).await.map_err(prompt_error)?;
                }
                staged = Some(upload);
            }
            _ => {
                // Unknown fields are drained and ignored.
                while field.chunk().await.map_err(multipart_error)?.is_some() {}
            }
        }
    }
    let mut staged = staged.ok_or_else(|| prompt_error(PromptError::NoFile))?;
    let row = state
        .prompts
        .save_upload(name.as_deref().unwrap_or(""), claim, &mut staged, extension)
        .await
        .map_err(prompt_error)?;
    drop(staged);
    audit(
        &state,
        &session.username,
        client,
        "prompt.uploaded",
        &row.name,
        None,
        serde_json::to_string(&row).ok(),
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(row)))
}

/// The prompt's converted audio (8 kHz mono WAV), with HTTP ranges.
#[utoipa::path(get, path = "/api/v1/prompts/{name}/audio", tag = "prompts",
    params(("name" = String, Path, description = "The prompt's file stem"), DownloadQuery),
    responses(
        (status = 200, description = "The WAV file"),
        (status = 206, description = "Part of it"),
        (status = 404, body = ErrorBody),
        (status = 416, description = "Range past the end")
    ))]
pub async fn audio(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
    Path(name): Path<String>,
    ApiQuery(query): ApiQuery<DownloadQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The file is reached through the index: the name never becomes a path by itself.
    let row = state.prompts.get(&name).await.map_err(prompt_error)?;
    let path = state.prompts.audio_path(&row);
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| prompt_error(PromptError::NotFound(name.clone())))?;
    files::serve(
        file,
        "audio/wav",
        &row.file_name,
        query.disposition(),
        &headers,
    )
    .await
}

/// Delete a prompt (refused while the call-flow settings play it as start or end prompt).
#[utoipa::path(delete, path = "/api/v1/prompts/{name}", tag = "prompts",
    params(("name" = String, Path, description = "The prompt's file stem")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "Selected as start or end prompt", body = ErrorBody)))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let row = state.prompts.delete(&name).await.map_err(prompt_error)?;
    audit(
        &state,
        &session.username,
        client,
        "prompt.deleted",
        &row.name,
        serde_json::to_string(&row).ok(),
        None,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TtsRequest {
    /// The text to speak (Chinese; the engine's Mandarin voice).
    pub text: String,
}

/// Text to speech: returns the converted 8 kHz mono WAV to play or download. Nothing is
/// saved; upload it through `POST /api/v1/prompts` with `source=tts` to keep it.
#[utoipa::path(post, path = "/api/v1/tts", tag = "prompts",
    request_body = TtsRequest,
    responses(
        (status = 200, description = "The WAV (X-Duration-Ms gives its length)", content_type = "audio/wav"),
        (status = 400, description = "Empty or too long text", body = ErrorBody),
        (status = 502, description = "The engine failed", body = ErrorBody),
        (status = 503, description = "The engine is not installed", body = ErrorBody),
        (status = 504, description = "The engine took too long", body = ErrorBody)
    ))]
pub async fn tts(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
    ApiJson(request): ApiJson<TtsRequest>,
) -> Result<Response, ApiError> {
    let converted = state
        .prompts
        .synthesize(&request.text)
        .await
        .map_err(prompt_error)?;
    let duration = converted.duration_ms.to_string();
    let mut response = Response::new(Body::from(converted.wav));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, "audio/wav".parse().expect("static"));
    h.insert(
        "x-duration-ms",
        duration.parse().map_err(ApiError::internal)?,
    );
    h.insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
    Ok(response)
}
