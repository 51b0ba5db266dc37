//! Facts about the box itself read from the kernel. For now its identity (hostname); memory,
//! disk, USB storage and uptime join it with the live-monitoring work.

/// The kernel's hostname, or `coocenter` when it cannot be read.
pub fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "coocenter".to_string())
}
