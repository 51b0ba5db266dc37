//! The `coocenterd` command line: parses arguments, sets up logging and signals, and hands
//! over to the library's `run`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use coocenterd::config::{Config, DEFAULT_CONFIG_PATH};

#[derive(Parser)]
#[command(
    name = "coocenterd",
    version,
    about = "Management daemon of the CooCenter call-center appliance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the console with the given configuration (the appliance's service).
    Serve {
        #[arg(long, default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
    },
    /// Run a complete demo console on loopback with a fresh data folder of its own.
    Demo {
        /// Address to serve on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Keep the demo's state in this folder instead of a fresh temporary one.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Seed of the simulated call center's random choices (random when not given).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Check a configuration file and print what is wrong with it.
    CheckConfig { file: PathBuf },
    /// Factory provisioning: write the device identity, its own TLS key and certificate, a
    /// unique admin password (printed once, for the label) and the AMI secret.
    Provision {
        #[arg(long, default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
        #[arg(long)]
        serial: String,
        /// The WAN port's MAC address, aa:bb:cc:dd:ee:ff.
        #[arg(long)]
        mac: String,
        #[arg(long)]
        model: String,
        /// Replace an existing identity (a new password and key: the label must change).
        #[arg(long)]
        force: bool,
    },
    /// Erase user data (database, prompts, settings) and return to the provisioned state.
    /// Run it with the service stopped.
    FactoryReset {
        #[arg(long, default_value = DEFAULT_CONFIG_PATH)]
        config: PathBuf,
        /// Also erase call recordings and voicemail.
        #[arg(long)]
        include_recordings: bool,
    },
}

fn main() -> ExitCode {
    coocenterd::memory::return_big_blocks_to_the_kernel();
    let cli = Cli::parse();
    match cli.command {
        Command::CheckConfig { file } => match Config::load(&file) {
            Ok(_) => {
                println!("{}: OK", file.display());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("{err}");
                ExitCode::FAILURE
            }
        },
        Command::Provision {
            config,
            serial,
            mac,
            model,
            force,
        } => {
            let config = match Config::load(&config) {
                Ok(config) => config,
                Err(err) => {
                    eprintln!("{err}");
                    return ExitCode::FAILURE;
                }
            };
            let identity = coocenterd::firmware::DeviceIdentity { serial, mac, model };
            match coocenterd::firmware::provision(&config.device_paths(), &identity, force) {
                Ok(done) => {
                    println!("serial:   {}", done.identity.serial);
                    println!("MAC:      {}", done.identity.mac);
                    println!("model:    {}", done.identity.model);
                    println!(
                        "admin password (print on the label; shown only now): {}",
                        done.admin_password
                    );
                    println!("TLS certificate SHA-256: {}", done.tls_fingerprint_sha256);
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("coocenterd provision: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::FactoryReset {
            config,
            include_recordings,
        } => {
            let config = match Config::load(&config) {
                Ok(config) => config,
                Err(err) => {
                    eprintln!("{err}");
                    return ExitCode::FAILURE;
                }
            };
            match coocenterd::firmware::factory_reset(&config.device_paths(), include_recordings) {
                Ok(report) => {
                    println!(
                        "factory reset: {} data entries, {} prompts, {} recordings, {} voicemail files removed",
                        report.data_entries, report.prompts, report.recordings, report.voicemail
                    );
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("coocenterd factory-reset: {err}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve { config } => {
            let config = match Config::load(&config) {
                Ok(config) => config,
                Err(err) => {
                    eprintln!("{err}");
                    return ExitCode::FAILURE;
                }
            };
            init_logging(config.log.level.0);
            serve(config, None)
        }
        Command::Demo {
            listen,
            data_dir,
            seed,
        } => {
            let (data_dir, temporary) = match data_dir {
                Some(dir) => (dir, false),
                None => match coocenterd::demo::fresh_data_dir() {
                    Ok(dir) => (dir, true),
                    Err(err) => {
                        eprintln!("cannot create a demo data folder: {err}");
                        return ExitCode::FAILURE;
                    }
                },
            };
            let config = coocenterd::demo::config(listen, &data_dir);
            init_logging(config.log.level.0);
            let seed = seed.unwrap_or_else(rand::random);
            let code = serve(
                config,
                Some(Demo {
                    dir: &data_dir,
                    seed,
                }),
            );
            if temporary {
                let _ = std::fs::remove_dir_all(&data_dir);
            }
            code
        }
    }
}

fn init_logging(level: log::LevelFilter) {
    let config = simplelog::ConfigBuilder::new()
        .set_time_format_rfc3339()
        .set_target_level(log::LevelFilter::Off)
        .set_thread_level(log::LevelFilter::Off)
        .add_filter_allow_str("coocenterd")
        .build();
    let _ = simplelog::TermLogger::init(
        level,
        config,
        simplelog::TerminalMode::Stderr,
        simplelog::ColorChoice::Never,
    );
}

/// What `demo` adds to a plain `serve`.
struct Demo<'a> {
    dir: &'a std::path::Path,
    seed: u64,
}

fn serve(mut config: Config, demo: Option<Demo<'_>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        // Signal handlers go in before anything is announced, so a SIGTERM sent as soon as the
        // URL is printed stops us cleanly instead of killing us.
        let shutdown = CancellationToken::new();
        let signals = Signals::install()?;
        tokio::spawn(signals.cancel_on_first(shutdown.clone()));
        #[cfg(feature = "simulator")]
        let scenario = match &demo {
            Some(demo) => {
                Some(coocenterd::demo::start_pbx(&mut config, demo.seed, shutdown.clone()).await?)
            }
            None => None,
        };
        let daemon = coocenterd::start(config).await?;
        #[cfg(feature = "simulator")]
        if let Some(scenario) = &scenario {
            let directory = daemon.directory().clone();
            let scenario = scenario.clone();
            tokio::spawn(async move {
                if let Err(err) = coocenterd::demo::seed_agents(&directory, &scenario).await {
                    log::error!("cannot configure the demo's agents: {err:#}");
                }
            });
        }
        if let Some(Demo { dir, seed }) = demo {
            for addr in daemon.local_addrs() {
                println!("CooCenter demo console: https://{addr}/");
            }
            println!("Log in as admin / admin (you will be asked to set a new password).");
            println!("Certificate SHA-256: {}", daemon.tls_fingerprint());
            println!("Simulated call center: queues 222, 333, 444 (seed {seed})");
            println!("Agents sign in with job numbers 8001-8008, password demo-pw1-demo-pw8.");
            println!("Demo data: {}    Stop with Ctrl-C.", dir.display());
        }
        daemon.serve(shutdown).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            log::error!("{err:#}");
            eprintln!("coocenterd: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM (the service manager) and SIGINT (Ctrl-C), both meaning "stop cleanly".
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn cancel_on_first(mut self, shutdown: CancellationToken) {
        tokio::select! {
            _ = self.term.recv() => log::info!("SIGTERM received, stopping"),
            _ = self.int.recv() => log::info!("SIGINT received, stopping"),
        }
        shutdown.cancel();
    }
}
