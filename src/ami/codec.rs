//! The AMI wire codec: bytes ⇄ [`Message`] / [`Action`], as a `tokio_util` `Decoder` and
//! `Encoder`.
//!
//! Owns the framing rules of WIRE.md §1–4 (in `ami-traces/`): the one-line banner, blocks
//! of `Key: Value` lines ending with an empty line, both `Command` output formats, the size
//! cap per message and the CR/LF injection check on output. Knows nothing of sockets, login,
//! ActionIDs, queues or agents.
//!
//! # Decoding rules
//!
//! * Lines end with CRLF; a bare LF is accepted too (a CR is stripped only right before LF).
//! * A line starting with `Asterisk Call Manager` at the start of a frame is the banner
//!   (Asterisk sends no blank line after it) and is returned as its own [`MessageKind::Banner`]
//!   frame.
//! * Empty or whitespace-only lines between frames are skipped.
//! * A line is split on the first `": "`. A line ending in `:` without the space
//!   (`AccountCode:`, LF-normalised fixtures) is that key with an empty value; any other line
//!   without `": "` is kept as a value-less key (value `""`). Repeated keys are kept in order.
//! * A block whose *first* line is `Response: Follows` is a pre-14 `Command` reply: after the
//!   optional `Privilege:`/`ActionID:` headers every line (blank ones included) is raw CLI
//!   output up to the line ending in `--END COMMAND--` (text before the marker on that line is
//!   output too); the empty line after the marker is consumed when present.
//! * The frame type is decided when the block ends: a block whose first line is `Action:` is
//!   an action (client traffic; `QueueLog`/`UserEvent` actions carry an `Event:` parameter);
//!   otherwise an `Event` key makes an event (so `OriginateResponse`, which also carries
//!   `Response:`, is an event), else `Response`, else `Action`, else [`MessageKind::Other`].
//!   Unknown events and fields are never an error.
//! * Bytes that are not UTF-8 are replaced (`String::from_utf8_lossy`).
//!
//! # Size cap and resynchronisation
//!
//! The cap (default [`DEFAULT_MAX_MESSAGE_SIZE`]) counts the bytes of one frame, line
//! terminators included, however they are split across reads; the read buffer never holds
//! more than the cap plus one read of a message being collected. A frame that exceeds it
//! yields [`CodecError::MessageTooLarge`] once, its fields are dropped, and the decoder
//! discards input **up to and including the next empty line** (for a `Follows` reply: up to
//! the `--END COMMAND--` line, since its body may contain empty lines), then decodes the
//! following frames normally. Calling `decode` again after the error is the way to go on.
//!
//! Note that `tokio_util::codec::FramedRead` ends its stream after any decoder error; the
//! AMI client therefore drives this decoder itself and logs oversized frames instead.
//!
//! # Encoding
//!
//! Actions (and, for test servers and round trips, messages) are written as
//! `Key: Value\r\n` … `\r\n`. A key must be non-empty and free of CR, LF and `:`; a value
//! must be free of CR and LF: anything else is refused with [`CodecError::InvalidKey`] /
//! [`CodecError::InvalidValue`] before a byte is written.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::message::{Action, Message, MessageKind};

/// Default cap on the size of one decoded frame: 64 KiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 * 1024;

const BANNER_PREFIX: &str = "Asterisk Call Manager";
const END_COMMAND: &str = "--END COMMAND--";

