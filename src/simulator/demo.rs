//! A lively call center for `coocenterd demo`: queues with Chinese names, agents on PJSIP
//! extensions, callers arriving every few seconds, ringing, answered or abandoned, agents
//! pausing for lunch or a meeting — reproducible from a seed.
//!
//! Owns [`DemoScenario`] (what the demo call center looks like) and its driver loop, which
//! uses only the simulator's public control API ([`SimHandle`]), exactly as a test would.
//! Knows nothing of the daemon.

use std::ops::RangeInclusive;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tokio_util::sync::CancellationToken;

use super::config::{
    CallOptions, DeviceState, MemberBehavior, MemberConfig, QueueConfig, SimConfig, Strategy,
};
use super::queue::sample;
use super::server::SimHandle;

/// A queue of the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoQueue {
    /// Queue name (the number callers dial, `222`).
    pub name: String,
    /// What the queue is for (`售后`), for the demo's own display.
    pub label: String,
    /// Ring strategy.
    pub strategy: Strategy,
    /// Extensions of the agents in the queue.
    pub agents: Vec<String>,
}

/// An agent of the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAgent {
    /// PJSIP extension (`1001`); the interface is `PJSIP/<extension>`.
    pub extension: String,
    /// Name shown as the member name (`张伟`).
    pub name: String,
}

impl DemoAgent {
    /// `PJSIP/<extension>`.
    pub fn interface(&self) -> String {
        format!("PJSIP/{}", self.extension)
    }
}

/// The demo call center.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoScenario {
    /// Seed of every random choice.
    pub seed: u64,
    /// Queues.
    pub queues: Vec<DemoQueue>,
    /// Agents.
    pub agents: Vec<DemoAgent>,
    /// Time between two incoming calls.
    pub arrival_gap: RangeInclusive<Duration>,
    /// How long a caller waits before hanging up.
    pub patience: RangeInclusive<Duration>,
    /// `Queue()` timeout of every call.
    pub max_wait: Duration,
    /// Time from ringing to answering.
    pub answer_after: RangeInclusive<Duration>,
    /// Probability that a rung agent answers.
    pub answer_probability: f64,
    /// Talk time.
    pub talk: RangeInclusive<Duration>,
    /// Time between two agent pauses.
    pub pause_gap: RangeInclusive<Duration>,
    /// Length of a pause.
    pub pause_length: RangeInclusive<Duration>,
}

const PAUSE_REASONS: [&str; 5] = ["午休", "培训", "会议", "小休", "整理工单"];
const CALLER_NAMES: [&str; 12] = [
    "王先生",
    "李女士",
    "刘先生",
    "陈女士",
    "杨先生",
    "赵女士",
    "黄先生",
    "周女士",
    "吴先生",
    "徐女士",
    "孙先生",
    "",
];
const MOBILE_PREFIXES: [&str; 8] = ["138", "139", "137", "186", "158", "135", "189", "177"];

impl DemoScenario {
    /// Three queues (222 售后, 333 销售, 444 技术支持) and eight agents (1001 张伟 …).
    pub fn standard(seed: u64) -> Self {
        let agents = [
            ("1001", "张伟"),
            ("1002", "王芳"),
            ("1003", "李娜"),
            ("1004", "刘洋"),
            ("1005", "陈静"),
            ("1006", "杨磊"),
            ("1007", "赵敏"),
            ("1008", "黄强"),
        ]
        .into_iter()
        .map(|(e, n)| DemoAgent {
            extension: e.to_owned(),
            name: n.to_owned(),
        })
        .collect();
        let q = |name: &str, label: &str, strategy, agents: &[&str]| DemoQueue {
            name: name.to_owned(),
            label: label.to_owned(),
            strategy,
            agents: agents.iter().map(|s| (*s).to_owned()).collect(),
        };
        DemoScenario {
            seed,
            queues: vec![
                q(
                    "222",
                    "售后",
                    Strategy::RrMemory,
                    &["1001", "1002", "1003", "1004"],
                ),
                q(
                    "333",
                    "销售",
                    Strategy::RingAll,
                    &["1003", "1004", "1005", "1006"],
                ),
                q(
                    "444",
                    "技术支持",
                    Strategy::LeastRecent,
                    &["1006", "1007", "1008", "1001"],
                ),
            ],
            agents,
            arrival_gap: Duration::from_secs(2)..=Duration::from_secs(8),
            patience: Duration::from_secs(20)..=Duration::from_secs(120),
            max_wait: Duration::from_secs(180),
            answer_after: Duration::from_secs(2)..=Duration::from_secs(10),
            answer_probability: 0.85,
            talk: Duration::from_secs(10)..=Duration::from_secs(90),
            pause_gap: Duration::from_secs(20)..=Duration::from_secs(60),
            pause_length: Duration::from_secs(15)..=Duration::from_secs(60),
        }
    }

