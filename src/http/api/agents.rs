//! `/api/v1/agents` (坐席管理, manual §4) and `/api/v1/pbx/extensions` (the PBX's extensions an
//! agent can be put on). Every change is in the audit trail, the extension password never:
//! it is only revealed by its own audited request.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Extension;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::directory_error;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::session::AdminSession;
use crate::http::{audit, AppState, ClientAddr};
use crate::pbx::directory::AgentInput;
use crate::store::agents::Agent;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentBody {
    /// 坐席名
    pub name: String,
    /// 工号, unique
    pub job_number: String,
    /// 组长
    #[serde(default)]
    pub leader: bool,
    /// 分机: one of the PBX's extensions, unique
    pub extension: String,
    /// 密码: the extension's password. Required on creation; omitted on an edit keeps it.
    #[serde(default)]
    pub password: Option<String>,
    /// 分机类型: `web`, `sip` or `analog`
    pub extension_type: String,
}

#[derive(Serialize, ToSchema)]
pub struct AgentOut {
    pub id: i64,
    pub name: String,
    pub job_number: String,
    pub leader: bool,
    pub extension: String,
    pub extension_type: String,
    /// The queues the agent is a member of.
    pub queues: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RevealedPassword {
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct ExtensionOut {
    pub extension: String,
    /// The PBX interface, e.g. `PJSIP/1001`.
    pub interface: String,
    /// `PJSIP`, `SIP`, `IAX2` or `DAHDI` (analog).
    pub technology: String,
    /// The agent already on this extension, if any.
    pub agent: Option<String>,
}

fn out(agent: Agent, queues: Vec<String>) -> AgentOut {
    AgentOut {
        id: agent.id,
        name: agent.name,
        job_number: agent.job_number,
        leader: agent.leader,
        extension: agent.extension,
        extension_type: agent.extension_type,
        queues,
    }
}

/// What the audit trail records of an agent (never the password).
fn describe(agent: &Agent) -> String {
    serde_json::json!({
        "name": agent.name, "job_number": agent.job_number, "leader": agent.leader,
        "extension": agent.extension, "extension_type": agent.extension_type,
    })
    .to_string()
}

fn input(body: AgentBody) -> AgentInput {
    AgentInput {
        name: body.name,
        job_number: body.job_number,
        leader: body.leader,
        extension: body.extension,
        password: body.password,
        extension_type: body.extension_type,
    }
}

/// All agents.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents",
    responses((status = 200, body = [AgentOut]), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> Result<ApiJson<Vec<AgentOut>>, ApiError> {
    let agents = state.directory.agents().await.map_err(directory_error)?;
    Ok(ApiJson(
        agents.into_iter().map(|(a, q)| out(a, q)).collect(),
    ))
}

/// Create an agent (新建坐席).
#[utoipa::path(post, path = "/api/v1/agents", tag = "agents", request_body = AgentBody,
    responses(
        (status = 201, body = AgentOut),
        (status = 400, description = "A field is missing or wrong; `field` names it", body = ErrorBody),
        (status = 409, description = "Job number or extension already used", body = ErrorBody)
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    ApiJson(body): ApiJson<AgentBody>,
) -> Result<(StatusCode, ApiJson<AgentOut>), ApiError> {
    let agent = state
        .directory
        .create_agent(input(body))
        .await
        .map_err(directory_error)?;
    audit(
        &state,
        &session.username,
        client,
        "agent.created",
        &agent.job_number,
        None,
        Some(describe(&agent)),
    )
    .await?;
    state.directory.pbx().refresh_stats();
    Ok((StatusCode::CREATED, ApiJson(out(agent, vec![]))))
}

/// Edit an agent.
#[utoipa::path(put, path = "/api/v1/agents/{id}", tag = "agents", request_body = AgentBody,
    params(("id" = i64, Path, description = "Agent id")),
    responses(
        (status = 200, body = AgentOut),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)
    ))]
pub async fn update(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AgentBody>,
) -> Result<ApiJson<AgentOut>, ApiError> {
    let password_changed = body.password.is_some();
    let (before, after) = state
        .directory
        .update_agent(id, input(body))
        .await
        .map_err(directory_error)?;
    let mut after_text = describe(&after);
    if password_changed && before.extension_password != after.extension_password {
        after_text.push_str(" (password changed)");
    }
    audit(
        &state,
        &session.username,
        client,
        "agent.updated",
        &after.job_number,
        Some(describe(&before)),
        Some(after_text),
    )
    .await?;
    state.directory.pbx().refresh_stats();
    let queues = state
        .directory
        .store()
        .call(move |conn| crate::store::queues::queues_of(conn, id))
        .await?;
    Ok(ApiJson(out(after, queues)))
}

/// Delete an agent (and take it out of its queues).
#[utoipa::path(delete, path = "/api/v1/agents/{id}", tag = "agents",
    params(("id" = i64, Path, description = "Agent id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let agent = state
        .directory
        .delete_agent(id)
        .await
        .map_err(directory_error)?;
    audit(
        &state,
        &session.username,
        client,
        "agent.deleted",
        &agent.job_number,
        Some(describe(&agent)),
        None,
    )
    .await?;
    state.directory.pbx().refresh_stats();
    Ok(StatusCode::NO_CONTENT)
}

/// Reveal an agent's extension password (audited).
#[utoipa::path(get, path = "/api/v1/agents/{id}/password", tag = "agents",
    params(("id" = i64, Path, description = "Agent id")),
    responses((status = 200, body = RevealedPassword), (status = 404, body = ErrorBody)))]
pub async fn reveal_password(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    Path(id): Path<i64>,
) -> Result<ApiJson<RevealedPassword>, ApiError> {
    let agent = state.directory.agent(id).await.map_err(directory_error)?;
    audit(
        &state,
        &session.username,
        client,
        "agent.password_revealed",
        &agent.job_number,
        None,
        None,
    )
    .await?;
    Ok(ApiJson(RevealedPassword {
        password: agent.extension_password,
    }))
}

/// The extensions the PBX offers (read from Asterisk when reachable).
#[utoipa::path(get, path = "/api/v1/pbx/extensions", tag = "agents",
    responses((status = 200, body = [ExtensionOut]), (status = 401, body = ErrorBody)))]
pub async fn extensions(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> Result<ApiJson<Vec<ExtensionOut>>, ApiError> {
    let extensions = state
        .directory
        .extensions()
        .await
        .map_err(directory_error)?;
    let agents = state.directory.agents().await.map_err(directory_error)?;
    Ok(ApiJson(
        extensions
            .into_iter()
            .map(|e| ExtensionOut {
                agent: agents
                    .iter()
                    .find(|(a, _)| a.extension == e.extension)
                    .map(|(a, _)| a.name.clone()),
                extension: e.extension,
                interface: e.interface,
                technology: e.technology,
            })
            .collect(),
    ))
}
