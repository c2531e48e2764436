//! The ack cursor on disk (`cursor`): its CRC-checked text, when it is persisted, in place or replaced durably.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::Instant;

use super::error::io_err;
use super::files::SpoolDir;
use super::filesystem::{Filesystem, Open, SpoolFile};
use super::recovery::RecoveryReport;
use super::segments::Cursor;
use super::{SpoolError, SpoolOptions};

pub(crate) const CURSOR_FILE: &str = "cursor";
pub(crate) const CURSOR_TMP: &str = "cursor.tmp";

/// Fixed width, so an in-place overwrite always replaces the whole previous text.
pub(crate) fn cursor_text(seq: u64, offset: u64) -> String {
  let body = format!("v1 {seq:020} {offset:020}");
  let crc = crc32c::crc32c(body.as_bytes());
  format!("{body} {crc:08x}\n")
}

pub(crate) fn parse_cursor(text: &str) -> Option<(u64, u64)> {
  let line = text.strip_suffix('\n')?;
  let (body, crc) = line.rsplit_once(' ')?;
  if u32::from_str_radix(crc, 16).ok()? != crc32c::crc32c(body.as_bytes()) || crc.len() != 8 {
    return None;
  }
  let mut parts = body.split(' ');
  if parts.next()? != "v1" {
    return None;
  }
  let seq = parts.next()?.parse().ok()?;
  let offset = parts.next()?.parse().ok()?;
  if parts.next().is_some() {
    return None;
  }
  Some((seq, offset))
}

/// The persisted ack cursor; None when there is none or it is damaged (then `report.cursor_reset`: replay starts
/// at the first segment, more duplicates, no loss).
pub(crate) fn read_cursor<F: Filesystem>(
  dir: &SpoolDir<F>,
  report: &mut RecoveryReport,
) -> Result<Option<(u64, u64)>, SpoolError> {
  let path = dir.file(CURSOR_FILE);
  let mut bytes = Vec::new();
  match dir.fs.open(&path, Open::Read) {
    // A cursor is a few dozen bytes; anything longer is damage, do not read it all.
    Ok(f) => {
      f.take(256).read_to_end(&mut bytes).map_err(io_err(&path, "read"))?;
    }
    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
    Err(e) => return Err(io_err(&path, "open")(e)),
  }
  let parsed = std::str::from_utf8(&bytes).ok().and_then(parse_cursor);
  if parsed.is_none() {
    report.cursor_reset = true;
  }
  Ok(parsed)
}

/// Keeps the `cursor` file in step with the ack cursor.
///
/// The cursor moves as the acked prefix grows. It is persisted when a fully acked segment is deleted, at every
/// `checkpoint` (the caller's batch of acks), otherwise at most every `cursor_persist_interval` or
/// `cursor_persist_records` removed records, whichever comes first (checked by `ack` and `sync`), and always by
/// `close`/drop. A persist overwrites the file in place (one write: a process crash cannot tear it, a torn write
/// after power loss fails the CRC); a durable persist (`sync`, `close`) replaces it (temp file, fsync, rename,
/// directory fsync: 0.6-2.5 ms on ext4, hence not per batch). So after a process crash only the records acked
/// since the last persist are replayed again.
#[derive(Debug)]
pub(crate) struct CursorFile<F: Filesystem> {
  /// Open handle of `cursor` for in-place persists; reopened after each replace (a new inode).
  file: Option<F::File>,
  /// The cursor moved since the last persist.
  dirty: bool,
  acks_since_persist: u64,
  last_persist: Instant,
}

impl<F: Filesystem> CursorFile<F> {
  pub(crate) fn new() -> Self {
    CursorFile { file: None, dirty: false, acks_since_persist: 0, last_persist: Instant::now() }
  }

  /// The ack cursor moved past `records` more records.
  pub(crate) fn moved(&mut self, records: u64) {
    self.dirty = true;
    self.acks_since_persist += records;
  }

  pub(crate) fn dirty(&self) -> bool {
    self.dirty
  }

  /// The cursor moved and enough records or time passed since the last persist.
  pub(crate) fn due(&self, options: &SpoolOptions) -> bool {
    self.dirty
      && (self.acks_since_persist >= options.cursor_persist_records
        || self.last_persist.elapsed() >= options.cursor_persist_interval)
  }

  /// Writes `ack` to the cursor file: in place unless `durable` (or the file is not open yet).
  pub(crate) fn persist(&mut self, dir: &mut SpoolDir<F>, ack: Cursor, durable: bool) -> Result<(), SpoolError> {
    let text = cursor_text(ack.seq, ack.offset);
    match self.file.as_mut() {
      Some(file) if !durable => overwrite(file, text.as_bytes()).map_err(io_err(&dir.file(CURSOR_FILE), "write"))?,
      _ => self.replace(dir, &text, durable)?,
    }
    self.dirty = false;
    self.acks_since_persist = 0;
    self.last_persist = Instant::now();
    Ok(())
  }

