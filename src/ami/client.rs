//! The AMI session: connect, log in, correlate replies, collect event lists, broadcast
//! events, keep alive, reconnect.
//!
//! Owns one TCP connection to Asterisk's manager at a time and everything about its life:
//! banner, login (plain or MD5 challenge), ActionID generation, reply correlation, event
//! lists, `Ping` keep-alive, reconnect with capped exponential backoff and jitter, `Logoff` on
//! shutdown, and the connection-state stream. **Knows nothing of queues or agents**: it
//! hands [`Response`]s to the caller of [`Client::send`] and every other event to the
//! subscribers of [`Client::events`], unchanged.
//!
//! # Shape
//!
//! [`Client::new`] returns a cheap, cloneable [`Client`] handle and a [`Runner`]; spawn
//! `runner.run(shutdown)` once. The runner is a single task that owns the socket (so there
//! are no locks): it reads frames, writes queued actions, and sleeps between reconnects.
//!
//! # Decisions
//!
//! * **ActionIDs** are `<prefix>-<n>` with a random per-runner prefix (`coo1a2b3c4d-17`) and a
//!   counter that never restarts, so a late reply from an earlier connection or another
//!   client's ActionID can never be taken for a current one. Any `ActionID` set by the caller
//!   is replaced.
//! * **Replies**: [`Client::send`] resolves with the `Response:` block, whatever its
//!   `Response:` value (`Error` included: see [`Response::into_result`]). It fails fast with
//!   [`AmiError::NotConnected`] (or [`AmiError::AuthFailed`]) while there is no logged-in
//!   session: actions are never queued across reconnects.
//! * **Event lists**: a successful reply with `EventList: start`, or (Asterisk 11) whose
//!   `Message:` ends in `will follow`, starts a list. Events carrying that ActionID are
//!   collected until one with `EventList: Complete`/`Cancelled`, or (Asterisk 11, no
//!   `EventList` header) whose name ends in `Complete`; the whole list is one [`Response`].
//!   Unrelated events interleaved with the list are broadcast as usual. Events with our
//!   ActionID that do not belong to a list in progress (e.g. `OriginateResponse`) are
//!   broadcast too.
//! * **Events** go to a `tokio::sync::broadcast` channel of [`Event`] (`Arc<Message>`) with
//!   [`Config::event_capacity`] slots. A subscriber that falls behind gets
//!   `RecvError::Lagged` and must resynchronise (e.g. re-read `QueueStatus`). Events seen
//!   before the login reply are dropped.
//! * **Keep-alive**: every [`Config::ping_interval`] a `Ping` is sent unless one is still
//!   outstanding; no reply within [`Config::ping_timeout`] declares the peer dead
//!   ([`DisconnectReason::PingTimeout`]) and the connection is dropped and re-established.
//! * **Reconnect**: delays grow from [`Config::reconnect_min`] doubling to
//!   [`Config::reconnect_max`], each jittered to `[d/2, d]`; reset after a successful login.
//! * **Booting**: Asterisk accepts a manager login some 80 ms before app_queue is loaded (seen
//!   on 22.10.1 across `core restart now`); in that window `QueueStatus` and `QueueAdd`
//!   answer `Invalid/unknown command`. Asterisk sends `FullyBooted` right after the login
//!   of a booted system, and to every session when a boot completes. The state is
//!   `Connected { booted: false }` until then, `booted: true` after; users of the session
//!   resynchronise on the booted epoch ([`ConnectionState::booted_epoch`]). A session that
//!   never hears it (a manager user without the `system` read class) is taken as booted
//!   after [`Config::boot_wait`].
//! * **Refused login** ([`DisconnectReason::AuthFailed`]): a wrong secret does not heal by
//!   retrying, and hammering Asterisk fills its security log. The runner waits
//!   [`Config::auth_retry_delay`] (default 60 s; the exponential schedule is *not* used) before
//!   trying again, or, if that is `None`, stops trying and stays `Disconnected{AuthFailed}`
//!   until shutdown.
//! * **Oversized frames** are logged and skipped (the codec resynchronises); the connection
//!   stays up. A truncated frame at EOF is logged.
//! * **Writes** happen on the runner task and are bounded by [`Config::action_timeout`]; a
//!   write that cannot complete in that time drops the connection.
//! * **Shutdown**: on cancellation of the token the runner sends `Logoff`, waits up to
//!   [`Config::logoff_timeout`] for `Response: Goodbye`, closes the socket, fails pending
//!   actions with [`AmiError::Shutdown`] and ends with `Disconnected{Shutdown}`.
//! * The secret never appears in logs or `Debug` output.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use md5::{Digest, Md5};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, timeout, Instant};
use tokio_util::codec::{Decoder, Encoder};
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::codec::{validate_action, AmiCodec, CodecError, DEFAULT_MAX_MESSAGE_SIZE};
use super::message::{Action, Message, MessageKind};

