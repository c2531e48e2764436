//! The durable on-disk spool: an append-only log of Kafka messages waiting to be (re)sent, owned by the worker thread.
//!
//! One [`Spool`] per directory, one process per directory. A [`Record`] is one Kafka message ready to resend
//! (key, payload, event name, messageId, event time, attempts, first failure time). The directory holds segment
//! files `segment-<20-digit sequence>.log` (8 MiB by default), each a sequence of frames, plus `spool.lock`,
//! `cursor`, `dead-letters.jsonl` and `corrupt-*.bad` files. The directory is created 0700 and every file 0600
//! (unix); a directory that is a symbolic link, belongs to another user or is writable by group or others is
//! refused, and no file is opened through a symbolic link (`SpoolError::Unsafe`). Delivery is at-least-once,
//! never lossy: after a crash the records acked since the last cursor persist are replayed again, and the caller
//! dedups by messageId. Each part has its own file:
//!
//! | file | what | rules documented on |
//! | --- | --- | --- |
//! | `frame.rs` | the record encoding and frame format (length, CRC32C) | `encode_frame` |
//! | `files.rs` | names, modes, the lock (one process per directory), `slot-N`s, `spool status` | `SpoolDir::lock` |
//! | `segments.rs` | the in-memory index of segments, lengths and counts; positions in the log | `Segments` |
//! | `writer.rs` | append (group commit), segment rolls, the size cap (drop-newest), fsync policy | `Writer::append` |
//! | `window.rs` | the read/ack window: read and ack cursors, out-of-order acks, rewind | `Window` |
//! | `reader.rs` | frames read back through a read-ahead buffer | `Reader::read_frame` |
//! | `cursor.rs` | the persisted ack cursor and when it is written | `CursorFile` |
//! | `recovery.rs` | the scan at open: torn tails, corrupted segments | `recovery::recover` |
//! | `dead_letters.rs` | `dead-letters.jsonl` | `DeadLetterFile` |
//! | `filesystem.rs` | the filesystem seam (`RealFs` by default; tests run the spool on memory) | `Filesystem` |
//!
//! Damage that appears while running (found by `read_next`) is counted and skipped as the scan at open would:
//! the rest of the segment is copied aside and never read again. A `Spool` is `Send` and has one owner (the
//! background thread); nothing in it is shared.

mod cursor;
mod dead_letters;
mod error;
mod files;
mod filesystem;
mod frame;
mod options;
mod reader;
mod recovery;
mod segments;
mod window;
mod writer;

#[cfg(test)]
mod tests;

use std::io;
use std::path::{Path, PathBuf};

pub use dead_letters::read_dead_letters;
pub use error::SpoolError;
pub use files::inspect_slots;
pub use options::{FsyncPolicy, SpoolOptions};
// What the tests reach through this module (in files.rs, writer.rs and tests/).
pub use recovery::RecoveryReport;
pub use window::SpoolPos;
pub use writer::AppendOutcome;
#[cfg(test)]
pub(crate) use {dead_letters::DEAD_LETTER_FILE, files::LOCK_FILE, frame::MAX_RECORD_BYTES};

use crate::record::Record;
use cursor::CursorFile;
use dead_letters::DeadLetterFile;
use error::io_err;
use files::{slot_dir, SpoolDir, MAX_SLOTS};
use filesystem::{Filesystem, RealFs};
use reader::{Frame, Reader};
use recovery::Recovered;
use segments::{Cursor, Segments};
use window::{Entry, Window};
use writer::Writer;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpoolStats {
  /// Bytes of all segment files (what `max_bytes` caps).
  pub bytes: u64,
  /// Records not acked yet (read or not).
  pub records: u64,
  /// Event time of the oldest unacked record in append order (the head of the spool).
  pub oldest_event_time_ms: Option<i64>,
  /// Records lost to corruption: found by the scan at open, plus damage found while reading.
  pub corrupted_records: u64,
  /// Records refused by `append` since open (cap reached or record too large).
  pub refused_records: u64,
}

/// The durable spool of one directory: the owners of each part, composed. See the module documentation.
#[derive(Debug)]
pub struct Spool<F: Filesystem = RealFs> {
  dir: SpoolDir<F>,
  options: SpoolOptions,
  log: Segments,
  writer: Writer<F>,
  window: Window,
  reader: Reader<F>,
  cursor: CursorFile<F>,
  dead_letters: DeadLetterFile<F>,
  recovery: RecoveryReport,
  corrupted_records: u64,
  refused_records: u64,
}

impl Spool {
  /// Opens (creating it 0700 if needed) and locks `dir`, repairs damage, and positions the read cursor at the
  /// first unacked record.
  #[cfg(test)]
  pub fn open(dir: &Path, options: SpoolOptions) -> Result<Spool, SpoolError> {
    Spool::open_in(RealFs, dir, options)
  }

