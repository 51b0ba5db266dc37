//! The free-space watch: every minute (and right after the settings change) the system disk
//! and each USB disk are measured and compared with the threshold. A disk that goes below
//! it is mailed about once; one that comes back above it (by a margin, see
//! [`Threshold::has_recovered`], so a disk hovering at the threshold does not mail at every
//! write) is mailed about once more. The
//! per-disk state is in the database (`disk_alerts`), so a restart neither repeats a mail
//! nor loses one owed: a mail that failed is retried at the next check.
//!
//! [`decide`] is the pure state machine; [`check`] reads the disks through a
//! [`FreeSpaceSource`], sends what `decide` asks for and stores the new state.

use std::collections::HashMap;
use std::sync::Arc;

use crate::store::disk_alerts::{self, AlertState};
use crate::store::{Store, StoreError};
use crate::system::SystemPaths;

use super::settings::{self, MailSettings, Threshold};
use super::smtp;

/// One measured disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskReading {
    /// Its mount point: the key of its state.
    pub mount: String,
    /// `系统磁盘` or the USB device, for the mail.
    pub label_zh: String,
    pub label_en: String,
    pub total_bytes: u64,
    pub free_bytes: u64,
}

/// Where the figures come from: the real disks, or a fake in tests.
pub trait FreeSpaceSource: Send + Sync + 'static {
    /// The disks now. Blocking (statvfs); called on the blocking pool.
    fn read(&self) -> Result<Vec<DiskReading>, String>;
}

/// The system disk and the mounted USB disks, as the dashboard shows them.
pub struct SystemDisks(pub SystemPaths);

impl FreeSpaceSource for SystemDisks {
    fn read(&self) -> Result<Vec<DiskReading>, String> {
        let (disk, usb) = crate::system::measure_disks(&self.0).map_err(|e| e.to_string())?;
        let mut readings = vec![DiskReading {
            label_zh: format!("系统磁盘（{}）", disk.mount),
            label_en: format!("system disk ({})", disk.mount),
            mount: disk.mount,
            total_bytes: disk.total_bytes,
            free_bytes: disk.free_bytes,
        }];
        readings.extend(usb.into_iter().map(|u| DiskReading {
            label_zh: format!("USB 存储 {}（{}）", u.device, u.mount),
            label_en: format!("USB storage {} ({})", u.device, u.mount),
            mount: u.mount,
            total_bytes: u.total_bytes,
            free_bytes: u.free_bytes,
        }));
        Ok(readings)
    }
}

/// What a disk's reading means for the mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Below the threshold: mail.
    Low,
    /// Back above it: mail.
    Recovered,
    /// Nothing to mail, only the state to store (a disk seen for the first time, or a
    /// recovery whose low mail never went out).
    Quiet,
}

/// A disk whose state changes (or whose mail is still owed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub reading: DiskReading,
    pub event: Event,
    /// The state to store once the mail (if any) is sent; `notified` false if it fails.
    pub state: AlertState,
}

