//! The append side: a call's records encoded into one buffer, written once per segment; segment rolls; fsync policy.

use std::io::Write;

use super::error::io_err;
use super::files::SpoolDir;
use super::filesystem::{Filesystem, Open, SpoolFile};
use super::frame::{encode_frame, encoded_body_len, FRAME_HEADER, MAX_RECORD_BYTES};
use super::segments::Segments;
use super::{FsyncPolicy, SpoolError, SpoolOptions};
use crate::record::Record;

/// What one `append` call did: `records[..appended]` are stored, `records[appended..]` were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppendOutcome {
  pub appended: usize,
  pub refused: usize,
}

/// Appends to the last segment.
#[derive(Debug)]
pub(crate) struct Writer<F: Filesystem> {
  /// Open append handle of the last segment.
  active: Option<(u64, F::File)>,
  /// The active segment has data not fsynced yet.
  dirty: bool,
  /// The encoded frames of the call in progress.
  scratch: Vec<u8>,
}

impl<F: Filesystem> Writer<F> {
  pub(crate) fn new() -> Self {
    Writer { active: None, dirty: false, scratch: Vec::new() }
  }

  /// Appends `records` in order: a group commit. The frames of one call go out in one `write` per segment
  /// touched and, under [`FsyncPolicy::Always`], one `fdatasync` (plus a directory fsync when the call created a
  /// segment). Segments roll when the next frame would pass `segment_bytes`; a record larger than a segment gets
  /// a segment of its own.
  ///
  /// `max_bytes` caps the segment bytes on disk. The policy when full is drop-newest (Vector's `when_full:
  /// drop_newest`): the appended records are always a prefix of the call's records; the first record that does
  /// not fit (or is over [`MAX_RECORD_BYTES`]) and every record after it are refused.
  pub(crate) fn append(
    &mut self,
    dir: &mut SpoolDir<F>,
    log: &mut Segments,
    options: &SpoolOptions,
    records: &[Record],
  ) -> Result<AppendOutcome, SpoolError> {
    let always = options.fsync == FsyncPolicy::Always;
    let mut appended = 0usize;
    let mut pending = 0u64;
    let mut pending_first = None;
    self.scratch.clear();
    for r in records {
      let body = encoded_body_len(r);
      if body > MAX_RECORD_BYTES {
        break;
      }
      let frame = (FRAME_HEADER + body) as u64;
      let buffered = self.scratch.len() as u64;
      if log.bytes + buffered + frame > options.max_bytes {
        break;
      }
      let roll = match log.back() {
        None => true,
        Some(s) => s.len + buffered > 0 && s.len + buffered + frame > options.segment_bytes,
      };
      if roll {
        self.flush(dir, log, pending, pending_first, always)?;
        appended += pending as usize;
        pending = 0;
        pending_first = None;
        self.roll(dir, log, options)?;
      }
      encode_frame(r, &mut self.scratch);
      pending += 1;
      pending_first.get_or_insert(r.message.event_time_ms);
    }
    self.flush(dir, log, pending, pending_first, always)?;
    appended += pending as usize;
    Ok(AppendOutcome { appended, refused: records.len() - appended })
  }

  /// Writes the buffered frames (`count` records) to the last segment.
  fn flush(
    &mut self,
    dir: &SpoolDir<F>,
    log: &mut Segments,
    count: u64,
    first_event_time: Option<i64>,
    sync: bool,
  ) -> Result<(), SpoolError> {
    if self.scratch.is_empty() {
      return Ok(());
    }
    let Some(seg) = log.back() else { return Ok(()) };
    let (seq, old_len) = (seg.seq, seg.len);
    let path = dir.segment_path(seq);
    if self.active.as_ref().is_none_or(|(s, _)| *s != seq) {
      let file = dir.open(&path, Open::Append, "open for append")?;
      self.active = Some((seq, file));
      self.dirty = false;
    }
    let Some((_, file)) = self.active.as_mut() else { return Ok(()) };
    let written = file.write_all(&self.scratch).and_then(|_| if sync { file.sync_data() } else { Ok(()) });
    if let Err(e) = written {
      // Leave no partial frame behind: cut back to the last complete one.
      let _ = file.set_len(old_len);
      self.scratch.clear();
      return Err(io_err(&path, "append to")(e));
    }
    let n = self.scratch.len() as u64;
    self.scratch.clear();
    if let Some(seg) = log.back_mut() {
      seg.len += n;
      seg.count += count;
    }
    log.bytes += n;
    if log.records == 0 {
      log.head_event_time = first_event_time;
    }
    log.records += count;
    self.dirty = !sync;
    Ok(())
  }

