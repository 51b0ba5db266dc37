use std::fs;
use std::io::Read;
use std::path::Path;

use super::*;
use crate::accounts::masking::Viewer;
use crate::store::open_in_memory;
use crate::store::recordings::{Filter, Match};

/// A real PCM WAV of `ms` milliseconds at 8 kHz mono 16-bit (what Asterisk plays natively).
fn write_wav(path: &Path, ms: u32) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(8 * ms) {
        let t = f64::from(i) / 8000.0;
        w.write_sample(((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16)
            .unwrap();
    }
    w.finalize().unwrap();
}

fn all(conn: &rusqlite::Connection) -> Vec<RecordingRow> {
    index::search(conn, &Filter::default(), &Scope::All, 0, 1000)
        .unwrap()
        .0
}

#[test]
fn our_names_say_the_whole_call() {
    let facts = parse_file_name("in-20261128-101500-222-8002-13800138000-1764324900.17.wav");
    assert_eq!(facts.call_type, Some(CallType::Inbound));
    assert_eq!(facts.queue.as_deref(), Some("222"));
    assert_eq!(facts.agent_job.as_deref(), Some("8002"));
    assert_eq!(facts.customer_number.as_deref(), Some("13800138000"));
    assert_eq!(facts.uniqueid, "1764324900.17");
    let local = chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
        .unwrap()
        .and_hms_opt(10, 15, 0)
        .unwrap()
        .and_local_timezone(chrono::Local)
        .unwrap();
    assert_eq!(facts.started_at, Some(local.timestamp_millis()));

    let out = parse_file_name("out-20261128-101500-dout-8003-02161234567-1764324901.2.gsm");
    assert_eq!(out.call_type, Some(CallType::ManualOutbound));
    assert_eq!(out.queue, None);
    let auto = parse_file_name("auto-20261128-101500-333-x-13900000000-1764324902.3.wav");
    assert_eq!(auto.call_type, Some(CallType::AutoOutbound));
    assert_eq!(auto.agent_job, None);
}

#[test]
fn asterisk_names_give_the_uniqueid_and_its_time() {
    // As in ami-traces/asterisk-22.10.1-queue-scenario: `<caller uniqueid>.wav`.
    let facts = parse_file_name("1777190950.0.wav");
    assert_eq!(facts.uniqueid, "1777190950.0");
    assert_eq!(facts.started_at, Some(1_777_190_950_000));
    assert_eq!(facts.call_type, None);
    let other = parse_file_name("my call.wav");
    assert_eq!(other.uniqueid, "my call");
    assert_eq!(other.started_at, None);
    // A name that looks like ours but is not (bad date) falls back to the plain reading.
    assert_eq!(
        parse_file_name("in-2026-1015-222-8-1-1.wav").call_type,
        None
    );
}

#[test]
fn durations_come_from_the_header_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("a.wav");
    write_wav(&wav, 1500);
    let size = fs::metadata(&wav).unwrap().len();
    assert_eq!(duration_ms(&wav, size), Some(1500));
    let gsm = dir.path().join("a.gsm");
    fs::write(&gsm, vec![0u8; 33 * 100]).unwrap();
    assert_eq!(duration_ms(&gsm, 3300), Some(2000));
    let junk = dir.path().join("b.wav");
    fs::write(&junk, b"not a wav").unwrap();
    assert_eq!(duration_ms(&junk, 9), None);
}

#[test]
fn the_crm_name_of_a_customer_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let flash = dir.path().join("monitor");
    let mut conn = open_in_memory();
    crate::store::customers::upsert(&conn, "13800138000", "王经理", &serde_json::Map::new())
        .unwrap();
    write_wav(
        &flash.join("in-20261128-101500-222-8002-13800138000-1764324900.17.wav"),
        100,
    );
    reconcile(&mut conn, std::slice::from_ref(&flash)).unwrap();
    assert_eq!(all(&conn)[0].customer_name, "王经理");
    let announced = announced(&conn, "1.1", "/m/1.1.wav", Some("222".into()), 5).unwrap();
    assert_eq!(
        announced.customer_name, "",
        "no queue call, no CRM entry: no name"
    );
}

