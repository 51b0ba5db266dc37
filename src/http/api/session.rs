//! `/api/v1/session`: log in (sets the session cookie), who am I, log out. Logins and logouts
//! of the administrator go to the operation log with 管理员 in its three identity columns
//! (manual §8).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::LoginError;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::session::{clearing_cookie, cookie_for, AnySession};
use crate::http::{AppState, ClientAddr};
use crate::i18n::{Text, ADMIN_LABEL};
use crate::store::oplog::{self, EventType};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// True after a login with the factory password: only the password change is allowed
    /// until it is done.
    pub must_change_password: bool,
    /// `admin`, or `agent` / `leader` for an agent signed in with job number or extension.
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    pub username: String,
    pub role: String,
    pub must_change_password: bool,
}

/// Longest user name or password looked at; longer ones cannot be right and are refused
/// before hashing.
const MAX_CREDENTIAL_LENGTH: usize = 256;

/// Log in.
#[utoipa::path(
    post,
    path = "/api/v1/session",
    tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in; the `coocenter_session` cookie is set", body = LoginResponse),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Wrong user name or password", body = ErrorBody),
        (status = 429, description = "Too many failed logins from this address", body = ErrorBody)
    )
)]
pub async fn login(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    if request.username.is_empty() || request.password.is_empty() {
        return Err(ApiError::bad_request(
            "missing_credentials",
            Text::fixed(
                "请输入用户名和密码。",
                "Enter the user name and the password.",
            ),
        ));
    }
    if request.username.len() > MAX_CREDENTIAL_LENGTH
        || request.password.len() > MAX_CREDENTIAL_LENGTH
    {
        return Err(invalid_credentials());
    }
    let principal = match state
        .accounts
        .login(&request.username, &request.password, client.ip())
        .await
    {
        Ok(principal) => principal,
        Err(LoginError::InvalidCredentials) => return Err(invalid_credentials()),
        Err(LoginError::LockedOut(remaining)) => {
            // Rounded up: a client that waits what it is told must not arrive early.
            let seconds = (remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0)).max(1);
            let mut error = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "locked_out",
                Text::owned(
                    format!("登录失败次数过多，请在 {seconds} 秒后重试。"),
                    format!("Too many failed logins. Try again in {seconds} seconds."),
                ),
            );
            error.retry_after = Some(seconds);
            return Err(error);
        }
        Err(other) => return Err(ApiError::internal(other)),
    };
    let token = state.sessions.create(&principal);
    let address = client.ip().to_string();
    let actor = actor_for(&state, principal.agent_id).await?;
    state
        .accounts
        .store()
        .call(move |conn| oplog::append(conn, &actor, EventType::Login, &address))
        .await?;
    state.pbx.refresh_stats();
    log::info!("{} logged in from {}", principal.username, client.ip());
    let body = LoginResponse {
        must_change_password: principal.must_change_password,
        role: principal.role.clone(),
    };
    Ok(([(header::SET_COOKIE, cookie_for(&token))], axum::Json(body)).into_response())
}

/// The current session.
#[utoipa::path(
    get,
    path = "/api/v1/session",
    tag = "session",
    responses(
        (status = 200, body = SessionInfo),
        (status = 401, description = "Not logged in", body = ErrorBody)
    )
)]
pub async fn current(AnySession(session): AnySession) -> ApiJson<SessionInfo> {
    ApiJson(SessionInfo {
        username: session.username,
        role: session.role,
        must_change_password: session.must_change_password,
    })
}

/// Log out: the session ends on the server and the cookie is cleared.
#[utoipa::path(
    delete,
    path = "/api/v1/session",
    tag = "session",
    responses(
        (status = 204, description = "Logged out"),
        (status = 401, description = "Not logged in", body = ErrorBody)
    )
)]
pub async fn logout(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AnySession(session): AnySession,
) -> Result<Response, ApiError> {
    state.sessions.end(&session);
    let address = client.ip().to_string();
    let actor = actor_for(&state, session.agent_id).await?;
    state
        .accounts
        .store()
        .call(move |conn| oplog::append(conn, &actor, EventType::Logout, &address))
        .await?;
    state.pbx.refresh_stats();
    log::info!("{} logged out", session.username);
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clearing_cookie())],
    )
        .into_response())
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        Text::fixed("用户名或密码错误。", "Wrong user name or password."),
    )
}

/// Who the operation log names: the agent, or 管理员.
async fn actor_for(state: &AppState, agent_id: Option<i64>) -> Result<oplog::Actor, ApiError> {
    match agent_id {
        Some(id) => {
            let agent = state
                .directory
                .agent(id)
                .await
                .map_err(super::directory_error)?;
            Ok(crate::store::oplog::Actor::of(&agent))
        }
        None => Ok(admin_actor()),
    }
}

/// The administrator as the operation log shows it.
fn admin_actor() -> oplog::Actor {
    oplog::Actor {
        agent_name: ADMIN_LABEL.into(),
        job_number: ADMIN_LABEL.into(),
        extension: ADMIN_LABEL.into(),
    }
}
