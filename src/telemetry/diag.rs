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
    scrub(text, &self.secrets)
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

/// Every byte of `text` inside an occurrence of any secret (overlapping ones too) is covered, and each run of
/// covered bytes becomes one `[redacted]`. Replacing secret by secret would leak: with "abc" and "abcdef" both
/// secrets, replacing "abc" first leaves "[redacted]def", and a later secret could match inside a replacement.
pub fn scrub(text: &str, secrets: &[String]) -> String {
  let mut covered = vec![false; text.len()];
  for secret in secrets.iter().filter(|s| !s.is_empty()) {
    let mut from = 0;
    while let Some(found) = text[from..].find(secret.as_str()) {
      let start = from + found;
      covered[start..start + secret.len()].fill(true);
      // Next match may start inside this one: step one character, not the whole secret.
      from = start + text[start..].chars().next().map_or(1, char::len_utf8);
    }
  }
  if !covered.contains(&true) {
    return text.to_string();
  }
  let mut out = String::with_capacity(text.len());
  let mut at = 0;
  while at < text.len() {
    let run = covered[at..].iter().position(|&c| c != covered[at]).map_or(text.len(), |n| at + n);
    // Runs start and end on character boundaries: a secret is a whole string, so is the text between them.
    out.push_str(if covered[at] { "[redacted]" } else { &text[at..run] });
    at = run;
  }
  out
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

  #[test]
  fn secrets_that_contain_or_overlap_one_another_leave_nothing_behind() {
    let secrets = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Either order: the shorter secret first once left "[redacted]def".
    for list in [["abc", "abcdef"], ["abcdef", "abc"]] {
      assert_eq!(scrub("x abcdef y abc z", &secrets(&list)), "x [redacted] y [redacted] z");
    }
    // Overlapping secrets and overlapping occurrences of one secret become one marker.
    assert_eq!(scrub("1 abcdxyz 2", &secrets(&["abcd", "dxyz"])), "1 [redacted] 2");
    assert_eq!(scrub("aaaa", &secrets(&["aaa"])), "[redacted]");
    // A secret that is part of a harmless word is still removed: the scrubber cannot know which is meant.
    assert_eq!(scrub("broker down", &secrets(&["oke"])), "br[redacted]r down");
    // A secret that is part of the marker does not touch the markers already written.
    assert_eq!(scrub("red pw123", &secrets(&["red", "pw123"])), "[redacted] [redacted]");
    assert_eq!(scrub("é pw-é ü", &secrets(&["pw-é"])), "é [redacted] ü");
    assert_eq!(scrub("nothing here", &secrets(&["abc", ""])), "nothing here");
  }
}
