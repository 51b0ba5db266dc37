//! `/api/v1/account`: the administrator's own password (manual §2 管理员密码修改) and the
//! account settings (连接管理平台). Both changes go to the audit trail; passwords never do.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::PasswordChangeError;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::session::{AdminSession, AnySession};
use crate::http::{audit, AppState, ClientAddr};
use crate::i18n::Text;
use crate::store::{audit as audit_log, settings};

const PLATFORM_KEY: &str = "account.platform_enabled";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub old_password: String,
    pub new_password: String,
}

#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    /// 连接管理平台: connect this box to the central management platform.
    pub platform_enabled: bool,
}

/// Change the password of the logged-in account (also the forced first-login change).
#[utoipa::path(
    post,
    path = "/api/v1/account/password",
    tag = "account",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed; other sessions of the account are ended"),
        (status = 400, description = "Wrong current password, or the new one is weak or reused", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody)
    )
)]
pub async fn change_password(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AnySession(session): AnySession,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    let result = state
        .accounts
        .change_password(
            session.account_id,
            &change.old_password,
            &change.new_password,
        )
        .await;
    match result {
        Ok(()) => {}
        Err(PasswordChangeError::WrongOldPassword) => {
            return Err(ApiError::bad_request(
                "wrong_old_password",
                Text::fixed("当前密码不正确。", "The current password is wrong."),
            ))
        }
        Err(err @ PasswordChangeError::Policy(_)) => {
            let text = err.policy_text().expect("policy errors carry a text");
            return Err(ApiError::bad_request("weak_password", text));
        }
        Err(PasswordChangeError::NoSuchAccount) => return Err(ApiError::not_logged_in()),
        Err(other) => return Err(ApiError::internal(other)),
    }
    state.sessions.password_changed(&session);
    audit(
        &state,
        &session.username,
        client,
        "account.password_changed",
        &session.username,
        None,
        None,
    )
    .await?;
    log::info!("{} changed their password", session.username);
    Ok(StatusCode::NO_CONTENT)
}

/// The account settings.
#[utoipa::path(
    get,
    path = "/api/v1/account/settings",
    tag = "account",
    responses(
        (status = 200, body = AccountSettings),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The default password must be changed first", body = ErrorBody)
    )
)]
pub async fn get_settings(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> Result<ApiJson<AccountSettings>, ApiError> {
    Ok(ApiJson(read_settings(&state).await?))
}

/// Change the account settings.
#[utoipa::path(
    put,
    path = "/api/v1/account/settings",
    tag = "account",
    request_body = AccountSettings,
    responses(
        (status = 200, description = "Stored", body = AccountSettings),
        (status = 400, description = "Malformed request", body = ErrorBody),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The default password must be changed first", body = ErrorBody)
    )
)]
pub async fn put_settings(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    ApiJson(wanted): ApiJson<AccountSettings>,
) -> Result<ApiJson<AccountSettings>, ApiError> {
    let before = read_settings(&state).await?;
    if before != wanted {
        let actor = session.username.clone();
        let address = client.ip().to_string();
        state
            .accounts
            .store()
            .call(move |conn| {
                let tx = conn.transaction()?;
                settings::put(&tx, PLATFORM_KEY, &wanted.platform_enabled.to_string())?;
                audit_log::append(
                    &tx,
                    &audit_log::Record {
                        actor: &actor,
                        action: "account.settings_changed",
                        target: "platform_enabled",
                        before: Some(&before.platform_enabled.to_string()),
                        after: Some(&wanted.platform_enabled.to_string()),
                        address: Some(&address),
                    },
                )?;
                tx.commit()
            })
            .await?;
    }
    Ok(ApiJson(read_settings(&state).await?))
}

async fn read_settings(state: &AppState) -> Result<AccountSettings, ApiError> {
    let stored = state
        .accounts
        .store()
        .call(|conn| settings::get(conn, PLATFORM_KEY))
        .await?;
    Ok(AccountSettings {
        platform_enabled: stored.as_deref() == Some("true"),
    })
}
