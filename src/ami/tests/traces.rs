//! Replay of the real AMI traces in `../shared/ami-traces/` through the codec.
//!
//! Owns no production code. The trace folder is found relative to the crate root
//! (`CARGO_MANIFEST_DIR/../shared/ami-traces`), as the collection's README asks; the files
//! are read, never copied.

use std::path::PathBuf;

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::ami::{AmiCodec, CodecError, Message, MessageKind};

fn trace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/ami-traces")
}

fn read_trace(rel: &str) -> Vec<u8> {
    let path = trace_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Re-adds the CR that LF-normalised fixtures lost (Asterisk always sends CRLF).
fn add_cr(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    for (i, &b) in data.iter().enumerate() {
        if b == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// The outcome of decoding a whole stream: frames, and the `decode_eof` error if any.
struct Decoded {
    frames: Vec<Message>,
    eof_error: Option<CodecError>,
}

/// Decodes `data` fed in reads of `chunk` bytes (0 = one read), then signals EOF.
fn decode_stream(data: &[u8], chunk: usize) -> Decoded {
    let mut codec = AmiCodec::new();
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    let chunk = if chunk == 0 { data.len().max(1) } else { chunk };
    for part in data.chunks(chunk) {
        buf.extend_from_slice(part);
        while let Some(m) = codec.decode(&mut buf).expect("decode error") {
            frames.push(m);
        }
    }
    let eof_error = match codec.decode_eof(&mut buf) {
        Ok(Some(m)) => {
            frames.push(m);
            None
        }
        Ok(None) => None,
        Err(e) => Some(e),
    };
    Decoded { frames, eof_error }
}

fn encode_frames(frames: &[Message]) -> Vec<u8> {
    let mut codec = AmiCodec::new();
    let mut out = BytesMut::new();
    for f in frames {
        codec.encode(f, &mut out).expect("re-encode");
    }
    out.to_vec()
}

fn count(frames: &[Message], kind: MessageKind) -> usize {
    frames.iter().filter(|f| f.kind() == kind).count()
}

/// Every raw AMI file of the collection, with what it must decode to.
struct Case {
    path: &'static str,
    /// Public fixtures were saved with LF only; the 22.10.1 capture is byte-exact CRLF.
    crlf: bool,
    banners: usize,
    responses: usize,
    events: usize,
    actions: usize,
    others: usize,
    /// The file stops inside a frame (quoted or cut short by its source).
    truncated: bool,
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    // panoramisk fixtures: mixed client actions and server replies, Asterisk 11 and 18.
    // agent_loggued_in has 2 blocks whose first line is "[N bytes missing in capture file]Event: …":
    // kept as `Other`, never fatal.
    Case { path: "panoramisk/tests/fixtures/agent_loggued_in.yaml", crlf: false, banners: 0, responses: 8, events: 145, actions: 8, others: 2, truncated: false },
    Case { path: "panoramisk/tests/fixtures/agent_not_in_pause.yaml", crlf: false, banners: 0, responses: 0, events: 60, actions: 0, others: 0, truncated: true },
    Case { path: "panoramisk/tests/fixtures/asyncagi_channel_does_not_exist.yaml", crlf: false, banners: 0, responses: 1, events: 0, actions: 1, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/asyncagi_get_var.yaml", crlf: false, banners: 0, responses: 1, events: 3, actions: 1, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/command_core_show_version.yaml", crlf: false, banners: 0, responses: 1, events: 0, actions: 1, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/login_failed.yaml", crlf: false, banners: 1, responses: 1, events: 0, actions: 1, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/login_md5.yaml", crlf: false, banners: 1, responses: 1, events: 0, actions: 1, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/login_ok.yaml", crlf: false, banners: 1, responses: 1, events: 1, actions: 1, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/logoff.yaml", crlf: false, banners: 0, responses: 1, events: 0, actions: 1, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/originate_sync.yaml", crlf: false, banners: 0, responses: 1, events: 0, actions: 1, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/originate_with_events.yaml", crlf: false, banners: 0, responses: 1, events: 747, actions: 1, others: 0, truncated: true },
    Case { path: "panoramisk/tests/fixtures/ping.yaml", crlf: false, banners: 0, responses: 1, events: 0, actions: 0, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/pjsip_show_endpoint.yaml", crlf: false, banners: 0, responses: 1, events: 5, actions: 0, others: 0, truncated: true },
    Case { path: "panoramisk/tests/fixtures/queue_add.yaml", crlf: false, banners: 0, responses: 1, events: 0, actions: 0, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/queue_status.yaml", crlf: false, banners: 0, responses: 1, events: 8, actions: 0, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/rasterisk_command.yaml", crlf: false, banners: 0, responses: 1, events: 0, actions: 1, others: 0, truncated: false },
    Case { path: "panoramisk/tests/fixtures/sip_notify.yaml", crlf: false, banners: 0, responses: 1, events: 0, actions: 1, others: 0, truncated: false },
    // Quotes from issue threads.
    Case { path: "issue-snippets/asterisk-issue393-AgentComplete-ast16.30-20.5-TRUNCATED.txt", crlf: false, banners: 0, responses: 0, events: 0, actions: 0, others: 0, truncated: true },
    Case { path: "issue-snippets/asterisk-java-issue185-Command-output-ast14plus.txt", crlf: false, banners: 0, responses: 1, events: 0, actions: 0, others: 0, truncated: false },
    Case { path: "issue-snippets/clue-reactphp-ami-issue50-Command-output-ast14plus.txt", crlf: false, banners: 0, responses: 1, events: 0, actions: 1, others: 0, truncated: false },
    Case { path: "issue-snippets/ivahaev-amigo-issue3-Command-Follows-pre14.txt", crlf: false, banners: 0, responses: 1, events: 0, actions: 1, others: 0, truncated: false },
    Case { path: "issue-snippets/marcelog-PAMI-issue104-AgentCalled-ast11.txt", crlf: false, banners: 0, responses: 0, events: 1, actions: 0, others: 0, truncated: false },
    Case { path: "issue-snippets/marcelog-PAMI-issue17-QueueMemberAdded-ast16-lowercased-by-reporter.txt", crlf: false, banners: 0, responses: 0, events: 1, actions: 0, others: 0, truncated: false },
    // Old-style dump: `Response: Pong`, two `Follows` bodies (one with an empty line), and a
    // block of bare lines ("row 1 of extended response", kept as `Other`).
    Case { path: "asterisk-ami-events-stream/test/fixtures/ami.dump", crlf: false, banners: 0, responses: 4, events: 4, actions: 1, others: 1, truncated: false },
    // Asterisk 22.10.1, byte-exact, both directions. The client block without `Action:`
    // (ActionID no-action-header) is `Other`; QueueLog's `Event:` parameter does not make
    // its action an event.
    Case { path: "asterisk-22.10.1-queue-scenario/ami/session0-errors.server.raw", crlf: true, banners: 1, responses: 2, events: 0, actions: 0, others: 0, truncated: false },
    Case { path: "asterisk-22.10.1-queue-scenario/ami/session0-errors.client.raw", crlf: true, banners: 0, responses: 0, events: 0, actions: 2, others: 0, truncated: false },
    Case { path: "asterisk-22.10.1-queue-scenario/ami/session1-main.server.raw", crlf: true, banners: 1, responses: 41, events: 673, actions: 0, others: 0, truncated: false },
    Case { path: "asterisk-22.10.1-queue-scenario/ami/session1-main.client.raw", crlf: true, banners: 0, responses: 0, events: 0, actions: 40, others: 1, truncated: false },
    Case { path: "asterisk-22.10.1-queue-scenario/ami/session2-eventsoff.server.raw", crlf: true, banners: 1, responses: 5, events: 9, actions: 0, others: 0, truncated: false },
    Case { path: "asterisk-22.10.1-queue-scenario/ami/session2-eventsoff.client.raw", crlf: true, banners: 0, responses: 0, events: 0, actions: 5, others: 0, truncated: false },
];

#[test]
fn every_raw_trace_decodes_without_error() {
    for case in CASES {
        let original = read_trace(case.path);
        let data = if case.crlf {
            original.clone()
        } else {
            add_cr(&original)
        };
        let whole = decode_stream(&data, 0);
        let frames = &whole.frames;
        let got = (
            count(frames, MessageKind::Banner),
            count(frames, MessageKind::Response),
            count(frames, MessageKind::Event),
            count(frames, MessageKind::Action),
            count(frames, MessageKind::Other),
        );
        let want = (
            case.banners,
            case.responses,
            case.events,
            case.actions,
            case.others,
        );
        assert_eq!(
            got, want,
            "{}: (banners, responses, events, actions, others)",
            case.path
        );
        match (&whole.eof_error, case.truncated) {
            (None, false) | (Some(CodecError::Truncated { .. }), true) => {}
            (other, _) => panic!("{}: unexpected end of stream result {other:?}", case.path),
        }

        // Split at awkward places: the same frames come out.
        for chunk in [1, 7, 1000] {
            let split = decode_stream(&data, chunk);
            assert!(
                &split.frames == frames,
                "{}: differs in {chunk}-byte reads",
                case.path
            );
        }
        // The LF-only original (bare LF) decodes to the same frames.
        if !case.crlf {
            let lf = decode_stream(&original, 0);
            assert!(&lf.frames == frames, "{}: bare LF differs", case.path);
        }
        // Re-encoding and decoding again is stable.
        let again = decode_stream(&encode_frames(frames), 0);
        assert!(again.eof_error.is_none(), "{}", case.path);
        assert!(
            &again.frames == frames,
            "{}: re-encode round trip differs",
            case.path
        );
    }
}

#[test]
fn asterisk_22_server_captures_reencode_byte_for_byte() {
    for session in ["session0-errors", "session1-main", "session2-eventsoff"] {
        for side in ["server", "client"] {
            let path = format!("asterisk-22.10.1-queue-scenario/ami/{session}.{side}.raw");
            let data = read_trace(&path);
            let decoded = decode_stream(&data, 0);
            assert!(decoded.eof_error.is_none(), "{path}");
            assert_eq!(
                encode_frames(&decoded.frames),
                data,
                "{path}: not byte-exact"
            );
        }
    }
}

/// Minimal JSON string reader for the `"data"` member of a timeline line (no serde here).
fn json_string_after(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\": \""))? + key.len() + 5;
    let mut out = String::new();
    let mut chars = line[start..].chars();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let mut code = u32::from_str_radix(&hex, 16).ok()?;
                    if (0xD800..0xDC00).contains(&code) {
                        let rest: String = chars.by_ref().take(6).collect();
                        let low = u32::from_str_radix(rest.strip_prefix("\\u")?, 16).ok()?;
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    }
                    out.push(char::from_u32(code)?);
                }
                c => out.push(c),
            },
            c => out.push(c),
        }
    }
}