/// An event as delivered to subscribers (shared, not copied, between them).
pub type Event = Arc<Message>;

/// How to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// `Action: Login` with `Secret:` in clear text.
    Plain,
    /// `Action: Challenge` (`AuthType: MD5`), then `Login` with
    /// `Key: hex(md5(challenge + secret))`: the secret never crosses the socket.
    #[default]
    Md5,
}

/// Client configuration. Every field has a default (see [`Config::default`]).
#[derive(Clone)]
pub struct Config {
    /// Manager host (default `127.0.0.1`).
    pub host: String,
    /// Manager port (default 5038).
    pub port: u16,
    /// Manager user name (`[section]` of manager.conf).
    pub username: String,
    /// Manager secret. Never logged.
    pub secret: String,
    /// Plain or MD5 challenge login (default MD5).
    pub auth: AuthMethod,
    /// Value of the `Events:` header on Login (`on`, `off` or a class list; default `on`).
    pub events: String,
    /// TCP connect timeout (default 5 s).
    pub connect_timeout: Duration,
    /// Banner + challenge + login must complete within this (default 10 s).
    pub login_timeout: Duration,
    /// Default timeout of [`Client::send`], reply and whole event list included; also bounds
    /// each socket write (default 10 s).
    pub action_timeout: Duration,
    /// Interval between keep-alive `Ping`s (default 20 s).
    pub ping_interval: Duration,
    /// A `Ping` unanswered for this long declares the peer dead (default 10 s).
    pub ping_timeout: Duration,
    /// Cap on the size of one received frame in bytes (default 64 KiB).
    pub max_message_size: usize,
    /// First reconnect delay (default 500 ms).
    pub reconnect_min: Duration,
    /// Largest reconnect delay (default 2 s: Asterisk is on the same box, a refused connect
    /// costs nothing, and the owner expects the console back within seconds of the PBX).
    pub reconnect_max: Duration,
    /// How long after a login without `FullyBooted` the session is taken as booted anyway
    /// (default 10 s): a manager user without the `system` read class never receives the
    /// event. See the module docs on booting.
    pub boot_wait: Duration,
    /// Delay before retrying after a refused login; `None`: never retry (default 60 s).
    pub auth_retry_delay: Option<Duration>,
    /// How long to wait for `Response: Goodbye` on shutdown (default 2 s).
    pub logoff_timeout: Duration,
    /// Slots of the event broadcast channel (default 1024). Events stay in memory until every
    /// subscriber has read them (or they are overwritten), so keep this modest.
    pub event_capacity: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".to_owned(),
            port: 5038,
            username: String::new(),
            secret: String::new(),
            auth: AuthMethod::Md5,
            events: "on".to_owned(),
            connect_timeout: Duration::from_secs(5),
            login_timeout: Duration::from_secs(10),
            action_timeout: Duration::from_secs(10),
            ping_interval: Duration::from_secs(20),
            ping_timeout: Duration::from_secs(10),
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(2),
            boot_wait: Duration::from_secs(10),
            auth_retry_delay: Some(Duration::from_secs(60)),
            logoff_timeout: Duration::from_secs(2),
            event_capacity: 1024,
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("secret", &"***")
            .field("auth", &self.auth)
            .field("events", &self.events)
            .field("connect_timeout", &self.connect_timeout)
            .field("login_timeout", &self.login_timeout)
            .field("action_timeout", &self.action_timeout)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("max_message_size", &self.max_message_size)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("auth_retry_delay", &self.auth_retry_delay)
            .field("logoff_timeout", &self.logoff_timeout)
            .field("event_capacity", &self.event_capacity)
            .finish()
    }
}