  /// Opens the first free `slot-<n>` under `base` (n = 0, 1, ...), never one locked by another process, so that
  /// several processes of one machine share a base directory and a restarted process takes slot-0 again and
  /// replays its backlog. Returns the spool and its directory.
  pub fn open_slot(base: &Path, options: SpoolOptions) -> Result<(Spool, PathBuf), SpoolError> {
    Spool::open_slot_in(RealFs, base, options)
  }
}

impl<F: Filesystem> Spool<F> {
  /// [`Spool::open`] on the filesystem `fs`.
  pub(crate) fn open_in(fs: F, dir: &Path, options: SpoolOptions) -> Result<Self, SpoolError> {
    options.validate()?;
    let dir = SpoolDir::lock(fs, dir)?;
    let Recovered { log, ack, report } = recovery::recover(&dir, &options)?;
    let start = log.normalize(ack);
    Ok(Spool {
      dir,
      options,
      window: Window::new(start),
      log,
      writer: Writer::new(),
      reader: Reader::new(),
      cursor: CursorFile::new(),
      dead_letters: DeadLetterFile::new(),
      corrupted_records: report.corrupted_records,
      recovery: report,
      refused_records: 0,
    })
  }

  /// [`Spool::open_slot`] on the filesystem `fs`.
  pub(crate) fn open_slot_in(fs: F, base: &Path, options: SpoolOptions) -> Result<(Self, PathBuf), SpoolError> {
    files::create_private_dir(&fs, base, true)?;
    for n in 0..MAX_SLOTS {
      let dir = slot_dir(base, n);
      match Spool::open_in(fs.clone(), &dir, options.clone()) {
        Ok(spool) => return Ok((spool, dir)),
        Err(SpoolError::Locked { .. }) => continue,
        Err(e) => return Err(e),
      }
    }
    Err(SpoolError::NoFreeSlot { base: base.to_path_buf(), slots: MAX_SLOTS })
  }

  /// What the scan at open found and repaired.
  pub fn recovery(&self) -> &RecoveryReport {
    &self.recovery
  }

  pub fn stats(&self) -> SpoolStats {
    SpoolStats {
      bytes: self.log.bytes,
      records: self.log.records,
      oldest_event_time_ms: if self.log.records == 0 { None } else { self.log.head_event_time },
      corrupted_records: self.corrupted_records,
      refused_records: self.refused_records,
    }
  }

  /// Appends `records` in order. `records[..appended]` are stored; the rest were refused (cap reached or a
  /// record over MAX_RECORD_BYTES). On Err a prefix of the records may be stored (at-least-once).
  pub fn append(&mut self, records: &[Record]) -> Result<AppendOutcome, SpoolError> {
    let outcome = self.writer.append(&mut self.dir, &mut self.log, &self.options, records)?;
    self.refused_records += outcome.refused as u64;
    Ok(outcome)
  }

  /// fsyncs the active segment, persists the ack cursor durably when it is due (`cursor_persist_*`), and fsyncs
  /// the directory when files were created, renamed or deleted since the last sync.
  pub fn sync(&mut self) -> Result<(), SpoolError> {
    self.sync_inner(false)
  }

  fn sync_inner(&mut self, closing: bool) -> Result<(), SpoolError> {
    self.writer.sync(&self.dir)?;
    if self.cursor.dirty() && (closing || self.cursor.due(&self.options)) {
      self.cursor.persist(&mut self.dir, self.window.ack_cursor(), true)?;
    }
    self.dir.sync_if_dirty()
  }

  /// Persists the cursor, syncs (unless the policy is Never) and closes, reporting errors a drop would swallow.
  #[cfg(test)]
  pub fn close(mut self) -> Result<(), SpoolError> {
    self.finish()
  }

