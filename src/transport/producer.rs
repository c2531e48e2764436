//! The `Transport` over librdkafka: a `BaseProducer` with our context, woken by its event queue (wakeup.rs).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _, PurgeConfig};
use rdkafka::types::RDKafkaErrorCode;

use super::config::{client_config, config_error};
use super::context::LoggerContext;
use super::error::{classify, ErrorKind, SendError};
use super::wakeup::ReportWakeup;
use super::{Pending, Purge, Report, Transport};
use crate::config::{Config, ConfigError};
use crate::telemetry::{Diagnostics, Metrics};

pub type Producer = BaseProducer<LoggerContext>;

pub struct RdkafkaTransport {
  /// Declared before `producer`: dropped first, while librdkafka still runs.
  wakeup: ReportWakeup,
  producer: Producer,
  topic: String,
  /// Empty without a dead-letter topic (nothing is sent there then).
  dlq_topic: String,
}

impl RdkafkaTransport {
  /// The producer for `config`; its reports wake the calling thread, which must be the one that polls it.
  pub fn open(config: &Config, metrics: Arc<Metrics>, diag: Arc<Diagnostics>) -> Result<RdkafkaTransport, ConfigError> {
    let producer: Producer = client_config(config)
      .create_with_context(LoggerContext::new(metrics, diag))
      .map_err(|e| config_error(config, e))?;
    Ok(RdkafkaTransport {
      wakeup: ReportWakeup::for_current_thread(&producer),
      producer,
      topic: config.topic.clone(),
      dlq_topic: config.dlq_topic.clone().unwrap_or_default(),
    })
  }
}

/// The record for `topic`, or for `dlq_topic` with the failure in `dlq-*` headers once it is a dead letter.
fn record<'a>(pending: &'a Pending, topic: &'a str, dlq_topic: &'a str) -> BaseRecord<'a, str, [u8], Box<Pending>> {
  let m = pending.message();
  let mut headers = OwnedHeaders::new_with_capacity(9)
    .insert(Header { key: "content-type", value: Some("application/json") })
    .insert(Header { key: "event", value: Some(m.event_name) })
    .insert(Header { key: "message-id", value: Some(m.message_id.as_str()) });
  let mut target = topic;
  if let Some(dead) = &pending.dead_letter {
    target = dlq_topic;
    let texts = [
      ("dlq-original-topic", topic.to_string()),
      ("dlq-error-kind", dead.kind.as_str().to_string()),
      ("dlq-error-message", dead.message.clone()),
      ("dlq-attempts", pending.record.attempts.to_string()),
      ("dlq-first-failure", crate::time::iso_millis(dead.first_failure_ms)),
      ("dlq-last-failure", crate::time::iso_millis(dead.last_failure_ms)),
    ];
    for (key, value) in &texts {
      headers = headers.insert(Header { key, value: Some(value.as_str()) });
    }
  }
  BaseRecord::with_opaque_to(target, Box::new(pending.meta()))
    .key(m.key.as_str())
    .payload(m.payload.as_slice())
    .timestamp(m.event_time_ms)
    .headers(headers)
}

impl Transport for RdkafkaTransport {
  #[inline]
  fn send(&mut self, pending: &Pending) -> Result<(), SendError> {
    let Err((error, _record)) = self.producer.send(record(pending, &self.topic, &self.dlq_topic)) else {
      return Ok(());
    };
    let code = error.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail);
    if code == RDKafkaErrorCode::QueueFull {
      return Err(SendError::QueueFull);
    }
    Err(SendError::Failed { kind: classify(code), message: error.to_string() })
  }

  #[inline]
  fn poll(&mut self, timeout: Duration) {
    self.producer.poll(timeout);
  }

  #[inline]
  fn take_reports(&mut self, into: &mut VecDeque<Report>) {
    self.producer.context().take_reports(into);
  }

  fn purge(&mut self, what: Purge) {
    let config = match what {
      Purge::Queued => PurgeConfig::default().queue(),
      Purge::All => PurgeConfig::default().queue().inflight(),
      Purge::AllNonBlocking => PurgeConfig::default().queue().inflight().non_blocking(),
    };
    self.producer.purge(config);
  }

  #[inline]
  fn reports_pending(&self) -> bool {
    self.wakeup.pending()
  }

  fn check_reachable(&mut self, timeout: Duration) -> Result<(), (ErrorKind, String)> {
    let error = match self.producer.client().fetch_metadata(Some(&self.topic), timeout) {
      Ok(_) => return Ok(()),
      Err(error) => error,
    };
    let kind = match &error {
      KafkaError::MetadataFetch(code) => classify(*code),
      _ => ErrorKind::Network,
    };
    Err((kind, error.to_string()))
  }
}
