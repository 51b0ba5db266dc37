//! `coocenterd demo`: a complete console on loopback with a data folder of its own, behaving
//! like a new box (`admin`/`admin`, forced password change), so a newcomer can see it work
//! without an appliance. Everything it writes stays inside that folder.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::config::Config;

/// The configuration of a demo console serving on `listen` with all state under `data_dir`.
pub fn config(listen: SocketAddr, data_dir: &Path) -> Config {
    let mut config = Config::default();
    config.http.listen = vec![listen];
    config.storage.data_dir = data_dir.join("data");
    config.paths.prompts_dir = data_dir.join("sounds");
    config.paths.recordings_dirs = vec![data_dir.join("monitor")];
    config.paths.voicemail_dir = data_dir.join("voicemail");
    config.paths.asterisk_config_dir = data_dir.join("asterisk");
    // A demo is tried by hand: a mistyped password should not lock its user out for long.
    config.security.lockout_base_seconds = crate::config::Bounded(10);
    config.security.lockout_max_seconds = crate::config::Bounded(60);
    config
}

/// A fresh, empty folder for a demo run under the system's temporary folder.
pub fn fresh_data_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "coocenterd-demo-{}",
        hex::encode(rand::random::<[u8; 4]>())
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Starts the built-in PBX simulator with a lively call center (queues 222 售后, 333 销售,
/// 444 技术支持; agents 1001–1008; calls arriving every few seconds) and points `config`'s
/// AMI settings at it. Both stop when `shutdown` is cancelled.
#[cfg(feature = "simulator")]
pub async fn start_pbx(
    config: &mut Config,
    seed: u64,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<crate::simulator::SimHandle> {
    use crate::simulator::{DemoScenario, SimConfig, Simulator};

    let secret = hex::encode(rand::random::<[u8; 16]>());
    let scenario = DemoScenario::standard(seed);
    let base = SimConfig {
        username: config.ami.username.clone(),
        secret: secret.clone(),
        ..SimConfig::default()
    };
    let sim = Simulator::start(scenario.sim_config(base)).await?;
    config.ami.host = sim.addr().ip().to_string();
    config.ami.port = crate::config::Bounded(u64::from(sim.addr().port()));
    config.ami.secret = secret;
    tokio::spawn(scenario.run(sim.clone(), shutdown.clone()));
    let handle = sim.clone();
    tokio::spawn(async move {
        shutdown.cancelled().await;
        handle.shutdown();
    });
    Ok(sim)
}
