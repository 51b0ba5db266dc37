//! Test helpers around the PBX simulator: a daemon pointed at it, waiting for the AMI session,
//! and what the simulator received.

use std::time::{Duration, Instant};

use coocenterd::simulator::{SimConfig, SimHandle, Simulator};

use super::{Api, TestDaemon};

pub const AMI_USER: &str = "coocenterd";

/// A daemon whose AMI settings point at `sim` with this secret.
pub async fn daemon_for(sim: &SimHandle, secret: &str) -> TestDaemon {
    let port = sim.addr().port();
    let secret = secret.to_string();
    TestDaemon::start_with(move |config| {
        config.ami.port = coocenterd::config::Bounded(u64::from(port));
        config.ami.username = AMI_USER.into();
        config.ami.secret = secret;
    })
    .await
}

/// A simulator with an Asterisk configuration folder of its own: `queues.conf` as the
/// box's PBX UI writes it (each queue with its own `strategy` line, our include last), read
/// at start, restart and `QueueReload` as a real Asterisk reads it.
pub async fn simulator_with_asterisk_dir(mut config: SimConfig) -> (SimHandle, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("queues.conf"),
        coocenterd::simulator::pbx_ui_queues_conf(&config.queues),
    )
    .unwrap();
    // As the image ships it: Asterisk rejects an #include of a missing file.
    std::fs::write(dir.path().join("queues_coocenter.conf"), "").unwrap();
    config.asterisk_config_dir = Some(dir.path().to_path_buf());
    (Simulator::start(config).await.unwrap(), dir)
}

/// [`daemon_for`], writing its Asterisk includes into `asterisk_dir`.
pub async fn daemon_with_asterisk_dir(
    sim: &SimHandle,
    secret: &str,
    asterisk_dir: &std::path::Path,
) -> TestDaemon {
    let port = sim.addr().port();
    let secret = secret.to_string();
    let asterisk_dir = asterisk_dir.to_path_buf();
    TestDaemon::start_with(move |config| {
        config.ami.port = coocenterd::config::Bounded(u64::from(port));
        config.ami.username = AMI_USER.into();
        config.ami.secret = secret;
        config.paths.asterisk_config_dir = asterisk_dir;
    })
    .await
}

/// Waits until the dashboard says the PBX is connected.
pub async fn wait_connected(api: &mut Api) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while api.get("/api/v1/dashboard").await.body["pbx"]["connected"] != true {
        assert!(Instant::now() < deadline, "PBX never connected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The actions named `action` the simulator received, as their fields without `Action` and
/// `ActionID`.
pub fn received(sim: &SimHandle, action: &str) -> Vec<Vec<(String, String)>> {
    sim.received_actions()
        .iter()
        .filter(|a| {
            a.get("Action")
                .is_some_and(|n| n.eq_ignore_ascii_case(action))
        })
        .map(|a| {
            a.fields()
                .iter()
                .filter(|(k, _)| k != "ActionID" && k != "Action")
                .cloned()
                .collect()
        })
        .collect()
}

/// A manager session of its own on `sim`, as another AMI client of the PBX would have: the
/// client, its runner task and what stops it.
pub async fn manager_client(
    sim: &SimHandle,
    secret: &str,
) -> (
    coocenterd::ami::Client,
    tokio::task::JoinHandle<()>,
    tokio_util::sync::CancellationToken,
) {
    let shutdown = tokio_util::sync::CancellationToken::new();
    let (client, task) = coocenterd::ami::Client::spawn(
        coocenterd::ami::Config {
            port: sim.addr().port(),
            username: AMI_USER.into(),
            secret: secret.into(),
            ..coocenterd::ami::Config::default()
        },
        shutdown.clone(),
    );
    client.wait_connected().await.unwrap();
    (client, task, shutdown)
}
