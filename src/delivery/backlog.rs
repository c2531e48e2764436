//! The worker's view of the disk spool: spilling events it cannot deliver now, replaying them in order,
//! acknowledging them after their delivery report, group commit, and what the health snapshot shows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::record::Record;
use crate::spool::{FsyncPolicy, Spool, SpoolOptions, SpoolPos};
use crate::telemetry::{Diagnostics, Level, Metrics, SpoolStatus};
use crate::time::now_ms;
use crate::transport::{ErrorKind, Pending};

/// Events copied and encoded per spool append: bounds the memory a large spill holds at once (~1.4 MB of frames).
pub const SPILL_CHUNK: usize = 1_000;

pub struct Backlog {
  spool: Spool,
  /// The spool folder as the health snapshot shows it, formatted once.
  dir: Arc<str>,
  durable: bool,
  sync_interval: Duration,
  dirty_since: Option<Instant>,
  /// Records read from the spool and handed to Kafka, not settled yet.
  in_flight: u64,
  /// A replayed record failed: read again from the first unacked record once nothing is in flight.
  rewind_pending: bool,
  pub spooled: u64,
  pub replayed: u64,
  pub last_error: Option<Arc<str>>,
}

impl Backlog {
  /// Opens this process's slot under SPOOL_DIR. None (with a warning) when the spool is off or unusable:
  /// the logger then keeps failed events in memory only.
  pub fn open(config: &Config, diag: &Diagnostics, metrics: &Metrics) -> Option<Backlog> {
    let base = config.spool_dir.as_ref()?;
    let options =
      SpoolOptions { max_bytes: config.spool_max_bytes, fsync: FsyncPolicy::Manual, ..SpoolOptions::default() };
    match Spool::open_slot(base, options) {
      Ok((spool, dir)) => {
        let recovery = spool.recovery();
        if recovery.records > 0 || recovery.corrupted_records > 0 {
          diag.log(
            Level::Info,
            &format!(
              "spool {}: {} events to replay, {} corrupted records moved aside",
              dir.display(),
              recovery.records,
              recovery.corrupted_records
            ),
          );
        }
        Some(Backlog {
          spool,
          dir: dir.display().to_string().into(),
          durable: config.durable,
          sync_interval: config.spool_sync_interval,
          dirty_since: None,
          in_flight: 0,
          rewind_pending: false,
          spooled: 0,
          replayed: 0,
          last_error: None,
        })
      }
      Err(e) => {
        diag.log(Level::Warn, &format!("running without a disk spool, failed events are kept in memory only: {e}"));
        metrics.update_status(|s| s.spool_error = Some(e.to_string()));
        None
      }
    }
  }

  /// While active, every event goes through the spool, so replay order is acceptance order.
  pub fn active(&self) -> bool {
    self.durable || self.spool.stats().records > 0
  }

  /// Records waiting in the spool that are not in flight.
  pub fn can_read(&self) -> bool {
    !self.rewind_pending && self.spool.stats().records > self.in_flight
  }

  /// Records in the spool not acknowledged yet.
  pub fn unacked(&self) -> u64 {
    self.spool.stats().records
  }

  pub fn is_empty(&self) -> bool {
    self.spool.stats().records == 0
  }

  /// Appends in order; returns how many were refused (spool full: drop-newest).
  pub fn spill(&mut self, pending: &[Pending], diag: &Diagnostics) -> u64 {
    if pending.is_empty() {
      return 0;
    }
    let mut refused = 0u64;
    for chunk in pending.chunks(SPILL_CHUNK) {
      if refused > 0 {
        // Nothing after a refused event is appended: the spool stays in acceptance order.
        refused += chunk.len() as u64;
        continue;
      }
      let records: Vec<Record> = chunk.iter().map(|p| p.record.clone()).collect();
      match self.spool.append(&records) {
        Ok(outcome) => {
          self.spooled += outcome.appended as u64;
          refused += outcome.refused as u64;
        }
        Err(e) => {
          self.last_error = Some(e.to_string().into());
          refused += records.len() as u64;
        }
      }
    }
    self.dirty_since.get_or_insert_with(Instant::now);
    if refused > 0 {
      diag.limited(
        Level::Error,
        "spool-full",
        &format!("spool {} refused {refused} events (full or failing): they are lost", self.dir),
      );
    }
    refused
  }

  /// Up to `max` records to send, in append order, each as a Pending that remembers where it lives.
  pub fn next_batch(&mut self, max: usize, next_seq: &mut u64) -> Vec<Pending> {
    if max == 0 || !self.can_read() {
      return Vec::new();
    }
    let records = match self.spool.read_next(max) {
      Ok(records) => records,
      Err(e) => {
        self.last_error = Some(e.to_string().into());
        return Vec::new();
      }
    };
    self.in_flight += records.len() as u64;
    records
      .into_iter()
      .map(|(pos, r)| {
        *next_seq += 1;
        Pending::new(*next_seq, r, Instant::now(), Some(pos))
      })
      .collect()
  }

