//! The call-center meaning of AMI: the live model of queues, members and waiting callers;
//! call outcomes persisted for statistics; and the commands the console sends to Asterisk.
//!
//! One worker task owns the model. It subscribes to the AMI client's events, rebuilds the
//! model from `QueueStatus` after every (re)connect, applies events as they come, writes call
//! outcomes to the store, and publishes what the console shows on two `watch` channels:
//! [`LiveView`] (changes with every queue event; pushed to browsers at once) and
//! [`StatsView`] (counts and today's trend; changes with call outcomes). Nothing polls
//! Asterisk per browser request. Calls `ami` and `store`; knows nothing of HTTP.

pub mod callflow;
pub mod calls;
pub mod commands;
pub mod directory;
pub mod model;
pub mod pauses;
pub mod queues_conf;
pub mod reconcile;

use std::sync::Arc;
use std::time::Duration;

use chrono::{Local, TimeZone, Timelike};
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::ami::{self, Action, ConnectionState, Message};
use crate::store::{self, Store};
use calls::{CallTracker, CallUpdate};
use model::{AgentStatus, LiveModel};
use pauses::PauseLog;

/// A queue row of the dashboard (manual §3: 队列, 当前等待, 完成, 未接听).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QueueRow {
    /// The queue number (Asterisk's queue name), e.g. `222`.
    pub queue: String,
    /// Display name.
    pub name: String,
    pub strategy: String,
    pub waiting: u64,
    /// Answered calls since the queue's last configuration change (persisted: an Asterisk
    /// restart does not reset it).
    pub completed: u64,
    /// Calls that ended unanswered (abandoned, timed out, other exits), same period.
    pub abandoned: u64,
}

/// An agent in one queue (manual §3: 坐席名, 分机, 队列, 状态, 置忙).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AgentRow {
    pub name: String,
    pub job_number: Option<String>,
    pub extension: String,
    pub queue: String,
    #[schema(value_type = String, example = "idle")]
    pub status: AgentStatus,
    pub paused: bool,
    pub pause_reason: String,
}

/// A caller waiting in a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CallerRow {
    pub queue: String,
    pub position: u64,
    pub number: String,
    pub name: String,
    /// Seconds waited when this answer was sent.
    pub wait_seconds: u64,
    /// When the caller joined (Unix milliseconds); `wait_seconds` is computed from it at
    /// sending time.
    #[serde(skip)]
    pub joined_ms: i64,
}

impl LiveView {
    /// The view with every caller's waiting time computed for `now_ms`: the stored view does
    /// not change every second, what is sent is current.
    pub fn at(&self, now_ms: i64) -> LiveView {
        let mut view = self.clone();
        for caller in &mut view.callers {
            caller.wait_seconds = ((now_ms - caller.joined_ms).max(0) / 1000) as u64;
        }
        view
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PbxStatus {
    pub connected: bool,
    /// Asterisk's version (from `CoreSettings`), once known.
    pub version: Option<String>,
}

/// What changes with every queue event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LiveView {
    pub queues: Vec<QueueRow>,
    pub agents: Vec<AgentRow>,
    pub callers: Vec<CallerRow>,
    pub pbx: PbxStatus,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Counts {
    pub agents: u64,
    pub recordings: u64,
    pub queues: u64,
    pub oplog: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HourRow {
    pub hour: u32,
    pub answered: u64,
    pub failed: u64,
}

/// What changes with call outcomes and console activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatsView {
    pub counts: Counts,
    /// Today's inbound queue calls per hour of the box's local time, 24 rows.
    pub trend: Vec<HourRow>,
}

/// A queue call an agent is talking on now (from `AgentConnect` to `AgentComplete`), for the
/// agent page's screen pop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedCall {
    pub uniqueid: String,
    /// The queue of an inbound call; empty for an outbound one.
    pub queue: String,
    /// The other party's number: the caller, or the number the agent dialled.
    pub caller: String,
    /// False for a queue call to the agent, true for a call the agent dialled out.
    pub outbound: bool,
}

/// Connected calls by agent extension.
type ConnectedCalls = Arc<std::sync::Mutex<std::collections::HashMap<String, ConnectedCall>>>;

/// The output of a CLI command run through AMI `Command`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutput {
    /// False when Asterisk answered `Response: Error` (e.g. "No such command").
    pub ok: bool,
    pub lines: Vec<String>,
}

