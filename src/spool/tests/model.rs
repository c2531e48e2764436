//! The whole spool against a plain model: appends, reads, acks in any order, rewinds, checkpoints, reopens, crashes.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use proptest::prelude::*;
use tempfile::TempDir;

use super::memfs::MemFs;
use super::support::*;
use crate::record::Record;
use crate::spool::filesystem::{Filesystem, RealFs};
use crate::spool::{FsyncPolicy, Spool, SpoolOptions, SpoolPos};

#[derive(Debug, Clone)]
enum Op {
  /// One `append` call with records of these payload sizes.
  Append(Vec<u16>),
  Read(u8),
  /// Ack the n-th outstanding record (returned since open and not acked).
  Ack(usize),
  /// Ack the n-th record acked since open again: ignored.
  AckAgain(usize),
  Rewind,
  Checkpoint,
  Sync,
  /// Close and open again.
  Reopen,
  /// Open the files as a process killed now leaves them.
  Crash,
}

fn op() -> impl Strategy<Value = Op> {
  prop_oneof![
    3 => prop::collection::vec(0u16..400, 0..8).prop_map(Op::Append),
    3 => (1u8..12).prop_map(Op::Read),
    5 => any::<usize>().prop_map(Op::Ack),
    1 => any::<usize>().prop_map(Op::AckAgain),
    1 => Just(Op::Rewind),
    1 => Just(Op::Checkpoint),
    1 => Just(Op::Sync),
    1 => Just(Op::Reopen),
    1 => Just(Op::Crash),
  ]
}

fn options() -> impl Strategy<Value = SpoolOptions> {
  let fsync = prop_oneof![Just(FsyncPolicy::Always), Just(FsyncPolicy::Manual), Just(FsyncPolicy::Never)];
  (150u64..3000, fsync, prop_oneof![Just(1u64), Just(3), Just(u64::MAX)]).prop_map(|(segment_bytes, fsync, every)| {
    SpoolOptions {
      segment_bytes,
      fsync,
      cursor_persist_records: every,
      cursor_persist_interval: Duration::from_secs(3600),
      ..SpoolOptions::default()
    }
  })
}

/// Where the spool under test lives, and what a crash does to it.
trait Disk {
  type Fs: Filesystem;
  fn fs(&self) -> Self::Fs;
  fn dir(&self) -> PathBuf;
  /// From now on the spool's files are a copy of the present ones, without the lock.
  fn crash(&mut self);
  /// Bytes of the segment files.
  fn segment_bytes(&self) -> u64;
}

struct Memory {
  fs: MemFs,
}

impl Disk for Memory {
  type Fs = MemFs;
  fn fs(&self) -> MemFs {
    self.fs.clone()
  }
  fn dir(&self) -> PathBuf {
    PathBuf::from("/mem/spool")
  }
  fn crash(&mut self) {
    self.fs = self.fs.snapshot();
  }
  fn segment_bytes(&self) -> u64 {
    let dir = self.dir();
    let names = self.fs.names(&dir).into_iter().filter(|n| n.starts_with("segment-"));
    names.map(|n| self.fs.read(&dir.join(n)).map_or(0, |d| d.len() as u64)).sum()
  }
}

struct Real {
  tmp: TempDir,
  dir: PathBuf,
  crashes: usize,
}

impl Disk for Real {
  type Fs = RealFs;
  fn fs(&self) -> RealFs {
    RealFs
  }
  fn dir(&self) -> PathBuf {
    self.dir.clone()
  }
  fn crash(&mut self) {
    self.crashes += 1;
    let to = self.tmp.path().join(format!("crashed-{}", self.crashes));
    snapshot(&self.dir, &to);
    self.dir = to;
  }
  fn segment_bytes(&self) -> u64 {
    segment_files(&self.dir).iter().map(|p| fs::metadata(p).unwrap().len()).sum()
  }
}

/// Every record appended (in order), the records removed from the head, those acked beyond it, the next one
/// to read, and the head below which a crash cannot go back (the last checkpoint, close or open).
#[derive(Debug, Default)]
struct Model {
  records: Vec<Record>,
  prefix: usize,
  acked: BTreeSet<usize>,
  read: usize,
  durable: usize,
}

impl Model {
  fn read(&mut self, max: usize) -> Vec<usize> {
    let mut out = Vec::new();
    while out.len() < max && self.read < self.records.len() {
      if !self.acked.contains(&self.read) {
        out.push(self.read);
      }
      self.read += 1;
    }
    out
  }

  fn ack(&mut self, i: usize) {
    self.acked.insert(i);
    while self.acked.remove(&self.prefix) {
      self.prefix += 1;
    }
    self.read = self.read.max(self.prefix);
  }

  /// A new `Spool` on the same files, whose head is `head`.
  fn reopened(&mut self, head: usize) {
    self.prefix = head;
    self.acked.clear();
    self.read = head;
    self.durable = head;
  }
}