    /// The simulator configuration of this call center, on top of `base` (credentials,
    /// address, clock).
    pub fn sim_config(&self, base: SimConfig) -> SimConfig {
        let name_of = |ext: &str| {
            self.agents
                .iter()
                .find(|a| a.extension == ext)
                .map_or_else(|| ext.to_owned(), |a| a.name.clone())
        };
        let queues = self
            .queues
            .iter()
            .map(|dq| {
                let mut q = QueueConfig::new(dq.name.clone()).strategy(dq.strategy);
                q.timeout = 15;
                q.retry = 5;
                q.wrapuptime = 5;
                q.servicelevel = 20;
                q.autofill = true;
                q.record = Some("wav".to_owned());
                for ext in &dq.agents {
                    q.members
                        .push(MemberConfig::new(format!("PJSIP/{ext}"), name_of(ext)));
                }
                q
            })
            .collect();
        let behaviors = self
            .agents
            .iter()
            .map(|a| {
                (
                    a.interface(),
                    MemberBehavior::random(
                        self.answer_after.clone(),
                        self.answer_probability,
                        self.talk.clone(),
                    ),
                )
            })
            .collect();
        SimConfig {
            queues,
            behaviors,
            seed: self.seed,
            ..base
        }
    }

    /// Drives the call center until `shutdown`: calls arrive, agents pause and come back,
    /// now and then a phone drops off the network for a while.
    pub async fn run(self, sim: SimHandle, shutdown: CancellationToken) {
        let mut rng = StdRng::seed_from_u64(self.seed ^ 0x5eed_cafe);
        let mut next_call = tokio::time::Instant::now();
        let mut next_pause = tokio::time::Instant::now() + sample(&mut rng, &self.pause_gap);
        // (when, interface, unpause or back online)
        let mut returns: Vec<(tokio::time::Instant, String, bool)> = Vec::new();
        loop {
            let next_return = returns.iter().map(|r| r.0).min();
            let wake = [Some(next_call), Some(next_pause), next_return]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(next_call);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep_until(wake) => {}
            }
            let now = tokio::time::Instant::now();
            if now >= next_call {
                self.incoming_call(&sim, &mut rng);
                next_call = now + sample(&mut rng, &self.arrival_gap);
            }
            if now >= next_pause {
                let busy: Vec<&String> = returns.iter().map(|r| &r.1).collect();
                let free: Vec<&DemoAgent> = self
                    .agents
                    .iter()
                    .filter(|a| !busy.contains(&&a.interface()))
                    .collect();
                if let Some(agent) = free.choose(&mut rng) {
                    let iface = agent.interface();
                    let back = now + sample(&mut rng, &self.pause_length);
                    if rng.gen_bool(0.2) {
                        sim.set_device_state(&iface, DeviceState::Unavailable);
                        returns.push((back, iface, false));
                    } else {
                        let reason = PAUSE_REASONS.choose(&mut rng).copied().unwrap_or("小休");
                        if sim.set_paused(&iface, None, true, reason).is_ok() {
                            returns.push((back, iface, true));
                        }
                    }
                }
                next_pause = now + sample(&mut rng, &self.pause_gap);
            }
            let (due, later): (Vec<_>, Vec<_>) = returns.into_iter().partition(|r| r.0 <= now);
            returns = later;
            for (_, iface, was_pause) in due {
                if was_pause {
                    let _ = sim.set_paused(&iface, None, false, "");
                } else {
                    sim.set_device_state(&iface, DeviceState::NotInUse);
                }
            }
        }
    }

    fn incoming_call(&self, sim: &SimHandle, rng: &mut StdRng) {
        let Some(queue) = self.queues.choose(rng) else {
            return;
        };
        let prefix = MOBILE_PREFIXES.choose(rng).copied().unwrap_or("138");
        let number = format!("{prefix}{:08}", rng.gen_range(0..100_000_000u32));
        let name = CALLER_NAMES.choose(rng).copied().unwrap_or("");
        let opts = CallOptions {
            max_wait: Some(self.max_wait),
            patience: Some(sample(rng, &self.patience)),
            ..CallOptions::new(number, name)
        };
        if let Err(e) = sim.place_call_with(&queue.name, opts) {
            log::warn!("demo: cannot place a call into {}: {e}", queue.name);
        }
    }
}
