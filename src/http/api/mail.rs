//! `/api/v1/mail-settings` (邮件通知, manual §9.2): the SMTP server, sender, recipients and
//! free-space threshold, and the 测试 mail, which reports the SMTP server's answer. The
//! password is write-only: answers say only whether one is set, and the audit trail never
//! has it.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::session::AdminSession;
use crate::http::{audit, AppState, ClientAddr};
use crate::notify::service::TestError;
use crate::notify::settings::SettingsError;
use crate::notify::smtp::{SendError, SmtpAnswer};
use crate::notify::{MailSettingsInput, MailSettingsView};

fn refused(err: SettingsError) -> ApiError {
    ApiError::bad_request(err.code, err.text).on_field(err.field)
}

/// The mail settings (without the password).
#[utoipa::path(get, path = "/api/v1/mail-settings", tag = "crm",
    responses((status = 200, body = MailSettingsView), (status = 401, body = ErrorBody)))]
pub async fn get_settings(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> Result<ApiJson<MailSettingsView>, ApiError> {
    Ok(ApiJson(state.mail.settings().await?.view()))
}

/// Save the mail settings. `password` left out keeps the stored one.
#[utoipa::path(put, path = "/api/v1/mail-settings", tag = "crm", request_body = MailSettingsInput,
    responses(
        (status = 200, body = MailSettingsView),
        (status = 400, description = "A field is missing or wrong; `field` names it", body = ErrorBody)
    ))]
pub async fn put_settings(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    ApiJson(body): ApiJson<MailSettingsInput>,
) -> Result<ApiJson<MailSettingsView>, ApiError> {
    let (before, after) = state.mail.save(body).await?.map_err(refused)?;
    let mut after_text = after.describe();
    if before.password != after.password {
        after_text.push_str(" (password changed)");
    }
    audit(
        &state,
        &session.username,
        client,
        "mail_settings.updated",
        "mail",
        Some(before.describe()),
        Some(after_text),
    )
    .await?;
    Ok(ApiJson(after.view()))
}

/// Send a test mail with the settings in the body (saved or not) → the SMTP server's answer.
#[utoipa::path(post, path = "/api/v1/mail-settings/test", tag = "crm", request_body = MailSettingsInput,
    responses(
        (status = 200, description = "The server accepted the mail", body = SmtpAnswer),
        (status = 400, body = ErrorBody),
        (status = 502, description = "The server refused, or could not be reached; the message says which", body = ErrorBody)
    ))]
pub async fn send_test(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    ApiJson(body): ApiJson<MailSettingsInput>,
) -> Result<ApiJson<SmtpAnswer>, ApiError> {
    let target = format!("{}:{}", body.host.trim(), body.port);
    let outcome = state.mail.send_test(body).await;
    let result = match &outcome {
        Ok(answer) => format!("accepted: {} {}", answer.code, answer.message.join(" ")),
        Err(TestError::Send(err)) => format!("failed: {err}"),
        Err(_) => String::new(),
    };
    if !result.is_empty() {
        audit(
            &state,
            &session.username,
            client,
            "mail.test_sent",
            &target,
            None,
            Some(result),
        )
        .await?;
    }
    match outcome {
        Ok(answer) => Ok(ApiJson(answer)),
        Err(TestError::Invalid(err)) => Err(refused(err)),
        Err(TestError::Store(err)) => Err(ApiError::internal(err)),
        Err(TestError::Send(err)) => {
            let code = match err {
                SendError::Refused { .. } => "smtp_refused",
                SendError::Timeout { .. } => "smtp_timeout",
                SendError::Tls { .. } => "smtp_tls_failed",
                SendError::Connect { .. } => "smtp_unreachable",
                _ => "smtp_failed",
            };
            Err(ApiError::new(StatusCode::BAD_GATEWAY, code, err.text()))
        }
    }
}