fn run<D: Disk>(mut disk: D, options: SpoolOptions, ops: Vec<Op>) -> Result<(), TestCaseError> {
  let open = |disk: &D| Spool::open_in(disk.fs(), &disk.dir(), options.clone()).unwrap();
  let mut s = open(&disk);
  let mut m = Model::default();
  // Positions handed out since the spool was opened: outstanding ones, and acked ones.
  let mut outstanding: BTreeMap<usize, SpoolPos> = BTreeMap::new();
  let mut acked: Vec<SpoolPos> = Vec::new();
  for op in ops {
    match op {
      Op::Append(sizes) => {
        let batch: Vec<Record> = sizes.iter().enumerate().map(|(k, &n)| rec(m.records.len() + k, n as usize)).collect();
        prop_assert_eq!(s.append(&batch).unwrap().appended, batch.len());
        m.records.extend(batch);
      }
      Op::Read(max) => {
        let got = s.read_next(max as usize).unwrap();
        let want = m.read(max as usize);
        let got_records: Vec<&Record> = got.iter().map(|(_, r)| r).collect();
        let want_records: Vec<&Record> = want.iter().map(|&i| &m.records[i]).collect();
        prop_assert_eq!(got_records, want_records);
        for ((pos, _), i) in got.into_iter().zip(want) {
          outstanding.insert(i, pos);
        }
      }
      Op::Ack(n) => {
        if let Some(&i) = outstanding.keys().nth(n % outstanding.len().max(1)) {
          let pos = outstanding.remove(&i).unwrap();
          s.ack(pos).unwrap();
          m.ack(i);
          acked.push(pos);
        }
      }
      Op::AckAgain(n) => {
        if !acked.is_empty() {
          let before = s.stats();
          s.ack(acked[n % acked.len()]).unwrap();
          prop_assert_eq!(s.stats(), before);
        }
      }
      Op::Rewind => {
        s.rewind_unacked();
        m.read = m.prefix;
      }
      Op::Checkpoint => {
        s.checkpoint().unwrap();
        m.durable = m.prefix;
      }
      Op::Sync => s.sync().unwrap(),
      Op::Reopen | Op::Crash => {
        if matches!(op, Op::Crash) {
          disk.crash();
        }
        drop(s);
        s = open(&disk);
        let r = s.recovery().clone();
        prop_assert_eq!((r.torn_tails, r.corrupted_records, r.cursor_reset), (0, 0, false));
        let head = m.records.len() - r.records as usize;
        if matches!(op, Op::Crash) {
          // At least once: nothing acked since the last checkpoint is lost; never more than was acked.
          prop_assert!(m.durable <= head && head <= m.prefix, "{} <= {head} <= {}", m.durable, m.prefix);
        } else {
          prop_assert_eq!(head, m.prefix, "a clean close persists the ack cursor");
        }
        m.reopened(head);
        outstanding.clear();
        acked.clear();
      }
    }
    let st = s.stats();
    prop_assert_eq!(st.records, (m.records.len() - m.prefix) as u64);
    prop_assert_eq!(st.oldest_event_time_ms, m.records.get(m.prefix).map(|r| r.message.event_time_ms));
    prop_assert_eq!(st.bytes, disk.segment_bytes());
    prop_assert_eq!((st.corrupted_records, st.refused_records), (0, 0));
  }
  // Whatever is left comes back, in order, after a last reopen.
  drop(s);
  let mut s = open(&disk);
  let left: Vec<Record> = read_all(&mut s).into_iter().map(|(_, r)| r).collect();
  prop_assert_eq!(&left[..], &m.records[m.prefix..]);
  Ok(())
}

proptest! {
  #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

  /// On memory: many cases, fast.
  #[test]
  fn spool_matches_model(options in options(), ops in prop::collection::vec(op(), 1..80)) {
    run(Memory { fs: MemFs::default() }, options, ops)?;
  }
}

proptest! {
  #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

  /// The same on the real filesystem, fewer cases: the seam changes nothing.
  #[test]
  fn spool_matches_model_on_disk(options in options(), ops in prop::collection::vec(op(), 1..80)) {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    run(Real { tmp, dir, crashes: 0 }, options, ops)?;
  }
}

#[test]
fn memfs_locks_like_the_disk() {
  let fs = MemFs::default();
  let dir = Path::new("/mem/spool");
  let a = Spool::open_in(fs.clone(), dir, opts()).unwrap();
  assert!(matches!(Spool::open_in(fs.clone(), dir, opts()), Err(crate::spool::SpoolError::Locked { .. })));
  let (_b, slot) = Spool::open_slot_in(fs.clone(), Path::new("/mem/base"), opts()).unwrap();
  assert_eq!(slot, Path::new("/mem/base/slot-0"));
  drop(a);
  assert!(Spool::open_in(fs, dir, opts()).is_ok());
}
