//! Tests of the spool as a whole: helpers, the in-memory filesystem, the model-based test, the speed report.

pub(crate) mod memfs;
mod model;
pub(crate) mod support;

use std::fs;
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::files::segment_path;
use super::frame::encoded_body_len;
use super::*;
use support::*;

#[test]
fn spool_is_send() {
  fn assert_send<T: Send>() {}
  assert_send::<Spool>();
  assert_send::<SpoolError>();
}

#[test]
fn spool_acked_segments_deleted() {
  let tmp = TempDir::new().unwrap();
  let dir = tmp.path().join("spool");
  let records: Vec<_> = (0..200).map(|i| rec(i, 100)).collect();
  let per_segment = 1024 / frame_len(&records[0]);
  let mut s = Spool::open(&dir, opts_seg(1024)).unwrap();
  s.append(&records).unwrap();
  let total_segments = segment_files(&dir).len();
  assert_eq!(total_segments as u64, 200u64.div_ceil(per_segment));
  let got = read_all(&mut s);
  // Acking the first half deletes the fully acked segments and nothing else.
  for (pos, _) in &got[..100] {
    s.ack(*pos).unwrap();
  }
  let files = segment_files(&dir);
  assert_eq!(files.len() as u64, total_segments as u64 - 100 / per_segment);
  assert_eq!(files[0], segment_path(&dir, got[100].0.segment()));
  let on_disk: u64 = files.iter().map(|p| fs::metadata(p).unwrap().len()).sum();
  assert_eq!(s.stats().bytes, on_disk);
  for (pos, _) in &got[100..] {
    s.ack(*pos).unwrap();
  }
  let files = segment_files(&dir);
  assert_eq!(files.len(), 1, "only the segment being appended to stays");
  let st = s.stats();
  assert_eq!((st.records, st.oldest_event_time_ms), (0, None));
  assert_eq!(st.bytes, fs::metadata(&files[0]).unwrap().len());
  s.append(&[rec(500, 10)]).unwrap();
  assert_eq!(ids(&read_all(&mut s)), msg_ids([500]));
  drop(s);
  let mut s = Spool::open(&dir, opts_seg(1024)).unwrap();
  assert_eq!(ids(&read_all(&mut s)), msg_ids([500]));
}

/// Not a benchmark with a threshold: prints the numbers for the report.
#[test]
fn spool_speed_append_and_replay() {
  let ms = |d: Duration| d.as_secs_f64() * 1e3;
  let tmp = TempDir::new().unwrap();
  let dir = tmp.path().join("spool");
  let n = 100_000;
  let records: Vec<_> = (0..n).map(|i| rec(i, 740)).collect();
  let body = encoded_body_len(&records[0]);

  let t = Instant::now();
  let mut s = Spool::open(&dir, opts()).unwrap();
  for chunk in records.chunks(1000) {
    assert_eq!(s.append(chunk).unwrap().appended, chunk.len());
  }
  let append = t.elapsed();
  let bytes = s.stats().bytes;
  drop(s);

  let dir1 = tmp.path().join("one-call");
  let t = Instant::now();
  let mut s = Spool::open(&dir1, opts()).unwrap();
  assert_eq!(s.append(&records).unwrap().appended, n);
  let append_one = t.elapsed();
  drop(s);

  let t = Instant::now();
  let mut s = Spool::open(&dir, opts()).unwrap();
  let open = t.elapsed();
  assert_eq!(s.stats().records, n as u64);
  let t = Instant::now();
  let mut positions = Vec::with_capacity(n);
  loop {
    let batch = s.read_next(1000).unwrap();
    if batch.is_empty() {
      break;
    }
    positions.extend(batch.into_iter().map(|(pos, _)| pos));
  }
  let read = t.elapsed();
  let t = Instant::now();
  for pos in &positions {
    s.ack(*pos).unwrap();
  }
  let ack = t.elapsed();
  assert_eq!(positions.len(), n);
  assert_eq!(s.stats().records, 0);
  drop(s);

  let dir2 = tmp.path().join("always");
  let mut s = Spool::open(&dir2, SpoolOptions::default()).unwrap();
  let calls = 200;
  let t = Instant::now();
  for chunk in records[..calls * 100].chunks(100) {
    s.append(chunk).unwrap();
  }
  let always = t.elapsed();
  println!(
    "spool speed: {n} records of {body} bytes ({:.1} MB); FsyncPolicy::Never append in batches of 1000: {:.0} ms \
     ({:.2} M records/s), in one call: {:.0} ms; reopen+scan: {:.0} ms; read_next(1000): {:.0} ms ({:.0} k records/s); \
     ack one by one: {:.0} ms ({:.0} k acks/s); FsyncPolicy::Always, batches of 100: {:.2} ms per append call",
    bytes as f64 / 1e6,
    ms(append),
    n as f64 / append.as_secs_f64() / 1e6,
    ms(append_one),
    ms(open),
    ms(read),
    n as f64 / read.as_secs_f64() / 1e3,
    ms(ack),
    n as f64 / ack.as_secs_f64() / 1e3,
    ms(always) / calls as f64,
  );
}