  /// The record at `pos` reached Kafka (or the dead letters): it may leave the spool.
  pub fn acknowledge(&mut self, pos: SpoolPos) {
    self.in_flight = self.in_flight.saturating_sub(1);
    self.replayed += 1;
    if let Err(e) = self.spool.ack(pos) {
      self.last_error = Some(e.to_string().into());
    }
    // The ack cursor is written at the end of the batch (checkpoint) and made durable by the next group commit.
    self.dirty_since.get_or_insert_with(Instant::now);
    self.rewind_if_settled();
  }

  /// Persists the ack cursor after a batch of acks, so a crash replays only what was acked since.
  pub fn checkpoint(&mut self) {
    if let Err(e) = self.spool.checkpoint() {
      self.last_error = Some(e.to_string().into());
    }
  }

  /// A replayed record failed and stays in the spool; it is read again after the backoff.
  pub fn retry_later(&mut self) {
    self.in_flight = self.in_flight.saturating_sub(1);
    self.rewind_pending = true;
    self.rewind_if_settled();
  }

  fn rewind_if_settled(&mut self) {
    if self.rewind_pending && self.in_flight == 0 {
      self.spool.rewind_unacked();
      self.rewind_pending = false;
    }
  }

  /// Last resort for an event even the dead-letter topic refused: a JSON line in the spool directory.
  pub fn dead_letter(&mut self, pending: &Pending, kind: ErrorKind, message: &str) -> bool {
    match self.spool.append_dead_letter(&pending.record, kind.as_str(), message, now_ms()) {
      Ok(()) => true,
      Err(e) => {
        self.last_error = Some(e.to_string().into());
        false
      }
    }
  }

  /// When the next group commit is due, if anything is waiting for one.
  pub fn sync_due(&self) -> Option<Instant> {
    self.dirty_since.map(|t| t + self.sync_interval)
  }

  pub fn sync_if_due(&mut self, now: Instant, force: bool) {
    if self.sync_due().is_some_and(|due| force || now >= due) {
      if let Err(e) = self.spool.sync() {
        self.last_error = Some(e.to_string().into());
      }
      self.dirty_since = None;
    }
  }

  /// The worker publishes this after every pass: numbers and shared strings, made JSON only when read.
  pub fn snapshot(&self) -> SpoolStatus {
    SpoolStatus {
      dir: self.dir.clone(),
      durable: self.durable,
      stats: self.spool.stats(),
      spooled: self.spooled,
      replayed: self.replayed,
      last_error: self.last_error.clone(),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::config::Sources;
  use crate::record::Message;
  use crate::telemetry::StderrSink;

  fn backlog(dir: &std::path::Path, max_bytes: u64) -> (Backlog, Diagnostics) {
    let env = [
      ("N8N_KAFKA_LOGGER_SPOOL_DIR", dir.display().to_string()),
      ("N8N_KAFKA_LOGGER_SPOOL_MAX_BYTES", max_bytes.to_string()),
    ];
    let config = Config::parse(&Sources::from_env(env.into_iter().map(|(k, v)| (k.to_string(), v)).collect())).unwrap();
    let diag = Diagnostics::new(Box::new(StderrSink), Vec::new());
    (Backlog::open(&config, &diag, &Metrics::new()).expect("spool opens"), diag)
  }

  fn events(n: usize, payload_len: usize) -> Vec<Pending> {
    (0..n)
      .map(|i| {
        let message = Message {
          key: format!("wf-{}", i % 7),
          payload: format!("{i:08}{}", "x".repeat(payload_len)).into_bytes(),
          event_name: "Workflow Completed",
          message_id: format!("msg-{i:08}"),
          event_time_ms: 1_700_000_000_000 + i as i64,
        };
        Pending::new(i as u64, Record::new(message), Instant::now(), None)
      })
      .collect()
  }

  fn spooled_ids(b: &mut Backlog) -> Vec<String> {
    let mut seq = 0;
    let mut ids = Vec::new();
    loop {
      let batch = b.next_batch(10_000, &mut seq);
      if batch.is_empty() {
        return ids;
      }
      ids.extend(batch.iter().map(|p| p.message().message_id.clone()));
    }
  }

  #[test]
  fn a_spill_larger_than_a_chunk_lands_whole_and_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (mut b, diag) = backlog(dir.path(), 1 << 30);
    let all = events(SPILL_CHUNK * 2 + 500, 200);
    assert_eq!(b.spill(&all, &diag), 0);
    assert_eq!(b.spooled, all.len() as u64);
    assert_eq!(spooled_ids(&mut b), all.iter().map(|p| p.message().message_id.clone()).collect::<Vec<_>>());
  }

  #[test]
  fn after_a_refusal_later_chunks_are_refused_too() {
    let dir = tempfile::tempdir().unwrap();
    let (mut b, diag) = backlog(dir.path(), 1 << 20); // 1 MiB: fills inside the first chunk of ~1.1 KB events
    let all = events(SPILL_CHUNK * 3, 1_000);
    let refused = b.spill(&all, &diag);
    let kept = b.spooled as usize;
    assert!(kept > 0 && kept < SPILL_CHUNK, "the cap falls inside the first chunk ({kept} kept)");
    assert_eq!(refused as usize, all.len() - kept);
    assert_eq!(
      spooled_ids(&mut b),
      all[..kept].iter().map(|p| p.message().message_id.clone()).collect::<Vec<_>>(),
      "a prefix, in order"
    );
  }
}