/// Why the session is not (or no longer) up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// TCP connect failed or timed out.
    ConnectFailed(String),
    /// Asterisk refused the login (`Message:` of the reply). See the module docs for retries.
    AuthFailed(String),
    /// The peer did not speak AMI as expected (no banner, login timed out, …).
    Protocol(String),
    /// A keep-alive `Ping` got no reply in time.
    PingTimeout,
    /// Asterisk closed the connection.
    ClosedByPeer,
    /// Read or write error on an established connection.
    Io(String),
    /// Shut down on request.
    Shutdown,
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DisconnectReason::ConnectFailed(e) => write!(f, "cannot connect: {e}"),
            DisconnectReason::AuthFailed(m) => write!(f, "login refused: {m}"),
            DisconnectReason::Protocol(m) => write!(f, "protocol error: {m}"),
            DisconnectReason::PingTimeout => f.write_str("no reply to keep-alive ping"),
            DisconnectReason::ClosedByPeer => f.write_str("connection closed by Asterisk"),
            DisconnectReason::Io(e) => write!(f, "connection error: {e}"),
            DisconnectReason::Shutdown => f.write_str("shut down"),
        }
    }
}

/// The connection state, published on a `watch` channel ([`Client::state`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    /// Connecting and logging in.
    Connecting,
    /// Logged in. `version` is the banner's AMI version (`11.0.0` on Asterisk 22); `epoch`
    /// counts successful logins from 1, so a watcher that misses the `Disconnected` between
    /// two sessions still sees that it must resynchronise.
    Connected {
        /// AMI version from the banner.
        version: String,
        /// 1 for the first session, +1 for each later one.
        epoch: u64,
        /// Asterisk said `FullyBooted` in this session (or [`Config::boot_wait`] passed
        /// without it). Before that, a login can succeed while app_queue is not loaded yet
        /// and its actions answer `Invalid/unknown command`.
        booted: bool,
    },
    /// Not connected; the runner retries unless the reason is `Shutdown` (or `AuthFailed`
    /// with retries disabled).
    Disconnected {
        /// Why.
        reason: DisconnectReason,
    },
}

impl ConnectionState {
    /// `true` for `Connected`.
    pub fn is_connected(&self) -> bool {
        matches!(self, ConnectionState::Connected { .. })
    }

    /// The epoch of a logged-in session whose Asterisk is fully booted.
    pub fn booted_epoch(&self) -> Option<u64> {
        match self {
            ConnectionState::Connected {
                epoch,
                booted: true,
                ..
            } => Some(*epoch),
            _ => None,
        }
    }
}

/// Errors of [`Client::send`].
#[derive(Debug, thiserror::Error)]
pub enum AmiError {
    /// No logged-in session right now (connecting, or waiting to reconnect).
    #[error("not connected to Asterisk")]
    NotConnected,
    /// The last login was refused; see [`DisconnectReason::AuthFailed`].
    #[error("Asterisk refused the manager login: {0}")]
    AuthFailed(String),
    /// The connection was lost before the reply (or the whole event list) arrived.
    #[error("connection to Asterisk lost before the reply")]
    Disconnected,
    /// No reply within the timeout.
    #[error("no reply from Asterisk within {0:?}")]
    Timeout(Duration),
    /// The client is shut down.
    #[error("AMI client is shut down")]
    Shutdown,
    /// The action cannot be encoded (CR/LF in a value, bad key).
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// Asterisk answered `Response: Error` (from [`Response::into_result`]).
    #[error("Asterisk refused the action: {0}")]
    ActionFailed(String),
}

/// The reply to one action: the `Response:` block and, for list actions, the list items
/// (without the closing `…Complete` event, which is in `complete`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The `Response:` block.
    pub reply: Message,
    /// List items, in order (empty for non-list actions).
    pub events: Vec<Message>,
    /// The closing event of a list (`QueueStatusComplete`, …), for list actions.
    pub complete: Option<Message>,
}

impl Response {
    /// `true` unless Asterisk answered `Response: Error`.
    pub fn is_success(&self) -> bool {
        self.reply.is_success()
    }

    /// The `Message:` of the reply.
    pub fn message(&self) -> Option<&str> {
        self.reply.get("Message")
    }

    /// A field of the reply (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.reply.get(key)
    }

    /// `Command` output lines, in either format (see [`Message::output`]).
    pub fn output(&self) -> Vec<&str> {
        self.reply.output()
    }

    /// `Ok(self)` for a success, [`AmiError::ActionFailed`] for `Response: Error`.
    pub fn into_result(self) -> Result<Response, AmiError> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(AmiError::ActionFailed(
                self.message().unwrap_or_default().to_owned(),
            ))
        }
    }
}

struct Request {
    action: Action,
    reply: oneshot::Sender<Result<Response, AmiError>>,
}

