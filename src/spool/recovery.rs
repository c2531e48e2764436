//! The scan at open: validates every frame from the ack cursor, truncates torn tails and sets damaged segments aside.

use std::collections::VecDeque;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

use super::cursor::{read_cursor, CURSOR_TMP};
use super::error::io_err;
use super::files::{parse_segment_name, SpoolDir};
use super::filesystem::{Filesystem, Open, SpoolFile};
use super::frame::{decode, parse_header, plausible_len, FRAME_HEADER};
use super::reader::READ_CHUNK;
use super::segments::{Cursor, Segment, Segments};
use super::{FsyncPolicy, SpoolError, SpoolOptions};

/// What the scan at open found and repaired.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
  pub segments: usize,
  /// Unacked records found.
  pub records: u64,
  pub torn_tails: u32,
  pub truncated_bytes: u64,
  pub corrupted_records: u64,
  /// The `corrupt-*.bad` files written.
  pub quarantined: Vec<PathBuf>,
  /// The cursor file was unreadable: replay started at the first segment.
  pub cursor_reset: bool,
}

/// The log as the scan left it, and where the first unacked record is (not normalized).
pub(crate) struct Recovered {
  pub(crate) log: Segments,
  pub(crate) ack: Cursor,
  pub(crate) report: RecoveryReport,
}

/// Scans every segment from the ack cursor and repairs what it finds.
///
/// A torn tail (a frame cut short, or a tail of zero bytes as a crash can leave) is truncated away. A frame with a
/// bad CRC, an impossible length or a body that does not decode ends the good part of its segment: the records
/// before it stay, the rest of the segment is copied to `corrupt-<sequence>-<offset>.bad` (0600), the segment
/// truncated, and the records lost counted (the damaged frame plus every frame still reachable by walking lengths
/// after it). Later segments are still read. Segments wholly before the cursor (acked before the last run ended)
/// are deleted. No byte content makes this panic (property-tested).
pub(crate) fn recover<F: Filesystem>(dir: &SpoolDir<F>, options: &SpoolOptions) -> Result<Recovered, SpoolError> {
  let mut report = RecoveryReport::default();
  let mut seqs = Vec::new();
  for name in dir.fs.list(&dir.path).map_err(io_err(&dir.path, "list"))? {
    let Some(name) = name.to_str() else { continue };
    if let Some(seq) = parse_segment_name(name) {
      seqs.push(seq);
    } else if name == CURSOR_TMP {
      let _ = dir.fs.remove_file(&dir.file(name));
    }
  }
  seqs.sort_unstable();
  let cursor = read_cursor(dir, &mut report)?;
  let next_seq = seqs.last().map_or(0, |s| s.saturating_add(1)).max(cursor.map_or(0, |c| c.0.saturating_add(1)));
  let mut changed = report.cursor_reset;

  let mut segments = VecDeque::new();
  let mut head_event_time = None;
  let mut ack = None;
  for seq in seqs {
    let start = match cursor {
      Some((cseq, _)) if seq < cseq => {
        // Fully acked before the last run ended; its deletion did not happen yet.
        let path = dir.segment_path(seq);
        dir.fs.remove_file(&path).map_err(io_err(&path, "delete the acked segment"))?;
        changed = true;
        continue;
      }
      Some((cseq, coffset)) if seq == cseq => coffset,
      _ => 0,
    };
    let scanned = scan_segment(dir, seq, start, &mut report)?;
    report.records += scanned.count;
    if head_event_time.is_none() {
      head_event_time = scanned.first_event_time;
    }
    ack.get_or_insert(Cursor { seq, offset: scanned.start, idx: 0 });
    segments.push_back(Segment { seq, len: scanned.len, count: scanned.count });
  }
  report.segments = segments.len();
  changed |= report.torn_tails > 0 || !report.quarantined.is_empty();
  let ack = ack.unwrap_or(Cursor::start(next_seq));
  if changed && options.fsync != FsyncPolicy::Never {
    dir.sync()?;
  }
  Ok(Recovered { log: Segments::new(segments, next_seq, report.records, head_event_time), ack, report })
}

struct Scanned {
  start: u64,
  len: u64,
  count: u64,
  first_event_time: Option<i64>,
}

enum Damage {
  Torn,
  Invalid,
}

