//! Recordings search at appliance scale (run with `cargo bench --bench recordings`, or
//! `scripts/bench recordings`). Prints figures; asserts nothing.
//!
//! Builds an index of 1,000,000 recordings (half a year of calls: 10 queues, 60 agents,
//! 200,000 customers with Chinese names, 80 % inbound, 10 % auto and 10 % manual outbound)
//! in a file database with the daemon's own schema and pragmas, then runs each typical search
//! of 录音列表 200 times with random parameters, exactly as the API does (the counted total
//! plus one page of 25, newest first), and reports p50 / p95 / max. Side by side, the fuzzy
//! customer search is also run as a plain `LIKE` scan (20 runs), the query the indexes replace.
//!
//! `RECORDINGS_BENCH_ROWS` changes the row count (e.g. 100000 for a quick run).

use std::time::{Duration, Instant};

use coocenterd::store::recordings::{self, CallType, Filter, Match, NewRecording, Scope};
use coocenterd::store::Store;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const DAY_MS: i64 = 86_400_000;
const QUEUES: usize = 10;
const AGENTS: usize = 60;
const RUNS: usize = 200;
/// The LIKE scan reads every row: fewer runs of it say enough.
const PEER_RUNS: usize = 20;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "平", "刚", "桂英", "建华", "志强",
];

struct Customer {
    number: String,
    name: String,
}

/// About five recordings per customer.
fn customers(rng: &mut StdRng, count: usize) -> Vec<Customer> {
    (0..count)
        .map(|_| {
            let prefix = ["138", "139", "150", "186", "021", "010"][rng.gen_range(0..6)];
            Customer {
                number: format!("{prefix}{:08}", rng.gen_range(0..100_000_000u32)),
                name: format!(
                    "{}{}",
                    SURNAMES[rng.gen_range(0..SURNAMES.len())],
                    GIVEN[rng.gen_range(0..GIVEN.len())]
                ),
            }
        })
        .collect()
}

fn build(store: &Store, rows: usize, now: i64, people: &[Customer], rng: &mut StdRng) {
    let started = Instant::now();
    let mut conn = rusqlite::Connection::open(store_path()).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    let _ = store;
    let batch = 50_000;
    let mut made = 0;
    while made < rows {
        let tx = conn.transaction().unwrap();
        for n in made..(made + batch).min(rows) {
            let who = &people[rng.gen_range(0..people.len())];
            let agent = rng.gen_range(0..AGENTS);
            let kind = rng.gen_range(0..10);
            let (call_type, queue) = match kind {
                0 => (CallType::ManualOutbound, None),
                1 => (
                    CallType::AutoOutbound,
                    Some(format!("{}", 200 + agent % QUEUES)),
                ),
                _ => (
                    CallType::Inbound,
                    Some(format!("{}", 200 + rng.gen_range(0..QUEUES))),
                ),
            };
            let at = now - rng.gen_range(0..180 * DAY_MS);
            recordings::insert(
                &tx,
                &NewRecording {
                    uniqueid: format!("{}.{n}", at / 1000),
                    dir: format!("/var/spool/asterisk/monitor/{}", at / DAY_MS),
                    file: format!("{n}.wav"),
                    started_at: at,
                    duration_ms: Some(rng.gen_range(5_000..600_000)),
                    customer_number: who.number.clone(),
                    customer_name: who.name.clone(),
                    queue,
                    agent_job: Some(format!("{}", 8001 + agent)),
                    agent_name: Some(format!("坐席{agent}")),
                    call_type: Some(call_type),
                    size_bytes: Some(rng.gen_range(80_000..9_600_000)),
                },
            )
            .unwrap();
        }
        tx.commit().unwrap();
        made = (made + batch).min(rows);
    }
    conn.execute_batch("PRAGMA optimize; ANALYZE;").unwrap();
    println!(
        "built {rows} recordings in {:.1} s; database {:.0} MB",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(store_path()).unwrap().len() as f64 / 1e6
    );
}

