//! Settling: delivery reports and client errors. A delivered record is counted and acknowledged; a failed one is
//! retried in order, given the unknown-topic grace, or sent to the dead letters once.

use std::time::{Duration, Instant};

use super::clock::Clock;
use super::grace::{UNKNOWN_TOPIC_GRACE, UNKNOWN_TOPIC_PAUSE};
use super::worker::Worker;
use crate::telemetry::{Counters, Level};
use crate::transport::{DeadLetterCause, ErrorKind, Pending, Report, Transport};

impl<T: Transport, C: Clock> Worker<T, C> {
  pub(super) fn handle_reports(&mut self, now: Instant) {
    let mut latencies = Vec::new();
    self.transport.take_reports(&mut self.reports);
    // One clock reading for the whole batch: its reports came out of one poll.
    let received = self.clock.now();
    while let Some(report) = self.reports.pop_front() {
      match report {
        Report::Delivered(pending) => {
          let pending = pending.delivered();
          self.in_flight.settled(pending.spool_pos.is_none());
          if pending.alone {
            self.solo.settled();
          }
          let counters = &self.intake.metrics.counters;
          Counters::add(if pending.dead_letter.is_some() { &counters.dead_lettered } else { &counters.delivered }, 1);
          if pending.dead_letter.is_none() {
            self.topic.delivered();
          }
          latencies.push(received.saturating_duration_since(pending.accepted_at));
          if let (Some(backlog), Some(pos)) = (&mut self.backlog, pending.spool_pos) {
            backlog.acknowledge(pos);
          }
          self.retry.delivered();
          let t = self.breaker.record_success();
          self.log_transition(t);
        }
        Report::Failed { pending, kind, message } => {
          self.in_flight.settled(pending.spool_pos.is_none());
          self.settle_failure(pending, kind, message, now);
        }
        Report::ClientError { kind, message, summary } => self.client_error(kind, message, summary, now),
      }
    }
    if !latencies.is_empty() {
      self.intake.metrics.record_latencies(latencies.into_iter());
      if let Some(backlog) = &mut self.backlog {
        backlog.checkpoint();
      }
    }
    if !self.to_spill.is_empty() {
      let failed = std::mem::take(&mut self.to_spill);
      self.spill(failed);
    }
  }

  fn client_error(&mut self, kind: ErrorKind, message: String, summary: bool, now: Instant) {
    let error = self.cause.explain(kind, message, summary, now);
    let text = format!("Kafka client error ({}): {}", error.kind.as_str(), error.message);
    self.intake.diag.limited(Level::Warn, "kafka-client", &text);
    if error.record {
      self.intake.metrics.record_error(error.kind, error.message.clone());
    }
    self.count_connectivity_failure(error.kind, now);
    self.cause.remember(error, now);
  }

  fn count_connectivity_failure(&mut self, kind: ErrorKind, now: Instant) {
    // Connectivity trouble counts toward the breaker only while there is something to deliver.
    let has_work = !self.idle();
    if kind.is_connectivity() && has_work {
      let t = self.breaker.record_failure(now);
      self.log_transition(t);
    }
  }

