//! The disk spool as the health snapshot shows it: numbers and shared strings, made JSON only when read.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::spool::SpoolStats;
use crate::time::now_ms;

/// The spool as the health snapshot shows it.
#[derive(Debug, Clone)]
pub struct SpoolStatus {
  pub dir: Arc<str>,
  pub durable: bool,
  pub stats: SpoolStats,
  pub spooled: u64,
  pub replayed: u64,
  pub last_error: Option<Arc<str>>,
}

impl SpoolStatus {
  pub fn to_json(&self) -> Value {
    json!({
      "enabled": true,
      "dir": &*self.dir,
      "durability": if self.durable { "disk" } else { "memory" },
      "bytes": self.stats.bytes,
      "records": self.stats.records,
      "oldestAgeMs": self.stats.oldest_event_time_ms.map(|t| (now_ms() - t).max(0)),
      "spooled": self.spooled,
      "replayed": self.replayed,
      "corrupted": self.stats.corrupted_records,
      "refused": self.stats.refused_records,
      "lastError": self.last_error.as_deref(),
    })
  }
}