/// How often counts and the trend are recomputed even without call events (midnight,
/// operation-log entries).
const STATS_REFRESH: Duration = Duration::from_secs(5);
/// How soon to ask again when Asterisk answered a resync's `QueueStatus` with an error (its
/// modules still loading): the live model must be complete within 2 s of Asterisk being ready.
const RESYNC_RETRY: Duration = Duration::from_millis(250);

/// Whether a resync read the whole PBX.
enum Resync {
    Done,
    /// Asterisk refused or did not answer `QueueStatus`; try again after [`RESYNC_RETRY`].
    NotReady,
}
/// How long after a call ends its recording file is read for its final size and length.
const FILE_SETTLE: Duration = Duration::from_secs(2);

/// The PBX service handle, cheap to clone.
#[derive(Clone)]
pub struct Pbx {
    client: ami::Client,
    live: watch::Receiver<Arc<LiveView>>,
    stats: watch::Receiver<Arc<StatsView>>,
    refresh: Arc<tokio::sync::Notify>,
    connected_calls: ConnectedCalls,
    pause_log: PauseLog,
    /// Asks the worker to re-read the queues' parameters (after a strategy change).
    params_changed: Arc<tokio::sync::Notify>,
}

impl Pbx {
    /// Starts the AMI session and the worker that keeps the model.
    pub fn start(
        config: ami::Config,
        store: Store,
        asterisk_config_dir: &std::path::Path,
        shutdown: CancellationToken,
    ) -> (Pbx, JoinHandle<()>) {
        let (client, runner) = ami::Client::new(config);
        let events = client.events();
        let state = client.state();
        let (live_tx, live) = watch::channel(Arc::new(LiveView {
            queues: vec![],
            agents: vec![],
            callers: vec![],
            pbx: PbxStatus {
                connected: false,
                version: None,
            },
        }));
        let (stats_tx, stats) = watch::channel(Arc::new(StatsView {
            counts: Counts::default(),
            trend: empty_trend(),
        }));
        let refresh = Arc::new(tokio::sync::Notify::new());
        let connected_calls = ConnectedCalls::default();
        let pause_log = PauseLog::default();
        let params_changed = Arc::new(tokio::sync::Notify::new());
        let worker = Worker {
            params_changed: Arc::clone(&params_changed),
            connected_calls: Arc::clone(&connected_calls),
            dialing: Default::default(),
            refresh: Arc::clone(&refresh),
            client: client.clone(),
            store,
            model: LiveModel::default(),
            tracker: CallTracker::default(),
            connected: false,
            version: None,
            queue_counts: Default::default(),
            agent_names: Default::default(),
            pause_log: pause_log.clone(),
            queues_conf: asterisk_config_dir.join(queues_conf::FILE_NAME),
            refusal_logged: false,
            live_tx,
            stats_tx,
        };
        let runner_shutdown = shutdown.clone();
        let task = tokio::spawn(async move {
            let runner_task = tokio::spawn(runner.run(runner_shutdown));
            worker.run(events, state, shutdown).await;
            let _ = runner_task.await;
        });
        (
            Pbx {
                client,
                live,
                stats,
                refresh,
                connected_calls,
                pause_log,
                params_changed,
            },
            task,
        )
    }

    pub fn live(&self) -> watch::Receiver<Arc<LiveView>> {
        self.live.clone()
    }

    pub fn stats(&self) -> watch::Receiver<Arc<StatsView>> {
        self.stats.clone()
    }

    /// Tells the worker a queue was reloaded: the dashboard's strategy is read again.
    pub fn queue_params_changed(&self) {
        self.params_changed.notify_one();
    }

    /// The operation log's memory of agents' pauses ([`pauses`]).
    pub fn pause_log(&self) -> &PauseLog {
        &self.pause_log
    }

    /// Whether Asterisk is there and fully booted, so that app_queue's actions exist.
    pub fn is_connected(&self) -> bool {
        self.client.is_booted()
    }

    /// The AMI session, for the configuration commands of [`directory`].
    pub fn client(&self) -> &ami::Client {
        &self.client
    }

    /// Asks the worker to recompute counts and totals now (after a configuration change or
    /// an operation-log entry) rather than at its next periodic refresh.
    pub fn refresh_stats(&self) {
        self.refresh.notify_one();
    }

