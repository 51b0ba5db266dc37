//! `/api/v1/me`: the agent's own page. An agent or team leader signed in with job number or
//! extension sees their state, pauses (置忙) with a reason from the configured list, unpauses
//! (置闲) — in all of their queues, through `QueuePause` — and each is in the operation log
//! (忙 with the reason, or 未知 when none was chosen; 闲).

use std::sync::Arc;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::directory_error;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::session::AgentSession;
use crate::http::AppState;
use crate::i18n::Text;
use crate::pbx::model::AgentStatus;
use crate::store::agents::Agent;

/// The detail the operation log records for a pause without a reason (manual §8).

#[derive(Serialize, ToSchema)]
pub struct MeAgent {
    pub id: i64,
    pub name: String,
    pub job_number: String,
    pub extension: String,
    pub leader: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub agent: MeAgent,
    /// `idle`, `busy`, `ringing`, `on_hold`, `offline` or `unknown`.
    #[schema(value_type = String)]
    pub status: AgentStatus,
    pub paused: bool,
    pub pause_reason: String,
    /// The queues the agent is in.
    pub queues: Vec<String>,
    /// The reasons to choose from when pausing.
    pub pause_reasons: Vec<String>,
    pub pbx_connected: bool,
    /// The screen pop (弹屏地址) of the queue call the agent is talking on, when the
    /// inbound template is set; the page opens it once per call.
    pub screen_pop: Option<crate::pbx::callflow::ScreenPop>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseRequest {
    /// One of `pause_reasons`, or empty for none (logged as 未知).
    #[serde(default)]
    pub reason: String,
}

async fn me(state: &AppState, agent: Agent) -> Result<Me, ApiError> {
    let id = agent.id;
    let queues = state
        .directory
        .store()
        .call(move |conn| crate::store::queues::queues_of(conn, id))
        .await?;
    let live = state.pbx.live().borrow().clone();
    let rows: Vec<_> = live
        .agents
        .iter()
        .filter(|a| a.extension == agent.extension)
        .collect();
    let status = rows.first().map_or(AgentStatus::Offline, |a| a.status);
    let paused = rows.iter().any(|a| a.paused);
    let pause_reason = rows
        .iter()
        .find(|a| a.paused)
        .map(|a| a.pause_reason.clone())
        .unwrap_or_default();
    let screen_pop = state
        .call_flow
        .screen_pop(&agent.extension, &agent.job_number, agent.leader)
        .await
        .unwrap_or_else(|err| {
            log::error!("cannot build the screen pop: {err}");
            None
        });
    Ok(Me {
        screen_pop,
        agent: MeAgent {
            id: agent.id,
            name: agent.name,
            job_number: agent.job_number,
            extension: agent.extension,
            leader: agent.leader,
        },
        status,
        paused,
        pause_reason,
        queues,
        pause_reasons: state.pause_reasons.clone(),
        pbx_connected: live.pbx.connected,
    })
}

/// The signed-in agent's page.
#[utoipa::path(get, path = "/api/v1/me", tag = "agent page",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    session: AgentSession,
) -> Result<ApiJson<Me>, ApiError> {
    let agent = state
        .directory
        .agent(session.1)
        .await
        .map_err(directory_error)?;
    Ok(ApiJson(me(&state, agent).await?))
}

/// Pause (置忙) in all of the agent's queues.
#[utoipa::path(post, path = "/api/v1/me/pause", tag = "agent page", request_body = PauseRequest,
    responses((status = 200, body = Me), (status = 400, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn pause(
    State(state): State<Arc<AppState>>,
    session: AgentSession,
    ApiJson(request): ApiJson<PauseRequest>,
) -> Result<ApiJson<Me>, ApiError> {
    let reason = request.reason.trim().to_string();
    if !reason.is_empty() && !state.pause_reasons.contains(&reason) {
        return Err(ApiError::bad_request(
            "unknown_reason",
            Text::fixed(
                "请从列表中选择置忙原因。",
                "Choose a pause reason from the list.",
            ),
        )
        .on_field("reason"));
    }
    let agent = state
        .directory
        .agent(session.1)
        .await
        .map_err(directory_error)?;
    // The operation log's row comes from Asterisk's QueueMemberPause, as for a pause made
    // on a phone or by another AMI client (the PBX worker writes it).
    state
        .directory
        .pause(&agent, true, &reason)
        .await
        .map_err(directory_error)?;
    Ok(ApiJson(me(&state, agent).await?))
}

/// Unpause (置闲) in all of the agent's queues.
#[utoipa::path(post, path = "/api/v1/me/unpause", tag = "agent page",
    responses((status = 200, body = Me), (status = 503, body = ErrorBody)))]
pub async fn unpause(
    State(state): State<Arc<AppState>>,
    session: AgentSession,
) -> Result<ApiJson<Me>, ApiError> {
    let agent = state
        .directory
        .agent(session.1)
        .await
        .map_err(directory_error)?;
    state
        .directory
        .pause(&agent, false, "")
        .await
        .map_err(directory_error)?;
    Ok(ApiJson(me(&state, agent).await?))
}
