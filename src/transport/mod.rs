//! The only seam to librdkafka: the `Transport` trait the delivery policy drives, its librdkafka implementation
//! (producer.rs; client configuration in config.rs, callbacks in context.rs, wake-ups in wakeup.rs) and the
//! error classification. Nothing outside this folder names a librdkafka type, except the command-line tools.

mod config;
mod context;
pub mod error;
mod producer;
mod record;
mod wakeup;

use std::collections::VecDeque;
use std::time::Duration;

pub use config::{connection_config, validate};
pub use error::{ErrorKind, SendError};
pub use producer::RdkafkaTransport;
pub use record::{take_lost_in_panic, DeadLetterCause, InHand, Pending};

/// What the worker learns from the client, in the order it happened.
pub enum Report {
  Delivered(Box<Pending>),
  Failed {
    pending: Box<Pending>,
    kind: ErrorKind,
    message: String,
  },
  /// A client-level error (all brokers down, authentication, TLS...), not tied to one record. `summary`: the
  /// "n/m brokers are down" that follows a broker's own failure and names no cause.
  ClientError {
    kind: ErrorKind,
    message: String,
    summary: bool,
  },
}

/// Which records to take back from the client; they settle as `Purged` failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purge {
  /// Only those still in the client's queue (never sent, or back there after a lost connection).
  Queued,
  /// Queued and on the wire, waiting for them to settle.
  All,
  /// Queued and on the wire, without waiting.
  AllNonBlocking,
}

/// The client the worker sends through. Statically dispatched: the worker is generic over it.
pub trait Transport {
  /// Hands a record over; its outcome comes back later as a `Report`.
  fn send(&mut self, pending: &Pending) -> Result<(), SendError>;
  /// Serves the client's callbacks for up to `timeout` (reports are gathered, not handled).
  fn poll(&mut self, timeout: Duration);
  /// Appends the reports gathered so far to `into`, in order.
  fn take_reports(&mut self, into: &mut VecDeque<Report>);
  fn purge(&mut self, what: Purge);
  /// Reports are waiting to be polled: the worker must not park (they wake no one until polled).
  fn reports_pending(&self) -> bool;
  /// Asks the cluster for the topic's metadata within `timeout`: the client's error, classified, when it cannot.
  fn check_reachable(&mut self, timeout: Duration) -> Result<(), (ErrorKind, String)>;
}
