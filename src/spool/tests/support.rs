//! Helpers the spool's tests share: records of a known size, options, reading everything, listing segments.

use std::fs;
use std::path::{Path, PathBuf};

use crate::record::{Message, Record};
use crate::spool::files::parse_segment_name;
use crate::spool::filesystem::Filesystem;
use crate::spool::frame::{encoded_body_len, FRAME_HEADER};
use crate::spool::{FsyncPolicy, Spool, SpoolOptions, SpoolPos, LOCK_FILE};

/// A fixed-size record for a given payload length (ids are zero-padded so sizes do not vary with `i`).
pub(crate) fn rec(i: usize, payload_len: usize) -> Record {
  let mut payload = format!("{{\"i\":{i:08},\"pad\":\"").into_bytes();
  while payload.len() + 2 < payload_len {
    payload.push(b'a' + (i % 26) as u8);
  }
  payload.extend_from_slice(b"\"}");
  Record {
    message: Message {
      key: format!("wf-{:04}", i % 7),
      payload,
      event_name: "Workflow Completed",
      message_id: format!("msg-{i:08}"),
      event_time_ms: 1_700_000_000_000 + i as i64,
    },
    attempts: (i % 3) as u32,
    first_failure_ms: Some(1_700_000_000_500 + i as i64),
  }
}

pub(crate) fn frame_len(r: &Record) -> u64 {
  (FRAME_HEADER + encoded_body_len(r)) as u64
}

pub(crate) fn opts() -> SpoolOptions {
  SpoolOptions { fsync: FsyncPolicy::Never, ..SpoolOptions::default() }
}

pub(crate) fn opts_seg(segment_bytes: u64) -> SpoolOptions {
  SpoolOptions { segment_bytes, ..opts() }
}

pub(crate) fn read_all<F: Filesystem>(s: &mut Spool<F>) -> Vec<(SpoolPos, Record)> {
  let mut all = Vec::new();
  loop {
    let batch = s.read_next(7).unwrap();
    if batch.is_empty() {
      return all;
    }
    all.extend(batch);
  }
}

pub(crate) fn ids(v: &[(SpoolPos, Record)]) -> Vec<String> {
  v.iter().map(|(_, r)| r.message.message_id.clone()).collect()
}

pub(crate) fn msg_ids(range: impl IntoIterator<Item = usize>) -> Vec<String> {
  range.into_iter().map(|i| format!("msg-{i:08}")).collect()
}

pub(crate) fn segment_files(dir: &Path) -> Vec<PathBuf> {
  let mut v: Vec<PathBuf> = fs::read_dir(dir)
    .unwrap()
    .map(|e| e.unwrap().path())
    .filter(|p| p.file_name().and_then(|n| n.to_str()).and_then(parse_segment_name).is_some())
    .collect();
  v.sort();
  v
}

/// Copies the files of a spool directory (not its lock) as a SIGKILL right now would leave them.
pub(crate) fn snapshot(from: &Path, to: &Path) {
  fs::create_dir_all(to).unwrap();
  for e in fs::read_dir(from).unwrap() {
    let p = e.unwrap().path();
    if p.file_name().unwrap() != LOCK_FILE {
      fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
  }
}