  /// fsyncs the active segment when it has data not fsynced yet.
  pub(crate) fn sync(&mut self, dir: &SpoolDir<F>) -> Result<(), SpoolError> {
    if self.dirty {
      if let Some((seq, file)) = &self.active {
        file.sync_data().map_err(io_err(&dir.segment_path(*seq), "fsync"))?;
      }
      self.dirty = false;
    }
    Ok(())
  }

  /// Starts a new segment (after fsyncing the previous one unless the policy is Never).
  pub(crate) fn roll(
    &mut self,
    dir: &mut SpoolDir<F>,
    log: &mut Segments,
    options: &SpoolOptions,
  ) -> Result<(), SpoolError> {
    if self.dirty && options.fsync != FsyncPolicy::Never {
      if let Some((seq, file)) = &self.active {
        file.sync_data().map_err(io_err(&dir.segment_path(*seq), "fsync"))?;
      }
    }
    self.dirty = false;
    let seq = log.next_seq;
    let path = dir.segment_path(seq);
    let file = dir.open(&path, Open::CreateNew, "create")?;
    log.push_new();
    self.active = Some((seq, file));
    self.dirty = false;
    if options.fsync == FsyncPolicy::Always {
      dir.sync()?;
    } else {
      dir.dirty = true;
    }
    Ok(())
  }
}

#[cfg(test)]
mod tests {
  use std::fs;
  use std::path::Path;

  use tempfile::TempDir;

  use crate::record::Message;
  use crate::spool::files::segment_name;
  use crate::spool::tests::memfs::{MemFs, Op};
  use crate::spool::tests::support::*;
  use crate::spool::*;

