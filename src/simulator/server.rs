//! The simulator's TCP side and its handle: listening on loopback, one task pair per manager
//! connection, the real-time timer driver, restarts, and the control API.
//!
//! Owns [`Simulator::start`], [`SimHandle`] and the connection tasks. A connection gets the
//! banner (`Asterisk Call Manager/<version>\r\n`, no blank line), then its reader decodes
//! actions with [`AmiCodec`] and hands each to the engine under the engine lock; everything
//! the session must receive (replies and events alike) goes through one bounded queue, drained
//! by the connection's writer, so a session sees exactly the engine's order. Knows nothing of
//! what actions mean (`manager.rs`) or of queues (`queue.rs`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

use super::config::{
    is_loopback, CallOptions, DeviceState, MemberBehavior, QueueConfig, SimConfig,
};
use super::engine::{Engine, Out};
use super::manager::Flow;
use super::queue::{CallId, CallState};
use super::SimError;
use crate::ami::{AmiCodec, CodecError, Message, MessageKind};

/// Entry point: starts simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Binds `config.bind` (loopback only) and starts serving. Must be called inside a tokio
    /// runtime.
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        if !is_loopback(&config.bind) {
            return Err(SimError::NotLoopback(config.bind));
        }
        let listener = TcpListener::bind(config.bind).await?;
        let addr = listener.local_addr()?;
        let manual = matches!(config.clock, super::config::ClockMode::Manual { .. });
        let engine = Engine::new(config);
        let wake = engine.wake.clone();
        let inner = Arc::new(Inner {
            engine: Mutex::new(engine),
            addr,
            root: CancellationToken::new(),
            accept: Mutex::new(None),
        });
        inner.spawn_accept(listener);
        if !manual {
            tokio::spawn(drive(inner.clone(), wake));
        }
        Ok(SimHandle { inner })
    }
}

struct Inner {
    engine: Mutex<Engine>,
    addr: SocketAddr,
    root: CancellationToken,
    accept: Mutex<Option<JoinHandle<()>>>,
}

impl Inner {
    fn engine(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn spawn_accept(self: &Arc<Self>, listener: TcpListener) {
        let me = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    _ = me.root.cancelled() => break,
                    a = listener.accept() => a,
                };
                match accepted {
                    Ok((stream, _)) => {
                        tokio::spawn(serve(me.clone(), stream));
                    }
                    Err(e) => {
                        log::warn!("simulator: accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        });
        if let Some(old) = self
            .accept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .replace(task)
        {
            old.abort();
        }
    }
}

/// Fires timers at their wall-clock time (real clock only).
async fn drive(inner: Arc<Inner>, wake: Arc<Notify>) {
    loop {
        let next = {
            let e = inner.engine();
            e.next_due().map(|due| e.clock.instant_of(due))
        };
        match next {
            Some(at) => tokio::select! {
                _ = inner.root.cancelled() => return,
                _ = wake.notified() => {}
                _ = tokio::time::sleep_until(at.into()) => inner.engine().run_due(),
            },
            None => tokio::select! {
                _ = inner.root.cancelled() => return,
                _ = wake.notified() => {}
            },
        }
    }
}

/// One manager connection.
async fn serve(inner: Arc<Inner>, stream: TcpStream) {
    let (local, remote) = match (stream.local_addr(), stream.peer_addr()) {
        (Ok(l), Ok(r)) => (l, r),
        _ => return,
    };
    let _ = stream.set_nodelay(true);
    let kill = inner.root.child_token();
    let (banner, queue_len) = {
        let e = inner.engine();
        (
            Message::banner(format!("Asterisk Call Manager/{}", e.config.ami_version)),
            e.config.session_queue.max(16),
        )
    };
    let (tx, rx) = mpsc::channel(queue_len);
    let sid = {
        let mut e = inner.engine();
        let sid = e.add_session(tx, kill.clone(), local, remote);
        e.send_to(sid, &banner);
        sid
    };
    let (mut rd, wr) = stream.into_split();
    let writer = tokio::spawn(write_loop(wr, rx, kill.clone()));
    let mut codec = AmiCodec::new();
    let mut buf = BytesMut::with_capacity(4096);
    'read: loop {
        let n = tokio::select! {
            _ = kill.cancelled() => break,
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            },
        };
        let _ = n;
        loop {
            let frame = match codec.decode(&mut buf) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(CodecError::MessageTooLarge { .. }) => continue,
                Err(_) => break 'read,
            };
            if frame.kind() == MessageKind::Banner {
                continue;
            }
            let flow = inner.engine().handle_action(sid, &frame);
            match flow {
                Flow::Continue => {}
                Flow::Close => {
                    inner.engine().close_session(sid);
                    break 'read;
                }
                Flow::AuthFailed { reply, delay } => {
                    tokio::select! {
                        _ = kill.cancelled() => {}
                        _ = tokio::time::sleep(delay) => {
                            let mut e = inner.engine();
                            e.send_to(sid, &reply);
                            e.close_session(sid);
                        }
                    }
                    break 'read;
                }
            }
        }
    }
    inner.engine().remove_session(sid);
    let _ = writer.await;
}