    /// The queue call the agent on `extension` is talking on, if any.
    pub fn connected_call(&self, extension: &str) -> Option<ConnectedCall> {
        self.connected_calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(extension)
            .cloned()
    }

    /// Runs an Asterisk CLI command.
    pub async fn command(&self, command: &str) -> Result<CommandOutput, ami::AmiError> {
        let response = self
            .client
            .send(Action::new("Command").field("Command", command))
            .await?;
        let mut lines: Vec<String> = response.output().into_iter().map(str::to_string).collect();
        if lines.is_empty() && !response.is_success() {
            lines.extend(response.message().map(str::to_string));
        }
        Ok(CommandOutput {
            ok: response.is_success(),
            lines,
        })
    }
}

struct Worker {
    params_changed: Arc<tokio::sync::Notify>,
    refresh: Arc<tokio::sync::Notify>,
    connected_calls: ConnectedCalls,
    /// Outbound calls being dialled by an agent: the agent channel's uniqueid → (extension,
    /// number dialled).
    dialing: std::collections::HashMap<String, (String, String)>,
    client: ami::Client,
    store: Store,
    model: LiveModel,
    tracker: CallTracker,
    connected: bool,
    version: Option<String>,
    /// Persisted (completed, unanswered) per queue, refreshed after outcomes.
    queue_counts: std::collections::HashMap<String, (u64, u64)>,
    /// Configured agents by extension: (name, job number), to name the members.
    agent_names: std::collections::HashMap<String, (String, String)>,
    /// The pause each extension was last logged with, shared with the console's pauses.
    pause_log: PauseLog,
    /// The PBX UI's queues.conf (strategies are taken over from it at reconcile).
    queues_conf: std::path::PathBuf,
    /// A refused resync was logged in this session (see [`Worker::resync`]).
    refusal_logged: bool,
    live_tx: watch::Sender<Arc<LiveView>>,
    stats_tx: watch::Sender<Arc<StatsView>>,
}

