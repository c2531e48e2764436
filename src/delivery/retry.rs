//! The retry schedule: failed records kept in memory (without a spool) in acceptance order, and when the next
//! resend may happen (a jittered exponential backoff, or a fixed pause), with or without a spool.

use std::collections::btree_map::IntoValues;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::transport::Pending;

const RETRY_BASE: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// The backoff before resend round `round`: 100 ms doubling up to 30 s, less up to half of it at random.
pub fn backoff(round: u32) -> Duration {
  let exp = RETRY_BASE.saturating_mul(1u32 << round.min(16)).min(RETRY_MAX);
  exp.mul_f64(0.5 + rand::random::<f64>() * 0.5)
}

#[derive(Debug, Default)]
pub struct RetryQueue {
  /// Without a spool: failed records waiting to be resent, by acceptance order; new events wait behind them.
  records: BTreeMap<u64, Pending>,
  /// No resend before this (memory and spool alike).
  at: Option<Instant>,
  round: u32,
}

impl RetryQueue {
  pub fn is_empty(&self) -> bool {
    self.records.is_empty()
  }

  pub fn len(&self) -> usize {
    self.records.len()
  }

  pub fn at(&self) -> Option<Instant> {
    self.at
  }

  /// No backoff is running at `now`.
  #[inline]
  pub fn backoff_over(&self, now: Instant) -> bool {
    self.at.is_none_or(|t| t <= now)
  }

  pub fn keep(&mut self, pending: Pending) {
    self.records.insert(pending.seq, pending);
  }

  /// The oldest record (the breaker's probe).
  pub fn pop_first(&mut self) -> Option<Pending> {
    self.records.pop_first().map(|(_, p)| p)
  }

  /// Every record, oldest first; the backoff ends (they are being resent).
  pub fn take_all(&mut self) -> IntoValues<u64, Pending> {
    self.at = None;
    std::mem::take(&mut self.records).into_values()
  }

  /// Drops every record; returns how many there were.
  pub fn clear(&mut self) -> u64 {
    let n = self.records.len() as u64;
    self.records.clear();
    n
  }

  /// A record failed at `now`: a fixed pause when given, else the next backoff round unless one is running.
  pub fn schedule(&mut self, now: Instant, pause: Option<Duration>) {
    match pause {
      Some(pause) => self.at = Some(now + pause),
      None if self.backoff_over(now) => {
        self.at = Some(now + backoff(self.round));
        self.round = self.round.saturating_add(1);
      }
      None => {}
    }
  }

  /// A record was delivered: once nothing waits in memory, the backoff starts over from its first round.
  #[inline]
  pub fn delivered(&mut self) {
    if self.records.is_empty() {
      self.round = 0;
    }
  }
}
