//! The dead-letter file (`dead-letters.jsonl`): one JSON line per record that cannot be delivered, and its reader.

use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;

use serde::Serialize;

use super::error::io_err;
use super::files::SpoolDir;
use super::filesystem::{open_read_no_follow, Filesystem, Open, SpoolFile};
use super::SpoolError;
use crate::record::Record;

/// Name of the dead-letter file inside the spool directory.
pub const DEAD_LETTER_FILE: &str = "dead-letters.jsonl";

/// One line of the dead-letter file (not `producer::DeadLetter`, which is the in-memory failure of a send).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeadLetterLine<'a> {
  message_id: &'a str,
  event_name: &'a str,
  key: &'a str,
  event_time: i64,
  attempts: u32,
  first_failure_at: Option<i64>,
  last_failure_at: i64,
  error_kind: &'a str,
  error_message: &'a str,
  event: serde_json::Value,
}

/// The dead-letter file of a spool directory (0600, fdatasync'd each line, opened on first use). Times in it are
/// milliseconds since the epoch. It is capped on its own at the spool's `max_bytes` (not counted with the
/// segments): a line that would pass the cap is refused ([`SpoolError::DeadLettersFull`]; the worker counts the
/// event in `counters.failed` and shows the error in `spool.lastError`).
#[derive(Debug)]
pub(crate) struct DeadLetterFile<F: Filesystem> {
  file: Option<F::File>,
  /// The file's length.
  bytes: u64,
}

impl<F: Filesystem> DeadLetterFile<F> {
  pub(crate) fn new() -> Self {
    DeadLetterFile { file: None, bytes: 0 }
  }

  /// Appends one line for `record`, fdatasync'd (and the directory fsynced when the file is new), unless the file
  /// would pass `cap` bytes.
  pub(crate) fn append(
    &mut self,
    dir: &SpoolDir<F>,
    cap: u64,
    record: &Record,
    error_kind: &str,
    error_message: &str,
    last_failure_ms: i64,
  ) -> Result<(), SpoolError> {
    let path = dir.file(DEAD_LETTER_FILE);
    let m = &record.message;
    let event = serde_json::from_slice::<serde_json::Value>(&m.payload)
      .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&m.payload).into_owned()));
    let letter = DeadLetterLine {
      message_id: &m.message_id,
      event_name: m.event_name,
      key: &m.key,
      event_time: m.event_time_ms,
      attempts: record.attempts,
      first_failure_at: record.first_failure_ms,
      last_failure_at: last_failure_ms,
      error_kind,
      error_message,
      event,
    };
    let mut line = serde_json::to_vec(&letter).map_err(|e| io_err(&path, "encode a line for")(e.into()))?;
    line.push(b'\n');
    if self.file.is_none() {
      let existed = dir.fs.exists(&path);
      let file = dir.open(&path, Open::AppendCreate, "open")?;
      if !existed {
        dir.sync()?;
      }
      self.bytes = file.size().map_err(io_err(&path, "stat"))?;
      self.file = Some(file);
    }
    if self.bytes.saturating_add(line.len() as u64) > cap {
      return Err(SpoolError::DeadLettersFull { path, cap });
    }
    if let Some(file) = self.file.as_mut() {
      let written = file.write_all(&line).and_then(|_| file.sync_data());
      // On error part of the line may be there: count it, the cap stays a bound.
      self.bytes = file.size().unwrap_or(self.bytes + line.len() as u64);
      written.map_err(io_err(&path, "append to"))?;
    }
    Ok(())
  }
}

/// Calls `f` with each line of `dir/dead-letters.jsonl` that parses (a torn last line does not), reading one line at
/// a time (never the whole file) and never through a symbolic link. A missing file has no lines.
fn for_each_dead_letter<T: serde::de::DeserializeOwned>(dir: &Path, mut f: impl FnMut(T)) -> Result<(), SpoolError> {
  let path = dir.join(DEAD_LETTER_FILE);
  let file = match open_read_no_follow(&path) {
    Ok(file) => file,
    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
    Err(e) => return Err(io_err(&path, "open")(e)),
  };
  let mut reader = BufReader::with_capacity(1 << 16, file);
  let mut line = Vec::new();
  loop {
    line.clear();
    if reader.read_until(b'\n', &mut line).map_err(io_err(&path, "read"))? == 0 {
      return Ok(());
    }
    if line.iter().all(u8::is_ascii_whitespace) {
      continue;
    }
    if let Ok(value) = serde_json::from_slice(&line) {
      f(value);
    }
  }
}