/// Handle to the AMI session: send actions, subscribe to events and to the state.
/// Cheap to clone; all clones talk to the same [`Runner`].
#[derive(Clone)]
pub struct Client {
    requests: mpsc::Sender<Request>,
    /// Weak, so that the event stream ends (`RecvError::Closed`) when the runner stops.
    events: broadcast::WeakSender<Event>,
    state: watch::Receiver<ConnectionState>,
    action_timeout: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("state", &*self.state.borrow())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Creates the handle and its runner; nothing happens until `runner.run(..)` is polled.
    pub fn new(config: Config) -> (Client, Runner) {
        let (req_tx, req_rx) = mpsc::channel(64);
        let (events, _) = broadcast::channel(config.event_capacity.max(1));
        let (state_tx, state_rx) = watch::channel(ConnectionState::Connecting);
        let client = Client {
            requests: req_tx,
            events: events.downgrade(),
            state: state_rx,
            action_timeout: config.action_timeout,
        };
        let runner = Runner {
            ids: IdGen::new(),
            config,
            requests: req_rx,
            requests_open: true,
            events,
            state: state_tx,
            epoch: 0,
        };
        (client, runner)
    }

    /// [`Client::new`] + `tokio::spawn(runner.run(shutdown))`.
    pub fn spawn(config: Config, shutdown: CancellationToken) -> (Client, JoinHandle<()>) {
        let (client, runner) = Client::new(config);
        (client, tokio::spawn(runner.run(shutdown)))
    }

    /// Sends `action` and waits for its reply (and list) within [`Config::action_timeout`].
    pub async fn send(&self, action: Action) -> Result<Response, AmiError> {
        self.send_timeout(action, self.action_timeout).await
    }

    /// Like [`Client::send`] with an explicit timeout.
    pub async fn send_timeout(
        &self,
        action: Action,
        limit: Duration,
    ) -> Result<Response, AmiError> {
        validate_action(&action)?;
        match &*self.state.borrow() {
            ConnectionState::Connected { .. } => {}
            ConnectionState::Disconnected {
                reason: DisconnectReason::AuthFailed(m),
            } => return Err(AmiError::AuthFailed(m.clone())),
            ConnectionState::Disconnected {
                reason: DisconnectReason::Shutdown,
            } => return Err(AmiError::Shutdown),
            _ => return Err(AmiError::NotConnected),
        }
        let (tx, rx) = oneshot::channel();
        let exchange = async {
            self.requests
                .send(Request { action, reply: tx })
                .await
                .map_err(|_| AmiError::Shutdown)?;
            rx.await.map_err(|_| AmiError::Shutdown)?
        };
        match timeout(limit, exchange).await {
            Ok(result) => result,
            Err(_) => Err(AmiError::Timeout(limit)),
        }
    }

    /// A new subscription to every event that is not part of a reply, from now on. The
    /// stream ends (`RecvError::Closed`) once the runner has stopped; a subscriber that falls
    /// more than [`Config::event_capacity`] events behind gets `RecvError::Lagged`.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        match self.events.upgrade() {
            Some(sender) => sender.subscribe(),
            None => broadcast::channel(1).1,
        }
    }

    /// The connection state (current value and changes).
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// `true` while a logged-in session is up.
    pub fn is_connected(&self) -> bool {
        self.state.borrow().is_connected()
    }

    /// `true` while a logged-in session is up and its Asterisk fully booted: every module's
    /// actions exist.
    pub fn is_booted(&self) -> bool {
        self.state.borrow().booted_epoch().is_some()
    }

    /// Waits until a session is logged in; returns its AMI version and epoch.
    /// Fails with [`AmiError::Shutdown`] when the runner is gone.
    pub async fn wait_connected(&self) -> Result<(String, u64), AmiError> {
        let mut state = self.state.clone();
        let s = state
            .wait_for(ConnectionState::is_connected)
            .await
            .map_err(|_| AmiError::Shutdown)?;
        match &*s {
            ConnectionState::Connected { version, epoch, .. } => Ok((version.clone(), *epoch)),
            _ => Err(AmiError::NotConnected),
        }
    }
}

/// ActionID generator: random per-runner prefix + counter.
struct IdGen {
    prefix: String,
    next: u64,
}

impl IdGen {
    fn new() -> Self {
        IdGen {
            prefix: format!("coo{:08x}", rand::random::<u32>()),
            next: 1,
        }
    }

