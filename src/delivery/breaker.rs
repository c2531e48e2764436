//! Circuit breaker: closed -> open after N consecutive failures, open -> half-open after a growing,
//! jittered timeout, half-open -> closed when one probe event is delivered (or back to open when it fails).

use std::time::{Duration, Instant};

pub use crate::telemetry::BreakerState;

/// What the worker may do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
  /// Send freely.
  Send,
  /// Send exactly one event as the probe, then wait for its outcome.
  Probe,
  /// Send nothing; events stay queued.
  Hold,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
  pub from: BreakerState,
  pub to: BreakerState,
}

#[derive(Debug)]
pub struct Breaker {
  threshold: u32,
  reset_timeout: Duration,
  monitoring_period: Duration,
  state: BreakerState,
  failures: u32,
  last_failure: Option<Instant>,
  open_until: Option<Instant>,
  /// Opens in a row without a success in between: the open time doubles with each.
  consecutive_opens: u32,
  probe_in_flight: bool,
}

/// The open timeout never grows past this many reset timeouts,
const MAX_GROWTH: u32 = 4;
/// nor past this (or the reset timeout itself, when longer): after a long outage the first probe must come
/// soon after the cluster is back, and a probe is one event, cheap for the cluster.
const MAX_GROWN_OPEN: Duration = Duration::from_secs(60);

impl Breaker {
  pub fn new(threshold: u32, reset_timeout: Duration, monitoring_period: Duration) -> Self {
    Self {
      threshold,
      reset_timeout,
      monitoring_period,
      state: BreakerState::Closed,
      failures: 0,
      last_failure: None,
      open_until: None,
      consecutive_opens: 0,
      probe_in_flight: false,
    }
  }

  pub fn state(&self) -> BreakerState {
    self.state
  }

  /// True while nothing but a probe may be sent: open, or half-open with the probe still out.
  pub fn holds(&self) -> bool {
    self.state == BreakerState::Open || (self.state == BreakerState::HalfOpen && self.probe_in_flight)
  }

  /// When an open breaker will let a probe through.
  pub fn open_until(&self) -> Option<Instant> {
    self.open_until.filter(|_| self.state == BreakerState::Open)
  }

  fn go(&mut self, to: BreakerState) -> Option<Transition> {
    let from = std::mem::replace(&mut self.state, to);
    (from != to).then_some(Transition { from, to })
  }

  pub fn permit(&mut self, now: Instant) -> (Permit, Option<Transition>) {
    match self.state {
      BreakerState::Closed => (Permit::Send, None),
      BreakerState::Open if self.open_until.is_some_and(|t| now >= t) => {
        let t = self.go(BreakerState::HalfOpen);
        (Permit::Probe, t)
      }
      BreakerState::Open => (Permit::Hold, None),
      BreakerState::HalfOpen if self.probe_in_flight => (Permit::Hold, None),
      BreakerState::HalfOpen => (Permit::Probe, None),
    }
  }

  pub fn probe_sent(&mut self) {
    self.probe_in_flight = true;
  }

  pub fn record_success(&mut self) -> Option<Transition> {
    self.failures = 0;
    self.probe_in_flight = false;
    self.consecutive_opens = 0;
    match self.state {
      BreakerState::Open => None, // a late success from before the open; wait for the probe
      _ => self.go(BreakerState::Closed),
    }
  }

  pub fn record_failure(&mut self, now: Instant) -> Option<Transition> {
    if self.last_failure.is_some_and(|t| now.duration_since(t) > self.monitoring_period) {
      self.failures = 0;
    }
    self.last_failure = Some(now);
    self.failures = self.failures.saturating_add(1);
    match self.state {
      BreakerState::Closed if self.failures >= self.threshold => self.open(now),
      BreakerState::HalfOpen => self.open(now),
      _ => None,
    }
  }