/// Codec errors. Only [`CodecError::Io`] means the stream itself is broken.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// A frame exceeded the size cap; it was dropped and the decoder resynchronises at the
    /// next empty line. Decoding may go on.
    #[error(
        "AMI frame larger than {limit} bytes dropped (resynchronising at the next empty line)"
    )]
    MessageTooLarge {
        /// The configured cap in bytes.
        limit: usize,
    },
    /// The stream ended inside a frame (from `decode_eof`).
    #[error("AMI stream ended inside a frame ({bytes} bytes unterminated)")]
    Truncated {
        /// How many bytes of the unfinished frame were dropped.
        bytes: usize,
    },
    /// A key to encode is empty or contains CR, LF or `:`.
    #[error("invalid AMI key {0:?} (empty, or contains CR, LF or ':')")]
    InvalidKey(String),
    /// A value to encode contains CR or LF (the value itself is not shown: it may be secret).
    #[error("value of AMI key {key:?} contains CR or LF")]
    InvalidValue {
        /// The key whose value was refused.
        key: String,
    },
    /// An I/O error of the underlying stream.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Between frames: skipping empty lines.
    Start,
    /// Inside a `Key: Value` block.
    Fields,
    /// Inside a `Response: Follows` block; `body` once the first raw line was seen.
    Follows { body: bool },
    /// Saw `--END COMMAND--`; consume the following empty line if there is one.
    AfterEnd,
    /// Dropping an oversized frame. `mid_line`: the bytes dropped so far ended inside a line.
    Discard { mid_line: bool, follows: bool },
}

/// The AMI codec. One instance per connection (it carries the partial frame between reads).
#[derive(Debug)]
pub struct AmiCodec {
    max_message_size: usize,
    mode: Mode,
    current: Message,
    /// Bytes of the current frame already consumed from the buffer.
    consumed: usize,
    /// Bytes at the front of the buffer already searched for LF without finding one.
    scanned: usize,
}

impl Default for AmiCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl AmiCodec {
    /// A codec with the default cap of [`DEFAULT_MAX_MESSAGE_SIZE`].
    pub fn new() -> Self {
        Self::with_max_message_size(DEFAULT_MAX_MESSAGE_SIZE)
    }

    /// A codec that refuses frames larger than `max` bytes (at least 64 bytes are allowed).
    pub fn with_max_message_size(max: usize) -> Self {
        AmiCodec {
            max_message_size: max.max(64),
            mode: Mode::Start,
            current: Message::new(MessageKind::Other),
            consumed: 0,
            scanned: 0,
        }
    }

    /// The configured cap in bytes.
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    fn take_current(&mut self) -> Message {
        self.mode = Mode::Start;
        self.consumed = 0;
        let mut m = std::mem::replace(&mut self.current, Message::new(MessageKind::Other));
        let kind = if m.is_follows() {
            MessageKind::Response
        } else {
            m.classify()
        };
        m.set_kind(kind);
        m
    }

    /// Drops the current frame and switches to discard mode; returns the error to report.
    fn oversized(&mut self, mid_line: bool) -> CodecError {
        let follows = matches!(self.mode, Mode::Follows { .. });
        self.current = Message::new(MessageKind::Other);
        self.consumed = 0;
        self.mode = Mode::Discard { mid_line, follows };
        CodecError::MessageTooLarge {
            limit: self.max_message_size,
        }
    }

