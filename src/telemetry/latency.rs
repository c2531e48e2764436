//! Delivery latency: two rotating one-minute windows for the quantiles, plus cumulative Prometheus-style buckets.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// Upper bounds (ms) of the cumulative latency buckets, Prometheus style.
pub const LATENCY_BUCKETS_MS: &[f64] =
  &[1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0];

/// Latency over the last one to two minutes (two rotating windows) plus cumulative buckets.
pub(super) struct Latency {
  current: Histogram<u64>,
  previous: Histogram<u64>,
  rotated_at: Instant,
  pub(super) buckets: Vec<u64>,
  pub(super) count: u64,
  pub(super) sum_ms: f64,
}

const WINDOW: Duration = Duration::from_secs(60);

impl Latency {
  pub(super) fn new() -> Self {
    let histogram = || Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("static histogram bounds are valid");
    Self {
      current: histogram(),
      previous: histogram(),
      rotated_at: Instant::now(),
      buckets: vec![0; LATENCY_BUCKETS_MS.len()],
      count: 0,
      sum_ms: 0.0,
    }
  }

  pub(super) fn rotate_if_due(&mut self) {
    if self.rotated_at.elapsed() >= WINDOW {
      std::mem::swap(&mut self.current, &mut self.previous);
      self.current.reset();
      self.rotated_at = Instant::now();
    }
  }

  pub(super) fn record(&mut self, latency: Duration) {
    let micros = (latency.as_micros() as u64).clamp(1, 3_600_000_000);
    self.current.saturating_record(micros);
    let ms = micros as f64 / 1000.0;
    if let Some(i) = LATENCY_BUCKETS_MS.iter().position(|b| ms <= *b) {
      self.buckets[i] += 1;
    }
    self.count += 1;
    self.sum_ms += ms;
  }

  pub(super) fn quantile_ms(&self, q: f64) -> Option<f64> {
    let mut merged = self.current.clone();
    merged.add(&self.previous).ok()?;
    (!merged.is_empty()).then(|| merged.value_at_quantile(q) as f64 / 1000.0)
  }
}
