//! Resident memory per remembered key of a full `MemoryStore`, beside a bare `moka` cache.
//!
//! Fills a store of 1,000,000 keys with completed keys, and a bare
//! `moka::sync::Cache<u128, u64>` (LRU, same capacity) with as many entries, each in a fresh
//! process of its own, and prints how much the resident set grew for each, per key (read
//! from `/proc/self/statm`, so Linux only).
//!
//! cargo run --release -p quickassist-webhooks --example memory_per_key

use std::{error::Error, time::Duration};

use moka::{policy::EvictionPolicy, sync::Cache};
use quickassist_webhooks::idempotency::{Claim, IdempotencyKey, IdempotencyStore, MemoryStore};

/// The page size `statm` counts in on x86_64 and most aarch64 Linux systems.
const PAGE_SIZE: u64 = 4096;

/// How many keys each cache is filled with.
const KEYS: u64 = 1_000_000;

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

fn per_key(grown: u64, keys: u64) -> f64 {
    grown as f64 / keys.max(1) as f64
}

/// Fills a full `MemoryStore` with completed keys; returns the keys and the bytes grown.
fn fill_store() -> Result<(u64, u64), Box<dyn Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    let before = resident_bytes()?;
    // The store's table is pre-sized, so its allocation is counted too.
    let store = MemoryStore::with_capacity(KEYS);
    runtime.block_on(async {
        for n in 0..KEYS {
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
    let grown = resident_bytes()?.saturating_sub(before);
    drop(store);
    Ok((remembered, grown))
}

/// moka's floor: the same capacity and policy, a 16-byte key and an 8-byte value.
fn fill_bare_moka() -> Result<(u64, u64), Box<dyn Error>> {
    let before = resident_bytes()?;
    let bare: Cache<u128, u64> = Cache::builder()
        .max_capacity(KEYS)
        .initial_capacity(usize::try_from(KEYS)?)
        .eviction_policy(EvictionPolicy::lru())
        .build();
    for n in 0..KEYS {
        bare.insert(
            u128::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
            n,
        );
    }
    bare.run_pending_tasks();
    let entries = bare.entry_count();
    let grown = resident_bytes()?.saturating_sub(before);
    drop(bare);
    Ok((entries, grown))
}

/// Runs this example again for one of the two measurements, so that neither is filled
/// from memory the other freed; returns its bytes per key.
fn measure_in_child(which: &str) -> Result<f64, Box<dyn Error>> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .arg(which)
        .output()?;
    let text = String::from_utf8(output.stdout)?;
    print!("{text}");
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix("bytes per key: "))
        .ok_or("the child printed no bytes per key")?;
    Ok(line.trim().parse()?)
}

fn main() -> Result<(), Box<dyn Error>> {
    match std::env::args().nth(1).as_deref() {
        Some(which @ ("store" | "moka")) => {
            let (keys, grown) = if which == "store" {
                fill_store()?
            } else {
                fill_bare_moka()?
            };
            println!(
                "{which}: {keys} keys, resident grew {:.1} MiB",
                grown as f64 / 1048576.0
            );
            println!("bytes per key: {:.0}", per_key(grown, keys));
        }
        _ => {
            let store = measure_in_child("store")?;
            let bare = measure_in_child("moka")?;
            println!("ratio: {:.2}x (target: at most 1.10x)", store / bare);
        }
    }
    Ok(())
}
