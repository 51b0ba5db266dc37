//! `/api/v1/about`: what the admin menu's 系统说明 shows about the box.

use std::sync::Arc;

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::session::AdminSession;
use crate::http::AppState;

#[derive(Serialize, ToSchema)]
pub struct About {
    pub product: String,
    /// The call-center (daemon) version.
    pub version: String,
    pub hostname: String,
    /// Compare with the fingerprint the browser shows in its certificate warning (manual §1).
    pub tls_fingerprint_sha256: String,
    /// When the console started (RFC 3339).
    pub started_at: String,
}

/// Product, version and identity of the box.
#[utoipa::path(
    get,
    path = "/api/v1/about",
    tag = "system",
    responses(
        (status = 200, body = About),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The default password must be changed first", body = ErrorBody)
    )
)]
pub async fn about(State(state): State<Arc<AppState>>, _admin: AdminSession) -> ApiJson<About> {
    ApiJson(About {
        product: crate::PRODUCT_NAME.to_string(),
        version: crate::VERSION.to_string(),
        hostname: state.hostname.clone(),
        tls_fingerprint_sha256: state.tls_fingerprint.clone(),
        started_at: state
            .started_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

/// The system part of the dashboard (manual §3 part 4): uptimes, memory, system disk, USB
/// storage, version. Read from the kernel at each call (tens of microseconds), so 刷新 always
/// shows the present.
#[utoipa::path(
    get,
    path = "/api/v1/system",
    tag = "system",
    responses(
        (status = 200, body = crate::system::SystemSnapshot),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The default password must be changed first", body = ErrorBody)
    )
)]
pub async fn system(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> Result<ApiJson<crate::system::SystemSnapshot>, ApiError> {
    let paths = state.system_paths.clone();
    let started = state.started;
    // statvfs can stall on a failing USB stick: keep it off the async workers.
    let snapshot = tokio::task::spawn_blocking(move || crate::system::snapshot(&paths, started))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    Ok(ApiJson(snapshot))
}

/// PBX手册 (manual §12): the PBX's own manual when one is installed on the box (PDF or HTML,
/// `paths.pbx_manual`), shown inline or, with `?download=1`, as a download. When there is
/// none, 404 `pbx_manual_missing`: the page then points to the PBX UI on port 9999.
#[utoipa::path(
    get,
    path = "/api/v1/manuals/pbx",
    tag = "system",
    params(("download" = Option<u8>, Query, description = "1 to download instead of showing")),
    responses(
        (status = 200, description = "The manual", content_type = "application/pdf"),
        (status = 404, description = "No PBX manual installed", body = ErrorBody)
    )
)]
pub async fn pbx_manual(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
    crate::http::query::ApiQuery(query): crate::http::query::ApiQuery<
        std::collections::HashMap<String, String>,
    >,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let path = state.pbx_manual.clone();
    let missing = || {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "pbx_manual_missing",
            crate::i18n::Text::fixed(
                "本设备未安装 PBX 使用手册，请在 PBX 设置（端口 9999）中查看帮助。",
                "No PBX manual is installed on this box; see the help of the PBX settings (port 9999).",
            ),
        )
    };
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(_) => return Err(missing()),
    };
    let (content_type, name) = match path.extension().and_then(|e| e.to_str()) {
        Some("pdf") => ("application/pdf", "pbx-manual.pdf"),
        Some("html" | "htm") => ("text/html; charset=utf-8", "pbx-manual.html"),
        _ => ("application/octet-stream", "pbx-manual"),
    };
    let disposition = if query.get("download").map(String::as_str) == Some("1") {
        format!("attachment; filename=\"{name}\"")
    } else {
        format!("inline; filename=\"{name}\"")
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
