//! 语音管理 (manual §9.1) through the API of the real daemon: uploads are decoded and converted
//! before anything is written, every refusal leaves the prompts folder and the list as they
//! were, deletion respects the call-flow settings, TTS runs the real espeak-ng, leftovers of
//! interrupted writes are cleared at start, and a writer killed mid-write leaves no partial
//! prompt.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{Answer, Api, TestDaemon, NEW_PASSWORD};
use coocenterd::config::Bounded;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::json;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/prompts")
            .join(name),
    )
    .unwrap()
}

fn prompts_dir(daemon: &TestDaemon) -> PathBuf {
    daemon.dir.path().join("sounds")
}

/// Every file in the folder, hidden ones included.
fn folder(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect()
}

fn rows(daemon: &TestDaemon) -> Vec<(String, String, String, i64, i64)> {
    let db = daemon.db();
    let mut statement = db
        .prepare(
            "SELECT name, display_name, source_format, size_bytes, duration_ms FROM prompts ORDER BY name",
        )
        .unwrap();
    statement
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

async fn upload(
    api: &mut Api,
    name: Option<&str>,
    file_name: &str,
    bytes: Vec<u8>,
    source: Option<&str>,
) -> Answer {
    let mut form = Form::new();
    if let Some(name) = name {
        form = form.text("name", name.to_string());
    }
    if let Some(source) = source {
        form = form.text("source", source.to_string());
    }
    form = form.part("file", Part::bytes(bytes).file_name(file_name.to_string()));
    let request = api
        .client
        .post(format!("{}/api/v1/prompts", api.base))
        .header("accept-language", api.lang)
        .header("cookie", api.cookie.clone().unwrap())
        .multipart(form);
    let response = request.send().await.unwrap();
    api.absorb(response).await
}

async fn fetch(api: &Api, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut request = api
        .client
        .get(format!("{}{}", api.base, path))
        .header("cookie", api.cookie.clone().unwrap());
    if let Some(range) = range {
        request = request.header("range", range);
    }
    request.send().await.unwrap()
}

/// sample rate, channels, bits per sample of a WAV header.
fn wav_format(bytes: &[u8]) -> (u32, u16, u16) {
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    assert_eq!(&bytes[12..16], b"fmt ");
    let channels = u16::from_le_bytes([bytes[22], bytes[23]]);
    let rate = u32::from_le_bytes(bytes[24..28].try_into().unwrap());
    let bits = u16::from_le_bytes([bytes[34], bytes[35]]);
    (rate, channels, bits)
}

/// What is uploaded (what, name, file name, bytes, source) and the answer expected
/// (status, code, words of the message).
type RefusalCase = (
    &'static str,
    Option<&'static str>,
    &'static str,
    Vec<u8>,
    Option<&'static str>,
    StatusCode,
    &'static str,
    &'static str,
);

async fn admin(daemon: &TestDaemon) -> Api {
    let mut api = daemon.api();
    api.first_login().await;
    api
}

#[tokio::test]
async fn an_mp3_is_converted_listed_played_and_audited() {
    let daemon = TestDaemon::start().await;
    let mut api = admin(&daemon).await;
    let listed = api.get("/api/v1/prompts").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["prompts"], json!([]));
    assert_eq!(listed.body["max_upload_seconds"], 60);
    // Starting created nothing of Asterisk's: the folder comes with the first upload.
    assert!(!prompts_dir(&daemon).exists());

    let answer = upload(
        &mut api,
        Some("欢迎语"),
        "welcome.mp3",
        fixture("tone-2s-44k-stereo.mp3"),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    assert_eq!(answer.body["name"], "prompt");
    assert_eq!(answer.body["display_name"], "欢迎语");
    assert_eq!(answer.body["file_name"], "prompt.wav");
    assert_eq!(answer.body["source_format"], "mp3");
    let duration = answer.body["duration_ms"].as_i64().unwrap();
    assert!((1990..=2010).contains(&duration), "{duration}");
    // 16 000 bytes a second plus the 44-byte header.
    assert_eq!(
        answer.body["size_bytes"].as_i64().unwrap(),
        44 + duration * 16
    );

    let listed = api.get("/api/v1/prompts").await;
    assert_eq!(listed.body["prompts"][0]["name"], "prompt");
    assert_eq!(
        folder(&prompts_dir(&daemon)),
        BTreeSet::from(["prompt.wav".to_string()])
    );

    let response = fetch(&api, "/api/v1/prompts/prompt/audio", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "audio/wav");
    assert_eq!(response.headers()["accept-ranges"], "bytes");
    let wav = response.bytes().await.unwrap();
    assert_eq!(wav_format(&wav), (8000, 1, 16));
    assert_eq!(
        wav,
        std::fs::read(prompts_dir(&daemon).join("prompt.wav")).unwrap()
    );
    let part = fetch(&api, "/api/v1/prompts/prompt/audio", Some("bytes=0-43")).await;
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.bytes().await.unwrap(), wav[..44]);
    let download = fetch(&api, "/api/v1/prompts/prompt/audio?download=1", None).await;
    assert_eq!(
        download.headers()["content-disposition"],
        "attachment; filename=\"prompt.wav\"; filename*=UTF-8''prompt.wav"
    );
    assert_eq!(
        fetch(&api, "/api/v1/prompts/nope/audio", None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // A second Chinese name gets its own file; an ASCII name its slug; a taken name is refused.
    let second = upload(
        &mut api,
        Some("结束语"),
        "bye.mp3",
        fixture("tone-2s-44k-stereo.mp3"),
        None,
    )
    .await;
    assert_eq!(second.body["name"], "prompt-2");
    let third = upload(
        &mut api,
        Some("Night Shift"),
        "n.wav",
        fixture("alaw-1s-8k-mono.wav"),
        None,
    )
    .await;
    assert_eq!(third.status, StatusCode::CREATED, "{:?}", third.body);
    assert_eq!(third.body["name"], "night-shift");
    assert_eq!(third.body["source_format"], "wav");
    let taken = upload(
        &mut api,
        Some("欢迎语"),
        "w.mp3",
        fixture("tone-2s-44k-stereo.mp3"),
        None,
    )
    .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(taken.code(), "prompt_name_taken");
    assert!(taken.message().contains("欢迎语"), "{}", taken.message());

    let audited: Vec<(String, String)> = daemon
        .db()
        .prepare("SELECT action, target FROM audit WHERE action LIKE 'prompt.%' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        audited,
        [
            ("prompt.uploaded".to_string(), "prompt".to_string()),
            ("prompt.uploaded".to_string(), "prompt-2".to_string()),
            ("prompt.uploaded".to_string(), "night-shift".to_string())
        ]
    );

    // Only administrators.
    let mut anonymous = daemon.api();
    assert_eq!(
        anonymous.get("/api/v1/prompts").await.status,
        StatusCode::UNAUTHORIZED
    );
    daemon.stop().await;
}

#[tokio::test]
async fn every_refused_upload_leaves_the_folder_and_the_list_unchanged() {
    let daemon = TestDaemon::start_with(|config| {
        config.prompts.max_upload_seconds = Bounded(3);
        config.prompts.max_upload_mb = Bounded(1);
    })
    .await;
    let mut api = admin(&daemon).await;
    let kept = upload(
        &mut api,
        Some("keep"),
        "k.mp3",
        fixture("tone-2s-44k-stereo.mp3"),
        None,
    )
    .await;
    assert_eq!(kept.status, StatusCode::CREATED);
    let dir = prompts_dir(&daemon);
    let folder_before = folder(&dir);
    let rows_before = rows(&daemon);

    let cases: Vec<RefusalCase> = vec![
        (
            "not audio",
            Some("a"),
            "notes.mp3",
            "这不是音频\n".repeat(100).into_bytes(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_audio",
            "不是 MP3 或 WAV",
        ),
        (
            "truncated",
            Some("b"),
            "t.mp3",
            fixture("truncated.mp3"),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio_corrupt",
            "不完整或已损坏",
        ),
        (
            "corrupt",
            Some("c"),
            "c.mp3",
            fixture("corrupt.mp3"),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio_corrupt",
            "不完整或已损坏",
        ),
        (
            "empty",
            Some("d"),
            "e.wav",
            vec![],
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio_empty",
            "空的",
        ),
        (
            "too long",
            Some("e"),
            "long.mp3",
            fixture("sweep-10s-44k-stereo.mp3"),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "audio_too_long",
            "3 秒",
        ),
        (
            "too large",
            Some("f"),
            "big.wav",
            vec![0u8; 1024 * 1024 + 1],
            None,
            StatusCode::PAYLOAD_TOO_LARGE,
            "upload_too_large",
            "1 MB",
        ),
        (
            "no name",
            None,
            "n.mp3",
            fixture("tone-2s-44k-stereo.mp3"),
            None,
            StatusCode::BAD_REQUEST,
            "name_required",
            "文件名",
        ),
        (
            "name taken",
            Some("keep"),
            "n.mp3",
            fixture("tone-2s-44k-stereo.mp3"),
            None,
            StatusCode::CONFLICT,
            "prompt_name_taken",
            "keep",
        ),
        (
            "browser mp3",
            Some("g"),
            "r.mp3",
            fixture("tone-2s-44k-stereo.mp3"),
            Some("browser"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "source_mismatch",
            "WAV",
        ),
        (
            "bad source",
            Some("h"),
            "r.wav",
            fixture("alaw-1s-8k-mono.wav"),
            Some("camera"),
            StatusCode::BAD_REQUEST,
            "invalid_source",
            "来源",
        ),
    ];
    for (what, name, file_name, bytes, source, status, code, words) in cases {
        let answer = upload(&mut api, name, file_name, bytes, source).await;
        assert_eq!(answer.status, status, "{what}: {:?}", answer.body);
        assert_eq!(answer.code(), code, "{what}");
        assert!(
            answer.message().contains(words),
            "{what}: {}",
            answer.message()
        );
        assert_eq!(folder(&dir), folder_before, "{what} left a file");
        assert_eq!(rows(&daemon), rows_before, "{what} changed the list");
    }
    // In English on request.
    api.lang = "en";
    let answer = upload(&mut api, Some("x"), "x.mp3", b"hello".to_vec(), None).await;
    assert_eq!(
        answer.message(),
        "This file is not MP3 or WAV audio; nothing was saved."
    );
    assert_eq!(answer.body["error"]["field"], "file");
    // Not a multipart form at all.
    let answer = api
        .send(Method::POST, "/api/v1/prompts", Some(json!({"name": "x"})))
        .await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer.code(), "multipart_required");
    // No file part.
    let form = Form::new().text("name", "x");
    let response = api
        .client
        .post(format!("{}/api/v1/prompts", api.base))
        .header("cookie", api.cookie.clone().unwrap())
        .multipart(form)
        .send()
        .await
        .unwrap();
    let answer = api.absorb(response).await;
    assert_eq!(answer.code(), "file_required");
    assert_eq!(folder(&dir), folder_before);
    assert_eq!(rows(&daemon), rows_before);
    daemon.stop().await;
}

#[tokio::test]
async fn a_prompt_played_by_the_call_flow_cannot_be_deleted() {
    let daemon = TestDaemon::start().await;
    let mut api = admin(&daemon).await;
    for name in ["welcome", "bye", "spare"] {
        let answer = upload(
            &mut api,
            Some(name),
            "a.mp3",
            fixture("tone-2s-44k-stereo.mp3"),
            None,
        )
        .await;
        assert_eq!(answer.status, StatusCode::CREATED);
    }
    daemon
        .db()
        .execute(
            "INSERT INTO settings (key, value, updated_at) VALUES ('call_flow', ?1, 0)",
            [r#"{"start_prompt": "welcome", "end_prompt": "bye", "play_job_number": true}"#],
        )
        .unwrap();
    let dir = prompts_dir(&daemon);
    let folder_before = folder(&dir);
    let rows_before = rows(&daemon);
    let call_flow = || -> String {
        daemon
            .db()
            .query_row(
                "SELECT value FROM settings WHERE key = 'call_flow'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    let settings_before = call_flow();
    let answer = api
        .send(Method::DELETE, "/api/v1/prompts/welcome", None)
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.code(), "prompt_in_use");
    assert!(
        answer.message().contains("开始语音"),
        "{}",
        answer.message()
    );
    let answer = api.send(Method::DELETE, "/api/v1/prompts/bye", None).await;
    assert_eq!(answer.code(), "prompt_in_use");
    assert!(
        answer.message().contains("结束语音"),
        "{}",
        answer.message()
    );
    assert_eq!(folder(&dir), folder_before);
    assert_eq!(rows(&daemon), rows_before);
    assert_eq!(call_flow(), settings_before);

    let answer = api
        .send(Method::DELETE, "/api/v1/prompts/spare", None)
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(!dir.join("spare.wav").exists());
    assert_eq!(rows(&daemon).len(), 2);
    let answer = api
        .send(Method::DELETE, "/api/v1/prompts/spare", None)
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.code(), "prompt_not_found");

    // Once the call flow plays something else, it goes.
    daemon
        .db()
        .execute(
            "UPDATE settings SET value = '{\"start_prompt\": null, \"end_prompt\": \"bye\"}' WHERE key = 'call_flow'",
            [],
        )
        .unwrap();
    let answer = api
        .send(Method::DELETE, "/api/v1/prompts/welcome", None)
        .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let deleted: String = daemon
        .db()
        .query_row(
            "SELECT before FROM audit WHERE action = 'prompt.deleted' AND target = 'welcome'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        deleted.contains("\"display_name\":\"welcome\""),
        "{deleted}"
    );
    assert_eq!(folder(&dir), BTreeSet::from(["bye.wav".to_string()]));
    daemon.stop().await;
}

#[tokio::test]
async fn tts_speaks_chinese_and_the_result_uploads_as_tts() {
    let daemon = TestDaemon::start_with(|config| {
        config.tts.max_text_chars = Bounded(20);
    })
    .await;
    let mut api = admin(&daemon).await;
    let response = api
        .client
        .post(format!("{}/api/v1/tts", api.base))
        .header("cookie", api.cookie.clone().unwrap())
        .json(&json!({"text": "您好，欢迎致电客服中心。"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "audio/wav");
    let duration: u64 = response.headers()["x-duration-ms"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(duration > 1000, "{duration}");
    let wav = response.bytes().await.unwrap().to_vec();
    assert_eq!(wav_format(&wav), (8000, 1, 16));
    // Nothing was saved, and the engine's scratch file is gone.
    assert!(folder(&prompts_dir(&daemon)).is_empty());

    let answer = upload(&mut api, Some("TTS 欢迎"), "tts.wav", wav, Some("tts")).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    assert_eq!(answer.body["source_format"], "tts");
    assert_eq!(answer.body["name"], "tts");

    let answer = api
        .send(Method::POST, "/api/v1/tts", Some(json!({"text": "  "})))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "tts_text_empty");
    let answer = api
        .send(
            Method::POST,
            "/api/v1/tts",
            Some(json!({"text": "长".repeat(21)})),
        )
        .await;
    assert_eq!(answer.code(), "tts_text_too_long");
    assert!(
        answer.message().contains("21") && answer.message().contains("20"),
        "{}",
        answer.message()
    );
    daemon.stop().await;
}

#[tokio::test]
async fn a_missing_or_failing_engine_is_reported() {
    let daemon = TestDaemon::start_with(|config| {
        config.tts.command = vec!["/nonexistent/bin/tts".into(), "{out}".into()];
    })
    .await;
    let mut api = admin(&daemon).await;
    let answer = api
        .send(Method::POST, "/api/v1/tts", Some(json!({"text": "您好"})))
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.code(), "tts_engine_missing");
    assert!(
        answer.message().contains("/nonexistent/bin/tts"),
        "{}",
        answer.message()
    );
    daemon.stop().await;

    let daemon = TestDaemon::start_with(|config| {
        // An engine that fails the way engines do: a message on stderr, a non-zero exit.
        config.tts.command = vec![
            "sh".into(),
            "-c".into(),
            "echo 'cmn: no such voice' >&2; exit 1".into(),
            "{out}".into(),
        ];
    })
    .await;
    let mut api = admin(&daemon).await;
    let answer = api
        .send(Method::POST, "/api/v1/tts", Some(json!({"text": "您好"})))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{:?}", answer.body);
    assert_eq!(answer.code(), "tts_engine_failed");
    assert!(
        answer.message().starts_with("语音合成失败："),
        "{}",
        answer.message()
    );
    assert!(folder(&prompts_dir(&daemon)).is_empty());
    daemon.stop().await;
}

#[tokio::test]
async fn leftovers_of_interrupted_writes_are_cleared_at_start() {
    let daemon = TestDaemon::start().await;
    let mut api = admin(&daemon).await;
    let answer = upload(
        &mut api,
        Some("keep"),
        "k.mp3",
        fixture("tone-2s-44k-stereo.mp3"),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let dir = daemon.stop().await;
    let sounds = dir.path().join("sounds");
    // What a crash can leave: a staged upload, a TTS scratch file, a temporary of the atomic
    // write, and a converted file renamed into place whose row was never inserted.
    for leftover in [
        ".upload-00aa",
        ".tts-11bb.wav",
        ".gone.wav.tmp-22cc",
        "gone.wav",
    ] {
        std::fs::write(sounds.join(leftover), b"RIFF....WAVE").unwrap();
    }
    let daemon = TestDaemon::start_in(dir, |_| {}).await;
    assert_eq!(folder(&sounds), BTreeSet::from(["keep.wav".to_string()]));
    let mut api = daemon.api();
    api.login("admin", NEW_PASSWORD).await;
    let listed = api.get("/api/v1/prompts").await;
    assert_eq!(listed.body["prompts"].as_array().unwrap().len(), 1);
    daemon.stop().await;
}

/// The writer of `a_writer_killed_mid_write_leaves_no_partial_prompt`: saves prompts in a loop
/// until it is killed. Runs only when that test starts it (ignored otherwise).
#[tokio::test]
#[ignore = "helper process of a_writer_killed_mid_write_leaves_no_partial_prompt"]
async fn crash_writer_child() {
    let Ok(root) = std::env::var("COOCENTER_PROMPTS_CRASH_DIR") else {
        return;
    };
    let root = PathBuf::from(root);
    let (prompts, converted) = open_crash_store(&root).await;
    println!("ready");
    for n in 0.. {
        prompts
            .save(&format!("p{n}"), "wav", &converted)
            .await
            .unwrap();
    }
}

async fn open_crash_store(
    root: &Path,
) -> (
    coocenterd::media::prompts::PromptStore,
    coocenterd::media::audio::Transcoded,
) {
    use coocenterd::media::{audio, prompts, tts};
    let store = coocenterd::store::Store::open(&root.join("db")).unwrap();
    let prompts = prompts::PromptStore::open(
        root.join("sounds"),
        store,
        prompts::PromptLimits {
            max_seconds: 600,
            max_upload_bytes: 10 << 20,
        },
        tts::TtsEngine {
            command: vec!["true".into(), "{out}".into()],
            max_chars: 10,
            timeout: std::time::Duration::from_secs(1),
        },
    )
    .await
    .unwrap();
    // A minute of audio: 960 KB to write each time, so kills land inside writes.
    let samples: Vec<i16> = (0..8000 * 60)
        .map(|n| ((n % 80) * 400 - 16000) as i16)
        .collect();
    let wav = audio::encode_wav(&samples);
    let converted = audio::transcode(std::io::Cursor::new(wav), Some("wav"), 600).unwrap();
    (prompts, converted)
}

#[tokio::test]
async fn a_writer_killed_mid_write_leaves_no_partial_prompt() {
    use std::io::BufRead;
    let root = tempfile::tempdir().unwrap();
    let mut killed_with_leftovers = 0;
    let mut saved = 0;
    for round in 0..6u64 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "crash_writer_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("COOCENTER_PROMPTS_CRASH_DIR", root.path())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        loop {
            let line = lines.next().expect("the writer starts").unwrap();
            if line.contains("ready") {
                break;
            }
        }
        // Let it write for a while, a different time each round, then SIGKILL it.
        tokio::time::sleep(std::time::Duration::from_millis(40 + round * 37)).await;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        )
        .unwrap();
        child.wait().unwrap();

        let sounds = root.path().join("sounds");
        let visible_before: BTreeSet<String> = folder(&sounds)
            .into_iter()
            .filter(|f| !f.starts_with('.'))
            .collect();
        if folder(&sounds).len() != visible_before.len() {
            killed_with_leftovers += 1;
        }
        // Opening the store (what the daemon does at start) clears what the kill left.
        let (prompts, converted) = open_crash_store(root.path()).await;
        let listed = prompts.list().await.unwrap();
        let files = folder(&sounds);
        let expected: BTreeSet<String> = listed.iter().map(|r| r.file_name.clone()).collect();
        assert_eq!(
            files, expected,
            "round {round}: the folder and the list agree"
        );
        // Every listed prompt is complete.
        for row in &listed {
            let bytes = std::fs::read(sounds.join(&row.file_name)).unwrap();
            assert_eq!(bytes, converted.wav, "round {round}: {} is whole", row.name);
            assert_eq!(row.size_bytes as usize, converted.wav.len());
        }
        // Visible files without a row (renamed, row not yet written) were removed; every
        // row had its file.
        assert!(expected.is_subset(&visible_before), "round {round}");
        saved = listed.len();
    }
    // The writer did get prompts through between the kills: the check was not vacuous.
    assert!(saved > 0);
    eprintln!("{killed_with_leftovers} of 6 kills left temporary files behind (all cleared)");
}