/// The server→client reads of a session, as recorded in its timeline.
fn timeline_reads(session: &str) -> Vec<Vec<u8>> {
    let text = String::from_utf8(read_trace(&format!(
        "asterisk-22.10.1-queue-scenario/ami/{session}.timeline.jsonl"
    )))
    .expect("utf-8 timeline");
    text.lines()
        .filter(|l| l.contains("\"dir\": \"in\""))
        .map(|l| {
            json_string_after(l, "data")
                .expect("data member")
                .into_bytes()
        })
        .collect()
}

#[test]
fn asterisk_22_decodes_identically_with_the_recorded_read_boundaries() {
    for (session, frames_expected) in [
        ("session0-errors", 3),
        ("session1-main", 1 + 41 + 673),
        ("session2-eventsoff", 1 + 5 + 9),
    ] {
        let reads = timeline_reads(session);
        let raw = read_trace(&format!(
            "asterisk-22.10.1-queue-scenario/ami/{session}.server.raw"
        ));
        assert_eq!(
            reads.concat(),
            raw,
            "{session}: timeline and raw capture disagree"
        );

        let mut codec = AmiCodec::new();
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for read in &reads {
            buf.extend_from_slice(read);
            while let Some(m) = codec.decode(&mut buf).expect("decode") {
                frames.push(m);
            }
        }
        assert!(buf.is_empty(), "{session}: bytes left over");
        assert_eq!(frames.len(), frames_expected, "{session}");
        assert!(frames == decode_stream(&raw, 0).frames, "{session}");
    }
}