#[test]
fn reconcile_finds_new_files_and_forgets_deleted_ones() {
    let dir = tempfile::tempdir().unwrap();
    let flash = dir.path().join("monitor");
    let mut conn = open_in_memory();
    write_wav(&flash.join("1777190950.0.wav"), 200);
    write_wav(
        &flash.join("2026/11/28/in-20261128-101500-222-8002-13800138000-1764324900.17.wav"),
        300,
    );
    fs::write(flash.join("notes.txt"), b"not a recording").unwrap();
    let report = reconcile(&mut conn, std::slice::from_ref(&flash)).unwrap();
    assert_eq!(report.added, 2);
    let rows = all(&conn);
    assert_eq!(rows.len(), 2);
    let ours = rows.iter().find(|r| r.uniqueid == "1764324900.17").unwrap();
    assert_eq!(ours.customer_number, "13800138000");
    assert_eq!(ours.queue.as_deref(), Some("222"));
    assert_eq!(ours.agent_job.as_deref(), Some("8002"));
    assert_eq!(ours.duration_ms, Some(300));
    assert!(ours.size_bytes.unwrap() > 44);

    // Nothing changed: no folder is listed again.
    let again = reconcile(&mut conn, std::slice::from_ref(&flash)).unwrap();
    assert_eq!(again, ReconcileReport::default());

    // One deleted behind our back, one added: both noticed.
    fs::remove_file(flash.join("1777190950.0.wav")).unwrap();
    write_wav(&flash.join("1777190999.4.wav"), 100);
    let report = reconcile(&mut conn, std::slice::from_ref(&flash)).unwrap();
    assert_eq!((report.added, report.removed), (1, 1));
    let uniqueids: Vec<_> = all(&conn).into_iter().map(|r| r.uniqueid).collect();
    assert!(uniqueids.contains(&"1777190999.4".to_string()));
    assert!(!uniqueids.contains(&"1777190950.0".to_string()));

    // A whole date folder removed.
    fs::remove_dir_all(flash.join("2026")).unwrap();
    let report = reconcile(&mut conn, std::slice::from_ref(&flash)).unwrap();
    assert_eq!(report.removed, 1);
    assert_eq!(all(&conn).len(), 1);
}

#[test]
fn an_unplugged_usb_disk_makes_its_recordings_unavailable_not_lost() {
    let dir = tempfile::tempdir().unwrap();
    let flash = dir.path().join("monitor");
    let usb = dir.path().join("usb0/recordings");
    write_wav(&flash.join("1777190950.0.wav"), 100);
    write_wav(&usb.join("1777190951.0.wav"), 100);
    let roots = [flash.clone(), usb.clone()];
    let mut conn = open_in_memory();
    reconcile(&mut conn, &roots).unwrap();
    assert!(all(&conn).iter().all(|r| r.available));

    // Unplugged: the mount point is empty, the recordings folder is not there.
    let parked = dir.path().join("parked");
    fs::rename(dir.path().join("usb0"), &parked).unwrap();
    let report = reconcile(&mut conn, &roots).unwrap();
    assert_eq!((report.now_unavailable, report.removed), (1, 0));
    let rows = all(&conn);
    assert_eq!(rows.len(), 2, "still listed");
    let on_usb = rows.iter().find(|r| r.uniqueid == "1777190951.0").unwrap();
    assert!(!on_usb.available);
    assert!(matches!(
        checked_path(on_usb, &roots),
        Err(FileError::Unavailable)
    ));

    // Plugged back in: available again, the same row.
    fs::rename(&parked, dir.path().join("usb0")).unwrap();
    let report = reconcile(&mut conn, &roots).unwrap();
    assert_eq!((report.now_available, report.added), (1, 0));
    let back = all(&conn)
        .into_iter()
        .find(|r| r.uniqueid == "1777190951.0")
        .unwrap();
    assert_eq!(back.id, on_usb.id);
    assert!(checked_path(&back, &roots).is_ok());
}

