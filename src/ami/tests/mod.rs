//! Tests of the `ami` module that need more than one of its files: replay of the real
//! traces through the codec, and the client against a scripted loopback AMI server.
//!
//! Owns no production code.

mod client;
mod server;
mod traces;
