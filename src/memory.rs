//! How the process's heap gives memory back, set once at start.
//!
//! Every password hash (argon2id, OWASP's 19 MiB, `accounts::password`) allocates a 19 MiB
//! block array and frees it. glibc serves an allocation that large with `mmap` at first,
//! but after freeing one it raises its *dynamic* mmap threshold to that size, so every later
//! hash comes from the heap arenas of whichever blocking thread ran it, and freed heap memory
//! stays resident. Measured on the daemon before this: 12.9 MB idle, 752 MB after 240 failed
//! logins over many addresses, 1.2 GB after ~350 good ones (issue 10), far over the unit's
//! `MemoryMax=128M` and DESIGN.md's 48 MiB.
//!
//! Fixing the threshold (`M_MMAP_THRESHOLD`) turns the dynamic adjustment off: allocations of
//! 1 MiB and more are always their own mapping and are unmapped on `free`, so resident memory
//! falls back after each hash whatever thread ran it. Chosen over keeping one reused 19 MiB
//! buffer (which would stay resident, over the 16 MiB idle budget) and over weaker argon2
//! parameters. Other allocators (musl) return such blocks anyway; this is glibc's knob.

/// Allocations from this size up are mapped and unmapped on their own.
const MMAP_THRESHOLD: libc::c_int = 1024 * 1024;

/// Call first thing in `main`, before any thread exists.
pub fn return_big_blocks_to_the_kernel() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes glibc's allocator tunables; called before other threads.
    unsafe {
        if libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) != 1 {
            log::warn!("mallopt(M_MMAP_THRESHOLD) refused: memory may grow with logins");
        }
    }
}
