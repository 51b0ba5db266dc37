//! Files on flash and USB that the console shows, plays, downloads and deletes.
//!
//! Owns: recording files ([`recordings`]: what their names and headers say, the reconcile of
//! the index with the folders on flash and USB, checked access, scoping, streamed ZIPs), the
//! voicemail spool of the queue mailboxes ([`voicemail`]: index, 客户留言 table
//! query, Asterisk-compatible delete, change watcher), HTTP byte-range decisions for
//! streaming any of these files ([`range`]), and the voice prompts (语音管理): decoding and
//! converting uploads to 8 kHz mono WAV ([`audio`]), the prompts folder and its index
//! ([`prompts`]), and text to speech ([`tts`]). Never takes a path from a request: files are
//! reached only through an index built by scanning a configured root or kept in the database.
//!
//! May call: the filesystem, `tokio` (blocking work on the blocking pool), the store, and
//! the configured TTS engine. It never calls the http layer; the http layer calls it.

pub mod audio;
pub mod prompts;
pub mod range;
pub mod recordings;
pub mod tts;
pub mod voicemail;
