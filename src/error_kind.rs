//! Kafka error classes, in the manner of Vector's Kafka sink: librdkafka's codes sorted into `ErrorKind`s (what kind of
//! trouble, and whether a retry can help). Not an error type: `ConfigError` is in `config`, `SpoolError` in `spool`.

use rdkafka::types::RDKafkaErrorCode as Code;

/// The kind of trouble, shown as `lastError.kind` and used in startup error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
  /// A broker host name does not resolve.
  Dns,
  Network,
  Timeout,
  Authentication,
  Authorization,
  Tls,
  MessageTooLarge,
  UnknownTopic,
  InvalidMessage,
  /// Leader changes, missing replicas: the cluster is rearranging itself.
  Cluster,
  QueueFull,
  /// Purged on shutdown: not a delivery failure.
  Purged,
  Internal,
  Kafka,
}

impl ErrorKind {
  pub fn as_str(self) -> &'static str {
    match self {
      Self::Dns => "dns",
      Self::Network => "network",
      Self::Timeout => "timeout",
      Self::Authentication => "authentication",
      Self::Authorization => "authorization",
      Self::Tls => "tls",
      Self::MessageTooLarge => "message_too_large",
      Self::UnknownTopic => "unknown_topic",
      Self::InvalidMessage => "invalid_message",
      Self::Cluster => "cluster",
      Self::QueueFull => "queue_full",
      Self::Purged => "purged",
      Self::Internal => "internal",
      Self::Kafka => "kafka",
    }
  }

  /// Permanent failures cannot succeed by resending the same record; everything else is retried.
  pub fn is_permanent(self) -> bool {
    matches!(self, Self::MessageTooLarge | Self::InvalidMessage | Self::Authorization | Self::UnknownTopic)
  }

  /// Errors that say the cluster as a whole is unreachable or refuses us, whatever the record.
  pub fn is_connectivity(self) -> bool {
    matches!(self, Self::Dns | Self::Network | Self::Timeout | Self::Authentication | Self::Tls)
  }

  /// Error code suffix for a rejected `initialize()` with validateOnStartup.
  pub fn startup_code(self) -> String {
    format!("ERR_KAFKA_LOGGER_{}", self.as_str().to_ascii_uppercase())
  }
}

pub fn classify(code: Code) -> ErrorKind {
  use Code::*;
  match code {
    Resolve => ErrorKind::Dns,
    BrokerTransportFailure | AllBrokersDown | NetworkException | BrokerNotAvailable | Fail => ErrorKind::Network,
    MessageTimedOut | RequestTimedOut | OperationTimedOut | TimedOutQueue => ErrorKind::Timeout,
    Authentication | SaslAuthenticationFailed | UnsupportedSASLMechanism | IllegalSASLState => {
      ErrorKind::Authentication
    }
    TopicAuthorizationFailed | ClusterAuthorizationFailed | TransactionalIdAuthorizationFailed => {
      ErrorKind::Authorization
    }
    SSL => ErrorKind::Tls,
    MessageSizeTooLarge | InvalidMessageSize | MessageBatchTooLarge => ErrorKind::MessageTooLarge,
    UnknownTopic | UnknownTopicOrPartition | InvalidTopic | UnknownTopicId => ErrorKind::UnknownTopic,
    InvalidMessage
    | BadMessage
    | InvalidRecord
    | InvalidTimestamp
    | InvalidArgument
    | PolicyViolation
    | UnsupportedForMessageFormat
    | InvalidRequiredAcks => ErrorKind::InvalidMessage,
    NotLeaderForPartition
    | LeaderNotAvailable
    | NotEnoughReplicas
    | NotEnoughReplicasAfterAppend
    | ReplicaNotAvailable
    | KafkaStorageError
    | PreferredLeaderNotAvailable
    | ThrottlingQuotaExceeded => ErrorKind::Cluster,
    QueueFull => ErrorKind::QueueFull,
    PurgeQueue | PurgeInflight => ErrorKind::Purged,
    Fatal | State | CriticalSystemResource => ErrorKind::Internal,
    _ => ErrorKind::Kafka,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn permanent_and_retriable_classes() {
    for code in [Code::MessageSizeTooLarge, Code::TopicAuthorizationFailed, Code::UnknownTopic, Code::InvalidRecord] {
      assert!(classify(code).is_permanent(), "{code:?}");
    }
    for code in [
      Code::MessageTimedOut,
      Code::AllBrokersDown,
      Code::Resolve,
      Code::NotLeaderForPartition,
      Code::Authentication,
      Code::SSL,
      Code::NotEnoughReplicas,
      Code::QueueFull,
    ] {
      assert!(!classify(code).is_permanent(), "{code:?}");
    }
    assert_eq!(classify(Code::SSL).as_str(), "tls");
    assert_eq!(classify(Code::Resolve).as_str(), "dns");
    assert!(classify(Code::Resolve).is_connectivity());
    assert_eq!(ErrorKind::Authentication.startup_code(), "ERR_KAFKA_LOGGER_AUTHENTICATION");
  }
}
