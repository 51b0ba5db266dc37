//! Tests of the simulator that need more than one of its files: the replay of the real
//! Asterisk 22.10.1 capture against the simulator, the session0 error replies, the daemon's
//! own AMI client against the simulator, and app_queue behaviour through the control API.
//!
//! Owns no production code. Everything listens and connects on 127.0.0.1 only.

mod behaviour;
mod capture;
mod client;
mod errors;
mod scenario;
