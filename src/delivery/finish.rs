//! Answers within their deadlines: flushes (when idle, or at their deadline) and shutdown (drain, then with a
//! spool purge and spool what is left; count what is lost).

use std::time::{Duration, Instant};

use super::backlog::Backlog;
use super::clock::Clock;
use super::waiters::{FlushResult, ShutdownResult};
use super::worker::{delivered_now, Worker};
use crate::telemetry::Counters;
use crate::transport::{Purge, Transport};

impl<T: Transport, C: Clock> Worker<T, C> {
  fn pending_count(&self) -> u64 {
    let spooled = self.backlog.as_ref().map_or(0, |b| b.unacked());
    self.intake.queue.len() as u64
      + self.retry.len() as u64
      + self.solo.direct() as u64
      + self.to_spill.len() as u64
      + self.in_flight.total().max(spooled)
  }

  pub(super) fn answer_flushes(&mut self, now: Instant) {
    if self.waiters.flushes.is_empty() {
      return;
    }
    let idle = self.idle();
    let delivered = delivered_now(&self.intake.metrics);
    let pending = self.pending_count();
    for flush in self.waiters.due_flushes(idle, now) {
      (flush.reply)(FlushResult { delivered: delivered - flush.delivered_at_start, pending });
    }
  }

  pub(super) fn finish_shutdown(&mut self) {
    let Some(deadline) = self.waiters.shutdown.as_ref().map(|s| s.deadline) else { return };
    if self.backlog.is_some() {
      // What Kafka did not acknowledge in time is purged from the transport and spooled for the next start.
      self.transport.purge(Purge::All);
      while self.in_flight.total() > 0 && self.clock.now() < deadline {
        self.transport.poll(Duration::from_millis(5));
        self.handle_reports(self.clock.now());
      }
      self.pass_clock.expire();
      let mut rest = std::mem::take(&mut self.to_spill);
      rest.extend(self.solo.take_direct());
      rest.extend(self.retry.take_all());
      rest.extend(std::iter::from_fn(|| self.next_from_queue()));
      self.spill(rest);
      let now = self.clock.now();
      if let Some(backlog) = &mut self.backlog {
        backlog.sync_if_due(now, true);
      }
    }
    let Some(shutdown) = self.waiters.shutdown.take() else { return };
    let metrics = self.intake.metrics.clone();
    let mut dropped = self.retry.clear() + self.solo.take_direct().count() as u64;
    while self.intake.queue.pop().is_some() {
      dropped += 1;
    }
    Counters::add(&metrics.counters.dropped, dropped);
    let delivered = delivered_now(&metrics) - shutdown.delivered_at_start;
    let result = ShutdownResult {
      delivered,
      pending: if self.backlog.is_some() { 0 } else { self.in_flight.total() },
      dropped,
      spooled: self.backlog.as_ref().map_or(0, Backlog::unacked),
    };
    self.publish_status();
    metrics.update_status(|s| {
      s.running = false;
      s.stopped = true;
      s.in_flight = 0;
      s.retry_pending = 0;
    });
    for flush in std::mem::take(&mut self.waiters.flushes) {
      (flush.reply)(FlushResult {
        delivered: delivered_now(&metrics) - flush.delivered_at_start,
        pending: self.in_flight.total(),
      });
    }
    // Answer first: tearing the transport down may take longer than the caller's deadline allows.
    (shutdown.reply)(result);
    self.transport.purge(Purge::AllNonBlocking);
  }
}