#[test]
fn paths_are_checked_against_the_folders() {
    let dir = tempfile::tempdir().unwrap();
    let flash = dir.path().join("monitor");
    write_wav(&flash.join("1777190950.0.wav"), 100);
    let secret = dir.path().join("secret.wav");
    write_wav(&secret, 100);
    std::os::unix::fs::symlink(&secret, flash.join("1777190960.0.wav")).unwrap();
    let mut conn = open_in_memory();
    reconcile(&mut conn, std::slice::from_ref(&flash)).unwrap();
    assert_eq!(all(&conn).len(), 1, "the symlink is not indexed");

    // A row pointing through a symlink out of the folder (planted behind our back).
    let mut planted = all(&conn)[0].clone();
    planted.file = "1777190960.0.wav".into();
    assert!(matches!(
        checked_path(&planted, std::slice::from_ref(&flash)),
        Err(FileError::Outside)
    ));
    planted.dir = dir.path().to_string_lossy().into();
    planted.file = "secret.wav".into();
    assert!(matches!(
        checked_path(&planted, std::slice::from_ref(&flash)),
        Err(FileError::Outside)
    ));
    planted.dir = format!("{}/../", flash.display());
    assert!(matches!(
        checked_path(&planted, std::slice::from_ref(&flash)),
        Err(FileError::Outside)
    ));

    let real = all(&conn)[0].clone();
    assert!(checked_path(&real, std::slice::from_ref(&flash)).is_ok());
    fs::remove_file(real.path()).unwrap();
    assert!(matches!(
        checked_path(&real, std::slice::from_ref(&flash)),
        Err(FileError::Missing)
    ));
}

#[test]
fn a_streamed_zip_holds_the_files_under_unique_names() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.wav");
    let b = dir.path().join("b.wav");
    write_wav(&a, 100);
    write_wav(&b, 200);
    let names = unique_names(vec!["x.wav".into(), "x.wav".into()]);
    assert_eq!(names, ["x.wav", "x (2).wav"]);
    let mut out = Vec::new();
    write_zip(
        &[(names[0].clone(), a.clone()), (names[1].clone(), b.clone())],
        &mut out,
    )
    .unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(out)).unwrap();
    assert_eq!(archive.len(), 2);
    let mut second = Vec::new();
    archive
        .by_name("x (2).wav")
        .unwrap()
        .read_to_end(&mut second)
        .unwrap();
    assert_eq!(second, fs::read(&b).unwrap());
}

#[test]
fn download_names_say_when_who_and_where() {
    let row = RecordingRow {
        id: 1,
        uniqueid: "1.1".into(),
        dir: "/m".into(),
        file: "1.1.wav".into(),
        started_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 28)
            .unwrap()
            .and_hms_opt(9, 5, 7)
            .unwrap()
            .and_local_timezone(chrono::Local)
            .unwrap()
            .timestamp_millis(),
        duration_ms: None,
        customer_number: "138/../00".into(),
        customer_name: String::new(),
        queue: Some("222".into()),
        agent_job: Some("8002".into()),
        agent_name: None,
        call_type: CallType::Inbound,
        size_bytes: None,
        available: true,
        note: None,
        note_by: None,
        noted_at: None,
    };
    assert_eq!(
        download_name(&row, Viewer::Admin),
        "20261128-090507_13800_222_8002.wav"
    );
    let row = RecordingRow {
        customer_number: "13812345678".into(),
        ..row
    };
    let masked = Viewer::Agent { hide_numbers: true };
    assert_eq!(
        download_name(&row, masked),
        "20261128-090507_138xxxx5678_222_8002.wav",
        "隐藏电话号码 reaches the file name"
    );
    assert_eq!(
        download_name(
            &row,
            Viewer::Agent {
                hide_numbers: false
            }
        ),
        "20261128-090507_13812345678_222_8002.wav"
    );
}

