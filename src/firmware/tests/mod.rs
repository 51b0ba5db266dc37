//! Tests of the firmware module against a real `rauc service` (Debian's `rauc`) on a private
//! D-Bus, with file-backed A/B slots and the U-Boot environment in a file (through
//! `fw_printenv`/`fw_setenv` wrappers), and of provisioning and factory reset on temp dirs.
//! The RAUC tests skip, saying so, when `rauc` is not installed; installing plain bundles
//! needs root (RAUC loop-mounts them).

mod console;
mod harness;
mod install;
mod provisioning;
mod refusals;
