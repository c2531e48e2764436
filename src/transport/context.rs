//! The librdkafka client context: turns delivery reports, client errors and statistics into `Report`s for the
//! worker (and broker states for the health snapshot), and librdkafka's own log lines into diagnostics.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, ProducerContext};
use rdkafka::statistics::Statistics;
use rdkafka::types::RDKafkaErrorCode;

use super::error::{classify, ErrorKind};
use super::{Pending, Report};
use crate::telemetry::{BrokerStatus, Diagnostics, Level, Metrics};

pub struct LoggerContext {
  /// Filled by the callbacks, which librdkafka runs inside the worker's own `poll`; the lock is never contended
  /// and cheaper per report than a channel.
  reports: Mutex<VecDeque<Report>>,
  metrics: Arc<Metrics>,
  diag: Arc<Diagnostics>,
}

impl LoggerContext {
  pub fn new(metrics: Arc<Metrics>, diag: Arc<Diagnostics>) -> LoggerContext {
    LoggerContext { reports: Mutex::default(), metrics, diag }
  }

  /// Appends the reports gathered so far to `into`, in the order they came (a swap when `into` is empty).
  pub fn take_reports(&self, into: &mut VecDeque<Report>) {
    let mut reports = self.reports.lock();
    if into.is_empty() {
      std::mem::swap(&mut *reports, into);
    } else {
      into.append(&mut reports);
    }
  }
}

impl ClientContext for LoggerContext {
  fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
    let level = match level {
      RDKafkaLogLevel::Emerg | RDKafkaLogLevel::Alert | RDKafkaLogLevel::Critical | RDKafkaLogLevel::Error => {
        Level::Error
      }
      RDKafkaLogLevel::Warning => Level::Warn,
      _ => return,
    };
    self.diag.limited(level, "librdkafka", &format!("librdkafka {fac}: {message}"));
  }

  fn stats(&self, stats: Statistics) {
    let mut brokers: Vec<BrokerStatus> = stats
      .brokers
      .values()
      .filter(|b| b.nodeid >= 0)
      .map(|b| BrokerStatus {
        name: b.name.clone(),
        state: b.state.clone(),
        rtt_ms: b.rtt.as_ref().map(|w| w.avg as f64 / 1000.0),
      })
      .collect();
    brokers.sort_by(|a, b| a.name.cmp(&b.name));
    self.metrics.update_status(|s| s.brokers = brokers);
  }

  fn error(&self, error: KafkaError, reason: &str) {
    let code = error.rdkafka_error_code();
    let kind = code.map_or(ErrorKind::Kafka, classify);
    // "n/m brokers are down" follows a broker's own failure and names no cause (delivery/cause.rs).
    let summary = code == Some(RDKafkaErrorCode::AllBrokersDown);
    self.reports.lock().push_back(Report::ClientError { kind, message: self.diag.scrub(reason), summary });
  }
}

impl ProducerContext for LoggerContext {
  type DeliveryOpaque = Box<Pending>;

  fn delivery(&self, result: &DeliveryResult<'_>, pending: Box<Pending>) {
    let mut pending = pending.reclaim();
    let report = match result {
      Ok(_) => Report::Delivered(pending),
      Err((error, message)) => {
        // The payload comes back from librdkafka only when it is needed: on failure.
        let m = &mut pending.record.message;
        m.payload = message.payload().map(<[u8]>::to_vec).unwrap_or_default();
        m.key = message.key().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default();
        let kind = error.rdkafka_error_code().map_or(ErrorKind::Kafka, classify);
        Report::Failed { pending, kind, message: self.diag.scrub(&error.to_string()) }
      }
    };
    self.reports.lock().push_back(report);
  }
}
