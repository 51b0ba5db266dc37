//! `/api/v1/dashboard` and `/api/v1/events`: the 监控显示 page (manual §3). The dashboard is one
//! JSON snapshot; the event stream pushes the live part (`live`) at every queue change and
//! the counts and trend (`stats`) when they change, straight from the PBX worker's watch
//! channels, so no browser request ever polls Asterisk.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::ErrorBody;
use crate::http::json::ApiJson;
use crate::http::session::AdminSession;
use crate::http::AppState;
use crate::pbx::{AgentRow, CallerRow, Counts, HourRow, PbxStatus, QueueRow};

/// Everything the 监控显示 page shows except the system part (`/api/v1/system`).
#[derive(Serialize, ToSchema)]
pub struct Dashboard {
    pub counts: Counts,
    pub trend: Vec<HourRow>,
    pub queues: Vec<QueueRow>,
    pub agents: Vec<AgentRow>,
    pub callers: Vec<CallerRow>,
    pub pbx: PbxStatus,
}

/// The dashboard snapshot.
#[utoipa::path(
    get,
    path = "/api/v1/dashboard",
    tag = "monitoring",
    responses(
        (status = 200, body = Dashboard),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The default password must be changed first", body = ErrorBody)
    )
)]
pub async fn dashboard(
    State(state): State<Arc<AppState>>,
    _admin: AdminSession,
) -> ApiJson<Dashboard> {
    let live = state.pbx.live().borrow().at(crate::store::now_millis());
    let stats = state.pbx.stats().borrow().clone();
    ApiJson(Dashboard {
        counts: stats.counts.clone(),
        trend: stats.trend.clone(),
        queues: live.queues.clone(),
        agents: live.agents.clone(),
        callers: live.callers.clone(),
        pbx: live.pbx.clone(),
    })
}

/// How often an idle stream sends a comment, so proxies and the browser keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Server-sent events: `live` (queues, agents, callers, pbx) and `stats` (counts, trend),
/// each sent once at connect and again whenever it changes.
#[utoipa::path(
    get,
    path = "/api/v1/events",
    tag = "monitoring",
    responses(
        (status = 200, description = "`text/event-stream` of `live` and `stats` events", content_type = "text/event-stream", body = String),
        (status = 401, description = "Not logged in", body = ErrorBody),
        (status = 403, description = "The default password must be changed first", body = ErrorBody)
    )
)]
pub async fn events(
    State(state): State<Arc<AppState>>,
    AdminSession(session): AdminSession,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut live = state.pbx.live();
    let mut stats = state.pbx.stats();
    live.mark_changed();
    stats.mark_changed();
    let stream = stream::unfold(
        (live, stats, state, session),
        |(mut live, mut stats, state, session)| async move {
            let event = tokio::select! {
                biased;
                changed = live.changed() => {
                    changed.ok()?;
                    let view = live.borrow_and_update().at(crate::store::now_millis());
                    Event::default().event("live").json_data(&view).ok()?
                }
                changed = stats.changed() => {
                    changed.ok()?;
                    let view = stats.borrow_and_update().clone();
                    Event::default().event("stats").json_data(&*view).ok()?
                }
            };
            // A logged-out or expired session ends its streams.
            if !state.sessions.touch(&session) {
                return None;
            }
            Some((Ok(event), (live, stats, state, session)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keepalive"))
}