  /// Up to `max` records after everything already read, in append order.
  pub fn read_next(&mut self, max: usize) -> Result<Vec<(SpoolPos, Record)>, SpoolError> {
    let mut out = Vec::new();
    let mut skipped = false;
    while out.len() < max {
      let log = &self.log;
      let read = self.window.read_cursor(|c| log.normalize(c));
      if let Some((pos, e)) = self.window.known() {
        // Read again after a rewind: the window already knows this record.
        if !e.acked {
          match self.reader.read_frame(&self.dir, &self.log, e.seq, e.offset)? {
            Frame::Good(record, _) => out.push((pos, record)),
            Frame::Bad => {
              // Damaged since it was first read: lose this record only (its frame's extent is known).
              self.window.lose(pos);
              self.corrupted_records += 1;
              skipped = true;
            }
          }
        }
        self.window.pass_known();
        continue;
      }
      let Some(si) = self.log.index(read.seq) else { break };
      if read.offset >= self.log.get(si).len {
        break;
      }
      let (seq, offset) = (read.seq, read.offset);
      match self.reader.read_frame(&self.dir, &self.log, seq, offset)? {
        Frame::Good(record, frame_len) => {
          let next = Cursor { seq, offset: offset + frame_len, idx: read.idx + 1 };
          let event_time = Some(record.message.event_time_ms);
          let pos = self.window.push(Entry { seq, offset, next, acked: false, weight: 1, event_time });
          out.push((pos, record));
        }
        Frame::Bad => {
          // Damaged after open: skip the rest of the segment, as the scan at open would have.
          let lost = self.log.get(si).count.saturating_sub(read.idx).max(1);
          self.corrupted_records += lost;
          if let Some(bad) = recovery::set_aside(&self.dir, seq, offset, self.log.get(si).len) {
            self.recovery.quarantined.push(bad);
            self.dir.dirty = true;
          }
          if si + 1 == self.log.len() {
            // Appends must not land behind the skipped region.
            self.writer.roll(&mut self.dir, &mut self.log, &self.options)?;
          }
          let next = Cursor::start(self.log.get(si + 1).seq);
          self.window.push(Entry { seq, offset, next, acked: true, weight: lost, event_time: None });
          skipped = true;
        }
      }
    }
    if skipped {
      self.advance_prefix()?;
    }
    Ok(out)
  }

  /// Marks one record delivered. The head of the spool moves past every contiguously acked record; fully acked
  /// segments are deleted (the segment being appended to is kept). A position already acked, not read yet, or
  /// from another `Spool` is ignored.
  pub fn ack(&mut self, pos: SpoolPos) -> Result<(), SpoolError> {
    if self.window.ack(pos) {
      self.advance_prefix()?;
    }
    Ok(())
  }

  /// Moves the read cursor back to the first unacked record, so `read_next` returns the unacked records again
  /// (records acked out of order are skipped).
  pub fn rewind_unacked(&mut self) {
    self.window.rewind();
  }

  /// Persists the ack cursor now when it moved (one small write); the caller calls it per batch of acks.
  pub fn checkpoint(&mut self) -> Result<(), SpoolError> {
    if self.cursor.dirty() {
      self.cursor.persist(&mut self.dir, self.window.ack_cursor(), false)?;
    }
    Ok(())
  }

  /// Appends one JSON line for a record that cannot be delivered to `dead-letters.jsonl`, fdatasync'd; refused
  /// with [`SpoolError::DeadLettersFull`] when the line would take the file past `max_bytes`.
  pub fn append_dead_letter(
    &mut self,
    record: &Record,
    error_kind: &str,
    error_message: &str,
    last_failure_ms: i64,
  ) -> Result<(), SpoolError> {
    self.dead_letters.append(&self.dir, self.options.max_bytes, record, error_kind, error_message, last_failure_ms)
  }

  /// Pops the acked head of the window, persists the cursor when due and deletes fully acked segments.
  fn advance_prefix(&mut self) -> Result<(), SpoolError> {
    let log = &self.log;
    let popped = self.window.pop_acked(|c| log.normalize(c));
    if popped.entries == 0 {
      return Ok(());
    }
    self.log.records = self.log.records.saturating_sub(popped.records);
    self.cursor.moved(popped.entries);
    let ack = self.window.ack_cursor();
    self.log.head_event_time = if self.log.records == 0 {
      None
    } else if let Some(front) = self.window.front() {
      front.event_time
    } else {
      match self.reader.read_frame(&self.dir, &self.log, ack.seq, ack.offset) {
        Ok(Frame::Good(r, _)) => Some(r.message.event_time_ms),
        _ => None,
      }
    };
    let delete = self.log.front().is_some_and(|s| s.seq < ack.seq);
    if delete || self.cursor.due(&self.options) {
      // Not fsynced here: a lost cursor update only means duplicates, bounded by one segment.
      self.cursor.persist(&mut self.dir, ack, false)?;
    }
    while let Some(s) = self.log.pop_before(ack.seq) {
      let path = self.dir.segment_path(s.seq);
      self.reader.forget(s.seq);
      match self.dir.fs.remove_file(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(&path, "delete the acked segment")(e)),
      }
      self.log.bytes -= s.len;
      self.dir.dirty = true;
    }
    Ok(())
  }

  fn finish(&mut self) -> Result<(), SpoolError> {
    if self.options.fsync == FsyncPolicy::Never {
      if self.cursor.dirty() {
        self.cursor.persist(&mut self.dir, self.window.ack_cursor(), false)?;
      }
      Ok(())
    } else {
      self.sync_inner(true)
    }
  }
}

impl<F: Filesystem> Drop for Spool<F> {
  fn drop(&mut self) {
    let _ = self.finish();
  }
}