#[test]
fn leaders_see_their_queues_and_the_removed_ones_marked() {
    use crate::store::agents::{insert as add_agent, AgentFields};
    let mut conn = open_in_memory();
    let agent = |conn: &rusqlite::Connection, name: &str, job: &str, leader: bool| {
        add_agent(
            conn,
            &AgentFields {
                name,
                job_number: job,
                leader,
                extension: &format!("1{job}"),
                extension_password: "pw",
                extension_type: "sip",
            },
        )
        .unwrap()
    };
    let leader = agent(&conn, "组长", "8001", true);
    let member = agent(&conn, "成员", "8002", false);
    let _left = agent(&conn, "离开", "8003", false);
    crate::store::queues::add_member(&conn, "222", leader).unwrap();
    crate::store::queues::add_member(&conn, "222", member).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let flash = dir.path().join("m");
    for name in [
        "in-20261101-090000-222-8002-13800000001-1.1.wav",
        "in-20261101-090100-222-8003-13800000002-1.2.wav",
        "out-20261101-090200-dout-8003-13800000003-1.3.wav",
        "out-20261101-090300-dout-8002-13800000004-1.4.wav",
        "in-20261101-090400-333-8001-13800000005-1.5.wav",
        "in-20261101-090500-333-8004-13800000006-1.6.wav",
    ] {
        write_wav(&flash.join(name), 50);
    }
    reconcile(&mut conn, std::slice::from_ref(&flash)).unwrap();
    let scope = scope_for(&conn, Some(leader)).unwrap().unwrap();
    let visible: Vec<String> = index::search(&conn, &Filter::default(), &scope, 0, 100)
        .unwrap()
        .0
        .into_iter()
        .map(|r| r.customer_number)
        .collect();
    assert_eq!(
        visible,
        ["13800000005", "13800000004", "13800000002", "13800000001"],
        "queue 222 (all agents), own in 333, DOUT of the current member; not 8003's DOUT, not 8004 in 333"
    );
    let names: HashMap<String, String> = [("222".to_string(), "售后".to_string())].into();
    let (queues, agents) = choices(&conn, &scope, &names).unwrap();
    assert_eq!(
        queues,
        [
            Choice {
                key: "222".into(),
                name: "售后".into(),
                removed: false
            },
            Choice {
                key: "333".into(),
                name: "333".into(),
                removed: true
            },
        ]
    );
    assert_eq!(
        agents,
        [
            Choice {
                key: "8001".into(),
                name: "组长".into(),
                removed: false
            },
            Choice {
                key: "8002".into(),
                name: "成员".into(),
                removed: false
            },
            Choice {
                key: "8003".into(),
                name: "离开".into(),
                removed: true
            },
        ]
    );
    // The removed agent's filter shows only their queue recordings.
    let only_8003 = Filter {
        agent_job: Some("8003".into()),
        ..Filter::default()
    };
    let rows = index::search(&conn, &only_8003, &scope, 0, 100).unwrap().0;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].queue.as_deref(), Some("222"));
    // The removed queue shows only the leader's own.
    let only_333 = Filter {
        queue: Some("333".into()),
        ..Filter::default()
    };
    let rows = index::search(&conn, &only_333, &scope, 0, 100).unwrap().0;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].agent_job.as_deref(), Some("8001"));

    // An ordinary agent: their own only.
    let scope = scope_for(&conn, Some(member)).unwrap().unwrap();
    assert_eq!(scope, Scope::Agent { me: "8002".into() });
    let fuzzy = Filter {
        customer: Some(("1380000000".into(), Match::Fuzzy)),
        ..Filter::default()
    };
    assert_eq!(index::search(&conn, &fuzzy, &scope, 0, 100).unwrap().1, 2);
}
