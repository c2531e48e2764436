//! Sending: moves events from the retry queue, the intake queue or the spool into the transport, as far as the
//! breaker, the retry order and the in-flight cap allow; spills to the spool what cannot go now.

use std::time::{Duration, Instant};

use super::backlog::{Backlog, SPILL_CHUNK};
use super::breaker::{BreakerState, Permit};
use super::clock::Clock;
use super::worker::Worker;
use crate::event::prepare;
use crate::record::Record;
use crate::telemetry::Counters;
use crate::transport::{InHand, Pending, Purge, SendError, Transport};

/// The transport's own queue refused a record: try again shortly, without counting a failure.
const LOCAL_QUEUE_FULL_PAUSE: Duration = Duration::from_millis(20);
/// Events moved from the queue into the spool per pass.
const SPILL_BATCH: usize = 10_000;
/// While the breaker is open, how often records waiting in the transport's queue are purged (to be spilled).
const PURGE_INTERVAL: Duration = Duration::from_millis(500);

impl<T: Transport, C: Clock> Worker<T, C> {
  /// Moves events into the transport as far as the breaker, the retry order and the in-flight cap allow.
  pub(super) fn pump(&mut self, now: Instant) {
    let shutting_down = self.waiters.shutting_down();
    let (permit, transition) = if shutting_down { (Permit::Send, None) } else { self.breaker.permit(now) };
    self.log_transition(transition);
    self.release_direct_in_flight(now);
    self.spill_if_needed();
    if self.solo.busy() {
      return self.send_alone(permit, now);
    }
    if self.backlog.as_ref().is_some_and(Backlog::active) {
      return self.send_from_backlog(permit, now);
    }
    match permit {
      Permit::Hold => {}
      Permit::Probe => {
        let next = self.retry.pop_first().or_else(|| self.next_from_queue());
        if let Some(mut pending) = next {
          pending.probe = true;
          self.breaker.probe_sent();
          self.send(pending, now);
        }
      }
      Permit::Send if !self.retry.is_empty() => {
        if shutting_down || self.retry.backoff_over(now) {
          for pending in self.retry.take_all() {
            self.send(pending, now);
          }
        }
      }
      Permit::Send => {
        let cap = self.config().queue_max_size as u64;
        for _ in 0..self.config().queue_batch_size {
          if !self.in_flight.has_room(cap) || !self.retry.is_empty() {
            break;
          }
          match self.next_from_queue() {
            Some(pending) => self.send(pending, now),
            None => break,
          }
        }
      }
    }
  }

  /// The solo lane goes first, one record at a time, only with nothing else in flight (so that librdkafka puts it
  /// in a batch of its own) and after the retry backoff (a record that failed otherwise holds the lane too).
  fn send_alone(&mut self, permit: Permit, now: Instant) {
    let backoff_over = self.waiters.shutting_down() || self.retry.backoff_over(now);
    if permit == Permit::Hold || self.in_flight.total() > 0 || !backoff_over {
      return;
    }
    if let Some(mut pending) = self.solo.next() {
      if permit == Permit::Probe {
        pending.probe = true;
        self.breaker.probe_sent();
      }
      self.send(pending, now);
    }
  }

  /// With a spool, an open breaker means the queue must go to disk; records sent straight from the queue hold
  /// it back (they settle first, for per-execution order) until they time out after TIMEOUT_SEND, long enough
  /// for a busy queue to overflow. Once it is half full, those still in the transport's queue (never sent, or
  /// back there after a lost connection) are purged, every 500 ms, so they settle now and are spilled ahead of
  /// the queue. Not sooner: a record back from a lost connection may have been written, and a purge sends it
  /// again. Records on the wire are never purged.
  fn release_direct_in_flight(&mut self, now: Instant) {
    let open = !self.waiters.shutting_down() && self.breaker.state() == BreakerState::Open;
    let queue = &self.intake.queue;
    let filling = queue.len() * 2 >= queue.capacity();
    let due = self.last_purge.is_none_or(|t| now.duration_since(t) >= PURGE_INTERVAL);
    if open && filling && due && self.backlog.is_some() && self.in_flight.direct() > 0 {
      self.last_purge = Some(now);
      self.transport.purge(Purge::Queued);
    }
  }

  /// Failed events, and queued ones while the spool is in use or the breaker holds, go to disk in order.
  fn spill_if_needed(&mut self) {
    let Some(backlog) = &self.backlog else { return };
    let holds = !self.waiters.shutting_down() && self.breaker.holds();
    if !(backlog.active() || holds || !self.to_spill.is_empty()) {
      return;
    }
    let failed = std::mem::take(&mut self.to_spill);
    let mut refused = self.spill(failed);
    // Queued events follow one chunk at a time: a large spill never holds more than a chunk of built events.
    let mut moved = 0;
    while refused == 0 && self.in_flight.direct() == 0 && moved < SPILL_BATCH {
      let chunk: Vec<Pending> = std::iter::from_fn(|| self.next_from_queue()).take(SPILL_CHUNK).collect();
      let n = chunk.len();
      refused = self.spill(chunk);
      moved += n;
      if n < SPILL_CHUNK {
        break;
      }
    }
  }

  /// Appends to the spool; returns how many it refused (counted as dropped).
  pub(super) fn spill(&mut self, batch: Vec<Pending>) -> u64 {
    let Some(backlog) = &mut self.backlog else { return 0 };
    let refused = backlog.spill(&batch, &self.intake.diag);
    Counters::add(&self.intake.metrics.counters.dropped, refused);
    refused
  }

  /// Sends spooled events in append order, as far as the breaker, the backoff and the in-flight cap allow.
  fn send_from_backlog(&mut self, permit: Permit, now: Instant) {
    let shutting_down = self.waiters.shutting_down();
    if self.in_flight.direct() > 0 || (!shutting_down && !self.retry.backoff_over(now)) {
      return;
    }
    let room = self.in_flight.room(self.config().queue_max_size as u64) as usize;
    let max = match permit {
      Permit::Hold => 0,
      Permit::Probe => 1,
      Permit::Send => self.config().queue_batch_size.min(room),
    };
    let Some(backlog) = &mut self.backlog else { return };
    for mut pending in backlog.next_batch(max, &mut self.next_seq) {
      if permit == Permit::Probe {
        pending.probe = true;
        self.breaker.probe_sent();
      }
      self.send(pending, now);
    }
  }

  /// The next queued event, built (split, JSON, ids) with this pass's clocks.
  pub(super) fn next_from_queue(&mut self) -> Option<Pending> {
    let queued = self.intake.queue.pop()?;
    let hand = InHand::new();
    let (now_ms, now) = self.pass_clock.read(&self.clock);
    let input = queued.input(&mut self.scratch, now_ms, now);
    let event = prepare(input, &self.intake.context, now_ms);
    self.next_seq += 1;
    hand.into_pending();
    Some(Pending::new(self.next_seq, Record::new(event), input.accepted_at, None))
  }

  pub(super) fn send(&mut self, mut pending: Pending, now: Instant) {
    match self.transport.send(&pending) {
      Ok(()) => self.in_flight.sent(pending.spool_pos.is_none()),
      Err(SendError::QueueFull) => self.retry(pending, now, Some(LOCAL_QUEUE_FULL_PAUSE)),
      Err(SendError::Failed { kind, message }) => {
        // Refused before any batching (e.g. over message.max.bytes): the refusal is the record's own.
        pending.alone = true;
        let message = self.intake.diag.scrub(&message);
        self.settle_failure(Box::new(pending), kind, message, now);
      }
    }
  }
}
