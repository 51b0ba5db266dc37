//! Value types of the configuration that validate themselves while being parsed, so that a
//! bad value is reported at its own line and column.

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Deserializer};

/// An integer that must lie in `MIN..=MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounded<const MIN: u64, const MAX: u64>(pub u64);

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(deserializer)?;
        if value < MIN as i64 || value as u64 > MAX {
            return Err(serde::de::Error::custom(format!(
                "{value} is out of range: must be between {MIN} and {MAX}"
            )));
        }
        Ok(Bounded(value as u64))
    }
}

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    pub fn get(self) -> u64 {
        self.0
    }
}

/// A log level named as in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLevel(pub log::LevelFilter);

impl<'de> Deserialize<'de> for LogLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        let level = match name.as_str() {
            "error" => log::LevelFilter::Error,
            "warn" => log::LevelFilter::Warn,
            "info" => log::LevelFilter::Info,
            "debug" => log::LevelFilter::Debug,
            "trace" => log::LevelFilter::Trace,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "unknown log level \"{other}\": use error, warn, info, debug or trace"
                )))
            }
        };
        Ok(LogLevel(level))
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_str().to_ascii_lowercase())
    }
}

/// `listen = ["0.0.0.0:8080", "[::]:8080"]`: socket addresses, at least one.
pub fn listen_addrs<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<SocketAddr>, D::Error> {
    let raw = Vec::<String>::deserialize(deserializer)?;
    if raw.is_empty() {
        return Err(serde::de::Error::custom(
            "listen needs at least one address, such as \"0.0.0.0:8080\"",
        ));
    }
    raw.iter()
        .map(|text| {
            text.parse::<SocketAddr>().map_err(|_| {
                serde::de::Error::custom(format!(
                    "\"{text}\" is not an address with a port, such as \"0.0.0.0:8080\" or \"[::]:8080\""
                ))
            })
        })
        .collect()
}
