//! Resident memory per tracked message of a full `MemoryStatusTracker`.
//!
//! Fills a tracker of the default capacity with 1,000,000 messages (ids of 16 bytes, like
//! the provider's `msg_…`) and prints how much the process's resident set grew, per message
//! (read from `/proc/self/statm`, so Linux only).
//!
//! cargo run --release -p quickassist-webhooks --example status_memory_per_message

use std::error::Error;

use chrono::{DateTime, Utc};
use quickassist_webhooks::status::{
    MemoryStatusTracker, MessageStatus, StatusTracker, StatusUpdate, DEFAULT_CAPACITY,
};

/// The page size `statm` counts in on x86_64 and most aarch64 Linux systems.
const PAGE_SIZE: u64 = 4096;

/// Resident set size of this process, in bytes.
fn resident_bytes() -> Result<u64, Box<dyn Error>> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .ok_or("/proc/self/statm has no resident field")?
        .parse()?;
    Ok(pages * PAGE_SIZE)
}

fn main() -> Result<(), Box<dyn Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let messages = DEFAULT_CAPACITY;
    let at: DateTime<Utc> = "2024-01-15T10:30:00Z".parse()?;
    let before = resident_bytes()?;

    // The tracker's message table is pre-sized, so its allocation is counted too.
    let tracker = MemoryStatusTracker::new();
    runtime.block_on(async {
        for n in 0..messages {
            let update = StatusUpdate::new(format!("msg_{n:012}"), MessageStatus::Delivered, at);
            if !tracker.apply(&update).await?.is_applied() {
                return Err(format!("message {n} was not new").into());
            }
        }
        Ok::<_, Box<dyn Error>>(())
    })?;
    let tracked = tracker.entry_count();
    let after = resident_bytes()?;

    let grown = after.saturating_sub(before);
    println!("messages tracked: {tracked}");
    println!(
        "resident: {:.1} MiB before, {:.1} MiB after",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0
    );
    println!(
        "bytes per message: {:.0}",
        grown as f64 / tracked.max(1) as f64
    );
    Ok(())
}