fn store_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "coocenterd-recordings-bench-{}.sqlite",
        std::process::id()
    ))
}

fn report(label: &str, mut times: Vec<Duration>, matched: u64) {
    times.sort();
    let p =
        |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    println!(
        "{label:<46} p50 {:>7.2} ms   p95 {:>7.2} ms   max {:>7.2} ms   (avg {} rows matched)",
        p(0.5),
        p(0.95),
        p(1.0),
        matched / times.len() as u64
    );
}

fn run(conn: &rusqlite::Connection, label: &str, scope: &Scope, mut make: impl FnMut() -> Filter) {
    let mut times = Vec::with_capacity(RUNS);
    let mut matched = 0;
    for _ in 0..RUNS {
        let filter = make();
        let started = Instant::now();
        let (_, total) = recordings::search(conn, &filter, scope, 0, 25).unwrap();
        times.push(started.elapsed());
        matched += total;
    }
    report(label, times, matched);
}

/// The fuzzy search as it would be without the trigram index: LIKE on both columns, counted
/// and paged the same way.
fn like_scan(conn: &rusqlite::Connection, text: &str) -> u64 {
    let pattern = format!("%{text}%");
    let total: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM recordings WHERE customer_number LIKE ?1 OR customer_name LIKE ?1",
            [&pattern],
            |r| r.get(0),
        )
        .unwrap();
    let mut stmt = conn
        .prepare_cached(
            "SELECT id FROM recordings WHERE customer_number LIKE ?1 OR customer_name LIKE ?1
             ORDER BY started_at DESC, id DESC LIMIT 25",
        )
        .unwrap();
    let _: Vec<i64> = stmt
        .query_map([&pattern], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    total as u64
}

