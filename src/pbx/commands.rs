//! The AMI actions the console sends to change Asterisk: queue membership (`QueueAdd`,
//! `QueueRemove`), pauses (`QueuePause`), reloads (`QueueReload`, and `Reload` of the
//! dialplan module), the AstDB entries our dialplan reads (`DBPut`, `DBDel`, `DBDelTree`), and the listing of the
//! extensions every channel driver has (`PJSIPShowEndpoints`, `SIPpeers`, `IAXpeerlist`,
//! `DAHDIShowChannels`). Idempotent where Asterisk allows: adding a member already there or
//! removing one already gone is success.

use crate::ami::{self, Action, Message};
use crate::store::agents::PbxExtension;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("Asterisk is not reachable: {0}")]
    Unavailable(#[from] ami::AmiError),
    #[error("Asterisk refused: {0}")]
    Refused(String),
}

fn check(response: ami::Response, tolerated: &[&str]) -> Result<(), CommandError> {
    if response.is_success() {
        return Ok(());
    }
    let message = response.message().unwrap_or("").to_string();
    if tolerated.iter().any(|t| message.contains(t)) {
        return Ok(());
    }
    Err(CommandError::Refused(message))
}

/// `QueueAdd` of an agent's interface, named, with its device state followed.
pub async fn add_member(
    client: &ami::Client,
    queue: &str,
    interface: &str,
    name: &str,
) -> Result<(), CommandError> {
    let action = Action::new("QueueAdd")
        .field("Queue", queue)
        .field("Interface", interface)
        .field("MemberName", name)
        .field("StateInterface", interface)
        .field("Penalty", "0")
        .field("Paused", "false");
    check(client.send(action).await?, &["Already there"])
}

pub async fn remove_member(
    client: &ami::Client,
    queue: &str,
    interface: &str,
) -> Result<(), CommandError> {
    let action = Action::new("QueueRemove")
        .field("Queue", queue)
        .field("Interface", interface);
    check(client.send(action).await?, &["Not there"])
}

/// `QueuePause` in every queue of the interface (no `Queue`: Asterisk's PAUSEALL).
pub async fn pause(
    client: &ami::Client,
    interface: &str,
    paused: bool,
    reason: &str,
) -> Result<(), CommandError> {
    let mut action = Action::new("QueuePause")
        .field("Interface", interface)
        .field("Paused", if paused { "true" } else { "false" });
    if !reason.is_empty() {
        action = action.field("Reason", reason);
    }
    check(client.send(action).await?, &[])
}

/// `Reload` of one module (`pbx_config` re-reads extensions.conf and our include).
pub async fn reload_module(client: &ami::Client, module: &str) -> Result<(), CommandError> {
    check(
        client
            .send(Action::new("Reload").field("Module", module))
            .await?,
        &[],
    )
}

/// `DBPut`: sets `family/key` in Asterisk's database (read by the dialplan's `DB()`).
pub async fn db_put(
    client: &ami::Client,
    family: &str,
    key: &str,
    value: &str,
) -> Result<(), CommandError> {
    let action = Action::new("DBPut")
        .field("Family", family)
        .field("Key", key)
        .field("Val", value);
    check(client.send(action).await?, &[])
}

/// `DBDel`; an entry already gone is success.
pub async fn db_del(client: &ami::Client, family: &str, key: &str) -> Result<(), CommandError> {
    let action = Action::new("DBDel")
        .field("Family", family)
        .field("Key", key);
    check(client.send(action).await?, &["Database entry not found"])
}

/// `DBDelTree` of a whole family; an empty family is success.
pub async fn db_del_tree(client: &ami::Client, family: &str) -> Result<(), CommandError> {
    let action = Action::new("DBDelTree").field("Family", family);
    check(client.send(action).await?, &["Database entry not found"])
}

/// The strategy Asterisk rings `queue` with now (`QueueStatus`' `QueueParams`); `None` when
/// it has no such queue.
pub async fn queue_strategy(
    client: &ami::Client,
    queue: &str,
) -> Result<Option<String>, CommandError> {
    let response = client
        .send(Action::new("QueueStatus").field("Queue", queue))
        .await?;
    if !response.is_success() {
        return Err(CommandError::Refused(
            response.message().unwrap_or("").to_string(),
        ));
    }
    Ok(response
        .events
        .iter()
        .find(|e| e.event() == Some("QueueParams") && e.get("Queue") == Some(queue))
        .and_then(|e| e.get("Strategy"))
        .map(str::to_string))
}

/// Re-reads one queue's parameters from the configuration (our generated include among
/// them). Asterisk 22 keeps the queue's counters (`Completed`, `Abandoned`) when it does.
pub async fn reload_queue(client: &ami::Client, queue: &str) -> Result<(), CommandError> {
    let action = Action::new("QueueReload")
        .field("Queue", queue)
        .field("Members", "no")
        .field("Rules", "no")
        .field("Parameters", "yes");
    check(client.send(action).await?, &[])
}

/// Every extension the running Asterisk offers, whichever channel drivers it has loaded: a
/// driver that is not loaded answers an error and is skipped. Names that are not extension
/// numbers (trunks such as `provider-out`) are left out.
pub async fn list_extensions(client: &ami::Client) -> Result<Vec<PbxExtension>, CommandError> {
    let mut found = Vec::new();
    let mut answered = false;
    for (action, item_event, name_key, technology) in [
        ("PJSIPShowEndpoints", "EndpointList", "ObjectName", "PJSIP"),
        ("SIPpeers", "PeerEntry", "ObjectName", "SIP"),
        ("IAXpeerlist", "PeerEntry", "ObjectName", "IAX2"),
        (
            "DAHDIShowChannels",
            "DAHDIShowChannels",
            "DAHDIChannel",
            "DAHDI",
        ),
    ] {
        let response = client.send(Action::new(action)).await?;
        answered = true;
        if !response.is_success() {
            continue;
        }
        for item in response
            .events
            .iter()
            .filter(|e| e.event() == Some(item_event))
        {
            if let Some(extension) = extension_name(item, name_key) {
                if technology == "DAHDI" && !is_analog_phone_port(item) {
                    continue;
                }
                if !found
                    .iter()
                    .any(|e: &PbxExtension| e.extension == extension)
                {
                    found.push(PbxExtension {
                        interface: format!("{technology}/{extension}"),
                        extension,
                        technology: technology.to_string(),
                    });
                }
            }
        }
    }
    if !answered {
        return Err(CommandError::Refused("no channel driver answered".into()));
    }
    found.sort_by(|a, b| a.extension.cmp(&b.extension));
    Ok(found)
}

fn extension_name(item: &Message, key: &str) -> Option<String> {
    let name = item.get(key)?.trim();
    let looks_like_extension =
        !name.is_empty() && name.len() <= 16 && name.chars().all(|c| c.is_ascii_digit());
    looks_like_extension.then(|| name.to_string())
}

/// The analog extensions are the phones on FXS ports, which Asterisk drives with FXO
/// signalling (`FXO Kewlstart`, `FXO Loopstart`); lines to the exchange (FXS signalling on
/// an FXO port) and digital trunks are not extensions.
fn is_analog_phone_port(item: &Message) -> bool {
    item.get("Signalling")
        .map(|s| s.to_ascii_uppercase().starts_with("FXO"))
        .unwrap_or(true)
}