#[test]
fn asterisk_22_session_contents() {
    let frames = decode_stream(
        &read_trace("asterisk-22.10.1-queue-scenario/ami/session1-main.server.raw"),
        0,
    )
    .frames;
    assert_eq!(frames[0].banner_version(), Some("11.0.0"));
    assert_eq!(frames[1].get("Challenge"), Some("193486317"));

    // OriginateResponse carries `Response:` but is an event.
    let originates: Vec<_> = frames
        .iter()
        .filter(|f| f.event() == Some("OriginateResponse"))
        .collect();
    assert_eq!(originates.len(), 10);
    assert!(originates.iter().all(|f| f.get("Response").is_some()));

    // List items carry the ActionID as their last header and no Privilege.
    let initial: Vec<_> = frames
        .iter()
        .filter(|f| f.action_id() == Some("qstatus-initial"))
        .collect();
    assert_eq!(initial[0].get("EventList"), Some("start"));
    let complete = initial.last().unwrap();
    assert_eq!(complete.event(), Some("QueueStatusComplete"));
    assert_eq!(complete.get("EventList"), Some("Complete"));
    let items = &initial[1..initial.len() - 1];
    assert_eq!(
        complete.get("ListItems"),
        Some(items.len().to_string().as_str())
    );
    for item in items {
        assert_eq!(item.fields().last().unwrap().0, "ActionID");
        assert!(!item.contains("Privilege"));
    }

    // 14+ Command output, success and failure.
    let by_id = |id: &str| frames.iter().find(|f| f.action_id() == Some(id)).unwrap();
    let show = by_id("cmd-queue-show");
    assert_eq!(show.response(), Some("Success"));
    let out = show.output();
    assert!(out[0].starts_with("sales has 0 calls (max unlimited) in 'linear' strategy"));
    assert_eq!(out[1], "   Members: ");
    assert!(out.contains(&""));
    let bogus = by_id("cmd-bogus");
    assert_eq!(bogus.response(), Some("Error"));
    assert!(!bogus.is_success());
    assert_eq!(bogus.get("Message"), Some("Command output follows"));
    assert_eq!(
        bogus.output(),
        ["No such command 'no such cli command' (type 'core show help no such' for other possible commands)"]
    );
}

