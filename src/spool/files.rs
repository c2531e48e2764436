//! The spool directory: its file names, 0700/0600 modes, the lock that gives it to one process, and `slot-N`s.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::dead_letters::count_dead_letters;
use super::error::{io_err, is_symlink_refusal};
use super::filesystem::{open_read_no_follow, Filesystem, Open, SpoolFile};
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
  /// Creates `path` (0700) if needed, refuses it when it is unsafe (a symbolic link, another user's, writable by
  /// group or others: [`SpoolError::Unsafe`]) and takes its lock: an exclusive OS advisory lock on `spool.lock`
  /// (std's `File::try_lock`, flock(2) on Linux), with the owner's claim written into the file ([`Claim`]). A
  /// second opener gets [`SpoolError::Locked`] and touches no other file. The OS drops the lock when the process
  /// dies; a clean close empties the claim.
  ///
  /// Over a network filesystem flock may be local to each machine (NFS mounted with `local_lock`, some FUSE
  /// filesystems): two machines could both get it. So a lock whose claim names another machine (another host
  /// name and another boot) is refused as well: the slot is left to that machine, live or not, until it takes
  /// the slot back or an operator deletes its `spool.lock`.
  pub(crate) fn lock(fs: F, path: &Path) -> Result<Self, SpoolError> {
    create_private_dir(&fs, path, false)?;
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

/// Creates `dir` (and missing parents) 0700, then refuses it unless it is safe: a directory (a symbolic link
/// to one only when `follow`: the base directory may be reached through one, a slot may not) owned by the
/// process's user and not writable by group or others. An existing directory's mode is not changed.
pub(crate) fn create_private_dir<F: Filesystem>(fs: &F, dir: &Path, follow: bool) -> Result<(), SpoolError> {
  if !fs.is_dir(dir) {
    fs.create_dir_all(dir).map_err(io_err(dir, "create the spool directory"))?;
    // The umask may have removed bits; set exactly 0700.
    fs.set_private(dir).map_err(io_err(dir, "set permissions on"))?;
  }
  match fs.unsafe_dir(dir, follow).map_err(io_err(dir, "check the owner and mode of"))? {
    Some(reason) => Err(SpoolError::Unsafe { path: dir.to_path_buf(), reason }),
    None => Ok(()),
  }
}

impl<F: Filesystem> Drop for SpoolDir<F> {
  /// A clean close empties the claim, so that any machine may take the slot next.
  fn drop(&mut self) {
    let _ = self._lock.set_len(0);
  }
}

/// Who holds a spool directory, as written into its `spool.lock`: `<pid> <host name> <boot id>` (the boot id
/// tells this machine from another one of the same name, and this boot from the last). Older versions wrote the
/// pid alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claim {
  pub(crate) pid: Option<u32>,
  pub(crate) host: Option<String>,
  pub(crate) boot: Option<String>,
}

impl Claim {
  /// This process's claim.
  pub(crate) fn mine() -> Claim {
    Claim { pid: Some(std::process::id()), host: host_name(), boot: boot_id() }
  }

  pub(crate) fn parse(text: &str) -> Option<Claim> {
    let mut parts = text.split_whitespace();
    let pid = parts.next()?.parse().ok();
    let host = parts.next().map(str::to_owned);
    let boot = parts.next().map(str::to_owned);
    Some(Claim { pid, host, boot })
  }

  pub(crate) fn text(&self) -> String {
    let pid = self.pid.map_or_else(|| "-".to_owned(), |p| p.to_string());
    format!("{pid} {} {}\n", self.host.as_deref().unwrap_or("-"), self.boot.as_deref().unwrap_or("-"))
  }

