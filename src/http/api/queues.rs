//! `/api/v1/queues` (队列管理, manual §5): the queues Asterisk has, our display names,
//! strategies and members. 队列号 never changes; a strategy change is applied with
//! `QueueReload`, which restarts the queue's counts (the UI warns first).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Extension;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::directory_error;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::json::ApiJson;
use crate::http::session::AdminSession;
use crate::http::{audit, AppState, ClientAddr};
use crate::pbx::directory::{QueueView, STRATEGIES};

#[derive(Serialize, ToSchema)]
pub struct QueueMemberOut {
    pub agent_id: i64,
    pub name: String,
    pub job_number: String,
    pub extension: String,
}

#[derive(Serialize, ToSchema)]
pub struct QueueOut {
    /// 队列号 (read-only).
    pub queue: String,
    /// 队列名.
    pub name: String,
    /// 队列策略.
    pub strategy: String,
    /// The strategy change is saved but not yet applied (Asterisk away).
    pub pending: bool,
    pub members: Vec<QueueMemberOut>,
}

#[derive(Serialize, ToSchema)]
pub struct QueueList {
    /// The strategies Asterisk offers.
    pub strategies: Vec<String>,
    pub queues: Vec<QueueOut>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueChange {
    pub name: Option<String>,
    pub strategy: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberAdd {
    pub agent_id: i64,
}

fn out(view: QueueView) -> QueueOut {
    QueueOut {
        queue: view.queue,
        name: view.name,
        strategy: view.strategy,
        pending: view.pending,
        members: view
            .members
            .into_iter()
            .map(|m| QueueMemberOut {
                agent_id: m.agent_id,
                name: m.name,
                job_number: m.job_number,
                extension: m.extension,
            })
            .collect(),
    }
}

/// The queues.
#[utoipa::path(get, path = "/api/v1/queues", tag = "queues",
    responses((status = 200, body = QueueList), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> Result<ApiJson<QueueList>, ApiError> {
    let queues = state.directory.queues().await.map_err(directory_error)?;
    Ok(ApiJson(QueueList {
        strategies: STRATEGIES.iter().map(|s| s.to_string()).collect(),
        queues: queues.into_iter().map(out).collect(),
    }))
}

/// Rename a queue and/or change its strategy.
#[utoipa::path(put, path = "/api/v1/queues/{queue}", tag = "queues", request_body = QueueChange,
    params(("queue" = String, Path, description = "Queue number")),
    responses((status = 200, body = QueueOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    Path(queue): Path<String>,
    ApiJson(change): ApiJson<QueueChange>,
) -> Result<ApiJson<QueueOut>, ApiError> {
    let before = state
        .directory
        .queue(&queue)
        .await
        .map_err(directory_error)?;
    if let Some(strategy) = &change.strategy {
        if !STRATEGIES.contains(&strategy.as_str()) {
            // Checked before anything is written, so a bad strategy leaves the name alone too.
            return Err(directory_error(
                crate::pbx::directory::DirectoryError::Invalid {
                    field: "strategy",
                    code: "strategy_invalid",
                    text: crate::i18n::Text::fixed("不支持的振铃策略。", "Unknown ring strategy."),
                },
            ));
        }
    }
    if let Some(name) = &change.name {
        state
            .directory
            .rename_queue(&queue, name)
            .await
            .map_err(directory_error)?;
        if *name != before.name {
            audit(
                &state,
                &session.username,
                client,
                "queue.renamed",
                &queue,
                Some(before.name.clone()),
                Some(name.clone()),
            )
            .await?;
        }
    }
    if let Some(strategy) = &change.strategy {
        if *strategy != before.strategy || before.pending {
            state
                .directory
                .set_strategy(&queue, strategy)
                .await
                .map_err(directory_error)?;
            audit(
                &state,
                &session.username,
                client,
                "queue.strategy_changed",
                &queue,
                Some(before.strategy.clone()),
                Some(strategy.clone()),
            )
            .await?;
        }
    }
    Ok(ApiJson(out(state
        .directory
        .queue(&queue)
        .await
        .map_err(directory_error)?)))
}

/// Add an agent to a queue (QueueAdd).
#[utoipa::path(post, path = "/api/v1/queues/{queue}/members", tag = "queues", request_body = MemberAdd,
    params(("queue" = String, Path, description = "Queue number")),
    responses((status = 200, body = QueueOut), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn add_member(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    Path(queue): Path<String>,
    ApiJson(body): ApiJson<MemberAdd>,
) -> Result<ApiJson<QueueOut>, ApiError> {
    state
        .directory
        .add_member(&queue, body.agent_id)
        .await
        .map_err(directory_error)?;
    let agent = state
        .directory
        .agent(body.agent_id)
        .await
        .map_err(directory_error)?;
    audit(
        &state,
        &session.username,
        client,
        "queue.member_added",
        &queue,
        None,
        Some(agent.job_number),
    )
    .await?;
    Ok(ApiJson(out(state
        .directory
        .queue(&queue)
        .await
        .map_err(directory_error)?)))
}

/// Remove an agent from a queue (QueueRemove).
#[utoipa::path(delete, path = "/api/v1/queues/{queue}/members/{agent_id}", tag = "queues",
    params(("queue" = String, Path, description = "Queue number"), ("agent_id" = i64, Path, description = "Agent id")),
    responses((status = 200, body = QueueOut), (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<Arc<AppState>>,
    Extension(ClientAddr(client)): Extension<ClientAddr>,
    AdminSession(session): AdminSession,
    Path((queue, agent_id)): Path<(String, i64)>,
) -> Result<ApiJson<QueueOut>, ApiError> {
    let agent = state
        .directory
        .agent(agent_id)
        .await
        .map_err(directory_error)?;
    state
        .directory
        .remove_member(&queue, agent_id)
        .await
        .map_err(directory_error)?;
    audit(
        &state,
        &session.username,
        client,
        "queue.member_removed",
        &queue,
        Some(agent.job_number),
        None,
    )
    .await?;
    Ok(ApiJson(out(state
        .directory
        .queue(&queue)
        .await
        .map_err(directory_error)?)))
}
