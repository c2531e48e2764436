//! The event counters, shared lock-free between the JS thread and the background thread.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Counters {
  pub accepted: AtomicU64,
  pub delivered: AtomicU64,
  pub failed: AtomicU64,
  pub retried: AtomicU64,
  pub dropped: AtomicU64,
  pub rejected: AtomicU64,
  pub dead_lettered: AtomicU64,
}

impl Counters {
  pub fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
  }

  pub fn get(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
  }
}