/// Validates a segment from `start`, repairs it (truncation, quarantine) and says what it holds.
fn scan_segment<F: Filesystem>(
  dir: &SpoolDir<F>,
  seq: u64,
  start: u64,
  report: &mut RecoveryReport,
) -> Result<Scanned, SpoolError> {
  let path = dir.segment_path(seq);
  let mut file = dir.open(&path, Open::ReadWrite, "open")?;
  let file_len = file.size().map_err(io_err(&path, "stat"))?;
  let start = start.min(file_len);
  let mut count = 0u64;
  let mut first_event_time = None;
  let mut pos = start;
  let damage = {
    let mut reader = BufReader::with_capacity(READ_CHUNK, &mut file);
    reader.seek(SeekFrom::Start(start)).map_err(io_err(&path, "seek in"))?;
    let mut header = [0u8; FRAME_HEADER];
    let mut body = Vec::new();
    loop {
      let remaining = file_len - pos;
      if remaining == 0 {
        break None;
      }
      if remaining < FRAME_HEADER as u64 {
        break Some(Damage::Torn);
      }
      reader.read_exact(&mut header).map_err(io_err(&path, "read"))?;
      let (len, crc) = parse_header(&header);
      if !plausible_len(len) {
        break Some(Damage::Invalid);
      }
      if FRAME_HEADER as u64 + len > remaining {
        break Some(Damage::Torn);
      }
      body.resize(len as usize, 0);
      reader.read_exact(&mut body).map_err(io_err(&path, "read"))?;
      if crc32c::crc32c(&body) != crc {
        break Some(Damage::Invalid);
      }
      match decode(&body) {
        Some(r) => {
          count += 1;
          first_event_time.get_or_insert(r.event_time_ms);
        }
        None => break Some(Damage::Invalid),
      }
      pos += FRAME_HEADER as u64 + len;
    }
  };
  if let Some(mut damage) = damage {
    if matches!(damage, Damage::Invalid) && tail_is_zero(&mut file, pos, file_len).map_err(io_err(&path, "read"))? {
      damage = Damage::Torn;
    }
    match damage {
      Damage::Torn => {
        report.torn_tails += 1;
        report.truncated_bytes += file_len - pos;
      }
      Damage::Invalid => {
        report.corrupted_records += count_damaged(&mut file, pos, file_len).map_err(io_err(&path, "read"))?;
        report.quarantined.push(quarantine(dir, seq, &mut file, pos, file_len)?);
      }
    }
    file.set_len(pos).and_then(|_| file.sync_all()).map_err(io_err(&path, "truncate"))?;
  }
  Ok(Scanned { start, len: pos, count, first_event_time })
}

/// Damage found while running (by `read_next`): copies the rest of the segment aside, best effort. The path of
/// the quarantine file, when one was written.
pub(crate) fn set_aside<F: Filesystem>(dir: &SpoolDir<F>, seq: u64, from: u64, len: u64) -> Option<PathBuf> {
  let mut file = dir.fs.open(&dir.segment_path(seq), Open::Read).ok()?;
  quarantine(dir, seq, &mut file, from, len).ok()
}

/// Copies `[from, len)` of a damaged segment to a new `corrupt-<seq>-<from>.bad` file.
fn quarantine<F: Filesystem>(
  dir: &SpoolDir<F>,
  seq: u64,
  file: &mut F::File,
  from: u64,
  len: u64,
) -> Result<PathBuf, SpoolError> {
  let mut n = 0u32;
  let (path, mut out) = loop {
    let name =
      if n == 0 { format!("corrupt-{seq:020}-{from}.bad") } else { format!("corrupt-{seq:020}-{from}.{n}.bad") };
    let path = dir.file(&name);
    match dir.fs.open(&path, Open::CreateNew) {
      Ok(f) => break (path, f),
      Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
      Err(e) => return Err(io_err(&path, "create the quarantine file")(e)),
    }
  };
  let seg = dir.segment_path(seq);
  file.seek(SeekFrom::Start(from)).map_err(io_err(&seg, "seek in"))?;
  let copied = io::copy(&mut file.by_ref().take(len.saturating_sub(from)), &mut out);
  copied.and_then(|_| out.sync_all()).map_err(io_err(&path, "write"))?;
  Ok(path)
}

/// True when every byte of `[from, len)` is zero (a tail a crash can leave behind).
fn tail_is_zero<T: Read + Seek>(file: &mut T, from: u64, len: u64) -> io::Result<bool> {
  file.seek(SeekFrom::Start(from))?;
  let mut r = file.by_ref().take(len.saturating_sub(from));
  let mut buf = vec![0u8; 64 * 1024];
  loop {
    let n = r.read(&mut buf)?;
    if n == 0 {
      return Ok(true);
    }
    if buf[..n].iter().any(|&b| b != 0) {
      return Ok(false);
    }
  }
}

