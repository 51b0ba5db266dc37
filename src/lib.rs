//! `coocenterd`, the management daemon of the CooCenter call-center appliance.
//!
//! One process, one job per module (see DESIGN.md): `http` serves the console over HTTPS,
//! `accounts` decides who may log in, `store` keeps state in SQLite, `system` reads the box,
//! `config` describes it all. [`run`] is the single entry used by `main` and by the tests:
//! it starts everything from a [`Config`] and stops when the shutdown token is cancelled.

pub mod accounts;
pub mod ami;
pub mod certificate;
pub mod config;
pub mod crm;
pub mod demo;
pub mod firmware;
pub mod fs_atomic;
pub mod http;
pub mod i18n;
pub mod media;
pub mod memory;
pub mod notify;
pub mod pbx;
#[cfg(feature = "simulator")]
pub mod simulator;
pub mod store;
pub mod system;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use accounts::throttle::{LoginThrottle, ThrottlePolicy};
use accounts::Accounts;
pub use config::Config;
use http::session::Sessions;
use store::Store;

pub const PRODUCT_NAME: &str = "CooCenter";
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A daemon that has bound its sockets and is ready to serve.
pub struct Daemon {
    server: http::server::Server,
    /// Stops the PBX worker once the server has drained.
    services_shutdown: CancellationToken,
    services: Vec<tokio::task::JoinHandle<()>>,
    local_addrs: Vec<SocketAddr>,
    tls_fingerprint: String,
    directory: pbx::directory::Directory,
}

impl Daemon {
    /// The addresses actually bound (port 0 in the config becomes the real port here).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// SHA-256 fingerprint of the served certificate, as browsers show it.
    pub fn tls_fingerprint(&self) -> &str {
        &self.tls_fingerprint
    }

    /// The call-center configuration service (agents, queues), for `demo`'s seeding.
    pub fn directory(&self) -> &pbx::directory::Directory {
        &self.directory
    }

    /// Serves until `shutdown` is cancelled, then finishes requests in flight.
    pub async fn serve(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        self.server.serve(shutdown).await;
        self.services_shutdown.cancel();
        for service in self.services {
            let _ = service.await;
        }
        log::info!("stopped");
        Ok(())
    }
}