impl Worker {
    async fn run(
        mut self,
        mut events: broadcast::Receiver<ami::Event>,
        mut state: watch::Receiver<ConnectionState>,
        shutdown: CancellationToken,
    ) {
        let mut synced_epoch = 0;
        // A resync Asterisk answered with "not loaded yet": when to ask again.
        let mut retry_at: Option<tokio::time::Instant> = None;
        let mut tick = tokio::time::interval(STATS_REFRESH);
        self.refresh_stats().await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                changed = state.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let current = state.borrow_and_update().clone();
                    match current {
                        // Only a fully booted Asterisk has app_queue loaded: a resync in the
                        // ~80 ms after a restart's login would read an empty PBX.
                        ConnectionState::Connected { epoch, booted: true, .. }
                            if epoch != synced_epoch =>
                        {
                            synced_epoch = epoch;
                            self.refusal_logged = false;
                            retry_at = self.resync_or_retry().await;
                        }
                        ConnectionState::Disconnected { reason } => {
                            if self.connected {
                                log::warn!("lost the PBX: {reason}");
                            }
                            self.connected = false;
                            retry_at = None;
                            // Calls do not outlive the session that reported them.
                            self.dialing.clear();
                            self.connected_calls
                                .lock()
                                .unwrap_or_else(|poisoned| poisoned.into_inner())
                                .clear();
                            self.publish_live();
                        }
                        _ => {}
                    }
                }
                received = events.recv() => match received {
                    Ok(event) => self.on_event(&event).await,
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        log::warn!("fell {missed} AMI events behind; resynchronising");
                        if self.connected {
                            retry_at = self.resync_or_retry().await;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                _ = tokio::time::sleep_until(retry_at.unwrap_or_else(tokio::time::Instant::now)),
                    if retry_at.is_some() =>
                {
                    retry_at = self.resync_or_retry().await;
                }
                _ = tick.tick() => self.refresh_stats().await,
                _ = self.refresh.notified() => self.refresh_stats().await,
                _ = self.params_changed.notified(), if self.connected => {
                    self.reread_queue_params().await;
                }
            }
        }
    }

    /// Takes each queue's parameters (its strategy) from a fresh `QueueStatus`, after a
    /// queue was reloaded; members and callers are the events' business.
    async fn reread_queue_params(&mut self) {
        let Ok(status) = self.client.send(Action::new("QueueStatus")).await else {
            return;
        };
        if !status.is_success() {
            return;
        }
        let mut changed = false;
        for params in status
            .events
            .iter()
            .filter(|e| e.event() == Some("QueueParams"))
        {
            let (Some(name), Some(strategy)) = (params.get("Queue"), params.get("Strategy")) else {
                continue;
            };
            if let Some(queue) = self.model.queues.get_mut(name) {
                if queue.strategy != strategy {
                    queue.strategy = strategy.to_string();
                    changed = true;
                }
            }
        }
        if changed {
            self.publish_live();
        }
    }

    /// Resynchronises; when Asterisk is not ready for it, says when to try again.
    async fn resync_or_retry(&mut self) -> Option<tokio::time::Instant> {
        match self.resync().await {
            Resync::Done => None,
            Resync::NotReady => Some(tokio::time::Instant::now() + RESYNC_RETRY),
        }
    }

    /// Rebuilds everything from Asterisk after a (re)connect. The live view says "connected"
    /// only once this has read a complete `QueueStatus`.
    async fn resync(&mut self) -> Resync {
        match self.client.send(Action::new("QueueStatus")).await {
            // `Invalid/unknown command`: app_queue is not loaded (yet). Taking the error for
            // an empty list left the dashboard empty for good (issue 16).
            Ok(status) if !status.is_success() => {
                // Once per session: app_queue that failed to load (queues.conf invalid, say)
                // keeps refusing, and the log must not fill with it.
                let message = status.message().unwrap_or("no message");
                if !self.refusal_logged {
                    self.refusal_logged = true;
                    log::warn!(
                        "QueueStatus refused ({message}); asking again every {RESYNC_RETRY:?} (is app_queue loaded?)"
                    );
                } else {
                    log::debug!("QueueStatus refused again ({message})");
                }
                return Resync::NotReady;
            }
            Ok(status) => {
                self.model.rebuild(&status.events, store::now_millis());
                // A pause that was there at connect is no new action to log.
                self.pause_log.reset(
                    self.model
                        .queues
                        .values()
                        .flat_map(|q| q.members.values())
                        .map(|m| {
                            (
                                extension_of(&m.interface),
                                pauses::state(m.paused, &m.pause_reason),
                            )
                        })
                        .collect(),
                );
                let waiting: Vec<String> = self
                    .model
                    .queues
                    .values()
                    .flat_map(|q| q.callers.iter().map(|c| c.uniqueid.clone()))
                    .collect();
                let updates = self.tracker.reconcile(&waiting, store::now_millis());
                self.persist(updates).await;
                match reconcile::reconcile(
                    &self.client,
                    &self.store,
                    &self.model,
                    &self.queues_conf,
                )
                .await
                {
                    Ok(done) if done != reconcile::Reconciled::default() => {
                        log::info!(
                            "reconciled Asterisk with the console's configuration: {done:?}"
                        );
                        if !done.reloaded.is_empty() {
                            // The dashboard shows the strategy Asterisk rings with now.
                            self.reread_queue_params().await;
                        }
                    }
                    Ok(_) => {}
                    Err(err) => log::error!("cannot reconcile queue members: {err}"),
                }
            }
            Err(err) => {
                log::warn!("QueueStatus failed: {err}");
                return Resync::NotReady;
            }
        }
        self.connected = true;
        match self.client.send(Action::new("CoreSettings")).await {
            Ok(settings) => {
                self.version = settings.get("AsteriskVersion").map(str::to_string);
            }
            Err(err) => log::warn!("CoreSettings failed: {err}"),
        }
        log::info!(
            "PBX connected (Asterisk {}), {} queues",
            self.version.as_deref().unwrap_or("?"),
            self.model.queues.len()
        );
        self.refresh_stats().await;
        self.publish_live();
        Resync::Done
    }

    async fn on_event(&mut self, event: &Message) {
        let now_ms = store::now_millis();
        if event.event() == Some("VarSet") && event.get("Variable") == Some("MIXMONITOR_FILENAME") {
            self.record_recording(event, now_ms).await;
        }
        self.follow_call_flow(event, now_ms).await;
        if event.event() == Some("QueueMemberPause") {
            self.log_pause(event).await;
        }
        let updates = self.tracker.apply(event, now_ms);
        let outcome_changed = !updates.is_empty();
        self.persist(updates).await;
        let live_changed = self.model.apply(event, now_ms);
        if outcome_changed {
            self.refresh_stats().await;
        }
        if live_changed || outcome_changed {
            self.publish_live();
        }
    }

    /// Writes an agent's 忙 / 闲 into the operation log ([`pauses`]), before the live view
    /// shows it, so whoever sees the pause can find the row.
    async fn log_pause(&mut self, event: &Message) {
        let Some(interface) = event.get("Interface") else {
            return;
        };
        let now = pauses::state(
            event.get("Paused") == Some("1"),
            event.get("PausedReason").unwrap_or(""),
        );
        let extension = extension_of(interface);
        let queue = event.get("Queue").unwrap_or("");
        if self.pause_log.is_echo(&extension, queue, &now)
            || self.pause_log.claim(&extension, now.clone()).is_none()
        {
            return;
        }
        let (agent_name, job_number) =
            self.agent_names
                .get(&extension)
                .cloned()
                .unwrap_or_else(|| {
                    (
                        event.get("MemberName").unwrap_or("").to_string(),
                        String::new(),
                    )
                });
        let actor = store::oplog::Actor {
            agent_name,
            job_number,
            extension,
        };
        pauses::write(&self.store, actor, now).await;
        self.refresh_stats().await;
    }

    /// What our dialplan's events mean (survey scores, 直呼分配坐席) and who is talking to
    /// whom for the screen pop.
    async fn follow_call_flow(&mut self, event: &Message, now_ms: i64) {
        match event.event() {
            Some("UserEvent") if event.get("UserEvent") == Some(callflow::SURVEY_EVENT) => {
                callflow::on_survey_event(&self.store, event, now_ms).await;
            }
            Some("AgentConnect") => {
                if let (Some(interface), Some(uniqueid)) =
                    (event.get("Interface"), event.get("Uniqueid"))
                {
                    let call = ConnectedCall {
                        uniqueid: uniqueid.to_string(),
                        queue: event.get("Queue").unwrap_or("").to_string(),
                        caller: event.get("CallerIDNum").unwrap_or("").to_string(),
                        outbound: false,
                    };
                    self.connected_calls
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .insert(extension_of(interface), call);
                }
                callflow::on_agent_connect(&self.client, &self.store, event).await;
            }
            // An agent's own phone dialling out: its channel is the dialling side.
            Some("DialBegin") => {
                let (Some(channel), Some(uniqueid)) = (event.get("Channel"), event.get("Uniqueid"))
                else {
                    return;
                };
                if channel.starts_with("Local/") {
                    return;
                }
                let extension = extension_of(channel);
                if !self.agent_names.contains_key(&extension) {
                    return;
                }
                let dialled = event.get("DialString").unwrap_or("");
                let number = dialled
                    .split('@')
                    .next()
                    .map(|n| n.rsplit('/').next().unwrap_or(n))
                    .filter(|n| !n.is_empty())
                    .or(event.get("DestExten"))
                    .unwrap_or("")
                    .to_string();
                self.dialing
                    .insert(uniqueid.to_string(), (extension, number));
            }
            Some("DialEnd") if event.get("DialStatus") == Some("ANSWER") => {
                let Some(uniqueid) = event.get("Uniqueid") else {
                    return;
                };
                if let Some((extension, number)) = self.dialing.remove(uniqueid) {
                    let call = ConnectedCall {
                        uniqueid: uniqueid.to_string(),
                        queue: String::new(),
                        caller: number,
                        outbound: true,
                    };
                    self.connected_calls
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .insert(extension, call);
                }
            }
            Some("Hangup") => {
                let Some(uniqueid) = event.get("Uniqueid") else {
                    return;
                };
                self.dialing.remove(uniqueid);
                self.connected_calls
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .retain(|_, call| !(call.outbound && call.uniqueid == uniqueid));
            }
            Some("AgentComplete") | Some("AgentDump") => {
                if let Some(interface) = event.get("Interface") {
                    let mut calls = self
                        .connected_calls
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    let extension = extension_of(interface);
                    if calls.get(&extension).map(|c| c.uniqueid.as_str()) == event.get("Uniqueid") {
                        calls.remove(&extension);
                    }
                }
            }
            _ => {}
        }
    }

    async fn record_recording(&mut self, event: &Message, now_ms: i64) {
        let (Some(uniqueid), Some(path)) = (event.get("Uniqueid"), event.get("Value")) else {
            return;
        };
        if path.is_empty() {
            return;
        }
        let uniqueid = uniqueid.to_string();
        let path = path.to_string();
        let queue = self.tracker.queue_of(&uniqueid).map(str::to_string);
        if let Err(err) = self
            .store
            .call(move |conn| {
                let new =
                    crate::media::recordings::announced(conn, &uniqueid, &path, queue, now_ms)?;
                store::recordings::insert(conn, &new)
            })
            .await
        {
            log::error!("cannot index a recording: {err}");
        }
    }

    async fn persist(&mut self, updates: Vec<CallUpdate>) {
        if updates.is_empty() {
            return;
        }
        let result = self
            .store
            .call(move |conn| {
                let tx = conn.transaction()?;
                let mut ended = Vec::new();
                for update in &updates {
                    match update {
                        CallUpdate::Joined {
                            uniqueid,
                            queue,
                            caller_number,
                            caller_name,
                            at,
                        } => store::calls::insert_joined(
                            &tx,
                            uniqueid,
                            queue,
                            caller_number,
                            caller_name,
                            *at,
                        )?,
                        CallUpdate::Answered {
                            uniqueid,
                            queue,
                            agent_interface,
                            agent_name,
                            hold_seconds,
                            at,
                        } => {
                            store::calls::set_answered(
                                &tx,
                                uniqueid,
                                queue,
                                agent_interface,
                                agent_name,
                                *hold_seconds,
                                *at,
                            )?;
                            // The recording started before anyone answered: name its agent.
                            let agent = crate::media::recordings::agent_for_interface(
                                &tx,
                                agent_interface,
                            )?
                            .unwrap_or_else(|| (agent_name.clone(), agent_name.clone()));
                            store::recordings::set_agent_of_call(
                                &tx, uniqueid, &agent.0, &agent.1,
                            )?;
                        }
                        CallUpdate::Ended {
                            uniqueid,
                            queue,
                            outcome,
                            hold_seconds,
                            talk_seconds,
                            at,
                        } => {
                            store::calls::set_ended(
                                &tx,
                                uniqueid,
                                queue,
                                outcome.code(),
                                *hold_seconds,
                                *talk_seconds,
                                *at,
                            )?;
                            ended.push(uniqueid.clone());
                        }
                    }
                }
                tx.commit()?;
                Ok(ended)
            })
            .await;
        match result {
            Ok(ended) if !ended.is_empty() => {
                // MixMonitor closes the file as the channel goes: read its final size and
                // length a moment later.
                let store = self.store.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(FILE_SETTLE).await;
                    let result = store
                        .call(move |conn| {
                            for uniqueid in &ended {
                                crate::media::recordings::refresh_file_facts(conn, uniqueid)?;
                            }
                            Ok(())
                        })
                        .await;
                    if let Err(err) = result {
                        log::warn!("cannot read recordings' sizes: {err}");
                    }
                });
            }
            Ok(_) => {}
            Err(err) => log::error!("cannot store call outcomes: {err}"),
        }
    }

    /// Recomputes counts, per-queue totals and today's trend from the store.
    async fn refresh_stats(&mut self) {
        let (from, to) = today_bounds();
        let result = self
            .store
            .call(move |conn| {
                Ok((
                    store::calls::counts_per_queue(conn)?,
                    store::calls::finished_between(conn, from, to)?,
                    store::recordings::count(conn)?,
                    store::calls::count_oplog(conn)?,
                    store::agents::list(conn)?,
                ))
            })
            .await;
        let (per_queue, today, recordings, oplog, agents) = match result {
            Ok(values) => values,
            Err(err) => {
                log::error!("cannot read statistics: {err}");
                return;
            }
        };
        let new_counts: std::collections::HashMap<String, (u64, u64)> = per_queue
            .into_iter()
            .map(|(queue, completed, failed)| (queue, (completed, failed)))
            .collect();
        let new_names: std::collections::HashMap<String, (String, String)> = agents
            .iter()
            .map(|a| (a.extension.clone(), (a.name.clone(), a.job_number.clone())))
            .collect();
        let counts_changed = new_counts != self.queue_counts || new_names != self.agent_names;
        self.queue_counts = new_counts;
        self.agent_names = new_names;
        let mut trend = empty_trend();
        for (joined_at, answered) in today {
            if let Some(local) = Local.timestamp_millis_opt(joined_at).single() {
                let row = &mut trend[local.hour() as usize];
                if answered {
                    row.answered += 1;
                } else {
                    row.failed += 1;
                }
            }
        }
        let stats = StatsView {
            counts: Counts {
                agents: agents.len() as u64,
                recordings,
                queues: self.model.queues.len() as u64,
                oplog,
            },
            trend,
        };
        self.stats_tx.send_if_modified(|current| {
            if **current == stats {
                false
            } else {
                *current = Arc::new(stats);
                true
            }
        });
        if counts_changed {
            self.publish_live();
        }
    }

    fn publish_live(&self) {
        let view = self.live_view();
        self.live_tx.send_if_modified(|current| {
            if **current == view {
                false
            } else {
                *current = Arc::new(view);
                true
            }
        });
    }

    fn live_view(&self) -> LiveView {
        let mut queues = vec![];
        let mut agents = vec![];
        let mut callers = vec![];
        for queue in self.model.queues.values() {
            let (completed, abandoned) = self
                .queue_counts
                .get(&queue.name)
                .copied()
                .unwrap_or((0, 0));
            queues.push(QueueRow {
                queue: queue.name.clone(),
                name: queue.name.clone(),
                strategy: queue.strategy.clone(),
                waiting: queue.callers.len() as u64,
                completed,
                abandoned,
            });
            for member in queue.members.values() {
                let extension = extension_of(&member.interface);
                let configured = self.agent_names.get(&extension);
                agents.push(AgentRow {
                    name: configured.map_or_else(|| member.name.clone(), |(name, _)| name.clone()),
                    job_number: configured.map(|(_, job)| job.clone()),
                    extension,
                    queue: queue.name.clone(),
                    status: member.status(),
                    paused: member.paused,
                    pause_reason: member.pause_reason.clone(),
                });
            }
            for (index, caller) in queue.callers.iter().enumerate() {
                callers.push(CallerRow {
                    queue: queue.name.clone(),
                    position: index as u64 + 1,
                    number: caller.number.clone(),
                    name: caller.name.clone(),
                    wait_seconds: 0,
                    joined_ms: caller.joined_ms,
                });
            }
        }
        LiveView {
            queues,
            agents,
            callers,
            pbx: PbxStatus {
                connected: self.connected,
                version: self.version.clone(),
            },
        }
    }
}

