//! Resident memory per remembered key of a full `MemoryStore`.
//!
//! Fills a store of the default capacity with 1,000,000 completed keys and prints how much
//! the process's resident set grew, per key (read from `/proc/self/statm`, so Linux only).
//!
//! cargo run --release -p quickassist-webhooks --example memory_per_key

use std::{error::Error, time::Duration};

use quickassist_webhooks::idempotency::{
    Claim, IdempotencyKey, IdempotencyStore, MemoryStore, DEFAULT_CAPACITY,
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
    let keys = DEFAULT_CAPACITY;
    let before = resident_bytes()?;

    // The store's table is pre-sized, so its allocation is counted too.
    let store = MemoryStore::new();
    runtime.block_on(async {
        for n in 0..keys {
            let key = IdempotencyKey::new(format!("whk_{n:012}"));
            match store.claim(&key, Duration::from_secs(60)).await? {
                Claim::New(token) => {
                    store
                        .complete(&key, token, Duration::from_secs(86_400))
                        .await?;
                }
                other => return Err(format!("key {n} was not new: {other:?}").into()),
            }
        }
        Ok::<_, Box<dyn Error>>(())
    })?;
    let remembered = store.entry_count();
    let after = resident_bytes()?;

    let grown = after.saturating_sub(before);
    println!("keys remembered: {remembered}");
    println!(
        "resident: {:.1} MiB before, {:.1} MiB after",
        before as f64 / 1048576.0,
        after as f64 / 1048576.0
    );
    println!(
        "bytes per key: {:.0} (target: at most 300)",
        grown as f64 / remembered.max(1) as f64
    );
    Ok(())
}