async fn write_loop(
    mut wr: tokio::net::tcp::OwnedWriteHalf,
    mut rx: mpsc::Receiver<Out>,
    kill: CancellationToken,
) {
    loop {
        let out = tokio::select! {
            _ = kill.cancelled() => break,
            o = rx.recv() => o,
        };
        match out {
            Some(Out::Data(b)) => {
                let write = tokio::select! {
                    _ = kill.cancelled() => break,
                    r = wr.write_all(&b) => r,
                };
                if write.is_err() {
                    break;
                }
            }
            Some(Out::Close) | None => {
                let _ = wr.flush().await;
                break;
            }
        }
    }
    let _ = wr.shutdown().await;
    kill.cancel();
}

/// Handle to a running simulator: its address, lifecycle, recorded actions and the control
/// API that drives calls. Cheap to clone; every clone controls the same simulator, which runs
/// until [`SimHandle::shutdown`] (dropping the handles does not stop it).
#[derive(Clone)]
pub struct SimHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.inner.addr)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// The listening address (loopback, the real port when 0 was asked).
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// Stops listening and drops every connection. Idempotent.
    pub fn shutdown(&self) {
        self.inner.root.cancel();
        self.inner.engine().kill_sessions();
    }

    /// Like an Asterisk restart: every connection is dropped at once and app_queue starts
    /// afresh from the configured queues (counters zero, calls gone, dynamic members gone
    /// unless `persistent_members`). The port keeps listening.
    pub fn restart(&self) {
        let mut e = self.inner.engine();
        e.kill_sessions();
        e.restart();
    }

    /// Like [`SimHandle::restart`], but Asterisk is still booting when clients log back in:
    /// logins succeed, app_queue's actions answer `Invalid/unknown command` and no
    /// `FullyBooted` is sent until [`SimHandle::finish_boot`] (the window a real 22.10.1
    /// has for about 80 ms after `core restart now`).
    pub fn restart_booting(&self) {
        let mut e = self.inner.engine();
        e.kill_sessions();
        e.restart();
        e.booting = true;
    }

    /// Ends the boot [`SimHandle::restart_booting`] began: app_queue is loaded and every
    /// session reading the `system` class gets `FullyBooted`.
    pub fn finish_boot(&self) {
        self.inner.engine().finish_boot();
    }

    /// Like [`SimHandle::restart`], with the port closed for `downtime` (connections are
    /// refused meanwhile), as while Asterisk boots.
    pub async fn restart_with_downtime(&self, downtime: Duration) -> Result<(), SimError> {
        let task = self
            .inner
            .accept
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
        self.restart();
        tokio::time::sleep(downtime).await;
        let listener = TcpListener::bind(self.inner.addr).await?;
        self.inner.spawn_accept(listener);
        Ok(())
    }

    /// Every action received so far on any connection, in order (`Secret`/`Key` included:
    /// tests may check what a client sent).
    pub fn received_actions(&self) -> Vec<Message> {
        self.inner.engine().actions.clone()
    }

    /// Number of open manager connections.
    pub fn sessions(&self) -> usize {
        self.inner.engine().sessions.len()
    }

    /// The queue_log app_queue would have written (`time|callid|queue|agent|event|data`).
    pub fn queue_log(&self) -> Vec<String> {
        self.inner.engine().queue_log.clone()
    }

    /// The simulated time (manual clock: the time it was advanced to).
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_micros(self.inner.engine().now())
    }

    /// Manual clock: moves time forward by `d`, firing every timer due on the way at its own
    /// time. Fails with [`SimError::NotManualClock`] on a real clock.
    pub fn advance(&self, d: Duration) -> Result<(), SimError> {
        let mut e = self.inner.engine();
        if !e.clock.is_manual() {
            return Err(SimError::NotManualClock);
        }
        let target = e.now() + d.as_micros() as u64;
        e.advance_to(target);
        Ok(())
    }

    /// Manual clock: moves to `t` (no-op if `t` is not later than now).
    pub fn advance_to(&self, t: SystemTime) -> Result<(), SimError> {
        let mut e = self.inner.engine();
        if !e.clock.is_manual() {
            return Err(SimError::NotManualClock);
        }
        let target = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_micros() as u64;
        let target = target.max(e.now());
        e.advance_to(target);
        Ok(())
    }

    /// An inbound call into `queue` from `caller_num` / `caller_name`, who waits until
    /// answered or hung up through the API.
    pub fn place_call(
        &self,
        queue: &str,
        caller_num: &str,
        caller_name: &str,
    ) -> Result<CallId, SimError> {
        self.place_call_with(queue, CallOptions::new(caller_num, caller_name))
    }

    /// An inbound call with options (timeout in the queue, caller's patience, answer delay).
    pub fn place_call_with(&self, queue: &str, opts: CallOptions) -> Result<CallId, SimError> {
        self.inner.engine().place_call(queue, opts)
    }

    /// Member `interface`, ringing for `call`, answers.
    pub fn answer(&self, call: CallId, interface: &str) -> Result<(), SimError> {
        self.inner.engine().answer(call, interface)
    }

    /// Member `interface`, ringing for `call`, declines.
    pub fn reject(&self, call: CallId, interface: &str) -> Result<(), SimError> {
        self.inner.engine().reject(call, interface)
    }

    /// The caller hangs up (abandon while waiting or ringing; `Reason: caller` when talking).
    pub fn hangup_caller(&self, call: CallId) -> Result<(), SimError> {
        self.inner.engine().caller_hangup(call)
    }

    /// The caller gives up before being answered. Fails when the call is being talked.
    pub fn abandon(&self, call: CallId) -> Result<(), SimError> {
        let mut e = self.inner.engine();
        if matches!(e.call_state(call), Some(CallState::Talking { .. })) {
            return Err(SimError::AlreadyAnswered(call));
        }
        e.caller_hangup(call)
    }

    /// The member talking to `call` hangs up (`Reason: agent`).
    pub fn hangup_agent(&self, call: CallId) -> Result<(), SimError> {
        self.inner.engine().agent_hangup(call)
    }

    /// The caller of `call` will rate it `score` in coocenterd's survey when the agent
    /// hangs up (the survey dialplan's `UserEvent: CooCenterSurvey` on the caller channel,
    /// between `BridgeDestroy` and the caller's `Hangup`).
    pub fn answer_survey(&self, call: CallId, score: u8) {
        self.inner.engine().surveys.insert(call, score);
    }

    /// The agent on `interface` dials `number` out through the trunk.
    pub fn outbound_call(
        &self,
        interface: &str,
        number: &str,
    ) -> Result<super::OutboundId, SimError> {
        self.inner.engine().outbound_call(interface, number)
    }

    /// The far end of an outbound call picks up (`DialEnd` `ANSWER`).
    pub fn outbound_answer(&self, call: super::OutboundId) -> Result<(), SimError> {
        self.inner.engine().outbound_answer(call)
    }

    /// An outbound call ends (either side hangs up).
    pub fn outbound_hangup(&self, call: super::OutboundId) -> Result<(), SimError> {
        self.inner.engine().outbound_hangup(call)
    }

    /// Asterisk's database entry `family/key` (`DBPut`/`DBDel`).
    pub fn db_get(&self, family: &str, key: &str) -> Option<String> {
        self.inner
            .engine()
            .astdb
            .get(&format!("/{family}/{key}"))
            .cloned()
    }

    /// Every database entry as (`/family/key`, value), sorted.
    pub fn db_entries(&self) -> Vec<(String, String)> {
        let e = self.inner.engine();
        e.astdb
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// How often the dialplan was reloaded (`Reload` of `pbx_config`).
    pub fn dialplan_reloads(&self) -> u64 {
        self.inner.engine().dialplan_reloads
    }

    /// Where `call` is now (`None` for an unknown or long-forgotten call).
    pub fn call_state(&self, call: CallId) -> Option<CallState> {
        self.inner.engine().call_state(call)
    }

    /// Sets the device state of a (state) interface; `QueueMemberStatus` where it changes.
    pub fn set_device_state(&self, interface: &str, state: DeviceState) {
        self.inner.engine().set_device(interface, state);
    }

    /// How member `interface` reacts when rung from now on.
    pub fn set_behavior(&self, interface: &str, behavior: MemberBehavior) {
        self.inner
            .engine()
            .behaviors
            .insert(interface.to_owned(), behavior);
    }

    /// The member pauses or unpauses itself (e.g. from its phone), in `queue` or all queues.
    pub fn set_paused(
        &self,
        interface: &str,
        queue: Option<&str>,
        paused: bool,
        reason: &str,
    ) -> Result<(), SimError> {
        self.inner
            .engine()
            .set_paused(queue, interface, paused, reason)
    }

    /// Replaces the queue configuration that the next `QueueReload` (or
    /// [`SimHandle::reload`]) applies, as if queues.conf had been rewritten.
    pub fn set_queue_config(&self, queues: Vec<QueueConfig>) {
        self.inner.engine().staged_queues = Some(queues);
    }

    /// `queue reload all` from the console.
    pub fn reload(&self) {
        let mut e = self.inner.engine();
        e.reload_queues(None, true);
        e.read_strategies_from_files(None);
    }

    /// Names of the queues, in app_queue's order.
    pub fn queue_names(&self) -> Vec<String> {
        self.inner
            .engine()
            .queues
            .iter()
            .map(|q| q.name().to_owned())
            .collect()
    }

    /// The lines Asterisk's own log would have about the simulated dialplan (a gosub to
    /// nowhere, a missing AGI), oldest first.
    pub fn log_lines(&self) -> Vec<String> {
        self.inner.engine().full_log.clone()
    }

    /// The strategy a queue rings with now (what `queue show` and `QueueParams` say).
    pub fn queue_strategy(&self, queue: &str) -> Option<super::config::Strategy> {
        let e = self.inner.engine();
        e.queue_idx(queue).map(|qi| e.queues[qi].cfg.strategy)
    }
}