  #[test]
  fn spool_round_trip() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let odd = Record {
      message: Message {
        key: String::new(),
        payload: vec![0, 255, 1, 2, 0],
        event_name: "Node Failed",
        message_id: String::new(),
        event_time_ms: -5,
      },
      attempts: u32::MAX,
      first_failure_ms: None,
    };
    let records = vec![rec(0, 100), odd, rec(2, 0), Record { first_failure_ms: Some(i64::MIN), ..rec(3, 5000) }];
    let mut s = Spool::open(&dir, opts()).unwrap();
    assert_eq!(s.append(&records).unwrap(), AppendOutcome { appended: 4, refused: 0 });
    let st = s.stats();
    assert_eq!(st.records, 4);
    assert_eq!(st.oldest_event_time_ms, Some(records[0].message.event_time_ms));
    let on_disk: u64 = segment_files(&dir).iter().map(|p| fs::metadata(p).unwrap().len()).sum();
    assert_eq!(st.bytes, on_disk);
    assert_eq!(st.bytes, records.iter().map(frame_len).sum::<u64>());
    let got = read_all(&mut s);
    assert_eq!(got.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(), records);
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(s.read_next(10).unwrap().is_empty());
    drop(s);
    // Nothing acked: everything comes back after a reopen.
    let mut s = Spool::open(&dir, opts()).unwrap();
    assert_eq!(s.recovery().records, 4);
    assert_eq!(read_all(&mut s).into_iter().map(|(_, r)| r).collect::<Vec<_>>(), records);
  }

  #[test]
  fn spool_every_fsync_policy_round_trips() {
    let tmp = TempDir::new().unwrap();
    for policy in [FsyncPolicy::Always, FsyncPolicy::Manual, FsyncPolicy::Never] {
      let dir = tmp.path().join(format!("{policy:?}"));
      let options =
        SpoolOptions { fsync: policy, segment_bytes: 1000, cursor_persist_records: 1, ..SpoolOptions::default() };
      let mut s = Spool::open(&dir, options.clone()).unwrap();
      for chunk in (0..40).map(|i| rec(i, 120)).collect::<Vec<_>>().chunks(6) {
        s.append(chunk).unwrap();
        s.sync().unwrap();
      }
      let got = read_all(&mut s);
      for (pos, _) in &got[..25] {
        s.ack(*pos).unwrap();
      }
      s.sync().unwrap();
      s.close().unwrap();
      let mut s = Spool::open(&dir, options).unwrap();
      assert_eq!(ids(&read_all(&mut s)), msg_ids(25..40), "{policy:?}");
    }
    // A segment name at the end of the sequence space does not overflow.
    let dir = tmp.path().join("max");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(segment_name(u64::MAX)), b"").unwrap();
    let mut s = Spool::open(&dir, opts()).unwrap();
    assert!(s.append(&[rec(1, 10)]).is_ok());
  }

  #[test]
  fn spool_order_across_segment_rolls() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let records: Vec<_> = (0..300).map(|i| rec(i, 60 + (i * 37) % 200)).collect();
    let mut s = Spool::open(&dir, opts_seg(1024)).unwrap();
    let mut i = 0;
    let mut batch = 1;
    let mut got = Vec::new();
    while i < records.len() {
      let end = (i + batch).min(records.len());
      assert_eq!(s.append(&records[i..end]).unwrap().appended, end - i);
      i = end;
      batch = batch % 17 + 1;
      // Interleave reading with appending.
      got.extend(s.read_next(5).unwrap());
    }
    got.extend(read_all(&mut s));
    assert_eq!(ids(&got), msg_ids(0..300));
    let files = segment_files(&dir);
    assert!(files.len() > 10, "{} segments", files.len());
    assert!(files.iter().all(|p| fs::metadata(p).unwrap().len() <= 1024));
    drop(s);
    let mut s = Spool::open(&dir, opts_seg(1024)).unwrap();
    assert_eq!(ids(&read_all(&mut s)), msg_ids(0..300));
  }

  #[test]
  fn spool_size_cap_refuses_newest_and_counts() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let records: Vec<_> = (0..20).map(|i| rec(i, 100)).collect();
    let f = frame_len(&records[0]);
    let options = SpoolOptions { max_bytes: 10 * f + f / 2, segment_bytes: 3 * f, ..opts() };
    let mut s = Spool::open(&dir, options.clone()).unwrap();
    assert_eq!(s.append(&records[..15]).unwrap(), AppendOutcome { appended: 10, refused: 5 });
    assert_eq!(s.append(&records[15..16]).unwrap(), AppendOutcome { appended: 0, refused: 1 });
    let st = s.stats();
    assert_eq!((st.records, st.refused_records, st.bytes), (10, 6, 10 * f));
    // Acking frees whole segments, and then there is room again.
    let got = read_all(&mut s);
    assert_eq!(ids(&got), msg_ids(0..10));
    for (pos, _) in &got[..6] {
      s.ack(*pos).unwrap();
    }
    assert_eq!(s.stats().bytes, 4 * f);
    assert_eq!(s.append(&records[16..20]).unwrap(), AppendOutcome { appended: 4, refused: 0 });
    // A record over the limit is refused with everything after it, so `appended` is always a prefix.
    let mut huge = rec(99, 0);
    huge.message.payload = vec![b'x'; MAX_RECORD_BYTES];
    let mut big_options = options.clone();
    big_options.max_bytes = u64::MAX;
    drop(s);
    let mut s = Spool::open(&dir, big_options).unwrap();
    assert_eq!(s.append(&[rec(30, 10), huge, rec(31, 10)]).unwrap(), AppendOutcome { appended: 1, refused: 2 });
    assert_eq!(s.stats().refused_records, 2);
    drop(s);
    let mut s = Spool::open(&dir, options).unwrap();
    assert_eq!(ids(&read_all(&mut s)), msg_ids([6, 7, 8, 9, 16, 17, 18, 19, 30]));
  }

  /// A write or an fdatasync that fails leaves no partial frame: the segment is cut back to its last complete
  /// frame, the call's records are not counted, and the spool goes on (on memory, with injected faults).
  #[test]
  fn spool_failed_append_leaves_no_partial_frame() {
    for (policy, op, partial) in [(FsyncPolicy::Never, Op::Write, 30), (FsyncPolicy::Always, Op::Sync, 0)] {
      let fs = MemFs::default();
      let dir = Path::new("/mem/spool");
      let options = SpoolOptions { fsync: policy, ..opts() };
      let mut s = Spool::open_in(fs.clone(), dir, options.clone()).unwrap();
      s.append(&(0..5).map(|i| rec(i, 100)).collect::<Vec<_>>()).unwrap();
      let segment = dir.join(segment_name(0));
      let before = fs.read(&segment).unwrap().len();
      fs.fail_next(op, "segment-", partial);
      let err = s.append(&(5..8).map(|i| rec(i, 100)).collect::<Vec<_>>()).unwrap_err();
      assert!(matches!(err, SpoolError::Io { action: "append to", .. }), "{err}");
      assert_eq!(fs.pending_faults(), 0);
      assert_eq!(fs.read(&segment).unwrap().len(), before, "{policy:?}: cut back");
      assert_eq!((s.stats().records, s.stats().bytes), (5, before as u64));
      s.append(&[rec(8, 100), rec(9, 100)]).unwrap();
      let mut want = msg_ids(0..5);
      want.extend(msg_ids([8, 9]));
      assert_eq!(ids(&read_all(&mut s)), want);
      drop(s);
      let mut s = Spool::open_in(fs.clone(), dir, options).unwrap();
      let r = s.recovery().clone();
      assert_eq!((r.records, r.torn_tails, r.corrupted_records), (7, 0, 0), "{policy:?}");
      assert_eq!(ids(&read_all(&mut s)), want);
    }
  }
}
