//! The dead-letter file (`dead-letters.jsonl`): one JSON line per record that cannot be delivered, and its reader.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::error::io_err;
use super::files::SpoolDir;
use super::filesystem::{Filesystem, Open, SpoolFile};
use super::frame::SpoolRecord;
use super::SpoolError;

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
/// milliseconds since the epoch. It is not counted in `max_bytes`.
#[derive(Debug)]
pub(crate) struct DeadLetterFile<F: Filesystem> {
  file: Option<F::File>,
}

impl<F: Filesystem> DeadLetterFile<F> {
  pub(crate) fn new() -> Self {
    DeadLetterFile { file: None }
  }

  /// Appends one line for `record`, fdatasync'd (and the directory fsynced when the file is new).
  pub(crate) fn append(
    &mut self,
    dir: &SpoolDir<F>,
    record: &SpoolRecord,
    error_kind: &str,
    error_message: &str,
    last_failure_ms: i64,
  ) -> Result<(), SpoolError> {
    let path = dir.file(DEAD_LETTER_FILE);
    let event = serde_json::from_slice::<serde_json::Value>(&record.payload)
      .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&record.payload).into_owned()));
    let letter = DeadLetterLine {
      message_id: &record.message_id,
      event_name: &record.event_name,
      key: &record.key,
      event_time: record.event_time_ms,
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
      self.file = Some(file);
    }
    if let Some(file) = self.file.as_mut() {
      file.write_all(&line).and_then(|_| file.sync_data()).map_err(io_err(&path, "append to"))?;
    }
    Ok(())
  }
}

/// Reads `dir/dead-letters.jsonl` for a replay tool (real filesystem). A missing file is empty; lines that do not
/// parse (a torn last line) are skipped.
pub fn read_dead_letters(dir: &Path) -> Result<Vec<serde_json::Value>, SpoolError> {
  let path = dir.join(DEAD_LETTER_FILE);
  let bytes = match fs::read(&path) {
    Ok(b) => b,
    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
    Err(e) => return Err(io_err(&path, "read")(e)),
  };
  Ok(
    bytes
      .split(|&b| b == b'\n')
      .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
      .filter_map(|line| serde_json::from_slice(line).ok())
      .collect(),
  )
}

#[cfg(test)]
mod tests {
  use std::fs::OpenOptions;
  use std::io::Write;

  use tempfile::TempDir;

  use super::*;
  use crate::spool::tests::support::*;
  use crate::spool::Spool;

  #[test]
  fn spool_dead_letter_round_trip() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    assert!(read_dead_letters(&dir).unwrap().is_empty());
    let mut s = Spool::open(&dir, opts()).unwrap();
    let json = SpoolRecord { payload: br#"{"event":"Workflow Finished","n":1}"#.to_vec(), ..rec(1, 0) };
    let raw = SpoolRecord { payload: b"not json \xff".to_vec(), first_failure_ms: None, ..rec(2, 0) };
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
    assert_eq!(a["eventName"], "Workflow Finished");
    assert_eq!(a["key"], json.key.as_str());
    assert_eq!(a["eventTime"], json.event_time_ms);
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
  }
}