    fn next_id(&mut self) -> String {
        let id = format!("{}-{}", self.prefix, self.next);
        self.next += 1;
        id
    }
}

/// The MD5 login key: lowercase hex of `md5(challenge + secret)` (manager.c `authenticate()`).
pub fn md5_key(challenge: &str, secret: &str) -> String {
    let mut h = Md5::new();
    h.update(challenge.as_bytes());
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// One TCP connection with its read buffer and codec.
struct Session {
    stream: TcpStream,
    buf: BytesMut,
    codec: AmiCodec,
    out: BytesMut,
    write_timeout: Duration,
}

impl Session {
    /// The next frame. Cancel-safe (state lives in `self`). Oversized frames are skipped.
    async fn read_frame(&mut self) -> Result<Message, DisconnectReason> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(m)) => return Ok(m),
                Ok(None) => {}
                Err(e @ CodecError::MessageTooLarge { .. }) => {
                    log::warn!("AMI: {e}");
                    continue;
                }
                Err(e) => return Err(DisconnectReason::Io(e.to_string())),
            }
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(8192);
            }
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) => {
                    return match self.codec.decode_eof(&mut self.buf) {
                        Ok(Some(m)) => Ok(m),
                        Ok(None) => Err(DisconnectReason::ClosedByPeer),
                        Err(e) => {
                            log::warn!("AMI: {e}");
                            Err(DisconnectReason::ClosedByPeer)
                        }
                    };
                }
                Ok(_) => {}
                Err(e) => return Err(DisconnectReason::Io(e.to_string())),
            }
        }
    }

    /// Encodes and writes one action (bounded by the write timeout).
    async fn write(&mut self, action: &Action) -> Result<(), WriteError> {
        self.out.clear();
        self.codec
            .encode(action, &mut self.out)
            .map_err(WriteError::Invalid)?;
        match timeout(self.write_timeout, self.stream.write_all(&self.out)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WriteError::Io(DisconnectReason::Io(e.to_string()))),
            Err(_) => Err(WriteError::Io(DisconnectReason::Io(
                "write timed out".to_owned(),
            ))),
        }
    }

    /// Writes `action` and waits for the reply with `id`, dropping anything else.
    async fn exchange(&mut self, action: &Action, id: &str) -> Result<Message, DisconnectReason> {
        self.write(action).await.map_err(|e| match e {
            WriteError::Invalid(e) => DisconnectReason::Protocol(e.to_string()),
            WriteError::Io(r) => r,
        })?;
        loop {
            let m = self.read_frame().await?;
            if m.kind() == MessageKind::Response && m.action_id() == Some(id) {
                return Ok(m);
            }
            log::debug!("AMI: ignoring {:?} frame during login", m.kind());
        }
    }
}

enum WriteError {
    Invalid(CodecError),
    Io(DisconnectReason),
}

