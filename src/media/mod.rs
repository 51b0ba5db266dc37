//! Files on flash and USB that the console shows, plays, downloads and deletes.
//!
//! Owns: the voicemail spool of the queue mailboxes ([`voicemail`]: index, 客户留言 table
//! query, Asterisk-compatible delete, change watcher) and HTTP byte-range decisions for
//! streaming any of these files ([`range`]). Never takes a path from a request: files are
//! reached only through an index built by scanning a configured root.
//!
//! May call: the filesystem and `tokio` (blocking work on the blocking pool). It never calls
//! the http layer; the http layer calls it.

pub mod audio;
pub mod range;
pub mod voicemail;
