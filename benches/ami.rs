//! AMI benchmarks (run with `cargo bench --bench ami`, or `scripts/bench ami`). Prints figures;
//! asserts nothing.
//!
//! 1. Codec throughput: the byte-exact Asterisk 22.10.1 capture decoded again and again,
//!    in events per second and MB/s.
//! 2. AMI event → browser latency: the real daemon in-process, the PBX simulator on loopback
//!    producing about 1,000 events per second (member device-state changes), and an HTTPS
//!    client on the event stream. Probe calls are placed every 20 ms; the latency of each is
//!    from the simulator emitting `QueueCallerJoin` to the `live` frame showing the caller
//!    arriving at the client. Reports p50, p99 and max.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use coocenterd::ami::{AmiCodec, MessageKind};
use coocenterd::simulator::{
    DeviceState, MemberConfig, QueueConfig, SimConfig, Simulator, Strategy,
};
use tokio_util::codec::Decoder;
use tokio_util::sync::CancellationToken;

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/ami-traces/asterisk-22.10.1-queue-scenario/ami/session1-main.server.raw"
);

fn codec_throughput() {
    let capture = std::fs::read(CAPTURE).expect("the capture in ../shared/ami-traces");
    let rounds = 200;
    let mut events = 0usize;
    let started = Instant::now();
    for _ in 0..rounds {
        let mut codec = AmiCodec::new();
        // Feed it in TCP-sized reads, as the client does.
        let mut buffer = BytesMut::with_capacity(64 * 1024);
        for chunk in capture.chunks(16 * 1024) {
            buffer.extend_from_slice(chunk);
            while let Some(message) = codec.decode(&mut buffer).expect("decodes") {
                if message.kind() == MessageKind::Event {
                    events += 1;
                }
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let bytes = (capture.len() * rounds) as f64;
    println!(
        "codec: {events} events ({} rounds of the 22.10.1 capture) in {elapsed:.3} s: {:.0} events/s, {:.1} MB/s",
        rounds,
        events as f64 / elapsed,
        bytes / elapsed / 1e6
    );
}

async fn event_to_browser_latency() {
    const SECRET: &str = "bench-secret";
    let members: Vec<MemberConfig> = (1..=20)
        .map(|n| MemberConfig::new(format!("PJSIP/{}", 1000 + n), format!("坐席{n}")))
        .collect();
    let mut queue = QueueConfig::new("222").strategy(Strategy::RingAll);
    queue.members = members;
    // A second queue with no members: probe callers wait there without ringing anyone.
    let probe_queue = QueueConfig::new("999");
    let sim = Simulator::start(SimConfig {
        username: "coocenterd".into(),
        secret: SECRET.into(),
        queues: vec![queue, probe_queue],
        ..SimConfig::default()
    })
    .await
    .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut config = coocenterd::demo::config("127.0.0.1:0".parse().unwrap(), dir.path());
    config.ami.port = coocenterd::config::Bounded(u64::from(sim.addr().port()));
    config.ami.secret = SECRET.into();
    config.log.level = coocenterd::config::LogLevel(log::LevelFilter::Warn);
    let daemon = coocenterd::start(config).await.unwrap();
    let addr = daemon.local_addrs()[0];
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(daemon.serve(shutdown.clone()));

    let client = reqwest::Client::builder()
        .use_preconfigured_tls(
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(std::sync::Arc::new(AcceptAny))
            .with_no_client_auth(),
        )
        .build()
        .unwrap();
    let base = format!("https://{addr}");
    let cookie = login(&client, &base).await;

    let mut stream = client
        .get(format!("{base}/api/v1/events"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    // Wait until the daemon has the PBX.
    let mut buffer = String::new();
    loop {
        let chunk = stream.chunk().await.unwrap().unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        if buffer.contains("\"connected\":true") && buffer.contains("坐席20") {
            break;
        }
    }
    buffer.clear();

    // Background load: device-state flips, each one QueueMemberStatus event.
    let load_stop = CancellationToken::new();
    let load = {
        let sim = sim.clone();
        let stop = load_stop.clone();
        tokio::spawn(async move {
            let mut sent = 0u64;
            let started = Instant::now();
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            while !stop.is_cancelled() {
                tick.tick().await;
                let member = format!("PJSIP/{}", 1001 + (sent % 20));
                let state = if (sent / 20) % 2 == 0 {
                    DeviceState::InUse
                } else {
                    DeviceState::NotInUse
                };
                sim.set_device_state(&member, state);
                sent += 1;
            }
            sent as f64 / started.elapsed().as_secs_f64()
        })
    };

    let probes = 200;
    let mut latencies = Vec::with_capacity(probes);
    for n in 0..probes {
        let number = format!("1390000{n:04}");
        let placed = Instant::now();
        let call = sim.place_call("999", &number, "").unwrap();
        loop {
            if let Some(end) = buffer.find(&number) {
                latencies.push(placed.elapsed());
                buffer.drain(..end);
                break;
            }
            let chunk = stream.chunk().await.unwrap().unwrap();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
        sim.hangup_caller(call).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Keep only the tail: frames before the next probe are of no interest.
        if let Some(last) = buffer.rfind("event: ") {
            buffer.drain(..last);
        }
    }
    load_stop.cancel();
    let rate = load.await.unwrap();
    latencies.sort();
    let pick = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "AMI event → browser (SSE) with {rate:.0} background events/s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {probes} probes (budget 50 ms)",
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3,
    );
    drop(stream);
    shutdown.cancel();
    server.await.unwrap().unwrap();
    sim.shutdown();
}

async fn login(client: &reqwest::Client, base: &str) -> String {
    let response = client
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": "admin", "password": "admin"}))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let changed = client
        .post(format!("{base}/api/v1/account/password"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({"old_password": "admin", "new_password": "Bench-pass-2026!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);
    cookie
}

/// The bench talks to its own daemon on loopback; the certificate is not the point here.
#[derive(Debug)]
struct AcceptAny;

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn main() {
    codec_throughput();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(event_to_browser_latency());
}