/// Compares each reading with the threshold and its last state.
pub fn decide(
    states: &HashMap<String, AlertState>,
    readings: &[DiskReading],
    threshold: Threshold,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for reading in readings {
        let (total, free) = (reading.total_bytes, reading.free_bytes);
        if total == 0 {
            continue; // nothing to measure (a pseudo filesystem)
        }
        let notified = AlertState {
            low: false,
            notified: true,
        };
        let change = |event, low| Change {
            reading: reading.clone(),
            event,
            state: AlertState {
                low,
                notified: true,
            },
        };
        match states.get(&reading.mount) {
            None if threshold.is_low(total, free) => changes.push(change(Event::Low, true)),
            None => changes.push(Change {
                reading: reading.clone(),
                event: Event::Quiet,
                state: notified,
            }),
            Some(state) if state.low => {
                if threshold.has_recovered(total, free) {
                    // Say it recovered only to whom was told it was low.
                    let event = if state.notified {
                        Event::Recovered
                    } else {
                        Event::Quiet
                    };
                    changes.push(change(event, false));
                } else if !state.notified {
                    changes.push(change(Event::Low, true)); // the low mail is still owed
                }
            }
            Some(state) => {
                if threshold.is_low(total, free) {
                    changes.push(change(Event::Low, true));
                } else if !state.notified {
                    changes.push(change(Event::Recovered, false)); // still owed
                }
            }
        }
    }
    changes
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// The mail for a change: Chinese first, English second.
pub fn compose(change: &Change, threshold: Threshold, hostname: &str) -> (String, String) {
    let r = &change.reading;
    let percent = if r.total_bytes == 0 {
        0.0
    } else {
        r.free_bytes as f64 * 100.0 / r.total_bytes as f64
    };
    let figures_zh = format!(
        "剩余空间：{}（{percent:.1}%），总容量：{}，阈值：{}",
        mib(r.free_bytes),
        mib(r.total_bytes),
        threshold.describe()
    );
    let figures_en = format!(
        "Free: {} ({percent:.1} %), size: {}, threshold: {}",
        mib(r.free_bytes),
        mib(r.total_bytes),
        threshold.describe()
    );
    let (subject, zh, en) = match change.event {
        Event::Recovered => (
            format!(
                "[{}] 磁盘空间已恢复 / Disk space recovered: {}",
                crate::PRODUCT_NAME,
                r.mount
            ),
            format!("{hostname} 的{}剩余空间已恢复到阈值以上。", r.label_zh),
            format!("The {} of {hostname} is back above the threshold.", r.label_en),
        ),
        _ => (
            format!(
                "[{}] 磁盘空间不足 / Low disk space: {}",
                crate::PRODUCT_NAME,
                r.mount
            ),
            format!("{hostname} 的{}剩余空间低于阈值，请及时清理（例如删除旧录音）。", r.label_zh),
            format!(
                "The {} of {hostname} is below the free-space threshold; free some space (old recordings, for example).",
                r.label_en
            ),
        ),
    };
    let body = format!("{zh}\n{figures_zh}\n\n{en}\n{figures_en}\n");
    (subject, body)
}

/// One check: measure, decide, mail, store. Does nothing while the notification is off
/// or incomplete. Returns the changes it handled (for the tests and the log).
pub async fn check(
    store: &Store,
    source: &Arc<dyn FreeSpaceSource>,
) -> Result<Vec<Change>, StoreError> {
    let settings: MailSettings = settings::load(store).await?;
    if !settings.enabled || !settings.is_complete() {
        return Ok(Vec::new());
    }
    let reader = Arc::clone(source);
    let readings = match tokio::task::spawn_blocking(move || reader.read()).await {
        Ok(Ok(readings)) => readings,
        Ok(Err(err)) => {
            log::warn!("free-space check: cannot measure the disks: {err}");
            return Ok(Vec::new());
        }
        Err(err) => return Err(StoreError::Worker(err.to_string())),
    };
    let states = store.call(|conn| disk_alerts::all(conn)).await?;
    let hostname = crate::system::hostname();
    let mut handled = Vec::new();
    for mut change in decide(&states, &readings, settings.threshold) {
        if change.event != Event::Quiet {
            let (subject, body) = compose(&change, settings.threshold, &hostname);
            match smtp::send(&settings, &subject, &body).await {
                Ok(answer) => log::info!(
                    "free-space mail for {} sent ({} {})",
                    change.reading.mount,
                    answer.code,
                    answer.message.join(" ")
                ),
                Err(err) => {
                    // Said once per change, not at every retry while the server is away.
                    let retrying = states
                        .get(&change.reading.mount)
                        .is_some_and(|s| s.low == change.state.low && !s.notified);
                    let level = if retrying {
                        log::Level::Debug
                    } else {
                        log::Level::Warn
                    };
                    log::log!(
                        level,
                        "free-space mail for {} not sent, retried at the next check: {err}",
                        change.reading.mount
                    );
                    change.state.notified = false;
                }
            }
        }
        let (mount, state) = (change.reading.mount.clone(), change.state);
        store
            .call(move |conn| disk_alerts::put(conn, &mount, state))
            .await?;
        handled.push(change);
    }
    Ok(handled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::settings::ThresholdUnit;
    use std::sync::Mutex;

    const GB: u64 = 1024 * 1024 * 1024;

    fn reading(mount: &str, free: u64) -> DiskReading {
        DiskReading {
            mount: mount.into(),
            label_zh: mount.into(),
            label_en: mount.into(),
            total_bytes: 100 * GB,
            free_bytes: free,
        }
    }

    const TEN_PERCENT: Threshold = Threshold {
        unit: ThresholdUnit::Percent,
        value: 10,
    };

    /// Runs `decide` and applies the new states, as `check` does when every mail goes out.
    fn step(states: &mut HashMap<String, AlertState>, readings: &[DiskReading]) -> Vec<Event> {
        let changes = decide(states, readings, TEN_PERCENT);
        for c in &changes {
            states.insert(c.reading.mount.clone(), c.state);
        }
        changes.into_iter().map(|c| c.event).collect()
    }

    #[test]
    fn one_mail_per_crossing_not_per_minute() {
        let mut states = HashMap::new();
        assert_eq!(
            step(&mut states, &[reading("/", 50 * GB)]),
            vec![Event::Quiet]
        );
        assert_eq!(step(&mut states, &[reading("/", 50 * GB)]), vec![]);
        assert_eq!(step(&mut states, &[reading("/", 9 * GB)]), vec![Event::Low]);
        for _ in 0..10 {
            assert_eq!(
                step(&mut states, &[reading("/", 8 * GB)]),
                vec![],
                "no repeat"
            );
        }
        // Hovering just above the threshold is not a recovery.
        assert_eq!(step(&mut states, &[reading("/", 10 * GB + 1)]), vec![]);
        assert_eq!(
            step(&mut states, &[reading("/", 12 * GB)]),
            vec![Event::Recovered]
        );
        assert_eq!(step(&mut states, &[reading("/", 12 * GB)]), vec![]);
        assert_eq!(step(&mut states, &[reading("/", GB)]), vec![Event::Low]);
    }

    #[test]
    fn disks_are_watched_separately_and_a_failed_mail_is_owed() {
        let mut states = HashMap::new();
        states.insert(
            "/".to_string(),
            AlertState {
                low: false,
                notified: true,
            },
        );
        // A USB disk plugged in already low is mailed at once.
        let events = step(
            &mut states,
            &[reading("/", 50 * GB), reading("/media/usb0", GB)],
        );
        assert_eq!(events, vec![Event::Low]);
        // The mail failed: it is owed until it goes out.
        states.insert(
            "/media/usb0".into(),
            AlertState {
                low: true,
                notified: false,
            },
        );
        let changes = decide(&states, &[reading("/media/usb0", GB)], TEN_PERCENT);
        assert_eq!(changes[0].event, Event::Low);
        // Recovered before the low mail ever went out: no mail about either.
        let changes = decide(&states, &[reading("/media/usb0", 90 * GB)], TEN_PERCENT);
        assert_eq!(changes[0].event, Event::Quiet);
        assert!(!changes[0].state.low);
    }

    /// Free space the test sets; the "disk" of [`check`] in the test below.
    struct FakeDisks(Mutex<u64>);

    impl FreeSpaceSource for FakeDisks {
        fn read(&self) -> Result<Vec<DiskReading>, String> {
            Ok(vec![reading("/", *self.0.lock().unwrap())])
        }
    }

    #[tokio::test]
    async fn check_is_quiet_while_off_and_keeps_state_in_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite");
        let store = Store::open(&path).unwrap();
        let disks = Arc::new(FakeDisks(Mutex::new(5 * GB)));
        let source: Arc<dyn FreeSpaceSource> = disks.clone();
        // Off: nothing measured, nothing stored.
        assert!(check(&store, &source).await.unwrap().is_empty());
        assert!(store
            .call(|c| disk_alerts::all(c))
            .await
            .unwrap()
            .is_empty());
        // On, pointing at a port where nothing listens: the mail fails and stays owed.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let input = crate::notify::MailSettingsInput {
            enabled: true,
            host: "127.0.0.1".into(),
            port,
            security: crate::notify::settings::Security::None,
            username: String::new(),
            password: None,
            sender: "cc@example.com".into(),
            recipients: vec!["ops@example.com".into()],
            threshold: TEN_PERCENT,
        };
        settings::save(&store, input).await.unwrap().unwrap();
        let changes = check(&store, &source).await.unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].event, Event::Low);
        let stored = store.call(|c| disk_alerts::all(c)).await.unwrap();
        assert_eq!(
            stored["/"],
            AlertState {
                low: true,
                notified: false
            }
        );
        // The state survives a reopen of the database (a restart).
        drop(store);
        let store = Store::open(&path).unwrap();
        let stored = store.call(|c| disk_alerts::all(c)).await.unwrap();
        assert_eq!(
            stored["/"],
            AlertState {
                low: true,
                notified: false
            }
        );
        // Recovered: no mail was ever delivered, so none about the recovery either.
        *disks.0.lock().unwrap() = 50 * GB;
        let changes = check(&store, &source).await.unwrap();
        assert_eq!(changes[0].event, Event::Quiet);
    }

    #[test]
    fn the_real_source_reads_the_system_disk_and_usb_storage() {
        // A fake /proc/mounts with a "USB stick" at /proc (a mount root on every Linux
        // system), recognised by its mount-point prefix.
        let proc_root = tempfile::tempdir().unwrap();
        std::fs::write(
            proc_root.path().join("mounts"),
            "overlay / overlay rw 0 0\n/dev/sdf1 /proc vfat rw 0 0\n",
        )
        .unwrap();
        let source = SystemDisks(SystemPaths {
            proc_root: proc_root.path().to_path_buf(),
            sys_root: proc_root.path().join("no-sysfs"),
            system_disk: "/".into(),
            usb_prefixes: vec!["/proc".into()],
        });
        let readings = source.read().unwrap();
        assert_eq!(readings.len(), 2, "{readings:?}");
        assert_eq!(readings[0].mount, "/");
        assert!(readings[0].total_bytes > 0);
        assert_eq!(readings[0].label_zh, "系统磁盘（/）");
        assert_eq!(readings[1].mount, "/proc");
        assert_eq!(readings[1].label_en, "USB storage /dev/sdf1 (/proc)");
        // A filesystem without size (like /proc) is never "low".
        assert!(decide(&HashMap::new(), &readings[1..], TEN_PERCENT).is_empty());
    }

    #[test]
    fn the_mail_says_which_disk_and_how_full() {
        let change = Change {
            reading: DiskReading {
                mount: "/media/usb0".into(),
                label_zh: "USB 存储 /dev/sda1（/media/usb0）".into(),
                label_en: "USB storage /dev/sda1 (/media/usb0)".into(),
                total_bytes: 100 * GB,
                free_bytes: 5 * GB,
            },
            event: Event::Low,
            state: AlertState {
                low: true,
                notified: true,
            },
        };
        let (subject, body) = compose(&change, TEN_PERCENT, "coocenter");
        assert!(
            subject.contains("磁盘空间不足") && subject.contains("/media/usb0"),
            "{subject}"
        );
        assert!(body.contains("5.0%") || body.contains("5.0 %"), "{body}");
        assert!(body.contains("10 %"), "{body}");
        assert!(
            body.find("剩余空间").unwrap() < body.find("Free").unwrap(),
            "Chinese first"
        );
    }
}