/// The `Command` reply of a snippet/fixture file (its last `Response` frame).
fn command_reply(path: &str) -> Message {
    let frames = decode_stream(&add_cr(&read_trace(path)), 0).frames;
    frames
        .into_iter()
        .rev()
        .find(|f| f.kind() == MessageKind::Response)
        .expect("a response")
}

#[test]
fn command_output_pre_14_follows_format() {
    let m = command_reply("issue-snippets/ivahaev-amigo-issue3-Command-Follows-pre14.txt");
    assert!(m.is_follows());
    assert_eq!(m.response(), Some("Follows"));
    assert_eq!(m.get("Privilege"), Some("Command"));
    assert_eq!(
        m.output(),
        ["No such command 'core show hi' (type 'core show help core show hin' for other possible commands)"]
    );

    let m = command_reply("panoramisk/tests/fixtures/command_core_show_version.yaml");
    assert_eq!(m.action_id(), Some("action/transaction_uid/1/1"));
    assert_eq!(m.output().len(), 1);
    assert!(m.output()[0].starts_with("Asterisk 11.11.0+xivo"));

    let m = command_reply("panoramisk/tests/fixtures/rasterisk_command.yaml");
    assert_eq!(
        m.output(),
        [
            "Channel              Location             State   Application(Data)             ",
            "0 active channels",
            "0 active calls",
            "2 calls processed",
        ]
    );

    // Empty line inside the body, and Follows without headers.
    let frames = decode_stream(
        &add_cr(&read_trace(
            "asterisk-ami-events-stream/test/fixtures/ami.dump",
        )),
        0,
    )
    .frames;
    let follows: Vec<_> = frames.iter().filter(|f| f.is_follows()).collect();
    assert_eq!(follows.len(), 2);
    assert_eq!(
        follows[0].output(),
        [
            "first extended response, row 1",
            "first extended response, row 2",
            "",
            "first extended response, row 3"
        ]
    );
    assert_eq!(follows[1].output(), ["second extended response, row 1"]);
    assert!(frames.iter().any(|f| f.response() == Some("Pong")));
}

#[test]
fn command_output_14_plus_format() {
    let m = command_reply("issue-snippets/asterisk-java-issue185-Command-output-ast14plus.txt");
    assert!(!m.is_follows());
    assert_eq!(m.action_id(), Some("1"));
    // `Output:` without the trailing space (LF-normalised quote) is an empty line too.
    assert_eq!(
        m.output(),
        ["key  : /family1/key1", "", "key  : /family2/key2", ""]
    );

    let m = command_reply("issue-snippets/clue-reactphp-ami-issue50-Command-output-ast14plus.txt");
    assert_eq!(m.get("Message"), Some("Command output follows"));
    assert_eq!(m.output(), ["User example not found.", ""]);
}

#[test]
fn lowercased_keys_and_asterisk_11_names() {
    let frames = decode_stream(
        &add_cr(&read_trace(
            "issue-snippets/marcelog-PAMI-issue17-QueueMemberAdded-ast16-lowercased-by-reporter.txt",
        )),
        0,
    )
    .frames;
    assert_eq!(frames[0].kind(), MessageKind::Event);
    assert_eq!(frames[0].get("Event"), Some("QueueMemberAdded"));
    assert_eq!(frames[0].get("Location"), Some("Local/7279@from-queue/n"));
}
