//! One event on its way to Kafka (`Pending`) and, once it failed permanently, why (`DeadLetterCause`).

use std::time::Instant;

use crate::error_kind::ErrorKind;
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
  pub key: String,
  pub payload: Vec<u8>,
  pub event_name: &'static str,
  pub message_id: String,
  pub event_time_ms: i64,
  pub accepted_at: Instant,
  pub attempts: u32,
  pub probe: bool,
  /// Set once the event failed permanently: it then goes to the dead-letter topic with these headers.
  pub dead_letter: Option<Box<DeadLetterCause>>,
  pub first_failure_ms: Option<i64>,
  /// Where the event lives in the disk spool when it was read from there (acknowledged after delivery).
  pub spool_pos: Option<SpoolPos>,
}

impl Pending {
  /// The opaque travelling with the record: the same event minus key and payload, which the client copies.
  pub fn meta(&self) -> Pending {
    Pending {
      seq: self.seq,
      key: String::new(),
      payload: Vec::new(),
      event_name: self.event_name,
      message_id: self.message_id.clone(),
      event_time_ms: self.event_time_ms,
      accepted_at: self.accepted_at,
      attempts: self.attempts,
      probe: self.probe,
      dead_letter: self.dead_letter.clone(),
      first_failure_ms: self.first_failure_ms,
      spool_pos: self.spool_pos,
    }
  }
}