/// Opens the store, prepares accounts and TLS, and binds the listeners.
pub async fn start(config: Config) -> anyhow::Result<Daemon> {
    let data_dir = config.storage.data_dir.clone();
    fs_atomic::create_private_dir(&data_dir)?;
    // A factory reset asked for from the console runs here, before anything opens the data.
    let device_paths = config.device_paths();
    if let Some(report) = tokio::task::spawn_blocking(move || {
        firmware::provision::apply_pending_factory_reset(&device_paths)
    })
    .await??
    {
        log::warn!("factory reset done: {report:?}");
    }
    // A crash in the middle of a crash-safe write leaves its temporary file behind.
    {
        let (cert_path, _) = config.tls_paths();
        let folders: Vec<std::path::PathBuf> = [
            Some(data_dir.clone()),
            cert_path.parent().map(std::path::Path::to_path_buf),
            Some(config.paths.asterisk_config_dir.clone()),
            Some(config.paths.prompts_dir.clone()),
        ]
        .into_iter()
        .flatten()
        .collect();
        tokio::task::spawn_blocking(move || {
            for folder in folders {
                fs_atomic::remove_leftovers(&folder);
            }
        })
        .await?;
    }
    let database = config.database_path();
    let store = tokio::task::spawn_blocking(move || Store::open(&database))
        .await?
        .with_context(|| format!("opening the database in {}", data_dir.display()))?;

    let security = &config.security;
    let throttle = LoginThrottle::new(ThrottlePolicy {
        threshold: security.lockout_threshold.get() as u32,
        base_lockout: Duration::from_secs(security.lockout_base_seconds.get()),
        max_lockout: Duration::from_secs(security.lockout_max_seconds.get()),
        failure_delay: Duration::from_millis(security.failure_delay_ms.get()),
    });
    let accounts = Accounts::new(store.clone(), throttle);
    accounts
        .ensure_default_admin(firmware::provision::provisioned_admin_hash(&data_dir)?)
        .await
        .context("creating the default administrator")?;

    let hostname = system::hostname();
    let (cert_path, key_path) = config.tls_paths();
    let may_generate = config.http.tls_cert.is_none();
    let identity = {
        let hostname = hostname.clone();
        tokio::task::spawn_blocking(move || {
            http::tls::load_or_generate(&cert_path, &key_path, may_generate, &hostname)
        })
        .await??
    };
    log::info!(
        "TLS certificate SHA-256 fingerprint {} (compare it with the browser's certificate warning)",
        identity.fingerprint_sha256
    );

    let mut listeners = Vec::new();
    let mut local_addrs = Vec::new();
    for addr in &config.http.listen {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        let local = listener.local_addr()?;
        log::info!("serving the console on https://{local}/");
        local_addrs.push(local);
        listeners.push(listener);
    }

    let services_shutdown = CancellationToken::new();
    let mut ami = ami_config(&config.ami);
    if ami.secret.is_empty() {
        // The secret written at factory provisioning (also in Asterisk's manager include).
        ami.secret = firmware::provision::ami_secret(&data_dir)?.unwrap_or_default();
    }
    let (pbx, pbx_task) = pbx::Pbx::start(
        ami,
        store.clone(),
        &config.paths.asterisk_config_dir,
        services_shutdown.clone(),
    );

    let sessions = Sessions::new(Duration::from_secs(
        config.security.session_idle_minutes.get() * 60,
    ));
    let pbx_for_health = pbx.clone();
    let serving = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let directory = pbx::directory::Directory::new(
        accounts.store().clone(),
        pbx.clone(),
        config
            .paths
            .asterisk_config_dir
            .join("queues_coocenter.conf"),
    );
    // The generated Asterisk includes always reflect the database (after a factory reset too).
    if let Err(err) = directory.write_queues_include().await {
        log::error!("cannot write the queues include: {err}");
    }
    let recordings = media::recordings::RecordingIndex::start(
        store.clone(),
        config.paths.recordings_dirs.clone(),
        services_shutdown.clone(),
    );
    let system_paths = system::SystemPaths {
        system_disk: config.system.disk_path.clone(),
        usb_prefixes: config.system.usb_mount_prefixes.clone(),
        ..system::SystemPaths::default()
    };
    // 邮件通知: the free-space monitor runs beside the PBX worker.
    let (mail, mail_task) = notify::MailService::start(
        store.clone(),
        Arc::new(notify::monitor::SystemDisks(system_paths.clone())),
        services_shutdown.clone(),
    );
    let call_flow = pbx::callflow::CallFlow::new(
        accounts.store().clone(),
        pbx.clone(),
        &config.paths.asterisk_config_dir,
        config.paths.prompts_dir.clone(),
        config.paths.digit_sounds_dir.clone(),
        config.paths.answer_agi.clone(),
    );
    if let Err(err) = call_flow.write_stored_include().await {
        log::error!("cannot write the dialplan include: {err}");
    }
    call_flow.start(services_shutdown.clone());
    let app = http::router(
        accounts,
        pbx,
        directory.clone(),
        call_flow,
        config.agents.pause_reasons.clone(),
        firmware::service::FirmwareService::new(
            config.firmware.enabled,
            upgrade_config(&config.firmware),
            &config.storage.data_dir,
        ),
        config.paths.pbx_manual.clone(),
        Arc::new(
            media::voicemail::VoicemailWatcher::start(media::voicemail::WatcherConfig::new(
                config.paths.voicemail_dir.clone(),
                None,
            ))
            .await,
        ),
        recordings,
        Arc::new(
            media::prompts::PromptStore::open(
                config.paths.prompts_dir.clone(),
                store.clone(),
                media::prompts::PromptLimits {
                    max_seconds: config.prompts.max_upload_seconds.get() as u32,
                    max_upload_bytes: config.prompts.max_upload_mb.get() * 1024 * 1024,
                },
                media::tts::TtsEngine {
                    command: config.tts.command.clone(),
                    max_chars: config.tts.max_text_chars.get() as usize,
                    timeout: Duration::from_secs(config.tts.timeout_seconds.get()),
                },
            )
            .await
            .with_context(|| {
                format!(
                    "opening the prompts folder {}",
                    config.paths.prompts_dir.display()
                )
            })?,
        ),
        sessions,
        hostname,
        identity.fingerprint_sha256.clone(),
        system_paths,
        mail,
        config.http.max_body_bytes.get() as usize,
    );
    Ok(Daemon {
        server: http::server::Server {
            listeners,
            tls: identity.server_config,
            app,
            max_connections: config.http.max_connections.get() as usize,
            serving: Arc::clone(&serving),
        },
        services_shutdown: services_shutdown.clone(),
        services: vec![
            pbx_task,
            mail_task,
            tokio::spawn(mark_good_when_healthy(
                config.firmware.clone(),
                serving,
                store,
                pbx_for_health,
                services_shutdown.clone(),
            )),
        ],
        local_addrs,
        tls_fingerprint: identity.fingerprint_sha256,
        directory,
    })
}

