//! The spool directory: its file names, 0700/0600 modes, the lock that gives it to one process, and `slot-N`s.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::dead_letters::read_dead_letters;
use super::error::io_err;
use super::filesystem::{Filesystem, Open, SpoolFile};
use super::SpoolError;

/// Name of the lock file inside the spool directory.
pub const LOCK_FILE: &str = "spool.lock";
/// How many `slot-N` directories [`Spool::open_slot`](super::Spool::open_slot) tries.
pub(crate) const MAX_SLOTS: usize = 1024;

/// One locked spool directory on its filesystem. Remembers whether files were created, renamed or deleted in it
/// since its last fsync.
#[derive(Debug)]
pub(crate) struct SpoolDir<F: Filesystem> {
  pub(crate) fs: F,
  pub(crate) path: PathBuf,
  /// Entries changed since the last directory fsync.
  pub(crate) dirty: bool,
  _lock: F::File,
}

impl<F: Filesystem> SpoolDir<F> {
  /// Creates `path` (0700) if needed and takes its lock: an exclusive OS advisory lock on `spool.lock` (std's
  /// `File::try_lock`, flock(2) on Linux), with the pid written into the file for humans. A second opener gets
  /// [`SpoolError::Locked`] and touches no other file. The OS drops the lock when the process dies.
  pub(crate) fn lock(fs: F, path: &Path) -> Result<Self, SpoolError> {
    create_private_dir(&fs, path)?;
    let lock = acquire_lock(&fs, path)?;
    Ok(SpoolDir { fs, path: path.to_path_buf(), dirty: false, _lock: lock })
  }

  pub(crate) fn file(&self, name: &str) -> PathBuf {
    self.path.join(name)
  }

  pub(crate) fn segment_path(&self, seq: u64) -> PathBuf {
    segment_path(&self.path, seq)
  }

  pub(crate) fn open(&self, path: &Path, how: Open, action: &'static str) -> Result<F::File, SpoolError> {
    self.fs.open(path, how).map_err(io_err(path, action))
  }

  /// fsyncs the directory now.
  pub(crate) fn sync(&self) -> Result<(), SpoolError> {
    self.fs.sync_dir(&self.path).map_err(io_err(&self.path, "fsync the directory"))
  }

  /// fsyncs the directory when its entries changed since the last time.
  pub(crate) fn sync_if_dirty(&mut self) -> Result<(), SpoolError> {
    if self.dirty {
      self.sync()?;
      self.dirty = false;
    }
    Ok(())
  }
}

/// Creates `dir` (and missing parents) 0700; an existing directory is left as it is.
pub(crate) fn create_private_dir<F: Filesystem>(fs: &F, dir: &Path) -> Result<(), SpoolError> {
  if fs.is_dir(dir) {
    return Ok(());
  }
  fs.create_dir_all(dir).map_err(io_err(dir, "create the spool directory"))?;
  // The umask may have removed bits; set exactly 0700.
  fs.set_private(dir).map_err(io_err(dir, "set permissions on"))
}

pub(crate) fn segment_name(seq: u64) -> String {
  format!("segment-{seq:020}.log")
}

pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
  let digits = name.strip_prefix("segment-")?.strip_suffix(".log")?;
  if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
    return None;
  }
  digits.parse().ok()
}

pub(crate) fn segment_path(dir: &Path, seq: u64) -> PathBuf {
  dir.join(segment_name(seq))
}

/// The directory of slot `n` under a base directory.
pub(crate) fn slot_dir(base: &Path, n: usize) -> PathBuf {
  base.join(format!("slot-{n}"))
}

