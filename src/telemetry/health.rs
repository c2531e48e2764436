//! The worker's published status and the health snapshot built from it, the counters and the latency.

use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{json, Value};

use super::counters::Counters;
use super::latency::{Latency, LATENCY_BUCKETS_MS};
use super::spool_status::SpoolStatus;
use crate::error_kind::ErrorKind;
use crate::time::{iso_millis, now_ms};

/// The circuit breaker's state, as the worker publishes it (the breaker itself lives in delivery/).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
  Closed,
  Open,
  HalfOpen,
}

impl BreakerState {
  pub fn as_str(self) -> &'static str {
    match self {
      Self::Closed => "closed",
      Self::Open => "open",
      Self::HalfOpen => "half-open",
    }
  }
}

#[derive(Debug, Clone)]
pub struct LastError {
  pub kind: ErrorKind,
  pub message: String,
  pub at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct Rejection {
  pub reason: String,
  pub at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct BrokerStatus {
  pub name: String,
  pub state: String,
  pub rtt_ms: Option<f64>,
}

/// What the worker reports about itself; written by the worker, read by getHealthMetrics().
#[derive(Debug, Clone)]
pub struct WorkerStatus {
  pub breaker: BreakerState,
  pub last_error: Option<LastError>,
  pub brokers: Vec<BrokerStatus>,
  pub in_flight: u64,
  pub retry_pending: u64,
  pub running: bool,
  pub stopped: bool,
  /// The disk spool's own snapshot, when there is a spool.
  pub spool: Option<SpoolStatus>,
  /// Why the configured spool could not be used (then the logger runs without one).
  pub spool_error: Option<String>,
}

pub struct Metrics {
  pub counters: Counters,
  status: Mutex<WorkerStatus>,
  last_rejection: Mutex<Option<Rejection>>,
  latency: Mutex<Latency>,
  started_at: Instant,
}

/// Inputs of a snapshot that live outside the metrics (queue and configuration).
pub struct SnapshotInputs {
  pub queue_depth: usize,
  pub queue_capacity: usize,
  pub queue_bytes: usize,
  pub queue_max_bytes: usize,
  pub config: Value,
}

impl Metrics {
  pub fn new() -> Self {
    Self {
      counters: Counters::default(),
      status: Mutex::new(WorkerStatus {
        breaker: BreakerState::Closed,
        last_error: None,
        brokers: Vec::new(),
        in_flight: 0,
        retry_pending: 0,
        running: false,
        stopped: false,
        spool: None,
        spool_error: None,
      }),
      last_rejection: Mutex::new(None),
      latency: Mutex::new(Latency::new()),
      started_at: Instant::now(),
    }
  }

  pub fn update_status(&self, f: impl FnOnce(&mut WorkerStatus)) {
    f(&mut self.status.lock());
  }

  pub fn status(&self) -> WorkerStatus {
    self.status.lock().clone()
  }

  pub fn record_error(&self, kind: ErrorKind, message: String) {
    self.update_status(|s| s.last_error = Some(LastError { kind, message, at_ms: now_ms() }));
  }

  pub fn reject(&self, reason: String) {
    Counters::add(&self.counters.rejected, 1);
    *self.last_rejection.lock() = Some(Rejection { reason, at_ms: now_ms() });
  }

  pub fn record_latencies(&self, latencies: impl Iterator<Item = Duration>) {
    let mut latency = self.latency.lock();
    latency.rotate_if_due();
    latencies.for_each(|l| latency.record(l));
  }

  pub fn snapshot(&self, inputs: SnapshotInputs) -> Value {
    let s = self.status();
    let c = &self.counters;
    let latency = self.latency.lock();
    let recent_error = s.last_error.as_ref().is_some_and(|e| now_ms() - e.at_ms < 60_000);
    let status = if s.stopped {
      "stopped"
    } else if s.breaker == BreakerState::Open {
      "unhealthy"
    } else if !s.running
      || s.breaker == BreakerState::HalfOpen
      || recent_error
      || s.retry_pending > 0
      || inputs.queue_depth * 10 >= inputs.queue_capacity * 8
      || inputs.queue_bytes >= inputs.queue_max_bytes / 10 * 8
    {
      "degraded"
    } else {
      "healthy"
    };
    let mut cumulative = 0;
    let buckets: Vec<Value> = LATENCY_BUCKETS_MS
      .iter()
      .zip(&latency.buckets)
      .map(|(le, n)| {
        cumulative += n;
        json!({ "le": le, "count": cumulative })
      })
      .collect();
    json!({
      "status": status,
      "circuitBreaker": { "state": s.breaker.as_str() },
      "queue": {
        "depth": inputs.queue_depth,
        "capacity": inputs.queue_capacity,
        "bytes": inputs.queue_bytes,
        "maxBytes": inputs.queue_max_bytes,
        "inFlight": s.in_flight,
        "retryPending": s.retry_pending,
      },
      "counters": {
        "accepted": Counters::get(&c.accepted),
        "delivered": Counters::get(&c.delivered),
        "failed": Counters::get(&c.failed),
        "retried": Counters::get(&c.retried),
        "dropped": Counters::get(&c.dropped),
        "rejected": Counters::get(&c.rejected),
        "deadLettered": Counters::get(&c.dead_lettered),
      },
      "lastError": s.last_error.as_ref().map(|e| json!({ "kind": e.kind.as_str(), "message": e.message, "at": iso_millis(e.at_ms) })),
      "lastRejection": self.last_rejection.lock().as_ref().map(|r| json!({ "reason": r.reason, "at": iso_millis(r.at_ms) })),
      "deliveryLatencyMs": {
        "p50": latency.quantile_ms(0.5),
        "p99": latency.quantile_ms(0.99),
        "count": latency.count,
        "sum": latency.sum_ms,
        "buckets": buckets,
      },
      "brokers": s.brokers.iter().map(|b| json!({ "name": b.name, "state": b.state, "rttMs": b.rtt_ms })).collect::<Vec<_>>(),
      "spool": match (&s.spool, &s.spool_error) {
        (Some(spool), _) => spool.to_json(),
        (None, Some(error)) => json!({ "enabled": false, "error": error }),
        (None, None) => json!({ "enabled": false }),
      },
      "uptimeMs": self.started_at.elapsed().as_millis() as u64,
      "config": inputs.config,
    })
  }
}

impl Default for Metrics {
  fn default() -> Self {
    Self::new()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn snapshot(m: &Metrics, depth: usize) -> Value {
    snapshot_with_bytes(m, depth, 0)
  }

  fn snapshot_with_bytes(m: &Metrics, depth: usize, bytes: usize) -> Value {
    let inputs = SnapshotInputs {
      queue_depth: depth,
      queue_capacity: 10,
      queue_bytes: bytes,
      queue_max_bytes: 1000,
      config: json!({}),
    };
    m.snapshot(inputs)
  }

  #[test]
  fn status_follows_breaker_queue_and_lifecycle() {
    let m = Metrics::new();
    assert_eq!(snapshot(&m, 0)["status"], "degraded", "not running yet");
    m.update_status(|s| s.running = true);
    assert_eq!(snapshot(&m, 0)["status"], "healthy");
    assert_eq!(snapshot(&m, 8)["status"], "degraded");
    assert_eq!(snapshot_with_bytes(&m, 1, 799)["status"], "healthy");
    assert_eq!(snapshot_with_bytes(&m, 1, 800)["status"], "degraded", "80 % of the byte budget");
    assert_eq!(
      (snapshot_with_bytes(&m, 1, 800)["queue"]["bytes"].as_u64(), snapshot(&m, 1)["queue"]["maxBytes"].as_u64()),
      (Some(800), Some(1000))
    );
    m.update_status(|s| s.breaker = BreakerState::Open);
    assert_eq!(snapshot(&m, 0)["status"], "unhealthy");
    assert_eq!(snapshot(&m, 0)["circuitBreaker"]["state"], "open");
    m.update_status(|s| s.stopped = true);
    assert_eq!(snapshot(&m, 0)["status"], "stopped");
  }

  #[test]
  fn latency_quantiles_and_cumulative_buckets() {
    let m = Metrics::new();
    assert!(snapshot(&m, 0)["deliveryLatencyMs"]["p50"].is_null());
    m.record_latencies((1..=100).map(Duration::from_millis));
    let l = &snapshot(&m, 0)["deliveryLatencyMs"];
    let p50 = l["p50"].as_f64().unwrap();
    let p99 = l["p99"].as_f64().unwrap();
    assert!((49.0..=51.0).contains(&p50), "{p50}");
    assert!((98.0..=100.5).contains(&p99), "{p99}");
    assert_eq!(l["count"], 100);
    assert_eq!(l["buckets"].as_array().unwrap().last().unwrap()["count"], 100);
  }

  #[test]
  fn errors_and_rejections_are_visible() {
    let m = Metrics::new();
    m.record_error(ErrorKind::Authentication, "SASL authentication failed".into());
    m.reject("executionId must be a non-empty string".into());
    let s = snapshot(&m, 0);
    assert_eq!(s["lastError"]["kind"], "authentication");
    assert_eq!(s["counters"]["rejected"], 1);
    assert!(s["lastRejection"]["reason"].as_str().unwrap().contains("executionId"));
  }
}