/// The extension number in a member interface: `PJSIP/1001` → `1001`,
/// `Local/201@agents/n` → `201`, `SIP/1001-0000002a` → `1001`.
pub fn extension_of(interface: &str) -> String {
    let after_tech = interface
        .split_once('/')
        .map_or(interface, |(_, rest)| rest);
    let before_context = after_tech.split(['@', '/']).next().unwrap_or(after_tech);
    before_context
        .split('-')
        .next()
        .unwrap_or(before_context)
        .to_string()
}

fn empty_trend() -> Vec<HourRow> {
    (0..24)
        .map(|hour| HourRow {
            hour,
            answered: 0,
            failed: 0,
        })
        .collect()
}

/// Today's start and tomorrow's start in the box's local time, as Unix milliseconds.
fn today_bounds() -> (i64, i64) {
    let today = Local::now().date_naive();
    let start = |date: chrono::NaiveDate| {
        Local
            .from_local_datetime(&date.and_hms_opt(0, 0, 0).expect("midnight exists"))
            .earliest()
            .map_or(0, |t| t.timestamp_millis())
    };
    let tomorrow = today.succ_opt().unwrap_or(today);
    (start(today), start(tomorrow))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_from_interfaces() {
        assert_eq!(extension_of("PJSIP/1001"), "1001");
        assert_eq!(extension_of("SIP/1001-0000002a"), "1001");
        assert_eq!(extension_of("Local/201@agents/n"), "201");
        assert_eq!(extension_of("DAHDI/1"), "1");
        assert_eq!(extension_of("1005"), "1005");
    }

    #[test]
    fn today_is_24_hours_or_a_dst_day() {
        let (from, to) = today_bounds();
        let hours = (to - from) / 3_600_000;
        assert!((23..=25).contains(&hours), "{hours}");
    }
}
