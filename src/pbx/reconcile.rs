//! Brings Asterisk in line with our configuration after every (re)connect: members we keep
//! that Asterisk lacks are added, dynamic members of our agents that we no longer want are
//! removed, and strategies saved while Asterisk was away, or that Asterisk no longer rings
//! with, are applied again (and checked). Members that
//! are not our agents' (static ones from queues.conf, or added by another tool) are left
//! alone.

use crate::ami;
use crate::store::{self, agents, queues, Store};

use super::commands;
use super::model::LiveModel;

/// What the reconcile did, for the log and the tests.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reconciled {
    pub added: Vec<(String, String)>,
    pub removed: Vec<(String, String)>,
    pub reloaded: Vec<String>,
}

pub async fn reconcile(
    client: &ami::Client,
    store: &Store,
    model: &LiveModel,
    queues_conf: &std::path::Path,
) -> Result<Reconciled, store::StoreError> {
    let (desired, our_interfaces, settings) = store
        .call(|conn| {
            let agents = agents::list(conn)?;
            let mut interfaces = vec![];
            for agent in &agents {
                if let Some(ext) = agents::extension(conn, &agent.extension)? {
                    interfaces.push(ext.interface);
                }
            }
            Ok((
                queues::desired_members(conn)?,
                interfaces,
                queues::all_settings(conn)?,
            ))
        })
        .await?;
    let mut done = Reconciled::default();
    for want in &desired {
        let Some(interface) = &want.interface else {
            continue;
        };
        let present = model
            .queues
            .get(&want.queue)
            .is_some_and(|q| q.members.contains_key(interface));
        if !present {
            match commands::add_member(client, &want.queue, interface, &want.name).await {
                Ok(()) => done.added.push((want.queue.clone(), interface.clone())),
                Err(err) => {
                    log::warn!("reconcile: cannot add {interface} to {}: {err}", want.queue)
                }
            }
        }
    }
    for (queue_name, queue) in &model.queues {
        for (interface, member) in &queue.members {
            let ours = our_interfaces.contains(interface);
            let wanted = desired
                .iter()
                .any(|d| &d.queue == queue_name && d.interface.as_deref() == Some(interface));
            if ours && !wanted && member.membership == "dynamic" {
                match commands::remove_member(client, queue_name, interface).await {
                    Ok(()) => done.removed.push((queue_name.clone(), interface.clone())),
                    Err(err) => {
                        log::warn!("reconcile: cannot remove {interface} from {queue_name}: {err}")
                    }
                }
            }
        }
    }
    // Pending changes, and strategies Asterisk lost (the PBX UI wrote its own line back into
    // queues.conf, or a restart read another file).
    for pending in &settings {
        let Some(wanted) = &pending.strategy else {
            continue;
        };
        let differs = model
            .queues
            .get(&pending.queue)
            .is_some_and(|q| &q.strategy != wanted);
        if !pending.strategy_pending && !differs {
            continue;
        }
        match super::directory::apply_strategy(
            client,
            store,
            queues_conf,
            &pending.queue,
            wanted,
            pending.strategy_pending,
        )
        .await
        {
            Ok(super::directory::StrategyApplied::Now) => done.reloaded.push(pending.queue.clone()),
            Ok(super::directory::StrategyApplied::AfterRestart) => log::info!(
                "queue {}: strategy {wanted} rings in order from the next Asterisk restart",
                pending.queue
            ),
            Err(err) => log::warn!("reconcile: strategy of queue {}: {err}", pending.queue),
        }
    }
    Ok(done)
}
