//! Test helpers around the PBX simulator: a daemon pointed at it, waiting for the AMI session,
//! and what the simulator received.

use std::time::{Duration, Instant};

use coocenterd::simulator::SimHandle;

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