/// Reads `dir/dead-letters.jsonl` for a replay tool (real filesystem), line by line. A missing file is empty; lines
/// that do not parse (a torn last line) are skipped.
pub fn read_dead_letters(dir: &Path) -> Result<Vec<serde_json::Value>, SpoolError> {
  let mut out = Vec::new();
  for_each_dead_letter(dir, |v: serde_json::Value| out.push(v))?;
  Ok(out)
}

/// How many dead letters `dir/dead-letters.jsonl` holds, counted line by line without keeping them.
pub(crate) fn count_dead_letters(dir: &Path) -> Result<usize, SpoolError> {
  let mut n = 0;
  for_each_dead_letter(dir, |_: serde::de::IgnoredAny| n += 1)?;
  Ok(n)
}

#[cfg(test)]
mod tests {
  use std::fs::OpenOptions;
  use std::io::Write;

  use tempfile::TempDir;

  use super::*;
  use crate::spool::tests::support::*;
  use crate::spool::{Spool, SpoolOptions};

  #[test]
  fn spool_dead_letter_round_trip() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    assert!(read_dead_letters(&dir).unwrap().is_empty());
    let mut s = Spool::open(&dir, opts()).unwrap();
    let mut json = rec(1, 0);
    json.message.payload = br#"{"event":"Workflow Finished","n":1}"#.to_vec();
    let mut raw = rec(2, 0);
    raw.message.payload = b"not json \xff".to_vec();
    raw.first_failure_ms = None;
    s.append_dead_letter(&json, "MessageTooLarge", "message too large", 1_700_000_009_000).unwrap();
    s.append_dead_letter(&raw, "TopicAuthorization", "denied", 1_700_000_009_001).unwrap();
    drop(s);
    // A torn last line (a crash in the middle of a write) is skipped.
    let mut f = OpenOptions::new().append(true).open(dir.join(DEAD_LETTER_FILE)).unwrap();
    f.write_all(b"{\"messageId\":\"tor").unwrap();
    let letters = read_dead_letters(&dir).unwrap();
    assert_eq!(letters.len(), 2);
    let a = &letters[0];
    assert_eq!(a["messageId"], "msg-00000001");
    assert_eq!(a["eventName"], "Workflow Completed");
    assert_eq!(a["key"], json.message.key.as_str());
    assert_eq!(a["eventTime"], json.message.event_time_ms);
    assert_eq!(a["attempts"], json.attempts);
    assert_eq!(a["firstFailureAt"], json.first_failure_ms.unwrap());
    assert_eq!(a["lastFailureAt"], 1_700_000_009_000i64);
    assert_eq!(a["errorKind"], "MessageTooLarge");
    assert_eq!(a["errorMessage"], "message too large");
    assert_eq!(a["event"]["n"], 1);
    let b = &letters[1];
    assert_eq!(b["event"], "not json \u{fffd}");
    assert!(b["firstFailureAt"].is_null());
    assert_eq!(b["errorKind"], "TopicAuthorization");
    assert_eq!(count_dead_letters(&dir).unwrap(), 2);
  }

  /// The file stops at the spool's `max_bytes`: the line that would pass it is refused (and the worker counts
  /// the event as failed), the file keeps its lines and stays under the cap.
  #[test]
  fn spool_dead_letter_file_is_capped() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let cap = 4096;
    let mut s = Spool::open(&dir, SpoolOptions { max_bytes: cap, ..opts() }).unwrap();
    let mut written = 0;
    let err = loop {
      match s.append_dead_letter(&rec(written, 300), "MessageTooLarge", "too big", 1) {
        Ok(()) => written += 1,
        Err(e) => break e,
      }
      assert!(written < 100, "never refused");
    };
    assert!(matches!(err, SpoolError::DeadLettersFull { cap: 4096, .. }), "{err}");
    assert!(err.to_string().contains("reached its cap of 4096 bytes"), "{err}");
    let len = std::fs::metadata(dir.join(DEAD_LETTER_FILE)).unwrap().len();
    assert!(len <= cap && len + 400 > cap, "{len}");
    drop(s);
    assert_eq!(read_dead_letters(&dir).unwrap().len(), written);
    // Reopened: the cap counts what the file already holds.
    let mut s = Spool::open(&dir, SpoolOptions { max_bytes: cap, ..opts() }).unwrap();
    assert!(matches!(s.append_dead_letter(&rec(99, 300), "k", "m", 1), Err(SpoolError::DeadLettersFull { .. })));
  }
}