  fn open(&mut self, now: Instant) -> Option<Transition> {
    self.probe_in_flight = false;
    self.consecutive_opens = self.consecutive_opens.saturating_add(1);
    let growth = 1u32 << (self.consecutive_opens - 1).min(MAX_GROWTH.trailing_zeros());
    let jitter = 1.0 + rand::random::<f64>() * 0.2;
    let open = (self.reset_timeout * growth).min(self.reset_timeout.max(MAX_GROWN_OPEN));
    self.open_until = Some(now + open.mul_f64(jitter));
    self.go(BreakerState::Open)
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const SEC: Duration = Duration::from_secs(1);

  fn breaker() -> Breaker {
    Breaker::new(3, SEC, Duration::from_secs(30))
  }

  #[test]
  fn opens_after_threshold_consecutive_failures() {
    let mut b = breaker();
    let t = Instant::now();
    assert_eq!(b.record_failure(t), None);
    assert_eq!(b.record_failure(t), None);
    assert_eq!(b.record_failure(t), Some(Transition { from: BreakerState::Closed, to: BreakerState::Open }));
    assert_eq!(b.permit(t), (Permit::Hold, None));
  }

  #[test]
  fn a_success_resets_the_count() {
    let mut b = breaker();
    let t = Instant::now();
    b.record_failure(t);
    b.record_failure(t);
    b.record_success();
    b.record_failure(t);
    assert_eq!(b.state(), BreakerState::Closed);
  }

  #[test]
  fn failures_older_than_the_monitoring_period_do_not_count() {
    let mut b = breaker();
    let t = Instant::now();
    b.record_failure(t);
    b.record_failure(t);
    b.record_failure(t + Duration::from_secs(31));
    assert_eq!(b.state(), BreakerState::Closed);
  }

  #[test]
  fn half_open_probes_once_then_closes_or_reopens_with_a_longer_timeout() {
    let mut b = breaker();
    let t = Instant::now();
    for _ in 0..3 {
      b.record_failure(t);
    }
    let first_wait = b.open_until().unwrap() - t;
    assert!(first_wait >= SEC && first_wait <= SEC.mul_f64(1.2));
    let later = t + SEC * 2;
    assert_eq!(b.permit(later).0, Permit::Probe);
    assert_eq!(b.state(), BreakerState::HalfOpen);
    b.probe_sent();
    assert_eq!(b.permit(later).0, Permit::Hold);
    assert_eq!(b.record_failure(later).unwrap().to, BreakerState::Open);
    let second_wait = b.open_until().unwrap() - later;
    assert!(second_wait >= SEC * 2, "{second_wait:?}");
    let much_later = later + SEC * 10;
    assert_eq!(b.permit(much_later).0, Permit::Probe);
    b.probe_sent();
    assert_eq!(b.record_success().unwrap().to, BreakerState::Closed);
    assert_eq!(b.permit(much_later).0, Permit::Send);
  }

  #[test]
  fn the_open_time_grows_to_a_minute_at_most_or_the_reset_timeout_when_longer() {
    for (reset, longest) in [(SEC * 20, SEC * 60), (SEC * 60, SEC * 60), (SEC * 90, SEC * 90), (SEC, SEC * 4)] {
      let mut b = Breaker::new(1, reset, Duration::from_secs(30));
      let mut t = Instant::now();
      let mut waits = Vec::new();
      for _ in 0..6 {
        b.record_failure(t);
        let wait = b.open_until().unwrap() - t;
        waits.push(wait);
        t += wait + SEC;
        assert_eq!(b.permit(t).0, Permit::Probe);
        b.probe_sent();
      }
      let last = *waits.last().unwrap();
      assert!(last >= longest && last <= longest.mul_f64(1.2), "reset {reset:?}: waits {waits:?}");
    }
  }

  proptest::proptest! {
    #[test]
    fn any_sequence_keeps_the_invariants(ops in proptest::collection::vec(0u8..4, 0..200)) {
      let mut b = breaker();
      let mut now = Instant::now();
      for op in ops {
        match op {
          0 => { b.record_failure(now); }
          1 => { b.record_success(); }
          2 => { if b.permit(now).0 == Permit::Probe { b.probe_sent(); } }
          _ => now += Duration::from_millis(700),
        }
        let open_wait = b.open_until().map(|t| t.saturating_duration_since(now));
        proptest::prop_assert!(open_wait.is_none_or(|w| w <= SEC.mul_f64(4.0 * 1.2)));
        proptest::prop_assert_eq!(b.state() == BreakerState::Open, b.open_until().is_some());
        if b.state() == BreakerState::Closed { proptest::prop_assert_eq!(b.permit(now).0, Permit::Send); }
      }
    }
  }
}