    /// Finds the next LF, remembering how far a previous search got.
    fn find_lf(&mut self, buf: &BytesMut) -> Option<usize> {
        let from = self.scanned.min(buf.len());
        match buf[from..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.scanned = 0;
                Some(from + i)
            }
            None => {
                self.scanned = buf.len();
                None
            }
        }
    }

    /// Discard mode: drop input until the resynchronisation point. `true` when reached.
    fn discard(&mut self, buf: &mut BytesMut) -> bool {
        let Mode::Discard {
            mut mid_line,
            follows,
        } = self.mode
        else {
            return true;
        };
        loop {
            let Some(lf) = self.find_lf(buf) else {
                // Keep what may still matter once the line ends: for a `Follows` body the tail
                // that may hold the end marker, otherwise a lone CR that may start an empty
                // line's CRLF.
                let keep = if follows {
                    END_COMMAND.len() + 1
                } else {
                    usize::from(buf.last() == Some(&b'\r') && !mid_line && buf.len() == 1)
                };
                if buf.len() > keep {
                    buf.advance(buf.len() - keep);
                    mid_line = true;
                }
                self.scanned = 0;
                self.mode = Mode::Discard { mid_line, follows };
                return false;
            };
            let line = buf.split_to(lf + 1);
            let text = strip_eol(&line);
            let was_mid = std::mem::replace(&mut mid_line, false);
            let done = if follows {
                text.ends_with(END_COMMAND.as_bytes())
            } else {
                !was_mid && text.is_empty()
            };
            if done {
                self.mode = Mode::Start;
                return true;
            }
        }
    }

    /// Handles one complete line (without its terminator). Returns a finished frame, if any.
    fn line(&mut self, text: &str) -> Option<Message> {
        match self.mode {
            Mode::Start => {
                if text.trim().is_empty() {
                    self.consumed = 0;
                    return None;
                }
                if text.starts_with(BANNER_PREFIX) && !text.contains(": ") {
                    self.consumed = 0;
                    return Some(Message::banner(text));
                }
                let (key, value) = split_field(text);
                if key.eq_ignore_ascii_case("Response") && value.eq_ignore_ascii_case("Follows") {
                    self.current.set_follows();
                    self.mode = Mode::Follows { body: false };
                } else {
                    self.mode = Mode::Fields;
                }
                self.current.push(key, value);
                None
            }
            Mode::Fields => {
                if text.is_empty() {
                    return Some(self.take_current());
                }
                let (key, value) = split_field(text);
                self.current.push(key, value);
                None
            }
            Mode::Follows { body } => {
                if let Some(before) = text.strip_suffix(END_COMMAND) {
                    if !before.is_empty() {
                        self.current.push_raw(before.to_owned());
                    }
                    self.mode = Mode::AfterEnd;
                    return None;
                }
                if !body {
                    let (key, value) = split_field(text);
                    if text.contains(": ")
                        && (key.eq_ignore_ascii_case("Privilege")
                            || key.eq_ignore_ascii_case("ActionID"))
                    {
                        self.current.push(key, value);
                        return None;
                    }
                }
                self.mode = Mode::Follows { body: true };
                self.current.push_raw(text.to_owned());
                None
            }
            Mode::AfterEnd | Mode::Discard { .. } => unreachable!("handled in decode"),
        }
    }

    /// After `--END COMMAND--`: finish the frame, eating one empty line if it follows.
    /// `None` when more input is needed to tell.
    fn after_end(&mut self, buf: &mut BytesMut) -> Option<Message> {
        match buf.first() {
            None => return None,
            Some(b'\n') => buf.advance(1),
            Some(b'\r') => match buf.get(1) {
                None => return None,
                Some(b'\n') => buf.advance(2),
                Some(_) => {}
            },
            Some(_) => {}
        }
        self.scanned = 0;
        Some(self.take_current())
    }
}

/// Strips one trailing LF and a CR right before it.
fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Splits a header line on the first `": "` (see the module docs for lines without it).
fn split_field(text: &str) -> (&str, &str) {
    if let Some((k, v)) = text.split_once(": ") {
        (k, v)
    } else if let Some(k) = text.strip_suffix(':') {
        (k, "")
    } else {
        (text, "")
    }
}

