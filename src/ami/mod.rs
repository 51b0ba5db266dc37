//! Asterisk Manager Interface (AMI) client: wire codec, login, action/reply correlation,
//! event lists, keep-alive and reconnection.
//!
//! Owns the TCP session with Asterisk's manager (127.0.0.1:5038 on the appliance) and
//! nothing above it: it turns bytes into [`Message`]s and [`Action`]s into bytes
//! ([`codec`]), and keeps one authenticated session alive ([`client`]), handing replies back
//! to whoever sent the action and broadcasting every other event. **Knows nothing of queues
//! or agents**: the call-center meaning of events belongs to `pbx`. May call nothing of the
//! daemon; `pbx` (and tests) call it.
//!
//! Typical use:
//!
//! ```text
//! use crate::ami::{Action, Client, Config};
//! use tokio_util::sync::CancellationToken;
//!
//! let shutdown = CancellationToken::new();
//! let (client, runner) = Client::new(Config::default());
//! let task = tokio::spawn(runner.run(shutdown.clone()));
//! let mut events = client.events();
//! let status = client.send(Action::new("QueueStatus")).await?;
//! for item in &status.events { /* QueueParams, QueueMember, QueueEntry */ }
//! while let Ok(event) = events.recv().await { /* QueueCallerJoin, AgentConnect, … */ }
//! shutdown.cancel();
//! task.await?;
//! ```

mod backoff;
pub mod client;
pub mod codec;
pub mod message;

pub use client::{
    AmiError, AuthMethod, Client, Config, ConnectionState, DisconnectReason, Event, Response,
    Runner,
};
pub use codec::{AmiCodec, CodecError, DEFAULT_MAX_MESSAGE_SIZE};
pub use message::{Action, Message, MessageKind};

#[cfg(test)]
mod tests;