/// Connects, reads the banner and logs in. Returns the session and the banner version.
async fn connect(config: &Config, ids: &mut IdGen) -> Result<(Session, String), DisconnectReason> {
    let addr = (config.host.as_str(), config.port);
    let stream = match timeout(config.connect_timeout, TcpStream::connect(addr)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(DisconnectReason::ConnectFailed(e.to_string())),
        Err(_) => return Err(DisconnectReason::ConnectFailed("timed out".to_owned())),
    };
    let _ = stream.set_nodelay(true);
    let mut session = Session {
        stream,
        buf: BytesMut::with_capacity(16 * 1024),
        codec: AmiCodec::with_max_message_size(config.max_message_size),
        out: BytesMut::with_capacity(512),
        write_timeout: config.action_timeout,
    };
    let login = async {
        let banner = session.read_frame().await?;
        let version = banner
            .banner_version()
            .ok_or_else(|| DisconnectReason::Protocol(format!("expected banner, got {banner:?}")))?
            .to_owned();
        let mut login = Action::new("Login").field("Username", config.username.as_str());
        match config.auth {
            AuthMethod::Plain => login.push("Secret", config.secret.as_str()),
            AuthMethod::Md5 => {
                let id = ids.next_id();
                let mut challenge = Action::new("Challenge").field("AuthType", "MD5");
                challenge.set_action_id(id.as_str());
                let reply = session.exchange(&challenge, &id).await?;
                let Some(ch) = reply.get("Challenge").filter(|_| reply.is_success()) else {
                    let msg = reply.get("Message").unwrap_or("challenge refused");
                    return Err(DisconnectReason::AuthFailed(msg.to_owned()));
                };
                login.push("AuthType", "MD5");
                login.push("Key", md5_key(ch, &config.secret));
            }
        }
        if !config.events.is_empty() {
            login.push("Events", config.events.as_str());
        }
        let id = ids.next_id();
        login.set_action_id(id.as_str());
        let reply = session.exchange(&login, &id).await?;
        if !reply.is_success() {
            let msg = reply.get("Message").unwrap_or("login refused");
            return Err(DisconnectReason::AuthFailed(msg.to_owned()));
        }
        Ok(version)
    };
    match timeout(config.login_timeout, login).await {
        Ok(Ok(version)) => Ok((session, version)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(DisconnectReason::Protocol("login timed out".to_owned())),
    }
}

/// An action waiting for its reply, or a list being collected.
struct Pending {
    reply: oneshot::Sender<Result<Response, AmiError>>,
    list: Option<(Message, Vec<Message>)>,
}

fn starts_list(reply: &Message) -> bool {
    reply.is_success()
        && (reply
            .get("EventList")
            .is_some_and(|v| v.eq_ignore_ascii_case("start"))
            || reply
                .get("Message")
                .is_some_and(|m| m.to_ascii_lowercase().ends_with("will follow")))
}

fn ends_list(event: &Message) -> bool {
    match event.get("EventList") {
        Some(v) => v.eq_ignore_ascii_case("Complete") || v.eq_ignore_ascii_case("Cancelled"),
        None => event
            .event()
            .is_some_and(|e| e.to_ascii_lowercase().ends_with("complete")),
    }
}

/// The task that owns the connection. Create with [`Client::new`], then `run` it once.
pub struct Runner {
    config: Config,
    ids: IdGen,
    requests: mpsc::Receiver<Request>,
    requests_open: bool,
    events: broadcast::Sender<Event>,
    state: watch::Sender<ConnectionState>,
    epoch: u64,
}

impl Runner {
    /// Runs until `shutdown` is cancelled: connect, log in, serve, reconnect.
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut backoff = Backoff::new(self.config.reconnect_min, self.config.reconnect_max);
        loop {
            self.state.send_replace(ConnectionState::Connecting);
            let attempt = tokio::select! {
                _ = shutdown.cancelled() => break,
                r = drain_while(&mut self.requests, &mut self.requests_open,
                                connect(&self.config, &mut self.ids)) => r,
            };
            let delay = match attempt {
                Ok((mut session, version)) => {
                    backoff.reset();
                    self.epoch += 1;
                    log::info!("AMI: logged in (AMI {version}, session {})", self.epoch);
                    self.state.send_replace(ConnectionState::Connected {
                        version,
                        epoch: self.epoch,
                        booted: false,
                    });
                    let reason = self.serve(&mut session, &shutdown).await;
                    if reason == DisconnectReason::Shutdown {
                        break;
                    }
                    log::warn!("AMI: disconnected: {reason}");
                    self.state
                        .send_replace(ConnectionState::Disconnected { reason });
                    Some(backoff.next_delay())
                }
                Err(reason) => {
                    let delay = match &reason {
                        DisconnectReason::AuthFailed(_) => self.config.auth_retry_delay,
                        _ => Some(backoff.next_delay()),
                    };
                    log::warn!("AMI: {reason}; retry in {delay:?}");
                    self.state
                        .send_replace(ConnectionState::Disconnected { reason });
                    delay
                }
            };
            let pause = async {
                match delay {
                    Some(d) => sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                () = drain_while(&mut self.requests, &mut self.requests_open, pause) => {}
            }
        }
        self.state.send_replace(ConnectionState::Disconnected {
            reason: DisconnectReason::Shutdown,
        });
        self.requests.close();
        while let Ok(req) = self.requests.try_recv() {
            let _ = req.reply.send(Err(AmiError::Shutdown));
        }
        log::info!("AMI: stopped");
    }

    /// Serves one logged-in session until it ends; returns why.
    async fn serve(
        &mut self,
        session: &mut Session,
        shutdown: &CancellationToken,
    ) -> DisconnectReason {
        let mut pending: HashMap<String, Pending> = HashMap::new();
        let period = self.config.ping_interval.max(Duration::from_millis(1));
        let mut ping = tokio::time::interval_at(Instant::now() + period, period);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut ping_wait: Option<(String, Instant)> = None;
        let mut boot_deadline = Some(Instant::now() + self.config.boot_wait);
        let reason = loop {
            let deadline = ping_wait.as_ref().map(|(_, d)| *d);
            tokio::select! {
                _ = shutdown.cancelled() => {
                    self.logoff(session, &mut pending).await;
                    break DisconnectReason::Shutdown;
                }
                frame = session.read_frame() => match frame {
                    Ok(m) => {
                        let fully_booted = m.kind() == MessageKind::Event
                            && m.event() == Some("FullyBooted");
                        self.dispatch(m, &mut pending, &mut ping_wait);
                        if fully_booted && boot_deadline.take().is_some() {
                            self.mark_booted();
                        }
                    }
                    Err(reason) => break reason,
                },
                _ = sleep_until(boot_deadline.unwrap_or_else(Instant::now)), if boot_deadline.is_some() => {
                    boot_deadline = None;
                    log::warn!(
                        "AMI: no FullyBooted {:?} after the login (does the manager user read the `system` class?); taking Asterisk as booted",
                        self.config.boot_wait
                    );
                    self.mark_booted();
                }
                req = self.requests.recv(), if self.requests_open => match req {
                    Some(req) => {
                        if let Err(reason) = self.submit(session, req, &mut pending).await {
                            break reason;
                        }
                    }
                    None => self.requests_open = false,
                },
                _ = ping.tick() => {
                    // Forget callers that gave up, except lists still arriving (their items
                    // must not leak to subscribers).
                    pending.retain(|_, p| p.list.is_some() || !p.reply.is_closed());
                    if ping_wait.is_none() {
                        let id = self.ids.next_id();
                        let mut action = Action::new("Ping");
                        action.set_action_id(id.as_str());
                        if let Err(WriteError::Io(reason)) = session.write(&action).await {
                            break reason;
                        }
                        ping_wait = Some((id, Instant::now() + self.config.ping_timeout));
                    }
                }
                _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    break DisconnectReason::PingTimeout;
                }
            }
        };
        let error = || match reason {
            DisconnectReason::Shutdown => AmiError::Shutdown,
            _ => AmiError::Disconnected,
        };
        for (_, p) in pending.drain() {
            let _ = p.reply.send(Err(error()));
        }
        reason
    }

    /// Publishes that this session's Asterisk is fully booted.
    fn mark_booted(&self) {
        self.state.send_modify(|state| {
            if let ConnectionState::Connected { booted, .. } = state {
                *booted = true;
            }
        });
    }

    /// Assigns an ActionID, writes the action and records it as pending.
    async fn submit(
        &mut self,
        session: &mut Session,
        req: Request,
        pending: &mut HashMap<String, Pending>,
    ) -> Result<(), DisconnectReason> {
        if req.reply.is_closed() {
            return Ok(());
        }
        let id = self.ids.next_id();
        let mut action = req.action;
        action.set_action_id(id.as_str());
        log::debug!("AMI: -> {} ({id})", action.name());
        match session.write(&action).await {
            Ok(()) => {
                pending.insert(
                    id,
                    Pending {
                        reply: req.reply,
                        list: None,
                    },
                );
                Ok(())
            }
            Err(WriteError::Invalid(e)) => {
                let _ = req.reply.send(Err(AmiError::Codec(e)));
                Ok(())
            }
            Err(WriteError::Io(reason)) => {
                let _ = req.reply.send(Err(AmiError::Disconnected));
                Err(reason)
            }
        }
    }

    /// Routes one frame: reply to its caller, list item to its list, else broadcast.
    fn dispatch(
        &self,
        msg: Message,
        pending: &mut HashMap<String, Pending>,
        ping_wait: &mut Option<(String, Instant)>,
    ) {
        match msg.kind() {
            MessageKind::Response => {
                let Some(id) = msg.action_id().map(str::to_owned) else {
                    log::debug!("AMI: reply without ActionID dropped");
                    return;
                };
                if ping_wait.as_ref().is_some_and(|(p, _)| *p == id) {
                    *ping_wait = None;
                    return;
                }
                let Some(mut p) = pending.remove(&id) else {
                    log::debug!("AMI: reply to unknown or expired ActionID {id} dropped");
                    return;
                };
                if p.list.is_some() {
                    log::debug!("AMI: second reply for list {id} dropped");
                    pending.insert(id, p);
                } else if starts_list(&msg) {
                    p.list = Some((msg, Vec::new()));
                    pending.insert(id, p);
                } else {
                    let _ = p.reply.send(Ok(Response {
                        reply: msg,
                        events: Vec::new(),
                        complete: None,
                    }));
                }
            }
            MessageKind::Event => {
                let in_list = msg
                    .action_id()
                    .and_then(|id| pending.get(id))
                    .is_some_and(|p| p.list.is_some());
                if !in_list {
                    let _ = self.events.send(Arc::new(msg));
                    return;
                }
                let id = msg.action_id().unwrap_or_default().to_owned();
                if ends_list(&msg) {
                    if let Some(Pending {
                        reply,
                        list: Some((head, items)),
                    }) = pending.remove(&id)
                    {
                        let _ = reply.send(Ok(Response {
                            reply: head,
                            events: items,
                            complete: Some(msg),
                        }));
                    }
                } else if let Some(p) = pending.get_mut(&id) {
                    if let (Some((_, items)), false) = (&mut p.list, p.reply.is_closed()) {
                        items.push(msg);
                    }
                }
            }
            kind => log::debug!("AMI: unexpected {kind:?} frame dropped"),
        }
    }

    /// Sends `Logoff` and waits briefly for `Goodbye`, then closes the socket.
    async fn logoff(&mut self, session: &mut Session, pending: &mut HashMap<String, Pending>) {
        let id = self.ids.next_id();
        let mut action = Action::new("Logoff");
        action.set_action_id(id.as_str());
        let mut no_ping = None;
        let goodbye = async {
            if session.write(&action).await.is_err() {
                return;
            }
            while let Ok(m) = session.read_frame().await {
                if m.kind() == MessageKind::Response && m.action_id() == Some(id.as_str()) {
                    return;
                }
                self.dispatch(m, pending, &mut no_ping);
            }
        };
        if timeout(self.config.logoff_timeout, goodbye).await.is_err() {
            log::debug!("AMI: no Goodbye to Logoff");
        }
        let _ = session.stream.shutdown().await;
    }
}

