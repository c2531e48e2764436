//! Cause memory: keeps the real cause of a connection failure in view. librdkafka follows a broker's failure
//! with "n/m brokers are down", and an authentication or TLS failure with generic network errors; neither names
//! the cause, which is what operators need in `lastError`.

use std::time::{Duration, Instant};

use crate::transport::ErrorKind;

/// How long a failure's cause explains the generic errors after it.
pub const CAUSE_MEMORY: Duration = Duration::from_secs(30);

/// Errors that name the real cause of a connection failure, which a later "all brokers down" must not hide.
pub fn is_specific(kind: ErrorKind) -> bool {
  matches!(kind, ErrorKind::Authentication | ErrorKind::Tls | ErrorKind::Dns)
}

/// A client error as the worker should record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
  pub kind: ErrorKind,
  pub message: String,
  /// False when a recent specific cause explains it: `lastError` keeps that cause (the breaker still counts it).
  pub record: bool,
}

#[derive(Debug, Default)]
pub struct CauseMemory {
  /// The latest client error, when it was a DNS failure: its host explains the summary that follows.
  dns: Option<(String, Instant)>,
  /// The last client error recorded.
  last: Option<(ErrorKind, String, Instant)>,
}

impl CauseMemory {
  /// The last client error recorded, however old (startup validation names it).
  pub fn last(&self) -> Option<(ErrorKind, &str)> {
    self.last.as_ref().map(|(kind, message, _)| (*kind, message.as_str()))
  }

  /// A client error at `now`, as it should be recorded. After a DNS failure the summary carries it (kind dns,
  /// the host in the message); after an authentication, TLS or DNS failure a generic error is not recorded.
  pub fn explain(&mut self, kind: ErrorKind, message: String, summary: bool, now: Instant) -> Explained {
    let (kind, message) = self.with_dns_cause(kind, message, summary, now);
    let recent = |at: &Instant| now.saturating_duration_since(*at) < CAUSE_MEMORY;
    let hidden = !is_specific(kind) && self.last.as_ref().is_some_and(|(k, _, at)| is_specific(*k) && recent(at));
    Explained { kind, message, record: !hidden }
  }

  /// The error was handled: a recorded one becomes the last.
  pub fn remember(&mut self, error: Explained, now: Instant) {
    if error.record {
      self.last = Some((error.kind, error.message, now));
    }
  }

  fn with_dns_cause(&mut self, kind: ErrorKind, message: String, summary: bool, now: Instant) -> (ErrorKind, String) {
    if !summary {
      // Only the latest client error counts: a later refused connection is not blamed on DNS.
      self.dns = (kind == ErrorKind::Dns).then(|| (message.clone(), now));
      return (kind, message);
    }
    match &self.dns {
      Some((cause, at)) if now.saturating_duration_since(*at) < CAUSE_MEMORY => {
        (ErrorKind::Dns, format!("{message}: {cause}"))
      }
      _ => (kind, message),
    }
  }
}
