//! In-flight accounting: records handed to the transport and not settled yet, and how many of them came
//! straight from the queue (not from the spool).

#[derive(Debug, Default)]
pub struct InFlight {
  total: u64,
  /// In flight straight from the queue. Until they settle, nothing is spilled from the queue or replayed: a
  /// failure among them must reach the spool before anything newer (per-execution order).
  direct: u64,
}

impl InFlight {
  #[inline]
  pub fn sent(&mut self, direct: bool) {
    self.total += 1;
    self.direct += u64::from(direct);
  }

  #[inline]
  pub fn settled(&mut self, direct: bool) {
    self.total = self.total.saturating_sub(1);
    if direct {
      self.direct = self.direct.saturating_sub(1);
    }
  }

  pub fn total(&self) -> u64 {
    self.total
  }

  pub fn direct(&self) -> u64 {
    self.direct
  }

  /// Below the cap (QUEUE_MAX_SIZE): more may be sent.
  #[inline]
  pub fn has_room(&self, cap: u64) -> bool {
    self.total < cap
  }

  pub fn room(&self, cap: u64) -> u64 {
    cap.saturating_sub(self.total)
  }
}