fn acquire_lock<F: Filesystem>(fs: &F, dir: &Path) -> Result<F::File, SpoolError> {
  let path = dir.join(LOCK_FILE);
  let mut file = fs.open(&path, Open::ReadWriteCreate).map_err(io_err(&path, "open the lock file"))?;
  if !file.try_lock().map_err(io_err(&path, "lock"))? {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    return Err(SpoolError::Locked { dir: dir.to_path_buf(), pid: text.trim().parse().ok() });
  }
  file
    .set_len(0)
    .and_then(|_| file.seek(SeekFrom::Start(0)))
    .and_then(|_| writeln!(file, "{}", std::process::id()))
    .map_err(io_err(&path, "write the pid into"))?;
  Ok(file)
}

/// What `spool status` shows of one slot, read without taking its lock or repairing anything.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotStatus {
  pub dir: PathBuf,
  /// The pid holding the slot, when a process holds it.
  pub locked_by: Option<u32>,
  pub in_use: bool,
  pub segments: usize,
  pub segment_bytes: u64,
  pub quarantined_files: usize,
  pub dead_letters: usize,
}

/// Every `slot-N` under `base` (or `base` itself when it is a slot), read-only, on the real filesystem.
pub fn inspect_slots(base: &Path) -> Result<Vec<SlotStatus>, SpoolError> {
  let mut dirs: Vec<PathBuf> = if base.join(LOCK_FILE).exists() {
    vec![base.to_path_buf()]
  } else {
    fs::read_dir(base)
      .map_err(io_err(base, "list"))?
      .filter_map(|e| e.ok().map(|e| e.path()))
      .filter(|p| p.is_dir() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("slot-")))
      .collect()
  };
  dirs.sort();
  dirs.into_iter().map(|dir| inspect_slot(&dir)).collect()
}

fn inspect_slot(dir: &Path) -> Result<SlotStatus, SpoolError> {
  // A shared lock probe: it fails while the owner holds its exclusive lock, and changes nothing.
  let lock_path = dir.join(LOCK_FILE);
  let in_use = match File::open(&lock_path) {
    Ok(file) => match file.try_lock_shared() {
      Ok(()) => false,
      Err(fs::TryLockError::WouldBlock) => true,
      Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path, "probe the lock of")(e)),
    },
    Err(_) => false,
  };
  let locked_by = in_use.then(|| fs::read_to_string(&lock_path).ok()?.trim().parse().ok()).flatten();
  let mut status = SlotStatus {
    dir: dir.to_path_buf(),
    locked_by,
    in_use,
    segments: 0,
    segment_bytes: 0,
    quarantined_files: 0,
    dead_letters: read_dead_letters(dir)?.len(),
  };
  for entry in fs::read_dir(dir).map_err(io_err(dir, "list"))?.filter_map(Result::ok) {
    let name = entry.file_name().to_string_lossy().into_owned();
    if parse_segment_name(&name).is_some() {
      status.segments += 1;
      status.segment_bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
    } else if name.ends_with(".bad") {
      status.quarantined_files += 1;
    }
  }
  Ok(status)
}

#[cfg(test)]
mod tests {
  use std::fs::{self, OpenOptions};
  use std::io::Write;
  use std::path::Path;

  use tempfile::TempDir;

  use crate::spool::cursor::CURSOR_FILE;
  use crate::spool::tests::support::*;
  use crate::spool::*;

  #[test]
  fn spool_lock_and_slots() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let mut a = Spool::open(&dir, opts()).unwrap();
    a.append(&[rec(1, 50)]).unwrap();
    // A torn tail a second opener would repair if it touched the files.
    let seg = segment_files(&dir)[0].clone();
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    f.write_all(&[1, 2, 3]).unwrap();
    let len = fs::metadata(&seg).unwrap().len();
    match Spool::open(&dir, opts()) {
      Err(e @ SpoolError::Locked { .. }) => {
        let SpoolError::Locked { dir: d, pid } = &e else { unreachable!() };
        assert_eq!(d, &dir);
        assert_eq!(*pid, Some(std::process::id()));
        let msg = e.to_string();
        assert!(msg.contains(&dir.display().to_string()) && msg.contains(&format!("pid {}", std::process::id())));
        assert!(msg.contains("N8N_KAFKA_LOGGER_SPOOL_DIR"), "{msg}");
      }
      other => panic!("expected Locked, got {other:?}"),
    }
    assert_eq!(fs::metadata(&seg).unwrap().len(), len);
    drop(a);

