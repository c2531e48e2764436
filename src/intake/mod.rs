//! What a log call does on the caller's thread: hand its validated input over, queue it, count it.
//! The worker drains the same queue; everything the two threads share lives here.

pub mod queue;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::config::Config;
use crate::event::EventContext;
use crate::packed::Queued;
use crate::telemetry::{Counters, Diagnostics, Level, Metrics};
use queue::EventQueue;

/// Everything the JS thread and the worker share: what a log call needs, and what the worker drains.
pub struct Intake {
  pub config: Config,
  pub context: EventContext,
  pub queue: EventQueue<Queued>,
  pub metrics: Arc<Metrics>,
  pub diag: Arc<Diagnostics>,
  pub intake_open: AtomicBool,
}

impl Intake {
  /// The hot path: queues what a log call read, or counts why it was rejected (shown in the health snapshot
  /// as `lastRejection`). Never blocks, never fails loudly. False when nothing was queued.
  pub fn settle(&self, read: Result<Queued, String>) -> bool {
    match read {
      Ok(input) => self.accept(input),
      Err(reason) => {
        self.metrics.reject(reason);
        false
      }
    }
  }

  /// False when the logger no longer takes events.
  fn accept(&self, input: Queued) -> bool {
    if !self.intake_open.load(Ordering::Relaxed) {
      Counters::add(&self.metrics.counters.rejected, 1);
      return false;
    }
    let counters = &self.metrics.counters;
    Counters::add(&counters.accepted, 1);
    let evicted = self.queue.push(input);
    if evicted.for_count > 0 {
      Counters::add(&counters.dropped, evicted.for_count.into());
      self.diag.limited(Level::Warn, "queue-full", "queue full: dropped the oldest event");
    }
    if evicted.for_bytes > 0 {
      // The same counter as a full queue (an alert on drops sees both); the warning names the bound.
      Counters::add(&counters.dropped, evicted.for_bytes.into());
      self.diag.limited(Level::Warn, "queue-bytes", "queue over QUEUE_MAX_BYTES: dropped the oldest events");
    }
    true
  }
}
