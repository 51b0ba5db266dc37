//! Files on flash and USB that the console shows, plays, downloads and deletes.
//!
//! Owns: recording files ([`recordings`]: what their names and headers say, the reconcile of
//! the index with the folders on flash and USB, checked access, scoping, streamed ZIPs), the
//! voicemail spool of the queue mailboxes ([`voicemail`]: index, 客户留言 table
//! query, Asterisk-compatible delete, change watcher) and HTTP byte-range decisions for
//! streaming any of these files ([`range`]). Never takes a path from a request: files are
//! reached only through an index built by scanning a configured root.
//!
//! May call: the filesystem and `tokio` (blocking work on the blocking pool). It never calls
//! the http layer; the http layer calls it.

pub mod range;
pub mod recordings;
pub mod voicemail;
