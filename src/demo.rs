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
    config.paths.digit_sounds_dir = data_dir.join("digits");
    config.paths.pbx_manual = data_dir.join("pbx-manual.pdf");
    // A demo is tried by hand: a mistyped password should not lock its user out for long.
    config.security.lockout_base_seconds = crate::config::Bounded(10);
    config.security.lockout_max_seconds = crate::config::Bounded(60);
    // A demo is not a box: there is no RAUC to talk to.
    config.firmware.enabled = false;
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
) -> anyhow::Result<crate::simulator::DemoScenario> {
    use crate::simulator::{DemoScenario, SimConfig, Simulator};

    let secret = hex::encode(rand::random::<[u8; 16]>());
    let scenario = DemoScenario::standard(seed);
    let base = SimConfig {
        username: config.ami.username.clone(),
        secret: secret.clone(),
        // The PBX's extensions: 1001–1008 for the demo's agents, and 1009–1012 with no agent
        // yet, so a newcomer can try 新建坐席.
        endpoints: (1001..=1012).map(|n| n.to_string()).collect(),
        ..SimConfig::default()
    };
    let mut sim_config = scenario.sim_config(base);
    // Calls are recorded as on a box (`monitor-format=wav`), into the demo's own folder.
    if let Some(monitor) = config.paths.recordings_dirs.first() {
        if let Some(spool) = monitor.parent() {
            sim_config.spool_dir = spool.to_string_lossy().to_string();
            sim_config.write_recordings = true;
            for queue in &mut sim_config.queues {
                queue.record = Some("wav".into());
            }
        }
        if let Err(err) = seed_recordings(monitor, &scenario) {
            log::warn!("cannot write the demo's recording history: {err}");
        }
    }
    // The queues start without members: `seed_agents` adds them the way the console does
    // (QueueAdd, dynamic members), so the owner can remove and move them like any other.
    for queue in &mut sim_config.queues {
        queue.members.clear();
    }
    // Asterisk's configuration folder holds what the box's PBX UI writes (queues with their
    // own strategy lines); the simulator reads its strategies, and the console's include,
    // from there as a real Asterisk does.
    let asterisk_dir = config.paths.asterisk_config_dir.clone();
    std::fs::create_dir_all(&asterisk_dir)?;
    let queues_conf = asterisk_dir.join("queues.conf");
    if !queues_conf.exists() {
        std::fs::write(
            &queues_conf,
            crate::simulator::pbx_ui_queues_conf(&sim_config.queues),
        )?;
    }
    // As the image ships it (rootfs/etc/asterisk): Asterisk rejects an #include of a
    // missing file; coocenterd writes the real one at start.
    let include = asterisk_dir.join("queues_coocenter.conf");
    if !include.exists() {
        std::fs::write(&include, "")?;
    }
    sim_config.asterisk_config_dir = Some(asterisk_dir);
    let sim = Simulator::start(sim_config).await?;
    config.ami.host = sim.addr().ip().to_string();
    config.ami.port = crate::config::Bounded(u64::from(sim.addr().port()));
    config.ami.secret = secret;
    tokio::spawn(scenario.clone().run(sim.clone(), shutdown.clone()));
    tokio::spawn(async move {
        shutdown.cancelled().await;
        sim.shutdown();
    });
    Ok(scenario)
}

/// The job number and password of the demo's agent on `extension`: job numbers 8001… for
/// extensions 1001…, passwords `demo-pw1`… (the password policy refuses one that contains
/// the job number or the extension).
#[cfg(feature = "simulator")]
pub fn demo_agent_login(extension: &str) -> (String, String) {
    match extension.parse::<u32>() {
        Ok(n) => (
            (n + 7000).to_string(),
            format!("demo-pw{}", n.saturating_sub(1000)),
        ),
        Err(_) => (extension.to_string(), format!("demo-pw-{extension}")),
    }
}

/// Configures the demo's agents (坐席管理) and their queue memberships, as an owner would
/// after installing the box, once the simulated PBX is connected. Does nothing for agents
/// that already exist (a kept `--data-dir`).
#[cfg(feature = "simulator")]
pub async fn seed_agents(
    directory: &crate::pbx::directory::Directory,
    scenario: &crate::simulator::DemoScenario,
) -> anyhow::Result<()> {
    use crate::pbx::directory::AgentInput;

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !directory.pbx().is_connected() {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the demo PBX did not connect"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    if !directory.agents().await?.is_empty() {
        return Ok(());
    }
    for (n, agent) in scenario.agents.iter().enumerate() {
        let (job_number, password) = demo_agent_login(&agent.extension);
        let created = directory
            .create_agent(AgentInput {
                name: agent.name.clone(),
                job_number,
                leader: n == 0,
                extension: agent.extension.clone(),
                password: Some(password),
                extension_type: "sip".into(),
            })
            .await?;
        for queue in scenario
            .queues
            .iter()
            .filter(|q| q.agents.contains(&agent.extension))
        {
            directory.add_member(&queue.name, created.id).await?;
        }
    }
    for queue in &scenario.queues {
        directory.rename_queue(&queue.name, &queue.label).await?;
    }
    directory.pbx().refresh_stats();
    Ok(())
}

/// How many recordings of the past week a fresh demo starts with.
#[cfg(feature = "simulator")]
pub const SEEDED_RECORDINGS: usize = 48;

/// Writes a week of recording history into an empty demo recordings folder, named the way our
/// dialplan names them (`in-`/`out-`/`auto-`, date folders), so 录音列表 has something to
/// search and the start-up reconcile indexes them like files found on a box. Customers are
/// `13800138000` … `13800138047` (the n-th recording's number ends in 8000 + n); every eighth
/// is an agent's own outbound call (DOUT), every twelfth an automatic one. Each file is a
/// few seconds of the simulator's recorded murmur. Does nothing when the folder already holds files.
#[cfg(feature = "simulator")]
pub fn seed_recordings(
    monitor: &Path,
    scenario: &crate::simulator::DemoScenario,
) -> std::io::Result<()> {
    if monitor.is_dir() && std::fs::read_dir(monitor)?.next().is_some() {
        return Ok(());
    }
    let now = chrono::Local::now();
    for n in 0..SEEDED_RECORDINGS {
        let queue = &scenario.queues[n % scenario.queues.len()];
        let extension = &queue.agents[(n / scenario.queues.len()) % queue.agents.len()];
        let (job, _) = demo_agent_login(extension);
        let number = format!("1380013{:04}", 8000 + n);
        // Spread over the last seven days, in working hours.
        let at = now - chrono::Duration::minutes((n as i64) * 205 + 17);
        let (kind, queue_part, job_part) = if n % 8 == 7 {
            ("out", "dout".to_string(), job)
        } else if n % 12 == 5 {
            ("auto", queue.name.clone(), "x".to_string())
        } else {
            ("in", queue.name.clone(), job)
        };
        let uniqueid = format!("{}.{n}", at.timestamp());
        let name = format!(
            "{kind}-{}-{queue_part}-{job_part}-{number}-{uniqueid}.wav",
            at.format("%Y%m%d-%H%M%S")
        );
        let dir = monitor.join(at.format("%Y/%m/%d").to_string());
        crate::simulator::write_recording_file(&dir.join(name), 2 + (n % 5) as i64)
            .map_err(std::io::Error::other)?;
    }
    Ok(())
}
