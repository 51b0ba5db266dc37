//! The HTTPS front door: hyper (through axum) over rustls. Serves the embedded web UI, the JSON
//! API under `/api/v1/`, and owns sessions, login, cross-site checks and request limits.
//! Holds no business logic: a handler parses, calls a service (`accounts`, later `pbx`,
//! `media`, `system`, `firmware`), and maps its result and error to a status.

pub mod api;
pub mod assets;
pub mod drain;
pub mod error;
pub mod files;
pub mod guard;
pub mod json;
pub mod query;
pub mod server;
pub mod session;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};
use axum::Router;
use bytes::Bytes;

use crate::accounts::Accounts;
use crate::pbx::Pbx;
use error::ApiError;
use session::Sessions;

/// What every handler can reach.
pub struct AppState {
    pub accounts: Accounts,
    pub pbx: Pbx,
    pub directory: crate::pbx::directory::Directory,
    /// The call-flow settings (其他设置) and their application to Asterisk.
    pub call_flow: crate::pbx::callflow::CallFlow,
    /// The reasons an agent picks from when pausing.
    pub pause_reasons: Vec<String>,
    pub firmware: crate::firmware::service::FirmwareService,
    /// The PBX's own manual (PBX手册), when installed.
    pub pbx_manual: std::path::PathBuf,
    /// The voicemail spool's index, kept current by polling.
    pub voicemail: Arc<crate::media::voicemail::VoicemailWatcher>,
    /// The recordings index and the folders it reconciles with.
    pub recordings: Arc<crate::media::recordings::RecordingIndex>,
    /// The voice prompts folder and its index (语音管理).
    pub prompts: Arc<crate::media::prompts::PromptStore>,
    pub sessions: Sessions,
    pub hostname: String,
    pub tls_fingerprint: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub started: std::time::Instant,
    pub system_paths: crate::system::SystemPaths,
    /// Mail settings, test mail and the free-space monitor (邮件通知).
    pub mail: crate::notify::MailService,
    pub openapi_json: Bytes,
}

/// The peer address of the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// Builds the application: API, OpenAPI document, web UI, and the guards around them.
#[allow(clippy::too_many_arguments)]
pub fn router(
    accounts: Accounts,
    pbx: Pbx,
    directory: crate::pbx::directory::Directory,
    call_flow: crate::pbx::callflow::CallFlow,
    pause_reasons: Vec<String>,
    firmware: crate::firmware::service::FirmwareService,
    pbx_manual: std::path::PathBuf,
    voicemail: Arc<crate::media::voicemail::VoicemailWatcher>,
    recordings: Arc<crate::media::recordings::RecordingIndex>,
    prompts: Arc<crate::media::prompts::PromptStore>,
    sessions: Sessions,
    hostname: String,
    tls_fingerprint: String,
    system_paths: crate::system::SystemPaths,
    mail: crate::notify::MailService,
    max_body_bytes: usize,
) -> Router {
    let (api_routes, openapi) = api::routes();
    let openapi_json = Bytes::from(
        openapi
            .to_pretty_json()
            .expect("OpenAPI document serializes"),
    );
    let state = Arc::new(AppState {
        accounts,
        pbx,
        directory,
        call_flow,
        pause_reasons,
        firmware,
        pbx_manual,
        voicemail,
        recordings,
        prompts,
        sessions,
        hostname,
        tls_fingerprint,
        started_at: chrono::Utc::now(),
        started: std::time::Instant::now(),
        system_paths,
        mail,
        openapi_json,
    });
    api_routes
        .route("/api/v1/openapi.json", get(api::openapi_document))
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(assets::serve)
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(axum::middleware::from_fn(guard::refuse_cross_site))
        .layer(axum::middleware::from_fn(error::localize_errors))
        .layer(axum::middleware::from_fn(guard::security_headers))
        .layer(axum::middleware::from_fn(
            drain::read_refused_bodies_to_the_end,
        ))
}

async fn api_not_found() -> ApiError {
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// Appends to the audit trail: who (`actor`), from where, what, before → after.
pub async fn audit(
    state: &AppState,
    actor: &str,
    client: SocketAddr,
    action: &'static str,
    target: &str,
    before: Option<String>,
    after: Option<String>,
) -> Result<(), ApiError> {
    let (actor, target, address) = (
        actor.to_string(),
        target.to_string(),
        client.ip().to_string(),
    );
    state
        .accounts
        .store()
        .call(move |conn| {
            crate::store::audit::append(
                conn,
                &crate::store::audit::Record {
                    actor: &actor,
                    action,
                    target: &target,
                    before: before.as_deref(),
                    after: after.as_deref(),
                    address: Some(&address),
                },
            )
        })
        .await?;
    Ok(())
}
