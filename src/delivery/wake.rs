//! When the worker sleeps: a pure decision (`next_wake`) over a snapshot of its state, and the parking it leads to.

use std::time::{Duration, Instant};

use crate::intake::queue::EventQueue;

/// How long the worker naps while records are in flight and the queue is empty. Delivery reports wake it
/// (transport/wakeup.rs), pushes do not (no syscall on the JS thread), so new events wait up to this long.
pub const IN_FLIGHT_POLL: Duration = Duration::from_millis(1);
/// The shortest wait: a timer due now or in the past still parks this long.
pub const MIN_WAIT: Duration = Duration::from_millis(1);

/// What the worker does after a pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
  /// Another pass at once: there is work it may do now.
  Now,
  /// Park up to this long; a push to the queue wakes it (new events could go out).
  Sleep(Duration),
  /// Park up to this long; only commands, delivery reports and timers wake it (new events cannot go out yet).
  Nap(Duration),
}

/// Everything `next_wake` looks at, read from the worker after a pass.
#[derive(Debug, Clone, Copy)]
pub struct WakeInputs {
  pub queue_empty: bool,
  /// Records wait in memory for a resend.
  pub retry_waiting: bool,
  /// No resend before this.
  pub retry_at: Option<Instant>,
  /// Records wait in the solo lane: they go one at a time with nothing else in flight, and nothing else goes.
  pub solo_waiting: bool,
  /// The breaker lets nothing but a probe through (never while shutting down).
  pub breaker_holds: bool,
  pub in_flight: u64,
  pub direct_in_flight: u64,
  /// The in-flight cap (QUEUE_MAX_SIZE).
  pub cap: u64,
  /// There is a spool.
  pub spool: bool,
  /// Every event goes through the spool now.
  pub spool_active: bool,
  /// The spool has records to read that are not in flight.
  pub spool_readable: bool,
  /// QUEUE_FLUSH_INTERVAL: the longest sleep.
  pub flush_interval: Duration,
  /// SPOOL_SYNC_INTERVAL: how often queued events are moved to the spool while they are spilled.
  pub spool_sync_interval: Duration,
  /// Other deadlines: the breaker's probe, the earliest flush, the shutdown's stop, the spool's group commit.
  pub timers: [Option<Instant>; 4],
}

/// Sleeps until there is something to do: a delivery report, a new event, a retry, a timer or a command.
pub fn next_wake(now: Instant, i: &WakeInputs) -> Wake {
  // While the spool is in use, queued events wait until the direct records in flight have settled.
  let spool_waits = i.direct_in_flight > 0 && i.spool_active;
  let room = i.in_flight < i.cap;
  let backoff_over = i.retry_at.is_none_or(|t| t <= now);
  if i.solo_waiting && i.in_flight == 0 && !i.breaker_holds && backoff_over {
    return Wake::Now;
  }
  let can_send_new = !i.retry_waiting && !i.solo_waiting && !i.breaker_holds && !spool_waits && room;
  if can_send_new && !i.queue_empty {
    return Wake::Now;
  }
  if i.retry_waiting && backoff_over && !i.breaker_holds && !i.solo_waiting {
    return Wake::Now;
  }
  let replay_ready = i.direct_in_flight == 0 && i.spool_active && i.spool_readable;
  if !i.breaker_holds && backoff_over && room && replay_ready && !i.solo_waiting {
    return Wake::Now;
  }
  // While events are spilled rather than sent, they are moved to disk once per group-commit interval.
  let spill_due = (i.spool && !i.queue_empty).then(|| now + i.spool_sync_interval);
  // A retry time already past is no timer: nothing waits for it (a due resend returned above, an open breaker
  // has its own). Kept, it made an idle worker wake every millisecond after an outage.
  let retry_due = i.retry_at.filter(|t| *t > now);
  let until = [retry_due, spill_due].into_iter().chain(i.timers).flatten().fold(now + i.flush_interval, Instant::min);
  let timeout = until.saturating_duration_since(now).max(MIN_WAIT);
  if i.in_flight > 0 {
    Wake::Nap(timeout.min(IN_FLIGHT_POLL))
  } else if can_send_new {
    Wake::Sleep(timeout)
  } else {
    Wake::Nap(timeout)
  }
}

/// Parks the worker thread as `wake` says (`Now` returns at once).
pub fn park<T>(queue: &EventQueue<T>, wake: Wake) {
  match wake {
    Wake::Now => {}
    Wake::Sleep(timeout) => queue.sleep(timeout),
    Wake::Nap(timeout) => queue.nap(timeout),
  }
}
