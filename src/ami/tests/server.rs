//! A tiny scripted AMI server for the client tests, on `127.0.0.1:0` only.
//!
//! Owns no production code. Each accepted connection is handed to a test-supplied async
//! handler together with its index (0 for the first connection); [`Conn`] offers the pieces
//! Asterisk would use (banner, login with plain or MD5 check, replies, events). Every action
//! received on any connection is recorded in order.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::codec::{Decoder, Encoder};

use crate::ami::client::md5_key;
use crate::ami::{AmiCodec, Message, MessageKind};

pub const USER: &str = "coocenter";
pub const SECRET: &str = "s3cret-for-tests";
pub const CHALLENGE: &str = "193486317";

/// The listening fake server; aborted on drop.
pub struct FakeAmi {
    pub addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    actions: Arc<Mutex<Vec<Message>>>,
    task: JoinHandle<()>,
}

impl Drop for FakeAmi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAmi {
    /// Listens on 127.0.0.1 (ephemeral port) and runs `handler(conn, index)` per connection.
    pub async fn start<F, Fut>(handler: F) -> FakeAmi
    where
        F: Fn(Conn, usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let actions = Arc::new(Mutex::new(Vec::new()));
        let (conns, acts) = (connections.clone(), actions.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let index = conns.fetch_add(1, Ordering::SeqCst);
                let conn = Conn {
                    stream,
                    buf: BytesMut::new(),
                    codec: AmiCodec::new(),
                    actions: acts.clone(),
                };
                tokio::spawn(handler(conn, index));
            }
        });
        FakeAmi {
            addr,
            connections,
            actions,
            task,
        }
    }

    /// How many TCP connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Every action received so far, in order.
    pub fn actions(&self) -> Vec<Message> {
        self.actions.lock().unwrap().clone()
    }

    /// The names of the actions received so far.
    pub fn action_names(&self) -> Vec<String> {
        self.actions()
            .iter()
            .map(|a| a.get("Action").unwrap_or("").to_owned())
            .collect()
    }
}

/// One accepted connection.
pub struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    codec: AmiCodec,
    actions: Arc<Mutex<Vec<Message>>>,
}

impl Conn {
    /// The next action from the client; `None` once the client closed the connection.
    pub async fn read_action(&mut self) -> Option<Message> {
        loop {
            if let Some(m) = self
                .codec
                .decode(&mut self.buf)
                .expect("client sent bad AMI")
            {
                assert_eq!(m.kind(), MessageKind::Action, "client sent {m:?}");
                self.actions.lock().unwrap().push(m.clone());
                return Some(m);
            }
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Writes raw bytes (write errors ignored: the client may be gone).
    pub async fn write_raw(&mut self, data: &[u8]) {
        let _ = self.stream.write_all(data).await;
    }

    /// Writes one frame as Asterisk would.
    pub async fn send(&mut self, m: &Message) {
        let mut out = BytesMut::new();
        self.codec.encode(m, &mut out).expect("encode");
        self.write_raw(&out).await;
    }

    /// Sends the 22.x banner.
    pub async fn banner(&mut self) {
        self.write_raw(b"Asterisk Call Manager/11.0.0\r\n").await;
    }

    /// Banner + login (plain or MD5, checked against [`USER`]/[`SECRET`]) like manager.c.
    /// On success sends the reply and `FullyBooted`; on failure sends `Authentication failed`.
    pub async fn login(&mut self) -> bool {
        self.banner().await;
        loop {
            let Some(a) = self.read_action().await else {
                return false;
            };
            let id = a.action_id().unwrap_or_default().to_owned();
            match a
                .get("Action")
                .unwrap_or_default()
                .to_ascii_lowercase()
                .as_str()
            {
                "challenge" => {
                    assert_eq!(a.get("AuthType"), Some("MD5"));
                    self.send(&reply(&id, "Success").with("Challenge", CHALLENGE))
                        .await;
                }
                "login" => {
                    let ok = a.get("Username") == Some(USER)
                        && match a.get("AuthType") {
                            Some(t) if t.eq_ignore_ascii_case("md5") => {
                                a.get("Key") == Some(md5_key(CHALLENGE, SECRET).as_str())
                            }
                            _ => a.get("Secret") == Some(SECRET),
                        };
                    if ok {
                        self.send(
                            &reply(&id, "Success").with("Message", "Authentication accepted"),
                        )
                        .await;
                        self.send(
                            &event("FullyBooted")
                                .with("Privilege", "system,all")
                                .with("Status", "Fully Booted"),
                        )
                        .await;
                    } else {
                        self.send(&reply(&id, "Error").with("Message", "Authentication failed"))
                            .await;
                    }
                    return ok;
                }
                _ => {
                    self.send(&reply(&id, "Error").with("Message", "Permission denied"))
                        .await;
                }
            }
        }
    }

    /// Answers like Asterisk until the client leaves: `Ping` → `Pong`, `Logoff` →
    /// `Goodbye` and close, anything else → `Success`.
    pub async fn serve_basic(mut self) {
        while let Some(a) = self.read_action().await {
            if !self.answer_basic(&a).await {
                return;
            }
        }
    }

    /// The basic answer to `a`; `false` after `Logoff`.
    pub async fn answer_basic(&mut self, a: &Message) -> bool {
        let id = a.action_id().unwrap_or_default().to_owned();
        match a
            .get("Action")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "ping" => {
                self.send(
                    &reply(&id, "Success")
                        .with("Ping", "Pong")
                        .with("Timestamp", "1795665600.473221"),
                )
                .await;
                true
            }
            "logoff" => {
                self.send(&reply(&id, "Goodbye").with("Message", "Thanks for all the fish."))
                    .await;
                false
            }
            _ => {
                self.send(&reply(&id, "Success").with("Message", "ok"))
                    .await;
                true
            }
        }
    }

    /// Keeps the connection open without answering anything until the client leaves.
    pub async fn stay_silent(mut self) {
        while self.read_action().await.is_some() {}
    }
}

/// `Response: <what>` + `ActionID: <id>`.
pub fn reply(id: &str, what: &str) -> Message {
    Message::new(MessageKind::Response)
        .with("Response", what)
        .with("ActionID", id)
}

/// `Event: <name>`.
pub fn event(name: &str) -> Message {
    Message::new(MessageKind::Event).with("Event", name)
}