impl Decoder for AmiCodec {
    type Item = Message;
    type Error = CodecError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, CodecError> {
        loop {
            match self.mode {
                Mode::Discard { .. } => {
                    if !self.discard(buf) {
                        return Ok(None);
                    }
                    continue;
                }
                Mode::AfterEnd => return Ok(self.after_end(buf)),
                _ => {}
            }
            let Some(lf) = self.find_lf(buf) else {
                if self.consumed + buf.len() > self.max_message_size {
                    buf.clear();
                    self.scanned = 0;
                    return Err(self.oversized(true));
                }
                return Ok(None);
            };
            let line_len = lf + 1;
            let line = buf.split_to(line_len);
            let text = strip_eol(&line);
            if self.consumed + line_len > self.max_message_size {
                // The line that overflows may itself end the frame: then there is nothing
                // left to skip.
                let ends_block = match self.mode {
                    Mode::Fields => text.is_empty(),
                    Mode::Follows { .. } => text.ends_with(END_COMMAND.as_bytes()),
                    _ => false,
                };
                let err = self.oversized(false);
                if ends_block {
                    self.mode = Mode::Start;
                }
                return Err(err);
            }
            self.consumed += line_len;
            let text = String::from_utf8_lossy(text);
            if let Some(frame) = self.line(&text) {
                return Ok(Some(frame));
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, CodecError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        let result = match self.mode {
            Mode::AfterEnd => Ok(Some(self.take_current())),
            Mode::Discard { .. } => Ok(None),
            Mode::Start if buf.iter().all(u8::is_ascii_whitespace) => Ok(None),
            Mode::Start | Mode::Fields | Mode::Follows { .. } => Err(CodecError::Truncated {
                bytes: self.consumed + buf.len(),
            }),
        };
        buf.clear();
        self.scanned = 0;
        self.consumed = 0;
        self.mode = Mode::Start;
        self.current = Message::new(MessageKind::Other);
        result
    }
}

fn check_key(key: &str) -> Result<(), CodecError> {
    if key.is_empty() || key.bytes().any(|b| matches!(b, b'\r' | b'\n' | b':')) {
        return Err(CodecError::InvalidKey(key.to_owned()));
    }
    Ok(())
}

fn check_value(key: &str, value: &str) -> Result<(), CodecError> {
    if value.bytes().any(|b| matches!(b, b'\r' | b'\n')) {
        return Err(CodecError::InvalidValue {
            key: key.to_owned(),
        });
    }
    Ok(())
}

fn check_fields(fields: &[(String, String)]) -> Result<(), CodecError> {
    for (k, v) in fields {
        check_key(k)?;
        check_value(k, v)?;
    }
    Ok(())
}

fn put_fields(fields: &[(String, String)], dst: &mut BytesMut) {
    for (k, v) in fields {
        dst.put_slice(k.as_bytes());
        dst.put_slice(b": ");
        dst.put_slice(v.as_bytes());
        dst.put_slice(b"\r\n");
    }
}

/// Checks an action without encoding it (same rules as the encoder).
pub fn validate_action(action: &Action) -> Result<(), CodecError> {
    check_fields(action.fields())
}

impl Encoder<&Action> for AmiCodec {
    type Error = CodecError;

    fn encode(&mut self, action: &Action, dst: &mut BytesMut) -> Result<(), CodecError> {
        check_fields(action.fields())?;
        let len: usize = action
            .fields()
            .iter()
            .map(|(k, v)| k.len() + v.len() + 4)
            .sum();
        dst.reserve(len + 2);
        put_fields(action.fields(), dst);
        dst.put_slice(b"\r\n");
        Ok(())
    }
}

impl Encoder<Action> for AmiCodec {
    type Error = CodecError;

    fn encode(&mut self, action: Action, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.encode(&action, dst)
    }
}

/// Writes a message as Asterisk would (used by test servers and round-trip tests): a banner
/// as its single line, a `Follows` reply with its raw lines and `--END COMMAND--`, anything
/// else as fields and an empty line.
impl Encoder<&Message> for AmiCodec {
    type Error = CodecError;

    fn encode(&mut self, msg: &Message, dst: &mut BytesMut) -> Result<(), CodecError> {
        if msg.kind() == MessageKind::Banner {
            let line = msg.banner_line().unwrap_or_default();
            check_value("banner", line)?;
            dst.put_slice(line.as_bytes());
            dst.put_slice(b"\r\n");
            return Ok(());
        }
        check_fields(msg.fields())?;
        if msg.is_follows() {
            for line in msg.raw_lines() {
                check_value("Follows output", line)?;
            }
            put_fields(msg.fields(), dst);
            for line in msg.raw_lines() {
                dst.put_slice(line.as_bytes());
                dst.put_slice(b"\r\n");
            }
            dst.put_slice(END_COMMAND.as_bytes());
            dst.put_slice(b"\r\n\r\n");
            return Ok(());
        }
        put_fields(msg.fields(), dst);
        dst.put_slice(b"\r\n");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes all of `data` in one buffer; panics on error; returns frames and leftover.
    fn decode_all(codec: &mut AmiCodec, data: &[u8]) -> Vec<Message> {
        let mut buf = BytesMut::from(data);
        let mut out = Vec::new();
        while let Some(m) = codec.decode(&mut buf).expect("decode") {
            out.push(m);
        }
        if let Some(m) = codec.decode_eof(&mut buf).expect("decode_eof") {
            out.push(m);
        }
        out
    }

    /// Feeds `data` in the given chunks, decoding after each one.
    fn decode_chunks<'a>(
        codec: &mut AmiCodec,
        chunks: impl IntoIterator<Item = &'a [u8]>,
    ) -> Vec<Message> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(m) = codec.decode(&mut buf).expect("decode") {
                out.push(m);
            }
        }
        if let Some(m) = codec.decode_eof(&mut buf).expect("decode_eof") {
            out.push(m);
        }
        out
    }