  /// The claim names another machine: another host name and another boot. (The same boot is this kernel,
  /// where flock is reliable; the same host name with another boot is this machine before a restart.)
  pub(crate) fn foreign_to(&self, me: &Claim) -> bool {
    let other_host = match (&self.host, &me.host) {
      (Some(theirs), Some(mine)) => theirs != "-" && theirs != mine,
      _ => false,
    };
    let same_boot = self.boot.is_some() && self.boot.as_deref() != Some("-") && self.boot == me.boot;
    other_host && !same_boot
  }
}

/// The host name (gethostname), when it has one without spaces.
fn host_name() -> Option<String> {
  #[cfg(unix)]
  {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that many bytes.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
      return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).into_owned();
    (!name.is_empty() && !name.contains(char::is_whitespace)).then_some(name)
  }
  #[cfg(not(unix))]
  None
}

/// This boot's id (Linux); None elsewhere.
fn boot_id() -> Option<String> {
  let id = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
  let id = id.trim();
  (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_owned())
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
  let locked = file.try_lock().map_err(io_err(&path, "lock"))?;
  let mut text = String::new();
  let _ = Read::by_ref(&mut file).take(1024).read_to_string(&mut text);
  let claim = Claim::parse(&text);
  let mine = Claim::mine();
  let refused = |c: Option<Claim>, foreign: bool| {
    let (pid, host) = c.map_or((None, None), |c| (c.pid, if foreign { c.host } else { None }));
    SpoolError::Locked { dir: dir.to_path_buf(), pid, host }
  };
  if !locked {
    return Err(refused(claim, false));
  }
  if claim.as_ref().is_some_and(|c| c.foreign_to(&mine)) {
    return Err(refused(claim, true));
  }
  file
    .set_len(0)
    .and_then(|_| file.seek(SeekFrom::Start(0)))
    .and_then(|_| file.write_all(mine.text().as_bytes()))
    .map_err(io_err(&path, "write the claim into"))?;
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
  /// The host named in the slot's lock file (the holder's, or the last holder's when it did not close cleanly).
  pub host: Option<String>,
  /// The lock file names another machine: processes here leave the slot to it (see `SpoolDir::lock`).
  pub claimed_elsewhere: bool,
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
  let (in_use, claim) = match open_read_no_follow(&lock_path) {
    Ok(mut file) => {
      let in_use = match file.try_lock_shared() {
        Ok(()) => false,
        Err(fs::TryLockError::WouldBlock) => true,
        Err(fs::TryLockError::Error(e)) => return Err(io_err(&lock_path, "probe the lock of")(e)),
      };
      let mut text = String::new();
      let _ = Read::by_ref(&mut file).take(1024).read_to_string(&mut text);
      (in_use, Claim::parse(&text))
    }
    Err(e) if is_symlink_refusal(&e) => return Err(io_err(&lock_path, "open")(e)),
    Err(_) => (false, None),
  };
  let mut status = SlotStatus {
    dir: dir.to_path_buf(),
    locked_by: if in_use { claim.as_ref().and_then(|c| c.pid) } else { None },
    in_use,
    host: claim.as_ref().and_then(|c| c.host.clone()).filter(|h| h != "-"),
    claimed_elsewhere: claim.as_ref().is_some_and(|c| c.foreign_to(&Claim::mine())),
    segments: 0,
    segment_bytes: 0,
    quarantined_files: 0,
    dead_letters: count_dead_letters(dir)?,
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

  use crate::spool::cursor::{CURSOR_FILE, CURSOR_TMP};
  use crate::spool::files::{segment_name, Claim};
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
        let SpoolError::Locked { dir: d, pid, host } = &e else { unreachable!() };
        assert_eq!(host, &None, "a lock held on this machine names no other host");
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

  fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
  }

  /// Anyone able to write into a slot could plant links to files n8n may write: the lock file, the cursor, a
  /// segment, the cursor's temp file, the dead-letter file. Each is refused ([`SpoolError::Unsafe`]: the spool is
  /// off) or replaced, never followed: the file a link points to is untouched after a durable spool logged.
  #[cfg(unix)]
  #[test]
  fn spool_never_writes_through_a_symlink() {
    use std::os::unix::fs::symlink;
    let tmp = TempDir::new().unwrap();
    let victim = tmp.path().join("victim");
    let original = b"a file the spool must never write: not a frame\n".repeat(64);
    let cases: Vec<Vec<String>> = vec![
      vec![LOCK_FILE.into(), CURSOR_FILE.into(), segment_name(0)],
      vec![LOCK_FILE.into()],
      vec![CURSOR_FILE.into()],
      vec![segment_name(0)],
    ];
    let durable = SpoolOptions { fsync: FsyncPolicy::Always, cursor_persist_records: 1, ..SpoolOptions::default() };
    for (i, links) in cases.iter().enumerate() {
      fs::write(&victim, &original).unwrap();
      let base = tmp.path().join(format!("base-{i}"));
      let slot = base.join("slot-0");
      fs::create_dir_all(&slot).unwrap();
      set_mode(&base, 0o700);
      set_mode(&slot, 0o700);
      for name in links {
        symlink(&victim, slot.join(name)).unwrap();
      }
      match Spool::open_slot(&base, durable.clone()) {
        Err(SpoolError::Unsafe { path, reason }) => {
          assert!(links.iter().any(|n| path == slot.join(n)), "{links:?}: {}", path.display());
          assert_eq!(reason, "it is a symbolic link");
        }
        other => panic!("{links:?}: expected Unsafe, got {other:?}"),
      }
      assert_eq!(fs::read(&victim).unwrap(), original, "{links:?}: the victim was written");
    }
    // Links planted while the spool runs: the next segment's name, the cursor's temp file, the dead-letter file.
    fs::write(&victim, &original).unwrap();
    let base = tmp.path().join("base-running");
    let (mut s, slot) = Spool::open_slot(&base, SpoolOptions { segment_bytes: 200, ..durable.clone() }).unwrap();
    s.append(&[rec(1, 100)]).unwrap();
    symlink(&victim, slot.join(segment_name(1))).unwrap();
    symlink(&victim, slot.join(CURSOR_TMP)).unwrap();
    symlink(&victim, slot.join(DEAD_LETTER_FILE)).unwrap();
    assert!(matches!(s.append(&[rec(2, 100)]), Err(SpoolError::Io { action: "create", .. })), "O_EXCL");
    let got = read_all(&mut s);
    s.ack(got[0].0).unwrap();
    s.sync().unwrap();
    assert!(!fs::symlink_metadata(slot.join(CURSOR_FILE)).unwrap().file_type().is_symlink());
    let dead = s.append_dead_letter(&rec(3, 10), "k", "m", 1).unwrap_err();
    assert!(matches!(&dead, SpoolError::Unsafe { path, .. } if *path == slot.join(DEAD_LETTER_FILE)), "{dead}");
    assert!(dead.to_string().contains("chmod 700"), "{dead}");
    s.close().unwrap();
    assert_eq!(fs::read(&victim).unwrap(), original, "the victim was written");
  }

  /// A spool directory or slot that others may write to, another user's, or a slot that is a link is refused with
  /// a message saying why and what to do; nothing is created in it.
  #[cfg(unix)]
  #[test]
  fn spool_refuses_a_directory_others_can_write() {
    let tmp = TempDir::new().unwrap();
    let base = tmp.path().join("open-to-all");
    fs::create_dir(&base).unwrap();
    set_mode(&base, 0o777);
    let e = Spool::open_slot(&base, opts()).unwrap_err();
    assert!(matches!(&e, SpoolError::Unsafe { path, .. } if *path == base), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("writable by others (mode 0777)") && msg.contains("N8N_KAFKA_LOGGER_SPOOL_DIR"), "{msg}");
    assert_eq!(fs::read_dir(&base).unwrap().count(), 0, "nothing created in it");
    // Sticky like /tmp: still others can plant names.
    set_mode(&base, 0o1777);
    assert!(matches!(Spool::open_slot(&base, opts()), Err(SpoolError::Unsafe { .. })));

    set_mode(&base, 0o700);
    let slot = base.join("slot-0");
    fs::create_dir(&slot).unwrap();
    set_mode(&slot, 0o770);
    let e = Spool::open_slot(&base, opts()).unwrap_err();
    let group = |r: &str| r.contains("writable by its group");
    assert!(matches!(&e, SpoolError::Unsafe { path, reason } if *path == slot && group(reason)), "{e}");
    assert!(!slot.join(LOCK_FILE).exists());

    // A slot that is a link to a private directory elsewhere.
    fs::remove_dir(&slot).unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    set_mode(&elsewhere, 0o700);
    std::os::unix::fs::symlink(&elsewhere, &slot).unwrap();
    let e = Spool::open_slot(&base, opts()).unwrap_err();
    assert!(matches!(&e, SpoolError::Unsafe { reason, .. } if reason == "it is a symbolic link"), "{e}");
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);

    // Another user's directory (only root can make one here).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
      fs::remove_file(&slot).unwrap();
      fs::create_dir(&slot).unwrap();
      set_mode(&slot, 0o700);
      std::os::unix::fs::chown(&slot, Some(65534), Some(65534)).unwrap();
      let e = Spool::open_slot(&base, opts()).unwrap_err();
      assert!(matches!(&e, SpoolError::Unsafe { reason, .. } if reason.contains("owned by uid 65534")), "{e}");
    }
  }

  /// The lock file names the owner (pid, host, boot); a clean close empties it. Over a network filesystem flock
  /// may not reach another machine: a lock naming another machine is refused (open_slot moves to the next
  /// slot), one from this machine before a restart (same host, another boot) or in the old pid-only form is not.
  #[test]
  fn spool_lock_names_its_owner_and_refuses_another_machine() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let s = Spool::open(&dir, opts()).unwrap();
    let text = fs::read_to_string(dir.join(LOCK_FILE)).unwrap();
    let mine = Claim::mine();
    assert_eq!(Claim::parse(&text), Some(mine.clone()), "{text}");
    assert!(text.starts_with(&format!("{} ", std::process::id())), "{text}");
    drop(s);
    assert_eq!(fs::read_to_string(dir.join(LOCK_FILE)).unwrap(), "", "a clean close empties the claim");

    fs::write(dir.join(LOCK_FILE), "4242 other-host 0f0f-other-boot\n").unwrap();
    let e = Spool::open(&dir, opts()).unwrap_err();
    assert!(matches!(&e, SpoolError::Locked { pid: Some(4242), host: Some(h), .. } if h == "other-host"), "{e}");
    assert!(e.to_string().contains("pid 4242 on host other-host"), "{e}");
    assert_eq!(fs::read_to_string(dir.join(LOCK_FILE)).unwrap(), "4242 other-host 0f0f-other-boot\n", "left as it was");
    let status = inspect_slots(&dir).unwrap();
    let st = &status[0];
    assert_eq!((st.host.as_deref(), st.claimed_elsewhere, st.in_use), (Some("other-host"), true, false));

    let base = tmp.path().join("base");
    let (s0, slot0) = Spool::open_slot(&base, opts()).unwrap();
    drop(s0);
    fs::write(slot0.join(LOCK_FILE), "4242 other-host 0f0f-other-boot\n").unwrap();
    let (_s1, slot1) = Spool::open_slot(&base, opts()).unwrap();
    assert_eq!(slot1, base.join("slot-1"), "the slot of another machine is left to it");

    for stale in [format!("4242 {} old-boot\n", mine.host.clone().unwrap_or("-".into())), "4242\n".to_string()] {
      fs::write(dir.join(LOCK_FILE), &stale).unwrap();
      let s = Spool::open(&dir, opts()).unwrap_or_else(|e| panic!("{stale:?}: {e}"));
      drop(s);
    }
  }
}
