//! Outbound calls an agent dials from its phone (`Dial(PJSIP/<number>@<trunk>)` in the
//! agent's context), as far as the console follows them: the agent's channel and the trunk
//! channel (`Newchannel`), `DialBegin`, `DialEnd` (`ANSWER`) when the far end picks up, the
//! device state of the agent's phone, and the two `Hangup`s. Bridge events are not simulated.

use super::channel::{self, ChanId, ChanState};
use super::config::DeviceState;
use super::engine::{class, Engine};
use super::SimError;

/// An outbound call placed through [`super::SimHandle::outbound_call`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutboundId(pub u64);

#[derive(Debug, Clone)]
pub(crate) struct Outbound {
    pub agent: ChanId,
    pub trunk: ChanId,
    pub interface: String,
    pub answered: bool,
}

impl Engine {
    pub(crate) fn outbound_call(
        &mut self,
        interface: &str,
        number: &str,
    ) -> Result<OutboundId, SimError> {
        let Some((tech, resource)) = interface.split_once('/') else {
            return Err(SimError::InvalidValue(format!("interface {interface}")));
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'+') {
            return Err(SimError::InvalidValue(format!("number {number}")));
        }
        let context = self.config.agent_context.clone();
        let seq = self.next_chan_seq();
        let agent = self.new_channel(
            channel::channel_name(interface, seq),
            ChanState::Ring,
            &context,
            number,
            None,
        );
        {
            let c = self.chan_mut(agent);
            c.cid_num = Some(resource.to_owned());
            c.runs_pbx = true;
            c.app = "Dial".to_owned();
        }
        self.emit_newchannel(agent);
        let linked = self.chan(agent).uniqueid.clone();
        let trunk_name = self.config.inbound_trunk.clone();
        let seq = self.next_chan_seq();
        let trunk = self.new_channel(
            channel::channel_name(&format!("{tech}/{trunk_name}"), seq),
            ChanState::Down,
            &context,
            number,
            Some(linked),
        );
        {
            let c = self.chan_mut(trunk);
            c.cid_num = Some(resource.to_owned());
            c.conn_num = Some(number.to_owned());
        }
        self.emit_newchannel(trunk);
        self.set_device(interface, DeviceState::InUse);
        let mut m = self.chan_event("DialBegin", class::CALL, agent);
        self.chan(trunk).snapshot_into("Dest", &mut m);
        m.push("DialString", format!("{number}@{trunk_name}"));
        self.emit(class::CALL, &m);
        self.set_state(trunk, ChanState::Ringing);
        self.next_outbound += 1;
        let id = OutboundId(self.next_outbound);
        self.outbound.insert(
            id,
            Outbound {
                agent,
                trunk,
                interface: interface.to_owned(),
                answered: false,
            },
        );
        Ok(id)
    }

    pub(crate) fn outbound_answer(&mut self, id: OutboundId) -> Result<(), SimError> {
        let call = self
            .outbound
            .get_mut(&id)
            .ok_or_else(|| SimError::InvalidValue(format!("outbound call {}", id.0)))?;
        if call.answered {
            return Err(SimError::InvalidValue(format!(
                "outbound call {} answered already",
                id.0
            )));
        }
        call.answered = true;
        let (agent, trunk) = (call.agent, call.trunk);
        self.set_state(trunk, ChanState::Up);
        self.set_state(agent, ChanState::Up);
        let mut m = self.chan_event("DialEnd", class::CALL, agent);
        self.chan(trunk).snapshot_into("Dest", &mut m);
        m.push("DialStatus", "ANSWER");
        self.emit(class::CALL, &m);
        Ok(())
    }

    pub(crate) fn outbound_hangup(&mut self, id: OutboundId) -> Result<(), SimError> {
        let call = self
            .outbound
            .remove(&id)
            .ok_or_else(|| SimError::InvalidValue(format!("outbound call {}", id.0)))?;
        if !call.answered {
            let mut m = self.chan_event("DialEnd", class::CALL, call.agent);
            self.chan(call.trunk).snapshot_into("Dest", &mut m);
            m.push("DialStatus", "CANCEL");
            self.emit(class::CALL, &m);
        }
        self.hangup_channel(call.trunk, 16);
        self.hangup_channel(call.agent, 16);
        self.set_device(&call.interface, DeviceState::NotInUse);
        Ok(())
    }
}
