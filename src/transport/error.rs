//! Error classification at the seam: the kind of trouble (`ErrorKind`, from librdkafka's codes) and why a record
//! could not be handed to the client (`SendError`).

pub use crate::error_kind::{classify, ErrorKind};

/// Why `Transport::send` did not take a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
  /// The client's own queue is full: try again shortly, not a failure.
  QueueFull,
  /// Refused for good or for now, as `kind` says; `message` is the client's text, not scrubbed yet.
  Failed { kind: ErrorKind, message: String },
}
