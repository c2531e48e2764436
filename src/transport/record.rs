//! One event on its way to Kafka (`Pending`) and, once it failed permanently, why (`DeadLetterCause`).

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
  /// Set once the event failed permanently: it then goes to the dead-letter topic with these headers.
  pub dead_letter: Option<Box<DeadLetterCause>>,
  /// Where the event lives in the disk spool when it was read from there (acknowledged after delivery).
  pub spool_pos: Option<SpoolPos>,
}

impl Pending {
  /// A record that starts its way to Kafka now: accepted at `accepted_at`, read from the spool at `spool_pos`.
  pub fn new(seq: u64, record: Record, accepted_at: Instant, spool_pos: Option<SpoolPos>) -> Pending {
    Pending { seq, record, accepted_at, probe: false, alone: false, dead_letter: None, spool_pos }
  }

  /// The message travelling to librdkafka.
  pub fn message(&self) -> &Message {
    &self.record.message
  }

  /// The opaque travelling with the record: the same event minus key and payload, which the client copies.
  pub fn meta(&self) -> Pending {
    Pending {
      seq: self.seq,
      record: Record { message: self.record.message.without_body(), ..self.record },
      accepted_at: self.accepted_at,
      probe: self.probe,
      alone: self.alone,
      dead_letter: self.dead_letter.clone(),
      spool_pos: self.spool_pos,
    }
  }
}