    fn encode_all(frames: &[Message]) -> Vec<u8> {
        let mut codec = AmiCodec::new();
        let mut dst = BytesMut::new();
        for f in frames {
            codec.encode(f, &mut dst).expect("encode");
        }
        dst.to_vec()
    }

    const SAMPLE: &str = "Asterisk Call Manager/11.0.0\r\n\
        Response: Success\r\nActionID: a1\r\nMessage: Authentication accepted\r\n\r\n\
        Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n\
        Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\nline one\r\n\r\nKey: not a header\r\n--END COMMAND--\r\n\r\n\
        Response: Success\r\nActionID: c2\r\nMessage: Command output follows\r\nOutput: Name/number : x\r\nOutput: \r\n\r\n\
        Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: o1\r\nResponse: Success\r\n\r\n";

    fn check_sample(frames: &[Message]) {
        let kinds: Vec<_> = frames.iter().map(Message::kind).collect();
        use MessageKind::*;
        assert_eq!(kinds, [Banner, Response, Event, Response, Response, Event]);
        assert_eq!(frames[0].banner_version(), Some("11.0.0"));
        assert_eq!(frames[2].event(), Some("FullyBooted"));
        assert!(frames[3].is_follows());
        assert_eq!(frames[3].action_id(), Some("c1"));
        assert_eq!(frames[3].output(), ["line one", "", "Key: not a header"]);
        assert_eq!(frames[4].output(), ["Name/number : x", ""]);
        assert_eq!(frames[5].event(), Some("OriginateResponse"));
        assert_eq!(frames[5].get("Response"), Some("Success"));
    }

    #[test]
    fn sample_in_one_read() {
        let frames = decode_all(&mut AmiCodec::new(), SAMPLE.as_bytes());
        check_sample(&frames);
        assert_eq!(encode_all(&frames), SAMPLE.as_bytes());
    }

    #[test]
    fn sample_split_at_every_byte_boundary() {
        let data = SAMPLE.as_bytes();
        let whole = decode_all(&mut AmiCodec::new(), data);
        for i in 0..=data.len() {
            let frames = decode_chunks(&mut AmiCodec::new(), [&data[..i], &data[i..]]);
            assert_eq!(frames, whole, "split at {i}");
        }
        // And one byte per read.
        let frames = decode_chunks(&mut AmiCodec::new(), data.chunks(1));
        assert_eq!(frames, whole);
    }

