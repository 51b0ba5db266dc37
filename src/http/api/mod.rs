//! The JSON API under `/api/v1/`. Each submodule is one resource; handlers parse the request,
//! call a service and map its result to a status. The OpenAPI document is assembled from the
//! handlers' annotations by utoipa while the router is built, so a route cannot exist without
//! being documented.

pub mod about;
pub mod account;
pub mod agents;
pub mod call_flow;
pub mod console;
pub mod crm;
pub mod dashboard;
pub mod firmware;
pub mod mail;
pub mod me;
pub mod oplog;
pub mod prompts;
pub mod queues;
pub mod recordings;
pub mod session;
pub mod voicemail;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, ErrorDetail};
use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CooCenter console API",
        description = "The management API of the coocenterd call-center appliance daemon. \
            Errors are `{\"error\": {\"code\", \"message\"}}`, with the message in the \
            language of `Accept-Language` (Chinese by default, English on request). \
            Authentication is the `coocenter_session` cookie set by `POST /api/v1/session`."
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    tags(
        (name = "session", description = "Login and logout"),
        (name = "account", description = "The administrator's own account"),
        (name = "system", description = "The box"),
        (name = "monitoring", description = "Live queues, agents and callers (manual §3)"),
        (name = "console", description = "Asterisk CLI through AMI (manual §2, 控制台访问)"),
        (name = "agents", description = "Agents and the PBX's extensions (manual §4)"),
        (name = "queues", description = "Queue names, strategies and members (manual §5)"),
        (name = "oplog", description = "Operation log (manual §8) and audit trail"),
        (name = "agent page", description = "An agent's own page: state, pause, unpause"),
        (name = "firmware", description = "Field upgrades through RAUC"),
        (name = "voicemail", description = "Customer voicemail of the queue mailboxes (manual §7)"),
        (name = "recordings", description = "Call recordings: search, play, download, delete, notes (manual §6)"),
        (name = "crm", description = "Custom table (manual §9.3), data deletion and mail notification (manual §9.2)"),
        (name = "call flow", description = "Call-flow settings (其他设置, manual §9.2) and the survey report"),
        (name = "prompts", description = "Voice prompts: upload, record, TTS (manual §9.1)")
    )
)]
struct ApiDoc;

/// The API routes and their OpenAPI document.
pub fn routes() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login, session::current, session::logout))
        .routes(routes!(account::change_password))
        .routes(routes!(account::get_settings, account::put_settings))
        .routes(routes!(about::about))
        .routes(routes!(about::system))
        .routes(routes!(about::pbx_manual))
        .routes(routes!(dashboard::dashboard))
        .routes(routes!(dashboard::events))
        .routes(routes!(console::command))
        .routes(routes!(agents::list, agents::create))
        .routes(routes!(agents::update, agents::delete))
        .routes(routes!(agents::reveal_password))
        .routes(routes!(agents::extensions))
        .routes(routes!(queues::list))
        .routes(routes!(queues::update))
        .routes(routes!(queues::add_member))
        .routes(routes!(queues::remove_member))
        .routes(routes!(oplog::list))
        .routes(routes!(oplog::audit_trail))
        .routes(routes!(me::get))
        .routes(routes!(me::pause))
        .routes(routes!(me::unpause))
        .routes(routes!(firmware::status))
        .routes(routes!(firmware::upload))
        .routes(routes!(firmware::install))
        .routes(routes!(voicemail::list))
        .routes(routes!(voicemail::audio))
        .routes(routes!(voicemail::delete))
        .routes(routes!(recordings::list))
        .routes(routes!(recordings::zip))
        .routes(routes!(recordings::audio))
        .routes(routes!(recordings::delete))
        .routes(routes!(recordings::note))
        // CRM: 自定义表, 删除数据, 邮件通知.
        .routes(routes!(crm::list_fields, crm::create_field))
        .routes(routes!(crm::update_field, crm::delete_field))
        .routes(routes!(crm::data_counts))
        .routes(routes!(crm::delete_data))
        .routes(routes!(mail::get_settings, mail::put_settings))
        .routes(routes!(mail::send_test))
        .routes(routes!(call_flow::get, call_flow::put))
        .routes(routes!(call_flow::survey_report))
        // Voice prompts: the upload streams its own size limit (prompts.max_upload_mb), so
        // the JSON body limit does not apply to it.
        .merge(
            OpenApiRouter::new()
                .routes(routes!(prompts::list, prompts::upload))
                .layer(DefaultBodyLimit::disable()),
        )
        .routes(routes!(prompts::audio))
        .routes(routes!(prompts::delete))
        .routes(routes!(prompts::tts))
        .split_for_parts()
}

/// `GET /api/v1/openapi.json`: the document, serialized once at start.
pub async fn openapi_document(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.openapi_json.clone(),
    )
}

/// Maps the directory's refusals to answers: a field error is 400 (409 when the value is
/// taken), a missing agent or queue 404, an unreachable Asterisk 503, a refusal by Asterisk
/// 502 with its words.
pub fn directory_error(err: crate::pbx::directory::DirectoryError) -> super::error::ApiError {
    use super::error::ApiError;
    use crate::i18n::Text;
    use crate::pbx::directory::DirectoryError;
    use axum::http::StatusCode;
    match err {
        DirectoryError::Invalid { field, code, text } => {
            let status = if code.ends_with("_taken") || code == "already_member" {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            ApiError::new(status, code, text).on_field(field)
        }
        DirectoryError::NotFound(text) => ApiError::new(StatusCode::NOT_FOUND, "not_found", text),
        DirectoryError::PbxUnavailable => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "pbx_unavailable",
            Text::fixed(
                "无法连接 PBX（Asterisk），请稍后重试。",
                "The PBX (Asterisk) cannot be reached; try again shortly.",
            ),
        ),
        DirectoryError::NotApplied(text) => {
            ApiError::new(StatusCode::CONFLICT, "strategy_not_applied", text)
        }
        DirectoryError::Refused(message) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "pbx_refused",
            Text::owned(
                format!("PBX 拒绝了此操作：{message}"),
                format!("The PBX refused: {message}"),
            ),
        ),
        other => ApiError::internal(other),
    }
}
