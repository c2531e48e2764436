//! Per-logger facts stamped on every event, with the constant `context` object encoded once.

use super::json::Json;
use crate::config::{ErrorDetail, Redaction};

pub const LIBRARY_NAME: &str = "n8n-kafka-execution-logger";
pub const LIBRARY_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Per-logger facts stamped on every event.
#[derive(Debug, Clone)]
pub struct EventContext {
  pub instance_id: String,
  pub instance_type: String,
  pub n8n_version: Option<String>,
  pub environment: String,
  /// The event's `context` object, the same for every event: written once here, copied into each event.
  pub(super) context_json: Box<[u8]>,
  /// MESSAGE_FORMAT=fork: the fork's fields besides the current ones (docs/migrating-from-the-fork.md).
  pub(super) fork: bool,
  /// KEY=message: the record key is the messageId, as the fork keyed.
  pub(super) key_by_message: bool,
  /// ERROR_DETAIL: how much of an error's text the event carries.
  pub(super) error_detail: ErrorDetail,
  /// REDACT: patterns hidden in the error's text before it is written.
  pub(super) redaction: Option<Redaction>,
}

impl EventContext {
  pub fn new(instance_id: String, instance_type: String, n8n_version: Option<String>, environment: String) -> Self {
    let mut json = Json::with_capacity(128);
    json.begin_object();
    json.key("app");
    json.begin_object();
    json.key("name");
    json.string("n8n");
    if let Some(version) = &n8n_version {
      json.key("version");
      json.string(version);
    }
    json.end_object();
    json.key("library");
    json.begin_object();
    json.key("name");
    json.string(LIBRARY_NAME);
    json.key("version");
    json.string(LIBRARY_VERSION);
    json.end_object();
    json.end_object();
    Self {
      instance_id,
      instance_type,
      n8n_version,
      environment,
      context_json: json.out.into_boxed_slice(),
      fork: false,
      key_by_message: false,
      error_detail: ErrorDetail::Full,
      redaction: None,
    }
  }

  /// The logger's MESSAGE_FORMAT (fork or current) and KEY (message or execution) settings.
  pub fn with_format(self, fork: bool, key_by_message: bool) -> Self {
    Self { fork, key_by_message, ..self }
  }

  /// The logger's ERROR_DETAIL and REDACT settings.
  pub fn with_error_detail(self, error_detail: ErrorDetail, redaction: Option<Redaction>) -> Self {
    Self { error_detail, redaction, ..self }
  }
}