/// Runs `fut` while answering queued requests with `NotConnected`.
async fn drain_while<T>(
    requests: &mut mpsc::Receiver<Request>,
    open: &mut bool,
    fut: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(fut);
    loop {
        tokio::select! {
            out = &mut fut => return out,
            req = requests.recv(), if *open => match req {
                Some(req) => { let _ = req.reply.send(Err(AmiError::NotConnected)); }
                None => *open = false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_key_matches_the_real_22_10_1_login() {
        // session1-main: Challenge 193486317, secret "replay-secret" (manager.conf of the
        // capture), Key sent by the client and accepted by Asterisk.
        assert_eq!(
            md5_key("193486317", "replay-secret"),
            "f9b2c4f29449cd570e253d89d4c25575"
        );
    }

    #[test]
    fn list_start_and_end_detection() {
        let start = Message::new(MessageKind::Response)
            .with("Response", "Success")
            .with("EventList", "start");
        assert!(starts_list(&start));
        let ast11 = Message::new(MessageKind::Response)
            .with("Response", "Success")
            .with("Message", "Queue status will follow");
        assert!(starts_list(&ast11));
        let err = Message::new(MessageKind::Response)
            .with("Response", "Error")
            .with("EventList", "start");
        assert!(!starts_list(&err));
        let cmd = Message::new(MessageKind::Response)
            .with("Response", "Success")
            .with("Message", "Command output follows");
        assert!(!starts_list(&cmd));

        let item = Message::new(MessageKind::Event).with("Event", "QueueMember");
        assert!(!ends_list(&item));
        let done = Message::new(MessageKind::Event)
            .with("Event", "QueueStatusComplete")
            .with("EventList", "Complete");
        assert!(ends_list(&done));
        let done11 = Message::new(MessageKind::Event).with("Event", "QueueStatusComplete");
        assert!(ends_list(&done11));
        let cancelled = Message::new(MessageKind::Event)
            .with("Event", "X")
            .with("EventList", "cancelled");
        assert!(ends_list(&cancelled));
    }

    #[test]
    fn config_debug_hides_secret() {
        let c = Config {
            secret: "topsecret".into(),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("topsecret"));
    }

    #[test]
    fn action_ids_are_unique_and_prefixed() {
        let mut ids = IdGen::new();
        let a = ids.next_id();
        let b = ids.next_id();
        assert_ne!(a, b);
        assert!(a.starts_with("coo") && a.ends_with("-1"), "{a}");
    }
}