/// How many records a damaged region held, as well as can be told: the damaged frame plus every frame
/// reachable after it by walking plausible lengths that stay inside the file.
fn count_damaged<T: Read + Seek>(file: &mut T, from: u64, len: u64) -> io::Result<u64> {
  let mut count = 1;
  let mut pos = from;
  let mut header = [0u8; FRAME_HEADER];
  loop {
    if len.saturating_sub(pos) < FRAME_HEADER as u64 {
      return Ok(count);
    }
    file.seek(SeekFrom::Start(pos))?;
    file.read_exact(&mut header)?;
    let (body, _) = parse_header(&header);
    let end = pos + FRAME_HEADER as u64 + body;
    if !plausible_len(body) || end > len {
      return Ok(count);
    }
    if pos != from {
      count += 1;
    }
    pos = end;
  }
}

#[cfg(test)]
mod tests {
  use std::fs::{self, OpenOptions};
  use std::io::Write;

  use proptest::prelude::*;
  use tempfile::TempDir;

  use crate::spool::files::{parse_segment_name, segment_path};
  use crate::spool::tests::support::*;
  use crate::spool::{Spool, SpoolRecord};

  #[test]
  fn spool_torn_tail_truncated() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let records: Vec<_> = (0..10).map(|i| rec(i, 150)).collect();
    let f = frame_len(&records[0]);
    Spool::open(&dir, opts()).unwrap().append(&records).unwrap();
    let seg = segment_files(&dir)[0].clone();
    let full = fs::metadata(&seg).unwrap().len();
    OpenOptions::new().write(true).open(&seg).unwrap().set_len(full - 5).unwrap();
    let mut s = Spool::open(&dir, opts()).unwrap();
    let r = s.recovery().clone();
    assert_eq!((r.torn_tails, r.truncated_bytes, r.corrupted_records), (1, f - 5, 0));
    assert_eq!(fs::metadata(&seg).unwrap().len(), full - f);
    assert_eq!(s.stats().corrupted_records, 0);
    assert_eq!(ids(&read_all(&mut s)), msg_ids(0..9));
    s.append(&[rec(42, 10)]).unwrap();
    assert_eq!(ids(&read_all(&mut s)), msg_ids([42]));
    drop(s);
    // A zero-filled tail (what some filesystems leave after a power loss) is torn, not corrupt.
    let mut file = OpenOptions::new().append(true).open(&seg).unwrap();
    file.write_all(&[0u8; 4096]).unwrap();
    drop(file);
    let mut s = Spool::open(&dir, opts()).unwrap();
    assert_eq!((s.recovery().torn_tails, s.recovery().corrupted_records), (1, 0));
    assert!(s.recovery().quarantined.is_empty());
    let mut want = msg_ids(0..9);
    want.extend(msg_ids([42]));
    assert_eq!(ids(&read_all(&mut s)), want);
  }

  #[test]
  fn spool_bad_crc_moved_aside_and_counted() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let records: Vec<_> = (0..30).map(|i| rec(i, 100)).collect();
    let f = frame_len(&records[0]);
    let options = opts_seg(10 * f);
    Spool::open(&dir, options.clone()).unwrap().append(&records).unwrap();
    let segs = segment_files(&dir);
    assert_eq!(segs.len(), 3);
    // A flipped payload byte in record 15 (segment 1, record 5), an impossible length in record 23.
    let mut bytes = fs::read(&segs[1]).unwrap();
    bytes[(5 * f + 40) as usize] ^= 0x01;
    fs::write(&segs[1], bytes).unwrap();
    let mut bytes = fs::read(&segs[2]).unwrap();
    bytes[(3 * f) as usize..(3 * f) as usize + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(&segs[2], bytes).unwrap();

    let mut s = Spool::open(&dir, options.clone()).unwrap();
    let r = s.recovery().clone();
    // Record 15 plus the 4 intact frames after it; record 23 (its length unusable, nothing counted after it).
    assert_eq!(r.corrupted_records, 5 + 1);
    assert_eq!(s.stats().corrupted_records, 6);
    assert_eq!(s.stats().records, 10 + 5 + 3);
    let seq1 = parse_segment_name(segs[1].file_name().unwrap().to_str().unwrap()).unwrap();
    let bad = dir.join(format!("corrupt-{seq1:020}-{}.bad", 5 * f));
    assert!(r.quarantined.contains(&bad), "{:?}", r.quarantined);
    assert_eq!(fs::metadata(&bad).unwrap().len(), 5 * f);
    assert_eq!(fs::metadata(&segs[1]).unwrap().len(), 5 * f);
    let mut want = msg_ids(0..15);
    want.extend(msg_ids(20..23));
    assert_eq!(ids(&read_all(&mut s)), want);
    drop(s);
    // The repair is done once.
    let mut s = Spool::open(&dir, options).unwrap();
    assert_eq!(s.recovery().corrupted_records, 0);
    assert_eq!(ids(&read_all(&mut s)), want);
  }

  fn first_diff(a: &[u8], b: &[u8]) -> Option<u64> {
    if a == b {
      return None;
    }
    let common = a.len().min(b.len());
    Some((0..common).find(|&i| a[i] != b[i]).unwrap_or(common) as u64)
  }

  #[derive(Debug, Clone)]
  enum Mutation {
    Flip { file: usize, at: u64, mask: u8 },
    Truncate { file: usize, at: u64 },
    Extend { file: usize, bytes: Vec<u8> },
  }

  fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
      (any::<usize>(), any::<u64>(), 1u8..=255).prop_map(|(file, at, mask)| Mutation::Flip { file, at, mask }),
      (any::<usize>(), any::<u64>()).prop_map(|(file, at)| Mutation::Truncate { file, at }),
      (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64))
        .prop_map(|(file, bytes)| Mutation::Extend { file, bytes }),
    ]
  }

  proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random damage to the segments of a spool: reopening never panics and returns exactly the records whose
    /// frames lie before the first damaged byte of their segment, in order; a second reopen finds nothing new.
    #[test]
    fn spool_fuzz_corruption_never_panics(
      sizes in prop::collection::vec(0usize..400, 1..60),
      segment_bytes in 150u64..4000,
      mutations in prop::collection::vec(mutation(), 1..6),
      garbage_segment in prop::option::of(prop::collection::vec(any::<u8>(), 0..3000)),
    ) {
      let tmp = TempDir::new().unwrap();
      let dir = tmp.path().join("spool");
      let options = opts_seg(segment_bytes);
      let records: Vec<_> = sizes.iter().enumerate().map(|(i, &n)| rec(i, n)).collect();
      let mut frames = Vec::new();
      {
        let mut s = Spool::open(&dir, options.clone()).unwrap();
        for chunk in records.chunks(3) {
          s.append(chunk).unwrap();
        }
        for (pos, r) in read_all(&mut s) {
          frames.push((pos.segment(), pos.offset() + frame_len(&r), r));
        }
      }
      prop_assert_eq!(frames.len(), records.len());
      let files = segment_files(&dir);
      let original: Vec<Vec<u8>> = files.iter().map(|p| fs::read(p).unwrap()).collect();
      let mut damaged = original.clone();
      for m in &mutations {
        match m {
          Mutation::Flip { file, at, mask } => {
            let c = &mut damaged[file % files.len()];
            if !c.is_empty() {
              let i = (at % c.len() as u64) as usize;
              c[i] ^= mask;
            }
          }
          Mutation::Truncate { file, at } => {
            let c = &mut damaged[file % files.len()];
            let l = (at % (c.len() as u64 + 1)) as usize;
            c.truncate(l);
          }
          Mutation::Extend { file, bytes } => damaged[file % files.len()].extend_from_slice(bytes),
        }
      }
      let mut first_damage = std::collections::HashMap::new();
      for ((path, o), d) in files.iter().zip(&original).zip(&damaged) {
        fs::write(path, d).unwrap();
        let seq = parse_segment_name(path.file_name().unwrap().to_str().unwrap()).unwrap();
        first_damage.insert(seq, first_diff(o, d));
      }
      if let Some(g) = &garbage_segment {
        fs::write(segment_path(&dir, 10_000_000), g).unwrap();
      }
      let want: Vec<SpoolRecord> = frames
        .iter()
        .filter(|(seq, end, _)| first_damage[seq].is_none_or(|d| *end <= d))
        .map(|(_, _, r)| r.clone())
        .collect();

      let mut s = Spool::open(&dir, options.clone()).unwrap();
      prop_assert_eq!(s.stats().records, want.len() as u64);
      let got: Vec<SpoolRecord> = read_all(&mut s).into_iter().map(|(_, r)| r).collect();
      prop_assert_eq!(&got, &want);
      drop(s);
      let mut s = Spool::open(&dir, options).unwrap();
      prop_assert_eq!(s.recovery().corrupted_records, 0);
      prop_assert_eq!(s.recovery().torn_tails, 0);
      let again: Vec<SpoolRecord> = read_all(&mut s).into_iter().map(|(_, r)| r).collect();
      prop_assert_eq!(&again, &want);
    }
  }
}
