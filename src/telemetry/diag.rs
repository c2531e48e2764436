//! Diagnostics from the core: a level-tagged sink (stderr or the caller's logger), rate-limited and scrubbed
//! of every configured secret before anything leaves the process.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
  Error,
  Warn,
  Info,
}

impl Level {
  pub fn as_str(self) -> &'static str {
    match self {
      Self::Error => "error",
      Self::Warn => "warn",
      Self::Info => "info",
    }
  }
}

/// Where diagnostics go. Implementations must not block: they are called from the background thread.
pub trait LogSink: Send + Sync {
  fn log(&self, level: Level, message: &str);
}

pub struct StderrSink;

impl LogSink for StderrSink {
  fn log(&self, level: Level, message: &str) {
    eprintln!("[n8n-kafka-execution-logger] {}: {message}", level.as_str());
  }
}

/// One message per category per this window; the rest are counted and reported with the next one.
const RATE_WINDOW: Duration = Duration::from_secs(10);

pub struct Diagnostics {
  sink: Box<dyn LogSink>,
  secrets: Vec<String>,
  limiter: Mutex<HashMap<&'static str, (Instant, u64)>>,
}

impl Diagnostics {
  pub fn new(sink: Box<dyn LogSink>, secrets: Vec<String>) -> Self {
    let secrets = secrets.into_iter().filter(|s| s.len() >= 3).collect();
    Self { sink, secrets, limiter: Mutex::new(HashMap::new()) }
  }

  /// Replaces every configured secret in `text`; used on anything that may echo broker or config text.
  pub fn scrub(&self, text: &str) -> String {
    self.secrets.iter().fold(text.to_string(), |acc, secret| acc.replace(secret.as_str(), "[redacted]"))
  }

  pub fn log(&self, level: Level, message: &str) {
    self.sink.log(level, &self.scrub(message));
  }

  /// For repetitive trouble (librdkafka errors, delivery failures): at most one line per category per window.
  pub fn limited(&self, level: Level, category: &'static str, message: &str) {
    let suppressed = {
      let mut limiter = self.limiter.lock();
      let now = Instant::now();
      match limiter.get_mut(category) {
        Some((last, count)) if now.duration_since(*last) < RATE_WINDOW => {
          *count += 1;
          return;
        }
        Some((last, count)) => {
          *last = now;
          std::mem::take(count)
        }
        None => {
          limiter.insert(category, (now, 0));
          0
        }
      }
    };
    if suppressed > 0 {
      self.log(level, &format!("{message} ({suppressed} similar messages suppressed)"));
    } else {
      self.log(level, message);
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::Arc;

  #[derive(Default, Clone)]
  struct Capture(Arc<Mutex<Vec<String>>>);

  impl LogSink for Capture {
    fn log(&self, level: Level, message: &str) {
      self.0.lock().push(format!("{}: {message}", level.as_str()));
    }
  }

  #[test]
  fn secrets_are_scrubbed_and_repeats_limited() {
    let capture = Capture::default();
    let d = Diagnostics::new(Box::new(capture.clone()), vec!["hunter2".into(), "".into()]);
    d.log(Level::Warn, "password hunter2 rejected");
    for _ in 0..5 {
      d.limited(Level::Error, "broker", "broker down");
    }
    let lines = capture.0.lock().clone();
    assert_eq!(lines, ["warn: password [redacted] rejected", "error: broker down"]);
  }
}
