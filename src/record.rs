//! The one record shape of a message ready for Kafka (`Message`) and of a message with its delivery history
//! (`Record`): a leaf, since `event` makes it, `spool` stores it and `transport` sends it.

/// What `prepare` returns, and what every later stage (in flight, spilled, dead-lettered) carries of the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
  pub key: String,
  pub payload: Vec<u8>,
  pub event_name: &'static str,
  pub message_id: String,
  pub event_time_ms: i64,
}

impl Message {
  /// The same message without key and payload: what rides along with a send, since the client copies those two.
  pub fn without_body(&self) -> Message {
    Message {
      key: String::new(),
      payload: Vec::new(),
      event_name: self.event_name,
      message_id: self.message_id.clone(),
      event_time_ms: self.event_time_ms,
    }
  }
}

/// A message and how its delivery went so far: the unit the spool stores and the transport resends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
  pub message: Message,
  /// Sends that failed so far.
  pub attempts: u32,
  /// When the first of those failures happened (ms since the epoch), kept for the dead-letter headers.
  pub first_failure_ms: Option<i64>,
}

impl Record {
  /// A message not tried yet.
  pub fn new(message: Message) -> Record {
    Record { message, attempts: 0, first_failure_ms: None }
  }
}

/// Every event name a message can have (`event`'s tests keep this in step with the names it gives).
pub const EVENT_NAMES: &[&str] = &[
  "Workflow Started",
  "Workflow Resumed",
  "Workflow Completed",
  "Workflow Failed",
  "Workflow Cancelled",
  "Workflow Waiting",
  "Node Started",
  "Node Completed",
  "Node Failed",
];

/// The static name of a name read back from disk (the spool stores names as text); an unknown one (a spool written
/// by a newer version) keeps a generic name rather than failing the record.
pub fn known_event_name(name: &str) -> &'static str {
  EVENT_NAMES.iter().copied().find(|n| *n == name).unwrap_or("Workflow Event")
}
