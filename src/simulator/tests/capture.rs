//! Helpers of the simulator tests: reading the capture in `ami-traces/` (frames, timelines)
//! and a raw manager connection that records every frame it receives.

use std::path::PathBuf;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_util::codec::Decoder;

use crate::ami::{AmiCodec, Message, MessageKind};

/// The 22.10.1 capture folder.
pub fn scenario_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/ami-traces/asterisk-22.10.1-queue-scenario"
    ))
}

pub fn read(rel: &str) -> Vec<u8> {
    let p = scenario_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every frame of a byte stream, banner included.
pub fn decode_all(data: &[u8]) -> Vec<Message> {
    let mut codec = AmiCodec::new();
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

/// One record of a `*.timeline.jsonl`.
#[derive(Debug, Clone)]
pub struct Record {
    /// Microseconds since the epoch.
    pub t: u64,
    pub out: bool,
    pub data: String,
}

/// Reads a timeline (`{"t": 1795665598.871661, "dir": "in", "data": "…"}` per line).
pub fn timeline(rel: &str) -> Vec<Record> {
    let text = String::from_utf8(read(rel)).expect("utf-8");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let t = l
                .split_once("\"t\": ")
                .and_then(|(_, r)| r.split_once(','))
                .map(|(n, _)| n.trim())
                .expect("t");
            let (secs, frac) = t.split_once('.').unwrap_or((t, "0"));
            let frac = format!("{frac:0<6}");
            let t = secs.parse::<u64>().unwrap() * 1_000_000 + frac[..6].parse::<u64>().unwrap();
            let out = l.contains("\"dir\": \"out\"");
            let raw = l
                .split_once("\"data\": \"")
                .map(|(_, r)| r.strip_suffix("\"}").expect("end of data"))
                .expect("data");
            Record {
                t,
                out,
                data: json_unescape(raw),
            }
        })
        .collect()
}

fn json_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('r') => out.push('\r'),
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16).expect("\\u escape");
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            other => panic!("bad escape {other:?}"),
        }
    }
    out
}

/// Splits client data into action blocks (each ending with an empty line).
pub fn split_actions(data: &str) -> Vec<String> {
    data.split_inclusive("\r\n\r\n")
        .filter(|b| !b.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// The ActionID of a raw action block.
pub fn block_action_id(block: &str) -> Option<String> {
    block
        .split("\r\n")
        .find_map(|l| l.strip_prefix("ActionID: "))
        .map(str::to_owned)
}

/// A raw manager connection that keeps every frame it receives, in order.
pub struct RawConn {
    stream: TcpStream,
    codec: AmiCodec,
    buf: BytesMut,
    pub frames: Vec<Message>,
    pub bytes: Vec<u8>,
    pub eof: bool,
}

impl RawConn {
    pub async fn connect(addr: std::net::SocketAddr) -> RawConn {
        assert!(addr.ip().is_loopback());
        let stream = TcpStream::connect(addr).await.expect("connect");
        RawConn {
            stream,
            codec: AmiCodec::new(),
            buf: BytesMut::new(),
            frames: Vec::new(),
            bytes: Vec::new(),
            eof: false,
        }
    }

    pub async fn send(&mut self, data: &str) {
        self.stream.write_all(data.as_bytes()).await.expect("write");
    }

    /// Reads at least one more frame (or EOF); false on EOF or timeout.
    pub async fn read_frame(&mut self, limit: Duration) -> bool {
        loop {
            if let Some(m) = self.codec.decode(&mut self.buf).expect("decode") {
                self.frames.push(m);
                return true;
            }
            if self.eof {
                return false;
            }
            let mut chunk = [0u8; 8192];
            match timeout(limit, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    self.eof = true;
                }
                Ok(Ok(n)) => {
                    self.bytes.extend_from_slice(&chunk[..n]);
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                Err(_) => return false,
            }
        }
    }

    /// Reads until the reply to `action_id` (and its list, if it starts one) has arrived.
    pub async fn until_reply(&mut self, action_id: &str) {
        let mut list = false;
        let mut start = self.frames.len();
        loop {
            for m in &self.frames[start..] {
                let ours = m.action_id() == Some(action_id);
                if ours && m.kind() == MessageKind::Response {
                    if m.get("EventList")
                        .is_some_and(|v| v.eq_ignore_ascii_case("start"))
                    {
                        list = true;
                    } else {
                        return;
                    }
                } else if ours
                    && list
                    && m.get("EventList")
                        .is_some_and(|v| v.eq_ignore_ascii_case("Complete"))
                {
                    return;
                }
            }
            start = self.frames.len();
            assert!(
                self.read_frame(Duration::from_secs(10)).await,
                "no reply to {action_id}; got {:#?}",
                &self.frames[self.frames.len().saturating_sub(5)..]
            );
        }
    }

    /// Reads whatever arrives within `limit`.
    pub async fn drain(&mut self, limit: Duration) {
        while self.read_frame(limit).await {}
    }

    /// Reads until the server closes the connection.
    pub async fn until_eof(&mut self) {
        while !self.eof {
            if !self.read_frame(Duration::from_secs(10)).await && !self.eof {
                panic!("connection not closed");
            }
        }
    }
}