fn main() {
    let rows: usize = std::env::var("RECORDINGS_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let path = store_path();
    let _ = std::fs::remove_file(&path);
    let store = Store::open(&path).unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let people = customers(&mut rng, (rows / 5).max(1));
    let now = 1_795_000_000_000;
    build(&store, rows, now, &people, &mut rng);
    drop(store);
    // The daemon's connection: the same pragmas as Store::open.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    println!("\ntypical searches (count + first page of 25, newest first), {RUNS} runs each:");
    let mut r = StdRng::seed_from_u64(11);
    let queue = |r: &mut StdRng| format!("{}", 200 + r.gen_range(0..QUEUES));
    run(
        &conn,
        "no filter (the page as it opens)",
        &Scope::All,
        Filter::default,
    );
    run(&conn, "date range (7 days) + queue", &Scope::All, || {
        let from = now - r.gen_range(7..180) * DAY_MS;
        Filter {
            queue: Some(queue(&mut r)),
            from: Some(from),
            to: Some(from + 7 * DAY_MS),
            ..Filter::default()
        }
    });
    let mut r = StdRng::seed_from_u64(12);
    run(&conn, "agent (all time)", &Scope::All, || Filter {
        agent_job: Some(format!("{}", 8001 + r.gen_range(0..AGENTS))),
        ..Filter::default()
    });
    let mut r = StdRng::seed_from_u64(13);
    run(&conn, "agent + date range (30 days)", &Scope::All, || {
        let from = now - r.gen_range(30..180) * DAY_MS;
        Filter {
            agent_job: Some(format!("{}", 8001 + r.gen_range(0..AGENTS))),
            from: Some(from),
            to: Some(from + 30 * DAY_MS),
            ..Filter::default()
        }
    });
    let mut r = StdRng::seed_from_u64(14);
    run(&conn, "exact number (号码)", &Scope::All, || Filter {
        number: Some(people[r.gen_range(0..people.len())].number.clone()),
        ..Filter::default()
    });
    let mut r = StdRng::seed_from_u64(15);
    run(
        &conn,
        "call type + date range (7 days)",
        &Scope::All,
        || {
            let from = now - r.gen_range(7..180) * DAY_MS;
            Filter {
                call_type: Some(CallType::ManualOutbound),
                from: Some(from),
                to: Some(from + 7 * DAY_MS),
                ..Filter::default()
            }
        },
    );
    let leader = Scope::Leader {
        me: "8001".into(),
        led_queues: vec!["200".into(), "201".into()],
        team: (0..12).map(|a| format!("{}", 8001 + a)).collect(),
    };
    if std::env::var_os("RECORDINGS_BENCH_EXPLAIN").is_some() {
        for row in conn
            .prepare("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM recordings WHERE (+queue IN ('200','201') OR +agent_job = '8001' OR (+queue IS NULL AND +agent_job IN ('8001','8002'))) AND started_at >= 1 AND started_at < 99999999999999")
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
        {
            println!("plan of a leader's count: {}", row.unwrap());
        }
        for row in conn
            .prepare("EXPLAIN QUERY PLAN SELECT id FROM recordings WHERE (+queue IN ('200','201') OR +agent_job = '8001' OR (+queue IS NULL AND +agent_job IN ('8001','8002'))) AND started_at >= 1 AND started_at < 99999999999999 ORDER BY started_at DESC, id DESC LIMIT 25")
            .unwrap()
            .query_map([], |r| r.get::<_, String>(3))
            .unwrap()
        {
            println!("plan of a leader's page: {}", row.unwrap());
        }
    }
    run(&conn, "team leader, no filter", &leader, Filter::default);
    let mut r = StdRng::seed_from_u64(16);
    run(&conn, "team leader, date range (7 days)", &leader, || {
        let from = now - r.gen_range(7..180) * DAY_MS;
        Filter {
            from: Some(from),
            to: Some(from + 7 * DAY_MS),
            ..Filter::default()
        }
    });

    println!("\nfuzzy customer search (客户, 模糊), {RUNS} runs each:");
    let mut r = StdRng::seed_from_u64(17);
    let fragments: Vec<String> = (0..RUNS)
        .map(|_| {
            let n = &people[r.gen_range(0..people.len())].number;
            let start = r.gen_range(3..n.len() - 6);
            n[start..start + 6].to_string()
        })
        .collect();
    let mut it = fragments.iter();
    run(
        &conn,
        "number fragment (6 digits), trigram index",
        &Scope::All,
        || Filter {
            customer: Some((it.next().unwrap().clone(), Match::Fuzzy)),
            ..Filter::default()
        },
    );
    let mut times = Vec::new();
    let mut matched = 0;
    for f in fragments.iter().take(PEER_RUNS) {
        let started = Instant::now();
        matched += like_scan(&conn, f);
        times.push(started.elapsed());
    }
    report(
        "number fragment (6 digits), LIKE scan (peer)",
        times,
        matched,
    );
    let mut r = StdRng::seed_from_u64(18);
    let names: Vec<String> = (0..RUNS)
        .map(|_| {
            format!(
                "{}{}",
                SURNAMES[r.gen_range(0..SURNAMES.len())],
                GIVEN[r.gen_range(0..GIVEN.len())]
            )
        })
        .collect();
    let mut r = StdRng::seed_from_u64(19);
    let surnames: Vec<String> = (0..RUNS)
        .map(|_| SURNAMES[r.gen_range(0..SURNAMES.len())].to_string())
        .collect();
    let mut by_surname = surnames.iter();
    run(&conn, "surname (1 character)", &Scope::All, || Filter {
        customer: Some((by_surname.next().unwrap().clone(), Match::Fuzzy)),
        ..Filter::default()
    });
    let mut it = names.iter();
    run(&conn, "full name (2-3 characters)", &Scope::All, || {
        Filter {
            customer: Some((it.next().unwrap().clone(), Match::Fuzzy)),
            ..Filter::default()
        }
    });
    let mut times = Vec::new();
    let mut matched = 0;
    for f in names.iter().take(PEER_RUNS) {
        let started = Instant::now();
        matched += like_scan(&conn, f);
        times.push(started.elapsed());
    }
    report("full name, LIKE scan (peer)", times, matched);
    drop(conn);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
