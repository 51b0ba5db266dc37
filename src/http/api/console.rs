//! `/api/v1/console/command`: the 控制台 of manual §2 — an Asterisk CLI command sent with AMI
//! `Command`, its output returned. Commands that stop or restart Asterisk need an explicit
//! confirmation. Every command run is in the audit trail (the command, never its output).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::session::AdminSession;
use crate::http::{audit, AppState, ClientAddr};
use crate::i18n::Text;

/// Longest command accepted.
const MAX_COMMAND_LENGTH: usize = 512;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRequest {
    pub command: String,
    /// Set after the user confirmed a command that stops or restarts Asterisk.
    #[serde(default)]
    pub confirmed: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CommandResult {
    /// False when Asterisk answered with an error (e.g. "No such command"); the output still
    /// says why.
    pub ok: bool,
    pub output: Vec<String>,
}

/// Whether a CLI command stops or restarts Asterisk (and so every call on the box).
pub fn stops_asterisk(command: &str) -> bool {
    let words: Vec<String> = command
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    matches!(
        words.as_slice(),
        ["core", "stop" | "restart", ..] | ["stop" | "restart", ..]
    )
}

/// Run an Asterisk CLI command.
#[utoipa::path(
    post,
    path = "/api/v1/console/command",
    tag = "console",
    request_body = CommandRequest,
    responses(
        (status = 200, body = CommandResult),
        (status = 400, description = "Empty, too long or malformed command", body = ErrorBody),
        (status = 409, description = "The command stops or restarts Asterisk: confirm it", body = ErrorBody),
        (status = 503, description = "Asterisk is not reachable", body = ErrorBody)
    )
)]
pub async fn command(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    ApiJson(request): ApiJson<CommandRequest>,
) -> Result<ApiJson<CommandResult>, ApiError> {
    let command = request.command.trim().to_string();
    if command.is_empty() {
        return Err(ApiError::bad_request(
            "empty_command",
            Text::fixed("请输入要执行的命令。", "Type a command to run."),
        ));
    }
    if command.len() > MAX_COMMAND_LENGTH || command.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_command",
            Text::fixed(
                "命令过长或包含控制字符。",
                "The command is too long or contains control characters.",
            ),
        ));
    }
    if stops_asterisk(&command) && !request.confirmed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "confirmation_required",
            Text::owned(
                format!("“{command}” 会停止或重启 Asterisk，所有正在进行的通话都将中断。确定要执行吗？"),
                format!("“{command}” stops or restarts Asterisk and cuts every call in progress. Run it anyway?"),
            ),
        ));
    }
    if !state.pbx.is_connected() {
        return Err(pbx_unavailable());
    }
    audit(
        &state,
        &session.username,
        client,
        "console.command",
        &command,
        None,
        None,
    )
    .await?;
    log::info!("{} ran CLI command {:?}", session.username, command);
    let output = state.pbx.command(&command).await.map_err(|err| {
        log::warn!("CLI command failed: {err}");
        pbx_unavailable()
    })?;
    Ok(ApiJson(CommandResult {
        ok: output.ok,
        output: output.lines,
    }))
}

fn pbx_unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "pbx_unavailable",
        Text::fixed(
            "无法连接 PBX（Asterisk），请稍后重试。",
            "The PBX (Asterisk) cannot be reached; try again shortly.",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::stops_asterisk;

    #[test]
    fn stopping_commands_are_recognised() {
        for command in [
            "core stop now",
            "core restart gracefully",
            "CORE  STOP when convenient",
            "stop now",
            "restart now",
        ] {
            assert!(stops_asterisk(command), "{command}");
        }
        for command in [
            "core show version",
            "queue show",
            "core show channels",
            "stopwatch",
        ] {
            assert!(!stops_asterisk(command), "{command}");
        }
    }
}