  /// A record failed: permanent failures go to the dead letters; others wait for an ordered retry.
  pub(super) fn settle_failure(&mut self, mut pending: Box<Pending>, kind: ErrorKind, message: String, now: Instant) {
    if kind == ErrorKind::Purged {
      // Purged by us (shutdown with a spool, or a producer restart): not a failure of the cluster.
      return self.retry(*pending, now, Some(Duration::ZERO));
    }
    let metrics = self.intake.metrics.clone();
    metrics.record_error(kind, message.clone());
    let alone = std::mem::take(&mut pending.alone);
    if alone {
      self.solo.settled();
    }
    pending.record.attempts += 1;
    let was_probe = std::mem::take(&mut pending.probe);
    let at = self.clock.wall_ms();
    pending.record.first_failure_ms.get_or_insert(at);
    let appearing =
      kind == ErrorKind::UnknownTopic && pending.dead_letter.is_none() && self.topic.may_be_appearing(now);
    if appearing {
      // The cluster answered (a probe succeeded); the record waits a moment for its topic, nothing else does.
      if was_probe {
        let t = self.breaker.record_success();
        self.log_transition(t);
      }
      Counters::add(&metrics.counters.retried, 1);
      let grace = UNKNOWN_TOPIC_GRACE.as_secs();
      self.intake.diag.limited(
        Level::Warn,
        "retry",
        &format!("topic reported unknown, retrying for up to {grace} s (it may be being created): {message}"),
      );
      return self.retry(*pending, now, Some(UNKNOWN_TOPIC_PAUSE));
    }
    if kind == ErrorKind::MessageTooLarge && !alone && pending.dead_letter.is_none() {
      // Kafka refuses a whole record batch that is over the topic's max.message.bytes: this record may be small and
      // only its batch-mates too large. It goes again by itself before it can be called too large.
      if was_probe {
        let t = self.breaker.record_success();
        self.log_transition(t);
      }
      Counters::add(&metrics.counters.retried, 1);
      self.intake.diag.limited(
        Level::Warn,
        "batch-too-large",
        "a record batch was over the topic's max.message.bytes: resending its events one by one (keep \
         N8N_KAFKA_LOGGER_RDKAFKA_BATCH_SIZE below the topic's limit to avoid it)",
      );
      return self.solo.keep(*pending);
    }
    let permanent = kind.is_permanent();
    // The dead-letter topic gets one attempt: whatever made it fail (often a missing topic, which librdkafka
    // reports as a retriable timeout), the dead-letter file is the safe place, and a retry would start over.
    if permanent || pending.dead_letter.is_some() {
      if was_probe && permanent {
        // The cluster answered; the record is at fault, not the connection: the probe succeeded.
        let t = self.breaker.record_success();
        self.log_transition(t);
      }
      return self.dead_letter(pending, kind, message, now);
    }
    Counters::add(&metrics.counters.retried, 1);
    self.intake.diag.limited(
      Level::Warn,
      "retry",
      &format!("delivery failed ({}), will retry: {message}", kind.as_str()),
    );
    let t = self.breaker.record_failure(now);
    self.log_transition(t);
    self.retry(*pending, now, None);
  }

  /// Permanent failures go to the dead-letter topic; if that fails too, to the spool's dead-letter file.
  fn dead_letter(&mut self, mut pending: Box<Pending>, kind: ErrorKind, message: String, now: Instant) {
    let at = self.clock.wall_ms();
    let first_failure_ms = pending.record.first_failure_ms.unwrap_or(at);
    match (&self.intake.config.dlq_topic, &pending.dead_letter) {
      (Some(dlq), None) => {
        self.intake.diag.limited(
          Level::Warn,
          "dead-letter",
          &format!(
            "{} {} failed permanently ({}), sending it to {dlq}: {message}",
            pending.message().event_name,
            pending.message().message_id,
            kind.as_str()
          ),
        );
        pending.dead_letter = Some(Box::new(DeadLetterCause { kind, message, first_failure_ms, last_failure_ms: at }));
        self.send(*pending, now)
      }
      _ => {
        let (kind, message) = match pending.dead_letter.take() {
          Some(first) => {
            (first.kind, format!("{}; the dead-letter topic failed too ({}): {message}", first.message, kind.as_str()))
          }
          None => (kind, message),
        };
        let counters = &self.intake.metrics.counters;
        let filed = self.backlog.as_mut().is_some_and(|b| b.dead_letter(&pending, kind, &message));
        Counters::add(if filed { &counters.dead_lettered } else { &counters.failed }, 1);
        let whereto = if filed { "written to the dead-letter file" } else { "dropped" };
        self.intake.diag.limited(
          Level::Error,
          "permanent-failure",
          &format!(
            "{} {} {whereto} after a permanent failure ({}): {message}",
            pending.message().event_name,
            pending.message().message_id,
            kind.as_str()
          ),
        );
        if let (Some(backlog), Some(pos)) = (&mut self.backlog, pending.spool_pos) {
          backlog.acknowledge(pos);
        }
      }
    }
  }

  /// Keeps a record for later: in the spool (where a replayed one already is), or in memory without a spool.
  pub(super) fn retry(&mut self, pending: Pending, now: Instant, pause: Option<Duration>) {
    match (&mut self.backlog, pending.spool_pos) {
      (Some(backlog), Some(_)) => backlog.retry_later(),
      (Some(_), None) => self.to_spill.push(pending),
      (None, _) => self.retry.keep(pending),
    }
    self.retry.schedule(now, pause);
  }
}