    let base = tmp.path().join("base");
    let (mut s0, p0) = Spool::open_slot(&base, opts()).unwrap();
    let (_s1, p1) = Spool::open_slot(&base, opts()).unwrap();
    assert_eq!((p0.clone(), p1), (base.join("slot-0"), base.join("slot-1")));
    s0.append(&[rec(7, 50)]).unwrap();
    drop(s0);
    let (mut s2, p2) = Spool::open_slot(&base, opts()).unwrap();
    assert_eq!(p2, p0);
    assert_eq!(ids(&read_all(&mut s2)), msg_ids([7]));
  }

  #[test]
  fn spool_status_reads_slots_without_taking_them() {
    let tmp = TempDir::new().unwrap();
    let base = tmp.path().join("base");
    let (mut s0, _) = Spool::open_slot(&base, opts()).unwrap();
    let (mut s1, dir1) = Spool::open_slot(&base, opts()).unwrap();
    s0.append(&[rec(1, 50), rec(2, 50)]).unwrap();
    s1.append_dead_letter(&rec(3, 10), "MessageTooLarge", "too big", 1).unwrap();
    drop(s1);
    let slots = inspect_slots(&base).unwrap();
    assert_eq!(slots.len(), 2);
    let (a, b) = (&slots[0], &slots[1]);
    assert_eq!((a.in_use, a.locked_by, a.segments, a.dead_letters), (true, Some(std::process::id()), 1, 0));
    assert_eq!(a.segment_bytes, frame_len(&rec(1, 50)) * 2);
    assert_eq!((b.in_use, b.locked_by, b.dead_letters), (false, None, 1));
    // A slot directory itself, and the status probe did not take it.
    assert_eq!(inspect_slots(&dir1).unwrap().len(), 1);
    let (_again, dir) = Spool::open_slot(&base, opts()).unwrap();
    assert_eq!(dir, dir1);
  }

  #[cfg(unix)]
  #[test]
  fn spool_file_modes() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let tmp = TempDir::new().unwrap();
    let base = tmp.path().join("a").join("b");
    let (mut s, dir) = Spool::open_slot(&base, SpoolOptions { segment_bytes: 300, ..opts() }).unwrap();
    s.append(&(0..10).map(|i| rec(i, 100)).collect::<Vec<_>>()).unwrap();
    let got = read_all(&mut s);
    s.ack(got[0].0).unwrap();
    s.ack(got[1].0).unwrap();
    s.append_dead_letter(&got[0].1, "MessageTooLarge", "too big", 1).unwrap();
    s.sync().unwrap();
    drop(s);
    // Damage a frame so that the reopen writes a quarantine file.
    let seg = segment_files(&dir).last().unwrap().clone();
    let mut bytes = fs::read(&seg).unwrap();
    bytes[12] ^= 0xff;
    fs::write(&seg, bytes).unwrap();
    let s = Spool::open(&dir, opts()).unwrap();
    assert_eq!(s.recovery().quarantined.len(), 1);
    drop(s);
    assert_eq!(mode(&base), 0o700);
    assert_eq!(mode(&dir), 0o700);
    let names: Vec<String> =
      fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    for wanted in [LOCK_FILE, CURSOR_FILE, DEAD_LETTER_FILE] {
      assert!(names.iter().any(|n| n == wanted), "{wanted} missing in {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("corrupt-") && n.ends_with(".bad")));
    assert!(names.iter().any(|n| n.starts_with("segment-")));
    for n in &names {
      assert_eq!(mode(&dir.join(n)), 0o600, "{n}");
    }
  }
}
