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
  /// Bytes cut from the segments (torn tails and corrupted regions).
  pub truncated_bytes: u64,
  /// Records lost to damage: every damaged region, torn tails included.
  pub corrupted_records: u64,
  /// The part of `corrupted_records` that was in torn tails (the last write cut short).
  pub torn_records: u64,
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
/// The first frame that is cut short, has a bad CRC, an impossible length or a body that does not decode ends the
/// good part of its segment: the records before it stay, the rest of the segment is copied to
/// `corrupt-<sequence>-<offset>.bad` (0600; not for a tail of zero bytes, as a power loss can leave), the segment
/// truncated, and the records lost counted in `corrupted_records` ([`damaged_records`]). The damage is a torn
/// tail (also counted in `torn_tails` and `torn_records`) when no intact frame follows it and it looks like a
/// write cut short: fewer bytes than a header, zeros, or a frame whose length runs past the end of the file. A
/// frame whose length field was corrupted mid-segment is not a torn tail: the intact frames after it are found
/// and counted. Later segments are still read. Segments wholly before the cursor (acked before the last run
/// ended) are deleted. No byte content makes this panic (property-tested).
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

/// Damaged regions larger than this are counted as one record, without looking for intact frames in them.
const MAX_RESYNC_BYTES: u64 = 256 << 20;

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
  let damaged = {
    let mut reader = BufReader::with_capacity(READ_CHUNK, &mut file);
    reader.seek(SeekFrom::Start(start)).map_err(io_err(&path, "seek in"))?;
    let mut header = [0u8; FRAME_HEADER];
    let mut body = Vec::new();
    loop {
      let remaining = file_len - pos;
      if remaining == 0 {
        break false;
      }
      if remaining < FRAME_HEADER as u64 {
        break true;
      }
      reader.read_exact(&mut header).map_err(io_err(&path, "read"))?;
      let (len, crc) = parse_header(&header);
      if !plausible_len(len) || FRAME_HEADER as u64 + len > remaining {
        break true;
      }
      body.resize(len as usize, 0);
      reader.read_exact(&mut body).map_err(io_err(&path, "read"))?;
      if crc32c::crc32c(&body) != crc {
        break true;
      }
      match decode(&body) {
        Some(r) => {
          count += 1;
          first_event_time.get_or_insert(r.event_time_ms);
        }
        None => break true,
      }
      pos += FRAME_HEADER as u64 + len;
    }
  };
  if damaged {
    let region = file_len - pos;
    let (lost, torn, zeros) = if region <= MAX_RESYNC_BYTES {
      let mut bytes = Vec::with_capacity(region as usize);
      file.seek(SeekFrom::Start(pos)).map_err(io_err(&path, "seek in"))?;
      file.by_ref().take(region).read_to_end(&mut bytes).map_err(io_err(&path, "read"))?;
      let zeros = bytes.iter().all(|&b| b == 0);
      let (lost, intact) = damaged_records(&bytes);
      (lost, intact == 0 && (zeros || looks_torn(&bytes)), zeros)
    } else {
      (1, false, false)
    };
    report.corrupted_records += lost;
    report.truncated_bytes += region;
    if torn {
      report.torn_tails += 1;
      report.torn_records += lost;
    }
    if !zeros {
      report.quarantined.push(quarantine(dir, seq, &mut file, pos, file_len)?);
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

/// A damaged region that looks like a write cut short: fewer bytes than a header, or a frame whose length is
/// possible but runs past the end.
fn looks_torn(region: &[u8]) -> bool {
  if region.len() < FRAME_HEADER {
    return true;
  }
  let (len, _) = parse_header(&region[..FRAME_HEADER]);
  plausible_len(len) && FRAME_HEADER as u64 + len > region.len() as u64
}

/// The intact frame at `at` of `bytes` (length, CRC and body good), as its length with the header.
fn intact_frame_at(bytes: &[u8], at: usize) -> Option<usize> {
  let header = bytes.get(at..at + FRAME_HEADER)?;
  let (len, crc) = parse_header(header);
  if !plausible_len(len) {
    return None;
  }
  let body = bytes.get(at + FRAME_HEADER..at + FRAME_HEADER + len as usize)?;
  // Cheap checks before the CRC: the version byte and the flags of a v1 body.
  if body[0] != 1 || body[1] > 1 || crc32c::crc32c(body) != crc {
    return None;
  }
  decode(body).map(|_| FRAME_HEADER + len as usize)
}

/// How many records a damaged region (from the first bad frame to the end of its segment) held: every intact
/// frame in it (found by looking for a good frame at each byte after the bad one: a corrupted length field does
/// not hide the frames after it), plus the records of each stretch between them ([`stretch_records`]). Returns
/// (records, intact frames).
pub(crate) fn damaged_records(region: &[u8]) -> (u64, u64) {
  let mut lost = 0;
  let mut intact = 0;
  let mut stretch_start = 0;
  let mut at = 1;
  while at + FRAME_HEADER < region.len() {
    match intact_frame_at(region, at) {
      Some(len) => {
        if at > stretch_start {
          lost += stretch_records(&region[stretch_start..at]);
        }
        intact += 1;
        at += len;
        stretch_start = at;
      }
      None => at += 1,
    }
  }
  if stretch_start < region.len() {
    lost += stretch_records(&region[stretch_start..]);
  }
  (lost + intact, intact)
}

/// The records of a stretch of damaged bytes: as many frames as walking the lengths in it finds when the walk ends
/// exactly at its end (damaged bodies, lengths intact), else one (a damaged length: where it leads says nothing).
fn stretch_records(stretch: &[u8]) -> u64 {
  let mut at = 0;
  let mut n = 0;
  while stretch.len() - at >= FRAME_HEADER {
    let (len, _) = parse_header(&stretch[at..at + FRAME_HEADER]);
    let end = at as u64 + FRAME_HEADER as u64 + len;
    if !plausible_len(len) || end > stretch.len() as u64 {
      break;
    }
    n += 1;
    at = end as usize;
    if at == stretch.len() {
      return n;
    }
  }
  1
}

#[cfg(test)]
mod tests {
  use std::fs::{self, OpenOptions};
  use std::io::Write;

  use proptest::prelude::*;
  use tempfile::TempDir;

  use crate::spool::files::{parse_segment_name, segment_path};
  use crate::spool::frame::encode_frame;
  use crate::spool::tests::support::*;
  use crate::spool::{Record, Spool, SpoolOptions};

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
    // The record cut short is lost: counted (torn) and its bytes kept aside.
    assert_eq!((r.torn_tails, r.truncated_bytes, r.corrupted_records, r.torn_records), (1, f - 5, 1, 1));
    assert_eq!(r.quarantined.len(), 1);
    assert_eq!(fs::metadata(&r.quarantined[0]).unwrap().len(), f - 5);
    assert_eq!(fs::metadata(&seg).unwrap().len(), full - f);
    assert_eq!(s.stats().corrupted_records, 1);
    assert_eq!(ids(&read_all(&mut s)), msg_ids(0..9));
    s.append(&[rec(42, 10)]).unwrap();
    assert_eq!(ids(&read_all(&mut s)), msg_ids([42]));
    drop(s);
    // A zero-filled tail (what some filesystems leave after a power loss) is torn too: counted, nothing to keep.
    let mut file = OpenOptions::new().append(true).open(&seg).unwrap();
    file.write_all(&[0u8; 4096]).unwrap();
    drop(file);
    let mut s = Spool::open(&dir, opts()).unwrap();
    let r = s.recovery().clone();
    assert_eq!((r.torn_tails, r.corrupted_records, r.torn_records), (1, 1, 1));
    assert!(r.quarantined.is_empty());
    let mut want = msg_ids(0..9);
    want.extend(msg_ids([42]));
    assert_eq!(ids(&read_all(&mut s)), want);
  }

  /// Records 0..30 of 100 payload bytes in a closed spool of three segments of ten: its directory, options, frame
  /// length and segment files.
  fn thirty_in_three_segments(tmp: &TempDir) -> (std::path::PathBuf, SpoolOptions, u64, Vec<std::path::PathBuf>) {
    let dir = tmp.path().join("spool");
    let records: Vec<_> = (0..30).map(|i| rec(i, 100)).collect();
    let f = frame_len(&records[0]);
    let options = opts_seg(10 * f);
    Spool::open(&dir, options.clone()).unwrap().append(&records).unwrap();
    let segs = segment_files(&dir);
    assert_eq!(segs.len(), 3);
    (dir, options, f, segs)
  }

  /// Flips the bits of `mask` in byte `at` of a file.
  fn flip(path: &std::path::Path, at: u64, mask: u8) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at as usize] ^= mask;
    fs::write(path, bytes).unwrap();
  }

  /// A length field corrupted mid-segment makes its frame run past the end of the file, like a torn write; it is
  /// not one: the frames after it are there. Counted (every record from it to the segment's end), quarantined,
  /// not torn.
  #[test]
  fn spool_length_flip_mid_segment_is_counted_not_torn() {
    let tmp = TempDir::new().unwrap();
    let (dir, options, f, segs) = thirty_in_three_segments(&tmp);
    // Record 13 (segment 1, frame 3): the high byte of its length, which then runs 16 MiB past the file's end.
    flip(&segs[1], 3 * f + 3, 0x01);
    let mut s = Spool::open(&dir, options).unwrap();
    let r = s.recovery().clone();
    assert_eq!((r.corrupted_records, r.torn_records, r.torn_tails), (7, 0, 0), "{r:?}");
    assert_eq!(r.truncated_bytes, 7 * f);
    assert_eq!(r.quarantined.len(), 1);
    assert_eq!(s.stats().corrupted_records, 7);
    let mut want = msg_ids(0..13);
    want.extend(msg_ids(20..30));
    assert_eq!(ids(&read_all(&mut s)), want);
  }

  #[test]
  fn spool_bad_crc_moved_aside_and_counted() {
    let tmp = TempDir::new().unwrap();
    let (dir, options, f, segs) = thirty_in_three_segments(&tmp);
    // A flipped payload byte in record 15 (segment 1, record 5), an impossible length in record 23.
    flip(&segs[1], 5 * f + 40, 0x01);
    let mut bytes = fs::read(&segs[2]).unwrap();
    bytes[(3 * f) as usize..(3 * f) as usize + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(&segs[2], bytes).unwrap();

    let mut s = Spool::open(&dir, options.clone()).unwrap();
    let r = s.recovery().clone();
    // Record 15 plus the 4 intact frames after it; record 23 plus the 6 intact frames after it (found past its
    // unusable length).
    assert_eq!((r.corrupted_records, r.torn_records), (5 + 7, 0));
    assert_eq!(s.stats().corrupted_records, 12);
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

  /// Records as written: segment, frame offset, record.
  type Written = Vec<(u64, u64, Record)>;

  /// A spool in a new temporary directory holding records of these payload sizes (three per append call), closed:
  /// its directory, options, and each record with its segment and frame offset.
  fn spool_of(sizes: &[usize], segment_bytes: u64) -> (TempDir, std::path::PathBuf, SpoolOptions, Written) {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let options = opts_seg(segment_bytes);
    let records: Vec<_> = sizes.iter().enumerate().map(|(i, &n)| rec(i, n)).collect();
    let mut s = Spool::open(&dir, options.clone()).unwrap();
    for chunk in records.chunks(3) {
      s.append(chunk).unwrap();
    }
    let written = read_all(&mut s).into_iter().map(|(pos, r)| (pos.segment(), pos.offset(), r)).collect();
    (tmp, dir, options, written)
  }

  /// One damage to one segment, where what is lost is known exactly.
  #[derive(Debug, Clone)]
  enum OneDamage {
    None,
    /// Bits of one byte of a frame (header or body).
    Flip {
      frame: usize,
      at: usize,
      mask: u8,
    },
    /// Bits of one byte of a frame's length field.
    FlipLength {
      frame: usize,
      byte: usize,
      mask: u8,
    },
    /// The file cut at a byte.
    Truncate {
      at: usize,
    },
    /// The first bytes of one more frame (a write cut short), or zeros (a power loss).
    TornAppend {
      keep: usize,
      zeros: bool,
    },
  }

  fn one_damage() -> impl Strategy<Value = OneDamage> {
    prop_oneof![
      1 => Just(OneDamage::None),
      2 => (any::<usize>(), any::<usize>(), 1u8..=255)
        .prop_map(|(frame, at, mask)| OneDamage::Flip { frame, at, mask }),
      2 => (any::<usize>(), 0usize..4, 1u8..=255)
        .prop_map(|(frame, byte, mask)| OneDamage::FlipLength { frame, byte, mask }),
      1 => any::<usize>().prop_map(|at| OneDamage::Truncate { at }),
      1 => (any::<usize>(), any::<bool>()).prop_map(|(keep, zeros)| OneDamage::TornAppend { keep, zeros }),
    ]
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

    /// At most one damage per segment, so that what it loses is known: every record lost is counted (corrupted
    /// + torn = lost), the torn ones as torn, the others come back in order, and the damaged bytes are set aside.
    /// Lost: the frames from a flipped one to the segment's end (a flipped length included), the frame a cut goes
    /// through (the frames wholly after a cut are gone without a trace: nothing can count them), the frame an
    /// append cut short.
    #[test]
    fn spool_loss_is_counted_exactly(
      sizes in prop::collection::vec(0usize..400, 1..60),
      segment_bytes in 150u64..4000,
      damages in prop::collection::vec(one_damage(), 1..8),
    ) {
      let (_tmp, dir, options, written) = spool_of(&sizes, segment_bytes);
      let mut by_segment: std::collections::BTreeMap<u64, Vec<(u64, u64, Record)>> = Default::default();
      for (seq, offset, r) in written {
        by_segment.entry(seq).or_default().push((offset, frame_len(&r), r));
      }
      let (mut want, mut lost, mut torn_at_least, mut set_aside) = (Vec::new(), 0u64, 0u64, 0usize);
      for (i, (seq, frames)) in by_segment.iter().enumerate() {
        let path = segment_path(&dir, *seq);
        let mut bytes = fs::read(&path).unwrap();
        let first = |k: usize| frames[..k].iter().map(|f| f.2.clone()).collect::<Vec<_>>();
        let (kept, gone, torn, aside) = match damages[i % damages.len()].clone() {
          OneDamage::None => (first(frames.len()), 0, false, false),
          OneDamage::Flip { frame, at, mask } => {
            let k = frame % frames.len();
            bytes[(frames[k].0 + at as u64 % frames[k].1) as usize] ^= mask;
            (first(k), (frames.len() - k) as u64, false, true)
          }
          OneDamage::FlipLength { frame, byte, mask } => {
            let k = frame % frames.len();
            bytes[frames[k].0 as usize + byte] ^= mask;
            (first(k), (frames.len() - k) as u64, false, true)
          }
          OneDamage::Truncate { at } => {
            let t = (at % (bytes.len() + 1)) as u64;
            bytes.truncate(t as usize);
            let cut = frames.iter().any(|(o, l, _)| *o < t && t < o + l);
            let kept = frames.iter().filter(|(o, l, _)| o + l <= t).map(|f| f.2.clone()).collect();
            (kept, u64::from(cut), cut, cut)
          }
          OneDamage::TornAppend { keep, zeros } => {
            if zeros {
              bytes.extend(std::iter::repeat_n(0u8, 1 + keep % 64));
            } else {
              let mut frame = Vec::new();
              encode_frame(&rec(9999, 50), &mut frame);
              bytes.extend_from_slice(&frame[..1 + keep % (frame.len() - 1)]);
            }
            (first(frames.len()), 1, true, !zeros)
          }
        };
        fs::write(&path, bytes).unwrap();
        want.extend(kept);
        lost += gone;
        torn_at_least += u64::from(torn);
        set_aside += usize::from(aside);
      }
      let mut s = Spool::open(&dir, options.clone()).unwrap();
      let r = s.recovery().clone();
      prop_assert_eq!(r.corrupted_records, lost, "{:?}", r);
      prop_assert!(torn_at_least <= r.torn_records && r.torn_records <= r.corrupted_records, "{:?}", r);
      prop_assert_eq!(r.quarantined.len(), set_aside);
      prop_assert_eq!(s.stats().corrupted_records, lost);
      let got: Vec<Record> = read_all(&mut s).into_iter().map(|(_, r)| r).collect();
      prop_assert_eq!(&got, &want);
      drop(s);
      let s = Spool::open(&dir, options).unwrap();
      prop_assert_eq!(s.recovery().corrupted_records, 0);
    }

    /// Random damage to the segments of a spool: reopening never panics and returns exactly the records whose
    /// frames lie before the first damaged byte of their segment, in order; a second reopen finds nothing new.
    #[test]
    fn spool_fuzz_corruption_never_panics(
      sizes in prop::collection::vec(0usize..400, 1..60),
      segment_bytes in 150u64..4000,
      mutations in prop::collection::vec(mutation(), 1..6),
      garbage_segment in prop::option::of(prop::collection::vec(any::<u8>(), 0..3000)),
    ) {
      let (_tmp, dir, options, written) = spool_of(&sizes, segment_bytes);
      let frames: Vec<_> = written.into_iter().map(|(seq, o, r)| (seq, o + frame_len(&r), r)).collect();
      prop_assert_eq!(frames.len(), sizes.len());
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
      let want: Vec<Record> = frames
        .iter()
        .filter(|(seq, end, _)| first_damage[seq].is_none_or(|d| *end <= d))
        .map(|(_, _, r)| r.clone())
        .collect();

      let mut s = Spool::open(&dir, options.clone()).unwrap();
      prop_assert_eq!(s.stats().records, want.len() as u64);
      let got: Vec<Record> = read_all(&mut s).into_iter().map(|(_, r)| r).collect();
      prop_assert_eq!(&got, &want);
      // No silent loss: a record missing while its frame began inside what is left of its file was counted.
      let damaged_len: std::collections::HashMap<u64, u64> = files
        .iter()
        .zip(&damaged)
        .map(|(p, d)| (parse_segment_name(p.file_name().unwrap().to_str().unwrap()).unwrap(), d.len() as u64))
        .collect();
      let missing_present = frames
        .iter()
        .filter(|(seq, end, r)| end - frame_len(r) < damaged_len[seq] && !want.contains(r))
        .count() as u64;
      let r = s.recovery().clone();
      prop_assert!(missing_present == 0 || r.corrupted_records > 0, "{} missing, {:?}", missing_present, r);
      prop_assert!(r.torn_records <= r.corrupted_records);
      prop_assert_eq!(s.stats().corrupted_records, r.corrupted_records);
      drop(s);
      let mut s = Spool::open(&dir, options).unwrap();
      prop_assert_eq!(s.recovery().corrupted_records, 0);
      prop_assert_eq!(s.recovery().torn_tails, 0);
      let again: Vec<Record> = read_all(&mut s).into_iter().map(|(_, r)| r).collect();
      prop_assert_eq!(&again, &want);
    }
  }
}