    #[test]
    fn banner_split_across_reads_and_glued_to_next_block() {
        let mut codec = AmiCodec::new();
        let mut buf = BytesMut::from(&b"Asterisk Call Man"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"ager/7.0.3\r");
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"\nResponse: Success\r\nChallenge: 145769581\r\n");
        let banner = codec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(banner.banner_version(), Some("7.0.3"));
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(b"\r\n");
        let reply = codec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(reply.get("challenge"), Some("145769581"));
        assert!(buf.is_empty());
    }

    #[test]
    fn many_messages_in_one_36k_read() {
        let mut data = String::new();
        let mut n = 0;
        while data.len() < 36 * 1024 {
            data.push_str(&format!(
                "Event: VarSet\r\nPrivilege: dialplan,all\r\nChannel: Local/201@agents-00000001;1\r\n\
                 Variable: QUEUEPOSITION\r\nValue: {n}\r\nUniqueid: 1795665603.{n}\r\n\r\n"
            ));
            n += 1;
        }
        assert!(data.len() >= 36 * 1024);
        let frames = decode_all(&mut AmiCodec::new(), data.as_bytes());
        assert_eq!(frames.len(), n);
        for (i, f) in frames.iter().enumerate() {
            assert_eq!(f.get("Value"), Some(i.to_string().as_str()));
        }
        assert_eq!(encode_all(&frames), data.as_bytes());
    }

    fn big_event(size: usize) -> String {
        let mut s = String::from("Event: Huge\r\nPrivilege: call,all\r\n");
        let mut i = 0;
        while s.len() < size {
            s.push_str(&format!(
                "ChanVariable: v{i}=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
            ));
            i += 1;
        }
        s.push_str("\r\n");
        s
    }

    #[test]
    fn oversized_message_is_rejected_and_stream_continues() {
        let next = "Event: Next\r\nPrivilege: call,all\r\n\r\n";
        let data = format!("{}{next}", big_event(4000));
        let mut codec = AmiCodec::with_max_message_size(1024);
        let mut buf = BytesMut::from(data.as_bytes());
        let err = codec.decode(&mut buf).unwrap_err();
        assert!(
            matches!(err, CodecError::MessageTooLarge { limit: 1024 }),
            "{err}"
        );
        let m = codec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(m.event(), Some("Next"));
        assert_eq!(codec.decode(&mut buf).unwrap(), None);

        // Same, fed in 100-byte reads: one error, then the next frame, buffer stays bounded.
        let mut codec = AmiCodec::with_max_message_size(1024);
        let mut buf = BytesMut::new();
        let (mut errors, mut frames) = (0, Vec::new());
        for chunk in data.as_bytes().chunks(100) {
            buf.extend_from_slice(chunk);
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(m)) => frames.push(m),
                    Ok(None) => break,
                    Err(CodecError::MessageTooLarge { .. }) => errors += 1,
                    Err(e) => panic!("{e}"),
                }
            }
            assert!(buf.len() <= 1024 + 100);
        }
        assert_eq!(errors, 1);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].event(), Some("Next"));
    }

    #[test]
    fn oversized_single_line_without_lf_is_bounded() {
        let mut codec = AmiCodec::with_max_message_size(256);
        let mut buf = BytesMut::from(&b"Event: X\r\nValue: "[..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        let mut errors = 0;
        for _ in 0..100 {
            buf.extend_from_slice(&[b'a'; 64]);
            match codec.decode(&mut buf) {
                Ok(None) => {}
                Err(CodecError::MessageTooLarge { .. }) => errors += 1,
                other => panic!("{other:?}"),
            }
            assert!(buf.len() <= 256 + 64);
        }
        assert_eq!(errors, 1);
        // The rest of the huge line and its block end, then a good frame.
        buf.extend_from_slice(b"aaa\r\nMore: x\r\n\r\nResponse: Success\r\nPing: Pong\r\n\r\n");
        let m = codec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(m.get("Ping"), Some("Pong"));
    }

    #[test]
    fn oversized_follows_resyncs_at_end_marker() {
        let mut body = String::from("Response: Follows\r\nPrivilege: Command\r\n");
        for i in 0..100 {
            body.push_str(&format!("line {i}\r\n\r\n"));
        }
        body.push_str("--END COMMAND--\r\n\r\nEvent: After\r\n\r\n");
        let mut codec = AmiCodec::with_max_message_size(200);
        let mut buf = BytesMut::from(body.as_bytes());
        assert!(matches!(
            codec.decode(&mut buf),
            Err(CodecError::MessageTooLarge { .. })
        ));
        let m = codec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(m.event(), Some("After"));

        // The end marker split across reads anywhere is still found.
        for chunk in 1..=40 {
            let mut codec = AmiCodec::with_max_message_size(200);
            let mut buf = BytesMut::new();
            let (mut errors, mut frames) = (0, Vec::new());
            for part in body.as_bytes().chunks(chunk) {
                buf.extend_from_slice(part);
                loop {
                    match codec.decode(&mut buf) {
                        Ok(Some(m)) => frames.push(m),
                        Ok(None) => break,
                        Err(CodecError::MessageTooLarge { .. }) => errors += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            assert_eq!(errors, 1, "chunk {chunk}");
            assert_eq!(frames.len(), 1, "chunk {chunk}");
            assert_eq!(frames[0].event(), Some("After"), "chunk {chunk}");
        }
    }

    #[test]
    fn bare_lf_and_mixed_endings() {
        let data = b"Asterisk Call Manager/1.3\nResponse: Success\r\nMessage: ok\n\nEvent: A\nX: 1\r\n\r\n";
        let frames = decode_all(&mut AmiCodec::new(), data);
        assert_eq!(frames.len(), 3);
        assert_eq!(frames[1].get("message"), Some("ok"));
        assert_eq!(frames[2].get("X"), Some("1"));
    }

    #[test]
    fn repeated_keys_colons_and_valueless_lines() {
        let data = "Event: Newchannel\r\nChanVariable: a=1\r\nChanVariable: b=c: d\r\n\
                    Message: Invalid/unknown command: Foo. Use Action: ListCommands\r\n\
                    AccountCode: \r\nAccountCode2:\r\nDestChannel: SIP/x:5060\r\nbare line\r\n\r\n";
        let m = &decode_all(&mut AmiCodec::new(), data.as_bytes())[0];
        assert_eq!(
            m.get_all("chanvariable").collect::<Vec<_>>(),
            ["a=1", "b=c: d"]
        );
        assert_eq!(
            m.get("Message"),
            Some("Invalid/unknown command: Foo. Use Action: ListCommands")
        );
        assert_eq!(m.get("AccountCode"), Some(""));
        assert_eq!(m.get("AccountCode2"), Some(""));
        assert_eq!(m.get("DestChannel"), Some("SIP/x:5060"));
        assert_eq!(m.get("bare line"), Some(""));
        assert_eq!(m.fields().len(), 8);
    }

    #[test]
    fn follows_end_marker_glued_to_last_line_and_eof_after_marker() {
        let data = b"Response: Follows\nPrivilege: Command\n0 active calls--END COMMAND--\n";
        let frames = decode_all(&mut AmiCodec::new(), data);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].output(), ["0 active calls"]);
        assert_eq!(frames[0].get("Privilege"), Some("Command"));
    }

    #[test]
    fn follows_without_blank_line_after_marker() {
        let data = b"Response: Follows\r\nx\r\n--END COMMAND--\r\nEvent: Y\r\n\r\n";
        let frames = decode_all(&mut AmiCodec::new(), data);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0].output(), ["x"]);
        assert_eq!(frames[1].event(), Some("Y"));
    }

    #[test]
    fn leading_blank_and_whitespace_lines_are_skipped() {
        let data = b" \n\r\n\nResponse: Pong\r\n\r\n\r\n";
        let frames = decode_all(&mut AmiCodec::new(), data);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].response(), Some("Pong"));
        assert!(frames[0].is_success());
    }

    #[test]
    fn truncated_stream_reports_at_eof() {
        let mut codec = AmiCodec::new();
        let mut buf = BytesMut::from(&b"Event: A\r\nB: c\r\nD"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        let err = codec.decode_eof(&mut buf).unwrap_err();
        assert!(matches!(err, CodecError::Truncated { bytes: 17 }), "{err}");
        // The codec is reset and usable again.
        let mut buf = BytesMut::from(&b"Event: E\r\n\r\n"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap().event(), Some("E"));
    }

    /// A deterministic stand-in for `fuzz/` (same checks), run with every `cargo test`:
    /// random AMI-ish token soup, random read sizes, small and default caps.
    #[test]
    fn random_input_never_panics_and_buffer_stays_bounded() {
        const TOKENS: [&[u8]; 16] = [
            b"Event: X",
            b"Response: Follows",
            b"Response: Success",
            b"\r\n",
            b"\n",
            b"\r",
            b"--END COMMAND--",
            b"Asterisk Call Manager/1.0",
            b": ",
            b":",
            b"Output: x",
            b"\xff\xfe",
            b"Privilege: Command",
            b"ActionID: 1",
            b"  ",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..3000 {
            let mut data = Vec::new();
            for _ in 0..(next() % 200) {
                data.extend_from_slice(TOKENS[(next() % 16) as usize]);
            }
            let chunk = (next() % 64 + 1) as usize;
            let cap = if next() % 2 == 0 { 64 } else { 512 };
            let mut codec = AmiCodec::with_max_message_size(cap);
            let mut buf = BytesMut::new();
            for part in data.chunks(chunk) {
                buf.extend_from_slice(part);
                loop {
                    match codec.decode(&mut buf) {
                        Ok(Some(frame)) => {
                            let mut out = BytesMut::new();
                            let _ = AmiCodec::new().encode(&frame, &mut out);
                        }
                        Ok(None) => break,
                        Err(CodecError::MessageTooLarge { .. }) => {}
                        Err(e) => panic!("{e}"),
                    }
                }
                assert!(buf.len() <= cap, "buffer {} > cap {cap}", buf.len());
            }
            let _ = codec.decode_eof(&mut buf);
        }
    }

    #[test]
    fn encoder_writes_actions_and_refuses_injection() {
        let mut codec = AmiCodec::new();
        let mut dst = BytesMut::new();
        let a = Action::new("QueuePause")
            .field("Interface", "Local/201@agents/n")
            .field("Reason", "Lunch: 30 min");
        codec.encode(&a, &mut dst).unwrap();
        assert_eq!(
            &dst[..],
            b"Action: QueuePause\r\nInterface: Local/201@agents/n\r\nReason: Lunch: 30 min\r\n\r\n"
        );

        for bad in [
            Action::new("Ping").field("Reason", "x\r\nAction: Logoff"),
            Action::new("Ping").field("Reason", "x\nAction: Logoff"),
            Action::new("Ping\r\n"),
        ] {
            let mut dst = BytesMut::new();
            let err = codec.encode(&bad, &mut dst).unwrap_err();
            assert!(matches!(err, CodecError::InvalidValue { .. }), "{err}");
            assert!(dst.is_empty());
        }
        for key in ["", "Re\nason", "Reason: x", "A\rB"] {
            let bad = Action::new("Ping").field(key, "v");
            let mut dst = BytesMut::new();
            let err = codec.encode(&bad, &mut dst).unwrap_err();
            assert!(matches!(err, CodecError::InvalidKey(_)), "{err}");
            assert!(dst.is_empty());
        }
        // The error message never shows the value.
        let err = codec
            .encode(&Action::new("Login").field("Secret", "s3cr3t\n"), &mut dst)
            .unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"));
    }
}
