//! The one record shape of a message ready for Kafka: key, JSON value and what the headers and timestamp need.

/// What `prepare` returns, and what every later stage (in flight, spilled, dead-lettered) carries of the event.
#[derive(Debug, Clone)]
pub struct Message {
  pub key: String,
  pub payload: Vec<u8>,
  pub event_name: &'static str,
  pub message_id: String,
  pub event_time_ms: i64,
}