/// The AMI client's settings from ours.
fn ami_config(ami: &config::AmiConfig) -> ami::Config {
    ami::Config {
        host: ami.host.clone(),
        port: ami.port.get() as u16,
        username: ami.username.clone(),
        secret: ami.secret.clone(),
        ..ami::Config::default()
    }
}

/// Starts the daemon and serves until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    start(config).await?.serve(shutdown).await
}

/// How long after start the health checks may take before the slot is left to the
/// bootloader's fallback.
const HEALTH_DEADLINE: Duration = Duration::from_secs(120);

/// After an upgrade, the booted slot is marked good only once this start is healthy: HTTPS
/// serving (the accept loops running), the database answering, and Asterisk's manager
/// reachable. Without RAUC (a development machine) there is nothing to mark.
async fn mark_good_when_healthy(
    config: config::FirmwareConfig,
    serving: Arc<std::sync::atomic::AtomicBool>,
    store: Store,
    pbx: pbx::Pbx,
    shutdown: CancellationToken,
) {
    if !config.enabled {
        return;
    }
    let connect = firmware::Upgrader::connect(upgrade_config(&config));
    let upgrader = tokio::select! {
        _ = shutdown.cancelled() => return,
        connected = connect => match connected {
            Ok(upgrader) => upgrader,
            Err(err) => {
                log::info!("field upgrades unavailable (no RAUC service): {err}");
                return;
            }
        },
    };
    let checks = vec![
        firmware::health_check("https", move || {
            let serving = Arc::clone(&serving);
            wait_for(
                move || serving.load(std::sync::atomic::Ordering::SeqCst),
                "the HTTPS listeners are not serving",
            )
        }),
        firmware::health_check("database", move || {
            let store = store.clone();
            async move {
                store
                    .call(|conn| conn.query_row("SELECT 1", [], |row| row.get::<_, i64>(0)))
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        }),
        firmware::health_check("asterisk manager", move || {
            let pbx = pbx.clone();
            wait_for(
                move || pbx.is_connected(),
                "the AMI session did not come up",
            )
        }),
    ];
    tokio::select! {
        _ = shutdown.cancelled() => {}
        outcome = upgrader.mark_good_if_healthy(&checks) => match outcome {
            Ok(outcome) => log::info!("boot slot health: {outcome:?}"),
            Err(err) => log::warn!("could not mark the boot slot: {err}"),
        },
    }
}

/// Waits until `ready` holds, for at most [`HEALTH_DEADLINE`]; `failure` otherwise.
async fn wait_for(ready: impl Fn() -> bool, failure: &'static str) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + HEALTH_DEADLINE;
    while !ready() {
        if tokio::time::Instant::now() > deadline {
            return Err(failure.to_string());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

fn upgrade_config(config: &config::FirmwareConfig) -> firmware::UpgradeConfig {
    firmware::UpgradeConfig {
        bus_address: config.bus_address.clone(),
        keyring: config.keyring.clone(),
        max_bundle_bytes: config.max_bundle_mb.get() * 1024 * 1024,
    }
}
