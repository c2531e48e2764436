//! One event on its way to Kafka (`Pending`), once it failed permanently why (`DeadLetterCause`), and the count of
//! events a panic dropped on their way.

use std::cell::Cell;
use std::time::Instant;

use crate::error_kind::ErrorKind;
use crate::record::{Message, Record};
use crate::spool::SpoolPos;

/// Why an event is on its way to the dead-letter topic (sent along in its `dlq-*` headers).
#[derive(Debug, Clone)]
pub struct DeadLetterCause {
  pub kind: ErrorKind,
  pub message: String,
  pub first_failure_ms: i64,
  pub last_failure_ms: i64,
}

/// One event on its way to Kafka: everything needed to resend it or to report on it.
#[derive(Debug, Clone)]
pub struct Pending {
  pub seq: u64,
  /// The message and its delivery history (what the spool stores when the event is spilled).
  pub record: Record,
  pub accepted_at: Instant,
  pub probe: bool,
  /// Sent with nothing else in flight (the solo lane), or refused by the client before batching: a size refusal
  /// is then the record's own, not its batch's.
  pub alone: bool,
  /// Dropping it loses nothing: the copy travelling with librdkafka's record (`meta`), or a delivered event.
  accounted: bool,
  /// Set once the event failed permanently: it then goes to the dead-letter topic with these headers.
  pub dead_letter: Option<Box<DeadLetterCause>>,
  /// Where the event lives in the disk spool when it was read from there (acknowledged after delivery).
  pub spool_pos: Option<SpoolPos>,
}

impl Pending {
  /// A record that starts its way to Kafka now: accepted at `accepted_at`, read from the spool at `spool_pos`.
  pub fn new(seq: u64, record: Record, accepted_at: Instant, spool_pos: Option<SpoolPos>) -> Pending {
    Pending { seq, record, accepted_at, probe: false, alone: false, accounted: false, dead_letter: None, spool_pos }
  }

  /// The message travelling to librdkafka.
  pub fn message(&self) -> &Message {
    &self.record.message
  }

  /// The copy librdkafka carried, back with its delivery report: the event itself again.
  pub fn reclaim(mut self: Box<Self>) -> Box<Self> {
    self.accounted = false;
    self
  }

  /// Kafka has it: whatever happens to this record from here loses nothing.
  pub fn delivered(mut self: Box<Self>) -> Box<Self> {
    self.accounted = true;
    self
  }

  /// The opaque travelling with the record: the same event minus key and payload, which the client copies.
  pub fn meta(&self) -> Pending {
    Pending {
      seq: self.seq,
      record: Record { message: self.record.message.without_body(), ..self.record },
      accepted_at: self.accepted_at,
      probe: self.probe,
      alone: self.alone,
      accounted: true,
      dead_letter: self.dead_letter.clone(),
      spool_pos: self.spool_pos,
    }
  }
}

thread_local! {
  /// Events dropped while this thread unwound from a panic: the events a failed worker pass had in hand.
  static LOST_IN_PANIC: Cell<u64> = const { Cell::new(0) };
}

/// How many events panics on this thread have dropped since the last call (the worker counts them after
/// catching a panic).
pub fn take_lost_in_panic() -> u64 {
  LOST_IN_PANIC.with(|n| n.replace(0))
}

/// One event taken from the queue and not yet a `Pending` (being split and built): counted if a panic drops it.
pub struct InHand(());

impl InHand {
  pub fn new() -> InHand {
    InHand(())
  }

  /// The event became a `Pending`, which counts itself from here.
  pub fn into_pending(self) {
    std::mem::forget(self);
  }
}

impl Drop for InHand {
  fn drop(&mut self) {
    if std::thread::panicking() {
      LOST_IN_PANIC.with(|n| n.set(n.get() + 1));
    }
  }
}

impl Drop for Pending {
  /// An event is dropped either once it settled (delivered, dead-lettered, counted failed, spooled) or because a
  /// panic unwound the frame holding it; only the second drops it uncounted, and this counts it. The opaque copy
  /// librdkafka carries (`meta`) is not an event of its own, and a delivered one is no longer at risk.
  fn drop(&mut self) {
    if std::thread::panicking() && !self.accounted {
      LOST_IN_PANIC.with(|n| n.set(n.get() + 1));
    }
  }
}
