//! `/api/v1/console/command`: the 控制台 of manual §2 — an Asterisk CLI command sent with AMI
//! `Command`, its output returned. Every command run is in the audit trail (the command,
//! never its output).
//!
//! What a command may do decides how it is run ([`classify`]): one that only reads (`… show`,
//! `… list`, `help`, `database get`) runs as it is; one that changes the PBX (a reload, a
//! hang-up, `queue pause`, `database put`) or stops it needs an explicit confirmation; one
//! that can run shell code (`System`/`TrySystem`/AGI through `dialplan add` or an originate,
//! the CLI's `!`) or load and unload modules is refused. A first word that is no Asterisk
//! command goes through, for Asterisk to say "No such command".

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

/// What a CLI command may do.
#[derive(Debug, PartialEq, Eq)]
pub enum CommandClass {
    /// Only shows something: runs as it is.
    Reads,
    /// Changes the PBX: runs once confirmed.
    Changes,
    /// Stops or restarts Asterisk: runs once confirmed (a stronger warning).
    Stops,
    /// Never run from the console.
    Refused,
}

/// Asterisk 22's top-level CLI words (`core show help`): a command starting with another
/// word is none of Asterisk's.
const CLI_WORDS: &[&str] = &[
    "acl",
    "agent",
    "agi",
    "ari",
    "bridge",
    "cc",
    "cdr",
    "cel",
    "channel",
    "cli",
    "config",
    "confbridge",
    "console",
    "core",
    "dahdi",
    "database",
    "devstate",
    "dialplan",
    "dnsmgr",
    "dundi",
    "features",
    "file",
    "group",
    "http",
    "iax2",
    "indication",
    "keys",
    "local",
    "logger",
    "malloc",
    "manager",
    "media",
    "meetme",
    "mixmonitor",
    "module",
    "moh",
    "mwi",
    "odbc",
    "originate",
    "parking",
    "pjproject",
    "pjsip",
    "presencestate",
    "queue",
    "realtime",
    "reload",
    "restart",
    "rtcp",
    "rtp",
    "say",
    "sip",
    "sorcery",
    "stasis",
    "stop",
    "stun",
    "test",
    "timing",
    "udptl",
    "ulimit",
    "voicemail",
    "xmpp",
];

/// Dialplan applications that run programs of the system.
const SHELL_APPS: &[&str] = &["system", "trysystem", "agi", "eagi", "deadagi"];

/// What `command` may do; see the module docs.
pub fn classify(command: &str) -> CommandClass {
    let lower = command.trim().to_ascii_lowercase();
    if lower.starts_with('!') {
        return CommandClass::Refused;
    }
    if stops_asterisk(&lower) {
        return CommandClass::Stops;
    }
    let words: Vec<&str> = lower.split_whitespace().collect();
    let (first, second) = (words.first().copied().unwrap_or(""), words.get(1).copied());
    if first == "help" || !CLI_WORDS.contains(&first) {
        return CommandClass::Reads;
    }
    if first == "module" && matches!(second, Some("load" | "unload")) {
        return CommandClass::Refused;
    }
    let runs_programs = (first == "dialplan" && second == Some("add"))
        || first == "originate"
        || (first == "channel" && second == Some("originate"));
    if runs_programs
        && lower
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|word| SHELL_APPS.contains(&word))
    {
        return CommandClass::Refused;
    }
    let reads = matches!(second, Some("show" | "list"))
        || (first == "database" && matches!(second, Some("get" | "show" | "showkey")))
        || (first == "core" && matches!(second, Some("ping")));
    if reads {
        CommandClass::Reads
    } else {
        CommandClass::Changes
    }
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
        (status = 403, description = "The console never runs this command (shell code, module load/unload)", body = ErrorBody),
        (status = 409, description = "The command changes, stops or restarts the PBX: confirm it", body = ErrorBody),
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
    match classify(&command) {
        CommandClass::Reads => {}
        CommandClass::Refused => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "command_refused",
                Text::owned(
                    format!("出于安全考虑，控制台不执行“{command}”：它可以运行系统程序或加载、卸载模块。请在 PBX 上直接操作。"),
                    format!("For safety the console does not run “{command}”: it can run system programs or load and unload modules. Do it on the PBX itself."),
                ),
            ));
        }
        CommandClass::Stops if !request.confirmed => {
            return Err(confirmation_required(Text::owned(
                format!("“{command}” 会停止或重启 Asterisk，所有正在进行的通话都将中断。确定要执行吗？"),
                format!("“{command}” stops or restarts Asterisk and cuts every call in progress. Run it anyway?"),
            )));
        }
        CommandClass::Changes if !request.confirmed => {
            return Err(confirmation_required(Text::owned(
                format!(
                    "“{command}” 会修改 PBX 的运行状态（例如重载配置、挂断通话）。确定要执行吗？"
                ),
                format!(
                    "“{command}” changes the running PBX (a reload, a hang-up, …). Run it anyway?"
                ),
            )));
        }
        CommandClass::Stops | CommandClass::Changes => {}
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

/// 409 `confirmation_required`: the page asks with this text and sends the command again
/// with `confirmed`.
fn confirmation_required(question: Text) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "confirmation_required", question)
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
    use super::{classify, stops_asterisk, CommandClass};

    #[test]
    fn commands_are_classed_by_what_they_may_do() {
        for (command, class) in [
            ("core show version", CommandClass::Reads),
            ("queue show 222", CommandClass::Reads),
            ("pjsip list endpoints", CommandClass::Reads),
            ("database get coocenter_job 1001", CommandClass::Reads),
            ("help queue", CommandClass::Reads),
            ("no such command here", CommandClass::Reads),
            ("queue pause member PJSIP/1001", CommandClass::Changes),
            ("channel request hangup all", CommandClass::Changes),
            ("module reload app_queue.so", CommandClass::Changes),
            ("database deltree coocenter_job", CommandClass::Changes),
            (
                "dialplan add extension 1,1,Playback(hello) into x",
                CommandClass::Changes,
            ),
            ("core restart now", CommandClass::Stops),
            ("module unload app_queue.so", CommandClass::Refused),
            ("Module Load evil.so", CommandClass::Refused),
            (
                "dialplan add extension 1,1,System(rm -rf /) into x",
                CommandClass::Refused,
            ),
            (
                "dialplan add extension 1,1,TrySystem(id) into x",
                CommandClass::Refused,
            ),
            (
                "channel originate Local/1@x application System id",
                CommandClass::Refused,
            ),
            (
                "channel originate Local/1@x application AGI /tmp/x",
                CommandClass::Refused,
            ),
            ("!sh", CommandClass::Refused),
        ] {
            assert_eq!(classify(command), class, "{command}");
        }
    }

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
