//! The `coocenterd` command line as an operator uses it: `--version`, `check-config`,
//! `serve` refusing a bad file, and `demo` serving until SIGTERM and cleaning up after itself.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_coocenterd");

#[test]
fn version_is_printed() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("coocenterd {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn check_config_accepts_the_shipped_default_and_names_bad_lines() {
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rootfs/etc/coocenter/coocenterd.toml"
    );
    let out = Command::new(BIN)
        .args(["check-config", shipped])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).ends_with(": OK\n"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[http]\nlisten = [\"0.0.0.0:8080\"]\nmax_body_bytes = 5\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["check-config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "{}:3:18: 5 is out of range: must be between 1024 and 16777216",
            bad.display()
        )),
        "{stderr}"
    );

    // `serve` refuses the same file with the same words, before touching anything.
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains(":3:18: 5 is out of range"));

    let out = Command::new(BIN)
        .args(["check-config", "/nonexistent/coocenterd.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("cannot read"));
}

#[test]
fn demo_serves_until_sigterm_and_removes_its_data() {
    let mut child = Command::new(BIN)
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let line = lines.next().unwrap().unwrap();
        let last = line.starts_with("Demo data: ");
        printed.push(line);
        if last {
            break;
        }
    }
    let url_line = printed
        .iter()
        .find(|l| l.contains("https://127.0.0.1:"))
        .expect("URL printed");
    assert!(
        printed.iter().any(|l| l.contains("admin / admin")),
        "{printed:?}"
    );
    let data_line = printed
        .iter()
        .find(|l| l.starts_with("Demo data: "))
        .unwrap();
    let data_dir = data_line
        .trim_start_matches("Demo data: ")
        .split("    ")
        .next()
        .unwrap()
        .to_string();
    assert!(std::path::Path::new(&data_dir)
        .join("data/coocenter.db")
        .exists());
    let port: u16 = url_line
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap();
    // It serves TLS on that port.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        !std::path::Path::new(&data_dir).exists(),
        "temporary demo data removed"
    );
}
