//! The worker's clocks: a `Clock` trait (the system's, or a manual one in tests) and the per-pass reading reused
//! across events.

use std::time::Instant;

use crate::time::now_ms;

/// Monotonic and wall time, read together. Tests drive the worker with a manual one.
pub trait Clock {
  fn now(&self) -> Instant;
  /// Milliseconds since the Unix epoch.
  fn wall_ms(&self) -> i64;
}

/// The system's clocks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
  #[inline]
  fn now(&self) -> Instant {
    Instant::now()
  }

  #[inline]
  fn wall_ms(&self) -> i64 {
    now_ms()
  }
}

/// Both clocks, read together and reused for up to `REUSE` events of one pass: reading them for every event
/// cost the worker more than splitting the event. Acceptance times stay exact (they are worked out from one
/// reading of both); an event's `sentAt` can be early by the time it takes to build a few dozen events (~0.1 ms).
pub struct PassClock {
  wall_ms: i64,
  now: Instant,
  uses_left: u32,
}

impl PassClock {
  const REUSE: u32 = 32;

  pub fn new(clock: &impl Clock) -> PassClock {
    PassClock { wall_ms: clock.wall_ms(), now: clock.now(), uses_left: 0 }
  }

  /// The next event reads the clocks afresh (at the start of a pass, when time has passed since the last).
  pub fn expire(&mut self) {
    self.uses_left = 0;
  }

  #[inline]
  pub fn read(&mut self, clock: &impl Clock) -> (i64, Instant) {
    if self.uses_left == 0 {
      *self = PassClock { wall_ms: clock.wall_ms(), now: clock.now(), uses_left: Self::REUSE };
    }
    self.uses_left -= 1;
    (self.wall_ms, self.now)
  }
}