  /// Writes the cursor to a temp file and renames it over `cursor`, then keeps the new file open for overwrites.
  fn replace(&mut self, dir: &mut SpoolDir<F>, text: &str, durable: bool) -> Result<(), SpoolError> {
    let tmp = dir.file(CURSOR_TMP);
    let path = dir.file(CURSOR_FILE);
    self.file = None;
    {
      let mut f = dir.open(&tmp, Open::CreateFresh, "create")?;
      f.write_all(text.as_bytes()).map_err(io_err(&tmp, "write"))?;
      if durable {
        f.sync_data().map_err(io_err(&tmp, "fsync"))?;
      }
    }
    dir.fs.rename(&tmp, &path).map_err(io_err(&path, "replace"))?;
    if durable {
      dir.sync()?;
    } else {
      dir.dirty = true;
    }
    self.file = dir.fs.open(&path, Open::Write).ok();
    Ok(())
  }
}

/// Replaces the start of `file` with `bytes` (the file never gets shorter: cursor texts have one width).
fn overwrite<T: Write + Seek>(file: &mut T, bytes: &[u8]) -> io::Result<()> {
  file.seek(SeekFrom::Start(0))?;
  file.write_all(bytes)
}

#[cfg(test)]
mod tests {
  use std::fs;
  use std::time::Duration;

  use tempfile::TempDir;

  use super::*;
  use crate::spool::tests::support::*;
  use crate::spool::Spool;

  #[test]
  fn spool_crash_replays_acks_not_yet_persisted() {
    let tmp = TempDir::new().unwrap();
    let records: Vec<_> = (0..100).map(|i| rec(i, 200)).collect();
    for (every, replayed) in [(1_000_000u64, 100usize), (1, 90)] {
      let dir = tmp.path().join(format!("spool-{every}"));
      let options =
        SpoolOptions { cursor_persist_records: every, cursor_persist_interval: Duration::from_secs(3600), ..opts() };
      let mut s = Spool::open(&dir, options.clone()).unwrap();
      s.append(&records).unwrap();
      let got = read_all(&mut s);
      for (pos, _) in &got[..10] {
        s.ack(*pos).unwrap();
      }
      // The files as a SIGKILL right now would leave them.
      let crashed = tmp.path().join(format!("crashed-{every}"));
      snapshot(&dir, &crashed);
      let mut c = Spool::open(&crashed, options).unwrap();
      assert_eq!(read_all(&mut c).len(), replayed);
    }
  }

  #[test]
  fn spool_checkpoint_persists_each_batch_of_acks_in_place() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let options =
      SpoolOptions { cursor_persist_records: u64::MAX, cursor_persist_interval: Duration::from_secs(3600), ..opts() };
    let mut s = Spool::open(&dir, options.clone()).unwrap();
    s.append(&(0..100).map(|i| rec(i, 200)).collect::<Vec<_>>()).unwrap();
    let got = read_all(&mut s);
    // First batch: the cursor file is created; later batches overwrite it in place.
    for (batch, acked) in [(0..10, 90usize), (10..35, 65), (35..36, 64)] {
      for (pos, _) in &got[batch] {
        s.ack(*pos).unwrap();
      }
      s.checkpoint().unwrap();
      let crashed = tmp.path().join(format!("crashed-{acked}"));
      snapshot(&dir, &crashed);
      let mut c = Spool::open(&crashed, options.clone()).unwrap();
      assert!(!c.recovery().cursor_reset);
      assert_eq!(read_all(&mut c).len(), acked);
    }
  }

  #[test]
  fn spool_damaged_cursor_file_replays_from_the_start() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let mut s = Spool::open(&dir, opts()).unwrap();
    s.append(&(0..5).map(|i| rec(i, 10)).collect::<Vec<_>>()).unwrap();
    let got = read_all(&mut s);
    s.ack(got[0].0).unwrap();
    drop(s);
    let text = fs::read_to_string(dir.join(CURSOR_FILE)).unwrap();
    assert!(parse_cursor(&text).is_some());
    for junk in [&b"v1 0 99 00000000\n"[..], b"", b"\xff\xfe garbage", &[b'9'; 10_000]] {
      fs::write(dir.join(CURSOR_FILE), junk).unwrap();
      let mut s = Spool::open(&dir, opts()).unwrap();
      assert!(s.recovery().cursor_reset);
      assert_eq!(ids(&read_all(&mut s)), msg_ids(0..5));
    }
  }
}
