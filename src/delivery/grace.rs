//! The unknown-topic grace: a topic being created (auto-creation after a broker restart, or by an operator right
//! now) is reported unknown for a moment. Like librdkafka's topic.metadata.propagation.max.ms, the topic counts as
//! missing only once it has been unknown, with no delivery in between, for a grace period.

use std::time::{Duration, Instant};

/// How long the topic may be reported unknown before that counts as a permanent failure.
pub const UNKNOWN_TOPIC_GRACE: Duration = Duration::from_secs(10);
/// Retry pause for a record whose topic is reported unknown within that grace period.
pub const UNKNOWN_TOPIC_PAUSE: Duration = Duration::from_millis(500);

#[derive(Debug, Default)]
pub struct TopicGrace {
  /// Since when the topic has been reported unknown, with no delivery since.
  unknown_since: Option<Instant>,
}

impl TopicGrace {
  /// The topic was reported unknown now: true while that may still be a topic being created.
  pub fn may_be_appearing(&mut self, now: Instant) -> bool {
    now.duration_since(*self.unknown_since.get_or_insert(now)) < UNKNOWN_TOPIC_GRACE
  }

  /// A record reached the topic: it exists.
  #[inline]
  pub fn delivered(&mut self) {
    self.unknown_since = None;
  }
}
