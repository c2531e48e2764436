//! The durable on-disk spool: an append-only log of Kafka messages waiting to be (re)sent, owned by the
//! background thread. One `Spool` per directory, one process per directory.
//!
//! # Records and frames
//! A [`SpoolRecord`] is one Kafka message ready to resend (key, payload, event name, messageId, event time,
//! attempts, first failure time). On disk the spool directory holds segment files
//! `segment-<20-digit sequence>.log`, each a sequence of frames:
//!
//! ```text
//! length: u32 LE (of the body) | crc32c(body): u32 LE | body
//! body v1: version u8 = 1 | flags u8 (bit 0: first_failure_ms present) | event_time_ms i64 LE | attempts u32 LE
//!          | [first_failure_ms i64 LE] | key, event_name, message_id, payload: each u32 LE length + bytes
//! ```
//!
//! A body is at most [`MAX_RECORD_BYTES`]; a length under the smallest possible body or over that limit is
//! "impossible". Segments roll when the next frame would pass `segment_bytes` (default 8 MiB); a record larger
//! than a segment gets a segment of its own. The directory is created 0700 and every file 0600 (unix).
//!
//! # Ownership
//! [`Spool::open`] takes an exclusive OS advisory lock on `spool.lock` (std's `File::try_lock`, flock(2) on
//! Linux) and writes the pid into it for humans; a second opener gets [`SpoolError::Locked`] and touches no
//! other file. The OS drops the lock when the process dies. [`Spool::open_slot`] lets several processes of one
//! machine share a base directory: each takes the first `slot-N` whose lock is free (never a locked one), so a
//! restarted process takes slot-0 again and replays its backlog.
//!
//! # Appending and the size cap
//! [`Spool::append`] is a group commit: the frames of one call go out in one `write` per segment touched and,
//! under [`FsyncPolicy::Always`], one `fdatasync` (plus a directory fsync when the call created a segment).
//! `FsyncPolicy::Manual` leaves durability to the caller's [`Spool::sync`] (the group-commit interval);
//! `FsyncPolicy::Never` leaves it to the OS (a process crash loses nothing, an OS crash or power loss can).
//! `max_bytes` (default 1 GiB) caps the segment bytes on disk. The policy when full is drop-newest (Vector's
//! `when_full: drop_newest`): the appended records are always a prefix of the call's records; the first record
//! that does not fit (or is over [`MAX_RECORD_BYTES`]) and every record after it are refused, counted in
//! [`AppendOutcome::refused`] and [`SpoolStats::refused_records`].
//!
//! # Replay and acknowledgement
//! [`Spool::read_next`] returns records in append order after everything already read (an in-memory read
//! cursor). [`Spool::ack`] marks one delivered; acks may arrive in any order. The ack cursor is the first
//! unacked record: only the contiguous acked prefix is removed. It is persisted in `cursor` (CRC-checked text of
//! a fixed width) when a fully acked segment is deleted, at every [`Spool::checkpoint`] (the caller's batch of
//! acks), otherwise at most every `cursor_persist_interval` (100 ms) or `cursor_persist_records` (10,000)
//! removed records, whichever comes first (checked by `ack` and `sync`), and always by `close`/drop. A persist
//! overwrites the file in place (one write: a process crash cannot tear it, a torn write after power loss fails
//! the CRC); `sync` and `close` replace it durably (temp file, fsync, rename, directory fsync: 0.6-2.5 ms on
//! ext4, hence not per batch). So after a process crash only the records acked since the last checkpoint are
//! replayed again (after an OS crash, since the last sync): delivery is at-least-once, never lossy, and the
//! caller dedups by messageId. [`Spool::rewind_unacked`] moves the read cursor back to the ack cursor (after a failed send);
//! records already acked out of order are not returned again. Whole segments before the ack cursor are deleted
//! (the segment being appended to is kept). Records read and not yet acked cost about 64 bytes of memory each
//! until acked: the caller bounds them by its in-flight limit.
//!
//! # Corruption
//! [`Spool::open`] scans every segment from the ack cursor. A torn tail (a frame cut short, or a tail of zero
//! bytes as a crash can leave) is truncated away. A frame with a bad CRC, an impossible length or a body that
//! does not decode ends the good part of its segment: the records before it stay, the rest of the segment is
//! copied to `corrupt-<sequence>-<offset>.bad` (0600), the segment truncated, and the records lost counted
//! (the damaged frame plus every frame still reachable by walking lengths after it). Later segments are still
//! read. Damage that appears while running (found by `read_next`) is counted and skipped the same way. No byte
//! content makes this module panic (property-tested below). A missing or damaged `cursor` file means a replay
//! from the first segment (more duplicates, no loss).
//!
//! # Dead letters
//! [`Spool::append_dead_letter`] appends one JSON line to `dead-letters.jsonl` (0600, fdatasync'd each time)
//! and [`read_dead_letters`] reads them back for a replay tool. Times there are milliseconds since the epoch.
//! The dead-letter file is not counted in `max_bytes`.
//!
//! A `Spool` is `Send` and has one owner (the background thread); nothing in it is shared.

use std::collections::VecDeque;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Default cap on the segment bytes on disk (N8N_KAFKA_LOGGER_SPOOL_MAX_BYTES).
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;
/// Default segment size before rolling.
pub const DEFAULT_SEGMENT_BYTES: u64 = 8 << 20;
/// Largest body (encoded record) the spool stores or accepts when reading.
pub const MAX_RECORD_BYTES: usize = 64 << 20;
/// Name of the dead-letter file inside the spool directory.
pub const DEAD_LETTER_FILE: &str = "dead-letters.jsonl";
/// Name of the lock file inside the spool directory.
pub const LOCK_FILE: &str = "spool.lock";

const CURSOR_FILE: &str = "cursor";
const CURSOR_TMP: &str = "cursor.tmp";
const FRAME_HEADER: usize = 8;
const RECORD_VERSION: u8 = 1;
const FLAG_FIRST_FAILURE: u8 = 1;
/// version + flags + event time + attempts + four length prefixes.
const MIN_BODY: usize = 1 + 1 + 8 + 4 + 4 * 4;
const READ_CHUNK: usize = 1 << 20;
const MAX_SLOTS: usize = 1024;

/// One Kafka message ready to resend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolRecord {
  pub key: String,
  pub payload: Vec<u8>,
  pub event_name: String,
  pub message_id: String,
  pub event_time_ms: i64,
  pub attempts: u32,
  pub first_failure_ms: Option<i64>,
}

/// When appended data is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
  /// Every `append` call ends with one fdatasync of the segment it wrote (group commit).
  Always,
  /// Never fsynced by the spool; survives a process crash, not an OS crash or power loss.
  Never,
  /// The caller calls [`Spool::sync`] (for example every group-commit interval). Rolled segments are
  /// fsynced when they are closed.
  Manual,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpoolOptions {
  /// Cap on the bytes of all segment files; beyond it appends are refused (drop-newest).
  pub max_bytes: u64,
  /// A segment rolls when the next frame would make it larger than this.
  pub segment_bytes: u64,
  pub fsync: FsyncPolicy,
  /// Persist the ack cursor after this many records were removed from the head (1 = every ack) ...
  pub cursor_persist_records: u64,
  /// ... or when this long passed since the last persist (checked by `ack` and `sync`). A persist is a
  /// temp file + rename: measured 0.6-2.5 ms on ext4, hence the throttle.
  pub cursor_persist_interval: Duration,
}

impl Default for SpoolOptions {
  fn default() -> Self {
    SpoolOptions {
      max_bytes: DEFAULT_MAX_BYTES,
      segment_bytes: DEFAULT_SEGMENT_BYTES,
      fsync: FsyncPolicy::Always,
      cursor_persist_records: 10_000,
      cursor_persist_interval: Duration::from_millis(100),
    }
  }
}

/// What one `append` call did: `records[..appended]` are stored, `records[appended..]` were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AppendOutcome {
  pub appended: usize,
  pub refused: usize,
}

/// Where a record returned by `read_next` lives; hand it back to `ack` once Kafka confirmed delivery.
/// Only valid for the `Spool` that returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpoolPos {
  seq: u64,
  offset: u64,
  rid: u64,
}

impl SpoolPos {
  /// Sequence number of the segment holding the record.
  pub fn segment(&self) -> u64 {
    self.seq
  }
  /// Byte offset of the record's frame in its segment.
  pub fn offset(&self) -> u64 {
    self.offset
  }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpoolStats {
  /// Bytes of all segment files (what `max_bytes` caps).
  pub bytes: u64,
  /// Records not acked yet (read or not).
  pub records: u64,
  /// Event time of the oldest unacked record in append order (the head of the spool).
  pub oldest_event_time_ms: Option<i64>,
  /// Records lost to corruption: found by the scan at open, plus damage found while reading.
  pub corrupted_records: u64,
  /// Records refused by `append` since open (cap reached or record too large).
  pub refused_records: u64,
}

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

#[derive(Debug)]
pub enum SpoolError {
  /// Another process (or another `Spool` in this one) holds the directory's lock.
  Locked { dir: PathBuf, pid: Option<u32> },
  /// Every slot under a base directory is locked.
  NoFreeSlot { base: PathBuf, slots: usize },
  Io { path: PathBuf, action: &'static str, source: io::Error },
  InvalidOptions { reason: String },
}

impl fmt::Display for SpoolError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      SpoolError::Locked { dir, pid } => {
        let who = match pid {
          Some(pid) => format!("pid {pid}"),
          None => "pid unknown".to_string(),
        };
        write!(
          f,
          "spool directory {} is in use by another process ({who}); each n8n process needs its own \
           N8N_KAFKA_LOGGER_SPOOL_DIR or a shared base directory",
          dir.display()
        )
      }
      SpoolError::NoFreeSlot { base, slots } => write!(
        f,
        "all {slots} spool slots under {} are in use by other processes; stop the stale processes or give \
         this one its own N8N_KAFKA_LOGGER_SPOOL_DIR",
        base.display()
      ),
      SpoolError::Io { path, action, source } => write!(
        f,
        "spool: cannot {action} {}: {source}; check that the directory belongs to the user running n8n, is \
         writable and that the disk is not full (N8N_KAFKA_LOGGER_SPOOL_DIR)",
        path.display()
      ),
      SpoolError::InvalidOptions { reason } => {
        write!(f, "invalid spool options: {reason} (N8N_KAFKA_LOGGER_SPOOL_MAX_BYTES and related settings)")
      }
    }
  }
}

impl std::error::Error for SpoolError {
  fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
    match self {
      SpoolError::Io { source, .. } => Some(source),
      _ => None,
    }
  }
}

fn io_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> SpoolError + 'a {
  move |source| SpoolError::Io { path: path.to_path_buf(), action, source }
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

fn encoded_body_len(r: &SpoolRecord) -> usize {
  MIN_BODY
    + if r.first_failure_ms.is_some() { 8 } else { 0 }
    + r.key.len()
    + r.event_name.len()
    + r.message_id.len()
    + r.payload.len()
}

/// Appends one frame (header + body) to `out`. The caller checked the body fits MAX_RECORD_BYTES.
fn encode_frame(r: &SpoolRecord, out: &mut Vec<u8>) {
  let start = out.len();
  out.extend_from_slice(&[0u8; FRAME_HEADER]);
  out.push(RECORD_VERSION);
  out.push(if r.first_failure_ms.is_some() { FLAG_FIRST_FAILURE } else { 0 });
  out.extend_from_slice(&r.event_time_ms.to_le_bytes());
  out.extend_from_slice(&r.attempts.to_le_bytes());
  if let Some(t) = r.first_failure_ms {
    out.extend_from_slice(&t.to_le_bytes());
  }
  for field in [r.key.as_bytes(), r.event_name.as_bytes(), r.message_id.as_bytes(), &r.payload[..]] {
    out.extend_from_slice(&(field.len() as u32).to_le_bytes());
    out.extend_from_slice(field);
  }
  let body_len = (out.len() - start - FRAME_HEADER) as u32;
  let crc = crc32c::crc32c(&out[start + FRAME_HEADER..]);
  out[start..start + 4].copy_from_slice(&body_len.to_le_bytes());
  out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

struct RecordRef<'a> {
  key: &'a str,
  payload: &'a [u8],
  event_name: &'a str,
  message_id: &'a str,
  event_time_ms: i64,
  attempts: u32,
  first_failure_ms: Option<i64>,
}

impl RecordRef<'_> {
  fn to_owned(&self) -> SpoolRecord {
    SpoolRecord {
      key: self.key.to_owned(),
      payload: self.payload.to_vec(),
      event_name: self.event_name.to_owned(),
      message_id: self.message_id.to_owned(),
      event_time_ms: self.event_time_ms,
      attempts: self.attempts,
      first_failure_ms: self.first_failure_ms,
    }
  }
}

struct Decoder<'a> {
  rest: &'a [u8],
}

impl<'a> Decoder<'a> {
  fn take(&mut self, n: usize) -> Option<&'a [u8]> {
    if self.rest.len() < n {
      return None;
    }
    let (head, tail) = self.rest.split_at(n);
    self.rest = tail;
    Some(head)
  }
  fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
    let mut a = [0u8; N];
    a.copy_from_slice(self.take(N)?);
    Some(a)
  }
  fn u8(&mut self) -> Option<u8> {
    Some(self.array::<1>()?[0])
  }
  fn u32(&mut self) -> Option<u32> {
    Some(u32::from_le_bytes(self.array()?))
  }
  fn i64(&mut self) -> Option<i64> {
    Some(i64::from_le_bytes(self.array()?))
  }
  fn bytes(&mut self) -> Option<&'a [u8]> {
    let n = self.u32()? as usize;
    self.take(n)
  }
  fn str(&mut self) -> Option<&'a str> {
    std::str::from_utf8(self.bytes()?).ok()
  }
}

/// Decodes a body whose CRC already matched; None when it is not a well-formed v1 record.
fn decode(body: &[u8]) -> Option<RecordRef<'_>> {
  let mut d = Decoder { rest: body };
  if d.u8()? != RECORD_VERSION {
    return None;
  }
  let flags = d.u8()?;
  if flags & !FLAG_FIRST_FAILURE != 0 {
    return None;
  }
  let event_time_ms = d.i64()?;
  let attempts = d.u32()?;
  let first_failure_ms = if flags & FLAG_FIRST_FAILURE != 0 { Some(d.i64()?) } else { None };
  let key = d.str()?;
  let event_name = d.str()?;
  let message_id = d.str()?;
  let payload = d.bytes()?;
  if !d.rest.is_empty() {
    return None;
  }
  Some(RecordRef { key, payload, event_name, message_id, event_time_ms, attempts, first_failure_ms })
}

fn plausible_len(len: u64) -> bool {
  (MIN_BODY as u64..=MAX_RECORD_BYTES as u64).contains(&len)
}

fn parse_header(h: &[u8]) -> (u64, u32) {
  let mut len = [0u8; 4];
  let mut crc = [0u8; 4];
  len.copy_from_slice(&h[0..4]);
  crc.copy_from_slice(&h[4..8]);
  (u32::from_le_bytes(len) as u64, u32::from_le_bytes(crc))
}

// ---------------------------------------------------------------------------------------------------------
// Files

fn private_file() -> OpenOptions {
  #[allow(unused_mut)]
  let mut o = OpenOptions::new();
  #[cfg(unix)]
  {
    use std::os::unix::fs::OpenOptionsExt;
    o.mode(0o600);
  }
  o
}

/// Creates `dir` (and missing parents) 0700; an existing directory is left as it is.
fn create_private_dir(dir: &Path) -> Result<(), SpoolError> {
  if dir.is_dir() {
    return Ok(());
  }
  let mut b = fs::DirBuilder::new();
  b.recursive(true);
  #[cfg(unix)]
  {
    use std::os::unix::fs::DirBuilderExt;
    b.mode(0o700);
  }
  b.create(dir).map_err(io_err(dir, "create the spool directory"))?;
  #[cfg(unix)]
  {
    // The umask may have removed bits; set exactly 0700.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir, "set permissions on"))?;
  }
  Ok(())
}

fn fsync_dir(dir: &Path) -> Result<(), SpoolError> {
  #[cfg(unix)]
  {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir, "fsync the directory"))?;
  }
  #[cfg(not(unix))]
  let _ = dir;
  Ok(())
}

fn segment_name(seq: u64) -> String {
  format!("segment-{seq:020}.log")
}

fn parse_segment_name(name: &str) -> Option<u64> {
  let digits = name.strip_prefix("segment-")?.strip_suffix(".log")?;
  if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
    return None;
  }
  digits.parse().ok()
}

fn acquire_lock(dir: &Path) -> Result<File, SpoolError> {
  let path = dir.join(LOCK_FILE);
  let mut file = private_file()
    .read(true)
    .write(true)
    .create(true)
    .truncate(false)
    .open(&path)
    .map_err(io_err(&path, "open the lock file"))?;
  match file.try_lock() {
    Ok(()) => {}
    Err(fs::TryLockError::WouldBlock) => {
      let mut text = String::new();
      let _ = file.read_to_string(&mut text);
      return Err(SpoolError::Locked { dir: dir.to_path_buf(), pid: text.trim().parse().ok() });
    }
    Err(fs::TryLockError::Error(e)) => return Err(io_err(&path, "lock")(e)),
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

/// Every `slot-N` under `base` (or `base` itself when it is a slot), read-only.
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

/// Fixed width, so an in-place overwrite always replaces the whole previous text.
fn cursor_text(seq: u64, offset: u64) -> String {
  let body = format!("v1 {seq:020} {offset:020}");
  let crc = crc32c::crc32c(body.as_bytes());
  format!("{body} {crc:08x}\n")
}

fn parse_cursor(text: &str) -> Option<(u64, u64)> {
  let line = text.strip_suffix('\n')?;
  let (body, crc) = line.rsplit_once(' ')?;
  if u32::from_str_radix(crc, 16).ok()? != crc32c::crc32c(body.as_bytes()) || crc.len() != 8 {
    return None;
  }
  let mut parts = body.split(' ');
  if parts.next()? != "v1" {
    return None;
  }
  let seq = parts.next()?.parse().ok()?;
  let offset = parts.next()?.parse().ok()?;
  if parts.next().is_some() {
    return None;
  }
  Some((seq, offset))
}

/// Replaces the start of `file` with `bytes` (the file never gets shorter: cursor texts have one width).
fn overwrite(mut file: &File, bytes: &[u8]) -> io::Result<()> {
  file.seek(SeekFrom::Start(0))?;
  file.write_all(bytes)
}

/// The persisted ack cursor; None when there is none or it is damaged (`report.cursor_reset`).
fn read_cursor(dir: &Path, report: &mut RecoveryReport) -> Result<Option<(u64, u64)>, SpoolError> {
  let path = dir.join(CURSOR_FILE);
  let mut bytes = Vec::new();
  match File::open(&path) {
    // A cursor is a few dozen bytes; anything longer is damage, do not read it all.
    Ok(f) => {
      f.take(256).read_to_end(&mut bytes).map_err(io_err(&path, "read"))?;
    }
    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
    Err(e) => return Err(io_err(&path, "open")(e)),
  }
  let parsed = std::str::from_utf8(&bytes).ok().and_then(parse_cursor);
  if parsed.is_none() {
    report.cursor_reset = true;
  }
  Ok(parsed)
}

/// Copies `[from, len)` of a damaged segment to a new `corrupt-<seq>-<from>.bad` file.
fn quarantine(dir: &Path, seq: u64, file: &mut File, from: u64, len: u64) -> Result<PathBuf, SpoolError> {
  let mut n = 0u32;
  let (path, mut out) = loop {
    let name = if n == 0 { format!("corrupt-{seq:020}-{from}.bad") } else { format!("corrupt-{seq:020}-{from}.{n}.bad") };
    let path = dir.join(name);
    match private_file().write(true).create_new(true).open(&path) {
      Ok(f) => break (path, f),
      Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
      Err(e) => return Err(io_err(&path, "create the quarantine file")(e)),
    }
  };
  let seg = segment_path(dir, seq);
  file.seek(SeekFrom::Start(from)).map_err(io_err(&seg, "seek in"))?;
  let copied = io::copy(&mut (&*file).take(len.saturating_sub(from)), &mut out);
  copied.and_then(|_| out.sync_all()).map_err(io_err(&path, "write"))?;
  Ok(path)
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
  dir.join(segment_name(seq))
}

/// True when every byte of `[from, len)` is zero (a tail a crash can leave behind).
fn tail_is_zero(file: &mut File, from: u64, len: u64) -> io::Result<bool> {
  file.seek(SeekFrom::Start(from))?;
  let mut r = (&*file).take(len.saturating_sub(from));
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
fn count_damaged(file: &mut File, from: u64, len: u64) -> io::Result<u64> {
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
fn scan_segment(dir: &Path, seq: u64, start: u64, report: &mut RecoveryReport) -> Result<Scanned, SpoolError> {
  let path = segment_path(dir, seq);
  let mut file = OpenOptions::new().read(true).write(true).open(&path).map_err(io_err(&path, "open"))?;
  let file_len = file.metadata().map_err(io_err(&path, "stat"))?.len();
  let start = start.min(file_len);
  let mut count = 0u64;
  let mut first_event_time = None;
  let mut pos = start;
  let damage = {
    let mut reader = BufReader::with_capacity(READ_CHUNK, &file);
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

// ---------------------------------------------------------------------------------------------------------
// The spool

/// A position in the log: segment, byte offset, and index of the record among the segment's scanned records
/// (from the scan start: the cursor offset for the first segment at open, 0 otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
  seq: u64,
  offset: u64,
  idx: u64,
}

#[derive(Debug)]
struct Segment {
  seq: u64,
  /// Valid bytes (the file's length).
  len: u64,
  /// Records from the scan start to `len`.
  count: u64,
}

/// A record read but not yet part of the acked prefix (or a skipped damaged region: acked, weight = records).
#[derive(Debug)]
struct WindowEntry {
  seq: u64,
  offset: u64,
  next: Cursor,
  acked: bool,
  weight: u64,
  event_time: Option<i64>,
}

#[derive(Debug)]
struct Reader {
  seq: u64,
  file: File,
  buf: Vec<u8>,
  buf_offset: u64,
}

enum Frame {
  Good(SpoolRecord, u64),
  Bad,
}

impl Reader {
  /// `len` bytes at `offset`, reading ahead up to `limit`; None when the file is shorter than expected.
  fn bytes(&mut self, offset: u64, len: usize, limit: u64) -> io::Result<Option<&[u8]>> {
    let end = offset + len as u64;
    if end > limit {
      return Ok(None);
    }
    let cached_end = self.buf_offset + self.buf.len() as u64;
    if offset < self.buf_offset || end > cached_end {
      let want = (limit - offset).min(READ_CHUNK.max(len) as u64) as usize;
      self.buf.resize(want, 0);
      self.buf_offset = offset;
      self.file.seek(SeekFrom::Start(offset))?;
      if let Err(e) = self.file.read_exact(&mut self.buf) {
        self.buf.clear();
        return if e.kind() == io::ErrorKind::UnexpectedEof { Ok(None) } else { Err(e) };
      }
    }
    let from = (offset - self.buf_offset) as usize;
    Ok(Some(&self.buf[from..from + len]))
  }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeadLetter<'a> {
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

/// The durable spool of one directory. See the module documentation.
#[derive(Debug)]
pub struct Spool {
  dir: PathBuf,
  options: SpoolOptions,
  _lock: File,
  segments: VecDeque<Segment>,
  /// Open append handle of the last segment.
  active: Option<(u64, File)>,
  active_dirty: bool,
  dir_dirty: bool,
  next_seq: u64,
  total_bytes: u64,
  records: u64,
  ack: Cursor,
  ack_rid: u64,
  read: Cursor,
  read_rid: u64,
  window: VecDeque<WindowEntry>,
  head_event_time: Option<i64>,
  reader: Option<Reader>,
  cursor_dirty: bool,
  /// Open handle of `cursor` for in-place persists; reopened after each durable replace (a new inode).
  cursor_file: Option<File>,
  acks_since_persist: u64,
  last_persist: Instant,
  corrupted_records: u64,
  refused_records: u64,
  recovery: RecoveryReport,
  dead_letters: Option<File>,
  scratch: Vec<u8>,
}

impl Spool {
  /// Opens (creating it 0700 if needed) and locks `dir`, repairs damage, and positions the read cursor at the
  /// first unacked record.
  pub fn open(dir: &Path, options: SpoolOptions) -> Result<Spool, SpoolError> {
    if options.max_bytes == 0 || options.segment_bytes == 0 {
      return Err(SpoolError::InvalidOptions {
        reason: format!(
          "max_bytes ({}) and segment_bytes ({}) must be greater than 0",
          options.max_bytes, options.segment_bytes
        ),
      });
    }
    create_private_dir(dir)?;
    let lock = acquire_lock(dir)?;

    let mut report = RecoveryReport::default();
    let mut seqs = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir, "list"))? {
      let entry = entry.map_err(io_err(dir, "list"))?;
      let name = entry.file_name();
      let Some(name) = name.to_str() else { continue };
      if let Some(seq) = parse_segment_name(name) {
        seqs.push(seq);
      } else if name == CURSOR_TMP {
        let _ = fs::remove_file(entry.path());
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
          let path = segment_path(dir, seq);
          fs::remove_file(&path).map_err(io_err(&path, "delete the acked segment"))?;
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
    let ack = ack.unwrap_or(Cursor { seq: next_seq, offset: 0, idx: 0 });
    if changed && options.fsync != FsyncPolicy::Never {
      fsync_dir(dir)?;
    }

    let mut spool = Spool {
      dir: dir.to_path_buf(),
      total_bytes: segments.iter().map(|s: &Segment| s.len).sum(),
      records: report.records,
      corrupted_records: report.corrupted_records,
      segments,
      options,
      _lock: lock,
      active: None,
      active_dirty: false,
      dir_dirty: false,
      next_seq,
      ack,
      ack_rid: 0,
      read: ack,
      read_rid: 0,
      window: VecDeque::new(),
      head_event_time,
      reader: None,
      cursor_dirty: false,
      cursor_file: None,
      acks_since_persist: 0,
      last_persist: Instant::now(),
      refused_records: 0,
      recovery: report,
      dead_letters: None,
      scratch: Vec::new(),
    };
    spool.ack = spool.normalize(spool.ack);
    spool.read = spool.ack;
    Ok(spool)
  }

  /// Opens the first free `slot-<n>` under `base` (n = 0, 1, ...), never one locked by another process.
  /// Returns the spool and its directory.
  pub fn open_slot(base: &Path, options: SpoolOptions) -> Result<(Spool, PathBuf), SpoolError> {
    create_private_dir(base)?;
    for n in 0..MAX_SLOTS {
      let dir = base.join(format!("slot-{n}"));
      match Spool::open(&dir, options.clone()) {
        Ok(spool) => return Ok((spool, dir)),
        Err(SpoolError::Locked { .. }) => continue,
        Err(e) => return Err(e),
      }
    }
    Err(SpoolError::NoFreeSlot { base: base.to_path_buf(), slots: MAX_SLOTS })
  }

  pub fn dir(&self) -> &Path {
    &self.dir
  }

  pub fn options(&self) -> &SpoolOptions {
    &self.options
  }

  /// What the scan at open found and repaired.
  pub fn recovery(&self) -> &RecoveryReport {
    &self.recovery
  }

  pub fn stats(&self) -> SpoolStats {
    SpoolStats {
      bytes: self.total_bytes,
      records: self.records,
      oldest_event_time_ms: if self.records == 0 { None } else { self.head_event_time },
      corrupted_records: self.corrupted_records,
      refused_records: self.refused_records,
    }
  }

  /// Appends `records` in order. `records[..appended]` are stored; the rest were refused (cap reached or a
  /// record over MAX_RECORD_BYTES). On Err a prefix of the records may be stored (at-least-once).
  pub fn append(&mut self, records: &[SpoolRecord]) -> Result<AppendOutcome, SpoolError> {
    let always = self.options.fsync == FsyncPolicy::Always;
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
      if self.total_bytes + buffered + frame > self.options.max_bytes {
        break;
      }
      let roll = match self.segments.back() {
        None => true,
        Some(s) => s.len + buffered > 0 && s.len + buffered + frame > self.options.segment_bytes,
      };
      if roll {
        self.flush(pending, pending_first, always)?;
        appended += pending as usize;
        pending = 0;
        pending_first = None;
        self.roll()?;
      }
      encode_frame(r, &mut self.scratch);
      pending += 1;
      pending_first.get_or_insert(r.event_time_ms);
    }
    self.flush(pending, pending_first, always)?;
    appended += pending as usize;
    let refused = records.len() - appended;
    self.refused_records += refused as u64;
    Ok(AppendOutcome { appended, refused })
  }

  /// fsyncs the active segment, persists the ack cursor durably when it is due (`cursor_persist_*`), and fsyncs
  /// the directory when files were created, renamed or deleted since the last sync.
  pub fn sync(&mut self) -> Result<(), SpoolError> {
    self.sync_inner(false)
  }

  fn sync_inner(&mut self, closing: bool) -> Result<(), SpoolError> {
    if self.active_dirty {
      if let Some((seq, file)) = &self.active {
        let path = segment_path(&self.dir, *seq);
        file.sync_data().map_err(io_err(&path, "fsync"))?;
      }
      self.active_dirty = false;
    }
    if self.cursor_dirty && (closing || self.cursor_due()) {
      self.persist_cursor(true)?;
    }
    if self.dir_dirty {
      fsync_dir(&self.dir)?;
      self.dir_dirty = false;
    }
    Ok(())
  }

  /// Persists the cursor, syncs (unless the policy is Never) and closes, reporting errors a drop would swallow.
  pub fn close(mut self) -> Result<(), SpoolError> {
    self.finish()
  }

  /// Up to `max` records after everything already read, in append order.
  pub fn read_next(&mut self, max: usize) -> Result<Vec<(SpoolPos, SpoolRecord)>, SpoolError> {
    let mut out = Vec::new();
    let mut skipped = false;
    while out.len() < max {
      self.read = self.normalize(self.read);
      let window_end = self.ack_rid + self.window.len() as u64;
      if self.read_rid < window_end {
        // Read again after a rewind: the window already knows this record.
        let i = (self.read_rid - self.ack_rid) as usize;
        let (seq, offset, next, acked) = {
          let e = &self.window[i];
          (e.seq, e.offset, e.next, e.acked)
        };
        if !acked {
          match self.read_frame(seq, offset)? {
            Frame::Good(record, _) => out.push((SpoolPos { seq, offset, rid: self.read_rid }, record)),
            Frame::Bad => {
              // Damaged since it was first read: lose this record only (its frame's extent is known).
              self.window[i].acked = true;
              self.corrupted_records += 1;
              skipped = true;
            }
          }
        }
        self.read = next;
        self.read_rid += 1;
        continue;
      }
      let Some(si) = self.seg_index(self.read.seq) else { break };
      if self.read.offset >= self.segments[si].len {
        break;
      }
      let (seq, offset) = (self.read.seq, self.read.offset);
      match self.read_frame(seq, offset)? {
        Frame::Good(record, frame_len) => {
          let next = Cursor { seq, offset: offset + frame_len, idx: self.read.idx + 1 };
          self.window.push_back(WindowEntry {
            seq,
            offset,
            next,
            acked: false,
            weight: 1,
            event_time: Some(record.event_time_ms),
          });
          out.push((SpoolPos { seq, offset, rid: self.read_rid }, record));
          self.read = next;
        }
        Frame::Bad => {
          // Damaged after open: skip the rest of the segment, as the scan at open would have.
          let lost = self.segments[si].count.saturating_sub(self.read.idx).max(1);
          self.corrupted_records += lost;
          let len = self.segments[si].len;
          let path = segment_path(&self.dir, seq);
          if let Ok(mut file) = File::open(&path) {
            if let Ok(bad) = quarantine(&self.dir, seq, &mut file, offset, len) {
              self.recovery.quarantined.push(bad);
              self.dir_dirty = true;
            }
          }
          if si + 1 == self.segments.len() {
            // Appends must not land behind the skipped region.
            self.roll()?;
          }
          let next_seq = self.segments[si + 1].seq;
          let next = Cursor { seq: next_seq, offset: 0, idx: 0 };
          self.window.push_back(WindowEntry { seq, offset, next, acked: true, weight: lost, event_time: None });
          self.read = next;
          skipped = true;
        }
      }
      self.read_rid += 1;
    }
    if skipped {
      self.advance_prefix()?;
    }
    Ok(out)
  }

  /// Marks one record delivered. The head of the spool moves past every contiguously acked record; fully acked
  /// segments are deleted. A position already acked, not read yet, or from another `Spool` is ignored.
  pub fn ack(&mut self, pos: SpoolPos) -> Result<(), SpoolError> {
    let Some(i) = pos.rid.checked_sub(self.ack_rid) else { return Ok(()) };
    let Some(e) = self.window.get_mut(i as usize) else { return Ok(()) };
    if e.seq != pos.seq || e.offset != pos.offset || e.acked {
      return Ok(());
    }
    e.acked = true;
    self.advance_prefix()
  }

  /// Moves the read cursor back to the first unacked record, so `read_next` returns the unacked records again
  /// (records acked out of order are skipped).
  pub fn rewind_unacked(&mut self) {
    self.read = self.ack;
    self.read_rid = self.ack_rid;
  }

  /// Appends one JSON line for a record that cannot be delivered to `dead-letters.jsonl`, fdatasync'd.
  pub fn append_dead_letter(
    &mut self,
    record: &SpoolRecord,
    error_kind: &str,
    error_message: &str,
    last_failure_ms: i64,
  ) -> Result<(), SpoolError> {
    let path = self.dir.join(DEAD_LETTER_FILE);
    let event = serde_json::from_slice::<serde_json::Value>(&record.payload)
      .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&record.payload).into_owned()));
    let letter = DeadLetter {
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
    if self.dead_letters.is_none() {
      let existed = path.exists();
      let file = private_file().append(true).create(true).open(&path).map_err(io_err(&path, "open"))?;
      if !existed {
        fsync_dir(&self.dir)?;
      }
      self.dead_letters = Some(file);
    }
    if let Some(file) = self.dead_letters.as_mut() {
      file.write_all(&line).and_then(|_| file.sync_data()).map_err(io_err(&path, "append to"))?;
    }
    Ok(())
  }

  // -- internals --------------------------------------------------------------------------------------------

  fn seg_index(&self, seq: u64) -> Option<usize> {
    self.segments.binary_search_by_key(&seq, |s| s.seq).ok()
  }

  /// Moves a cursor that sits at the end of a segment (or in a deleted one) to the start of the next segment.
  fn normalize(&self, mut c: Cursor) -> Cursor {
    loop {
      match self.seg_index(c.seq) {
        Some(i) if c.offset >= self.segments[i].len && i + 1 < self.segments.len() => {
          c = Cursor { seq: self.segments[i + 1].seq, offset: 0, idx: 0 };
        }
        Some(_) => return c,
        None => match self.segments.iter().find(|s| s.seq > c.seq) {
          Some(s) => c = Cursor { seq: s.seq, offset: 0, idx: 0 },
          None => return c,
        },
      }
    }
  }

  fn read_frame(&mut self, seq: u64, offset: u64) -> Result<Frame, SpoolError> {
    let Some(si) = self.seg_index(seq) else { return Ok(Frame::Bad) };
    let limit = self.segments[si].len;
    let path = segment_path(&self.dir, seq);
    if self.reader.as_ref().is_none_or(|r| r.seq != seq) {
      let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Frame::Bad),
        Err(e) => return Err(io_err(&path, "open")(e)),
      };
      self.reader = Some(Reader { seq, file, buf: Vec::new(), buf_offset: 0 });
    }
    let Some(reader) = self.reader.as_mut() else { return Ok(Frame::Bad) };
    let header = match reader.bytes(offset, FRAME_HEADER, limit).map_err(io_err(&path, "read"))? {
      Some(h) => parse_header(h),
      None => return Ok(Frame::Bad),
    };
    let (len, crc) = header;
    if !plausible_len(len) {
      return Ok(Frame::Bad);
    }
    let body = match reader.bytes(offset + FRAME_HEADER as u64, len as usize, limit).map_err(io_err(&path, "read"))? {
      Some(b) => b,
      None => return Ok(Frame::Bad),
    };
    if crc32c::crc32c(body) != crc {
      return Ok(Frame::Bad);
    }
    Ok(match decode(body) {
      Some(r) => Frame::Good(r.to_owned(), FRAME_HEADER as u64 + len),
      None => Frame::Bad,
    })
  }

  /// Pops the acked head of the window, persists the cursor when due and deletes fully acked segments.
  fn advance_prefix(&mut self) -> Result<(), SpoolError> {
    let mut advanced = 0u64;
    while self.window.front().is_some_and(|e| e.acked) {
      if let Some(e) = self.window.pop_front() {
        self.ack = e.next;
        self.ack_rid += 1;
        self.records = self.records.saturating_sub(e.weight);
        advanced += 1;
      }
    }
    if advanced == 0 {
      return Ok(());
    }
    self.ack = self.normalize(self.ack);
    if self.read_rid < self.ack_rid {
      // Late acks of records that were rewound.
      self.read = self.ack;
      self.read_rid = self.ack_rid;
    }
    self.cursor_dirty = true;
    self.acks_since_persist += advanced;
    self.head_event_time = if self.records == 0 {
      None
    } else if let Some(front) = self.window.front() {
      front.event_time
    } else {
      match self.read_frame(self.ack.seq, self.ack.offset) {
        Ok(Frame::Good(r, _)) => Some(r.event_time_ms),
        _ => None,
      }
    };
    let delete = self.segments.front().is_some_and(|s| s.seq < self.ack.seq);
    if delete || self.cursor_due() {
      // Not fsynced here: a lost cursor update only means duplicates, bounded by one segment.
      self.persist_cursor(false)?;
    }
    while self.segments.front().is_some_and(|s| s.seq < self.ack.seq) {
      if let Some(s) = self.segments.pop_front() {
        let path = segment_path(&self.dir, s.seq);
        if self.reader.as_ref().is_some_and(|r| r.seq == s.seq) {
          self.reader = None;
        }
        match fs::remove_file(&path) {
          Ok(()) => {}
          Err(e) if e.kind() == io::ErrorKind::NotFound => {}
          Err(e) => return Err(io_err(&path, "delete the acked segment")(e)),
        }
        self.total_bytes -= s.len;
        self.dir_dirty = true;
      }
    }
    Ok(())
  }

  fn cursor_due(&self) -> bool {
    self.cursor_dirty
      && (self.acks_since_persist >= self.options.cursor_persist_records
        || self.last_persist.elapsed() >= self.options.cursor_persist_interval)
  }

  /// Persists the ack cursor now when it moved (one small write); the caller calls it per batch of acks.
  pub fn checkpoint(&mut self) -> Result<(), SpoolError> {
    if self.cursor_dirty {
      self.persist_cursor(false)?;
    }
    Ok(())
  }

  fn persist_cursor(&mut self, durable: bool) -> Result<(), SpoolError> {
    let text = cursor_text(self.ack.seq, self.ack.offset);
    match &self.cursor_file {
      Some(file) if !durable => overwrite(file, text.as_bytes()).map_err(io_err(&self.dir.join(CURSOR_FILE), "write"))?,
      _ => self.replace_cursor(&text, durable)?,
    }
    self.cursor_dirty = false;
    self.acks_since_persist = 0;
    self.last_persist = Instant::now();
    Ok(())
  }

  /// Writes the cursor to a temp file and renames it over `cursor`, then keeps the new file open for overwrites.
  fn replace_cursor(&mut self, text: &str, durable: bool) -> Result<(), SpoolError> {
    let tmp = self.dir.join(CURSOR_TMP);
    let path = self.dir.join(CURSOR_FILE);
    self.cursor_file = None;
    {
      let mut f = private_file()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io_err(&tmp, "create"))?;
      f.write_all(text.as_bytes()).map_err(io_err(&tmp, "write"))?;
      if durable {
        f.sync_data().map_err(io_err(&tmp, "fsync"))?;
      }
    }
    fs::rename(&tmp, &path).map_err(io_err(&path, "replace"))?;
    if durable {
      fsync_dir(&self.dir)?;
    } else {
      self.dir_dirty = true;
    }
    self.cursor_file = OpenOptions::new().write(true).open(&path).ok();
    Ok(())
  }

  /// Writes the buffered frames (`count` records) to the last segment.
  fn flush(&mut self, count: u64, first_event_time: Option<i64>, sync: bool) -> Result<(), SpoolError> {
    if self.scratch.is_empty() {
      return Ok(());
    }
    let Some(seg) = self.segments.back() else { return Ok(()) };
    let (seq, old_len) = (seg.seq, seg.len);
    let path = segment_path(&self.dir, seq);
    if self.active.as_ref().is_none_or(|(s, _)| *s != seq) {
      let file = private_file().append(true).open(&path).map_err(io_err(&path, "open for append"))?;
      self.active = Some((seq, file));
      self.active_dirty = false;
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
    if let Some(seg) = self.segments.back_mut() {
      seg.len += n;
      seg.count += count;
    }
    self.total_bytes += n;
    if self.records == 0 {
      self.head_event_time = first_event_time;
    }
    self.records += count;
    self.active_dirty = !sync;
    Ok(())
  }

  fn flush_active_before_roll(&mut self) -> Result<(), SpoolError> {
    if self.active_dirty && self.options.fsync != FsyncPolicy::Never {
      if let Some((seq, file)) = &self.active {
        file.sync_data().map_err(io_err(&segment_path(&self.dir, *seq), "fsync"))?;
      }
    }
    self.active_dirty = false;
    Ok(())
  }

  /// Starts a new segment (after fsyncing the previous one unless the policy is Never).
  fn roll(&mut self) -> Result<(), SpoolError> {
    self.flush_active_before_roll()?;
    let seq = self.next_seq;
    let path = segment_path(&self.dir, seq);
    let file = private_file().append(true).create_new(true).open(&path).map_err(io_err(&path, "create"))?;
    self.next_seq = self.next_seq.saturating_add(1);
    self.segments.push_back(Segment { seq, len: 0, count: 0 });
    self.active = Some((seq, file));
    self.active_dirty = false;
    if self.options.fsync == FsyncPolicy::Always {
      fsync_dir(&self.dir)?;
    } else {
      self.dir_dirty = true;
    }
    Ok(())
  }

  fn finish(&mut self) -> Result<(), SpoolError> {
    if self.options.fsync == FsyncPolicy::Never {
      if self.cursor_dirty {
        self.persist_cursor(false)?;
      }
      Ok(())
    } else {
      self.sync_inner(true)
    }
  }
}

impl Drop for Spool {
  fn drop(&mut self) {
    let _ = self.finish();
  }
}

/// Reads `dir/dead-letters.jsonl` for a replay tool. A missing file is empty; lines that do not parse (a torn
/// last line) are skipped.
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
  use super::*;
  use proptest::prelude::*;
  use tempfile::TempDir;

  /// A fixed-size record for a given payload length (ids are zero-padded so sizes do not vary with `i`).
  fn rec(i: usize, payload_len: usize) -> SpoolRecord {
    let mut payload = format!("{{\"i\":{i:08},\"pad\":\"").into_bytes();
    while payload.len() + 2 < payload_len {
      payload.push(b'a' + (i % 26) as u8);
    }
    payload.extend_from_slice(b"\"}");
    SpoolRecord {
      key: format!("wf-{:04}", i % 7),
      payload,
      event_name: "Workflow Finished".into(),
      message_id: format!("msg-{i:08}"),
      event_time_ms: 1_700_000_000_000 + i as i64,
      attempts: (i % 3) as u32,
      first_failure_ms: Some(1_700_000_000_500 + i as i64),
    }
  }

  fn frame_len(r: &SpoolRecord) -> u64 {
    (FRAME_HEADER + encoded_body_len(r)) as u64
  }

  fn opts() -> SpoolOptions {
    SpoolOptions { fsync: FsyncPolicy::Never, ..SpoolOptions::default() }
  }

  fn opts_seg(segment_bytes: u64) -> SpoolOptions {
    SpoolOptions { segment_bytes, ..opts() }
  }

  fn read_all(s: &mut Spool) -> Vec<(SpoolPos, SpoolRecord)> {
    let mut all = Vec::new();
    loop {
      let batch = s.read_next(7).unwrap();
      if batch.is_empty() {
        return all;
      }
      all.extend(batch);
    }
  }

  fn ids(v: &[(SpoolPos, SpoolRecord)]) -> Vec<String> {
    v.iter().map(|(_, r)| r.message_id.clone()).collect()
  }

  fn msg_ids(range: impl IntoIterator<Item = usize>) -> Vec<String> {
    range.into_iter().map(|i| format!("msg-{i:08}")).collect()
  }

  fn segment_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
      .unwrap()
      .map(|e| e.unwrap().path())
      .filter(|p| p.file_name().and_then(|n| n.to_str()).and_then(parse_segment_name).is_some())
      .collect();
    v.sort();
    v
  }

  #[test]
  fn spool_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Spool>();
    assert_send::<SpoolError>();
  }

  #[test]
  fn spool_round_trip() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let odd = SpoolRecord {
      key: String::new(),
      payload: vec![0, 255, 1, 2, 0],
      event_name: "ünïcode ✓".into(),
      message_id: String::new(),
      event_time_ms: -5,
      attempts: u32::MAX,
      first_failure_ms: None,
    };
    let records = vec![rec(0, 100), odd, rec(2, 0), SpoolRecord { first_failure_ms: Some(i64::MIN), ..rec(3, 5000) }];
    let mut s = Spool::open(&dir, opts()).unwrap();
    assert_eq!(s.append(&records).unwrap(), AppendOutcome { appended: 4, refused: 0 });
    let st = s.stats();
    assert_eq!(st.records, 4);
    assert_eq!(st.oldest_event_time_ms, Some(records[0].event_time_ms));
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
      let options = SpoolOptions { fsync: policy, segment_bytes: 1000, cursor_persist_records: 1, ..SpoolOptions::default() };
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
  fn spool_ack_out_of_order_then_reopen_replays_only_unacked() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let records: Vec<_> = (0..100).map(|i| rec(i, 200)).collect();
    let mut s = Spool::open(&dir, opts_seg(2048)).unwrap();
    s.append(&records).unwrap();
    let got = read_all(&mut s);
    // 0..40 in a scrambled order, plus a few beyond the gap at 40.
    let mut order: Vec<usize> = (0..40).collect();
    order.sort_by_key(|i| (i * 17) % 40);
    order.reverse();
    for i in order.into_iter().chain([50, 60, 70]) {
      s.ack(got[i].0).unwrap();
      s.ack(got[i].0).unwrap(); // duplicate acks are ignored
    }
    let st = s.stats();
    assert_eq!(st.records, 60);
    assert_eq!(st.oldest_event_time_ms, Some(records[40].event_time_ms));
    drop(s);
    let mut s = Spool::open(&dir, opts_seg(2048)).unwrap();
    assert_eq!(s.stats().records, 60);
    assert_eq!(s.stats().oldest_event_time_ms, Some(records[40].event_time_ms));
    assert_eq!(ids(&read_all(&mut s)), msg_ids(40..100));
  }

  fn snapshot(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
      let p = e.unwrap().path();
      if p.file_name().unwrap() != LOCK_FILE {
        fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
      }
    }
  }

  #[test]
  fn spool_crash_replays_acks_not_yet_persisted() {
    let tmp = TempDir::new().unwrap();
    let records: Vec<_> = (0..100).map(|i| rec(i, 200)).collect();
    for (every, replayed) in [(1_000_000u64, 100usize), (1, 90)] {
      let dir = tmp.path().join(format!("spool-{every}"));
      let options = SpoolOptions { cursor_persist_records: every, cursor_persist_interval: Duration::from_secs(3600), ..opts() };
      let mut s = Spool::open(&dir, options.clone()).unwrap();
      s.append(&records).unwrap();
      let got = read_all(&mut s);
      for (pos, _) in &got[..10] {
        s.ack(*pos).unwrap();
      }
      // The files as a SIGKILL right now would leave them.
      let crashed = tmp.path().join(format!("crashed-{every}"));
      snapshot(&dir, &crashed);
      let mut c = Spool::open(&crashed, options).unwrap();
      assert_eq!(read_all(&mut c).len(), replayed);
    }
  }

  #[test]
  fn spool_checkpoint_persists_each_batch_of_acks_in_place() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let options = SpoolOptions { cursor_persist_records: u64::MAX, cursor_persist_interval: Duration::from_secs(3600), ..opts() };
    let mut s = Spool::open(&dir, options.clone()).unwrap();
    s.append(&(0..100).map(|i| rec(i, 200)).collect::<Vec<_>>()).unwrap();
    let got = read_all(&mut s);
    // First batch: the cursor file is created; later batches overwrite it in place.
    for (batch, acked) in [(0..10, 90usize), (10..35, 65), (35..36, 64)] {
      for (pos, _) in &got[batch] {
        s.ack(*pos).unwrap();
      }
      s.checkpoint().unwrap();
      let crashed = tmp.path().join(format!("crashed-{acked}"));
      snapshot(&dir, &crashed);
      let mut c = Spool::open(&crashed, options.clone()).unwrap();
      assert!(!c.recovery().cursor_reset);
      assert_eq!(read_all(&mut c).len(), acked);
    }
  }

  #[test]
  fn spool_rewind_returns_unacked_again() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let records: Vec<_> = (0..30).map(|i| rec(i, 100)).collect();
    let mut s = Spool::open(&dir, opts_seg(700)).unwrap();
    s.append(&records).unwrap();
    let first = s.read_next(10).unwrap();
    assert_eq!(ids(&first), msg_ids(0..10));
    for i in [0, 2, 5] {
      s.ack(first[i].0).unwrap();
    }
    s.rewind_unacked();
    let again = s.read_next(5).unwrap();
    assert_eq!(ids(&again), msg_ids([1, 3, 4, 6, 7]));
    // Late acks of the whole first batch (the positions stay valid across a rewind).
    for i in [1, 3, 4, 6, 7, 8, 9] {
      s.ack(first[i].0).unwrap();
    }
    assert_eq!(s.stats().records, 20);
    assert_eq!(ids(&s.read_next(3).unwrap()), msg_ids(10..13));
    s.rewind_unacked();
    assert_eq!(ids(&read_all(&mut s)), msg_ids(10..30));
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
    let huge = SpoolRecord { payload: vec![b'x'; MAX_RECORD_BYTES], ..rec(99, 0) };
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

  #[test]
  fn spool_damage_while_running_is_skipped_and_counted() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let records: Vec<_> = (0..30).map(|i| rec(i, 100)).collect();
    let f = frame_len(&records[0]);
    let mut s = Spool::open(&dir, opts_seg(10 * f)).unwrap();
    s.append(&records).unwrap();
    let segs = segment_files(&dir);
    for (seg, at) in [(&segs[0], 5 * f + 30), (&segs[2], 5 * f + 30)] {
      let mut bytes = fs::read(seg).unwrap();
      bytes[at as usize] ^= 0x80;
      fs::write(seg, bytes).unwrap();
    }
    let got = read_all(&mut s);
    let mut want = msg_ids(0..5);
    want.extend(msg_ids(10..25));
    assert_eq!(ids(&got), want);
    assert_eq!(s.stats().corrupted_records, 10);
    // The damaged last segment was sealed: new appends land after it and are read.
    s.append(&[rec(77, 10)]).unwrap();
    let more = s.read_next(10).unwrap();
    assert_eq!(ids(&more), msg_ids([77]));
    for (pos, _) in got.iter().chain(&more) {
      s.ack(*pos).unwrap();
    }
    assert_eq!(s.stats().records, 0);
  }

  #[test]
  fn spool_damaged_cursor_file_replays_from_the_start() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("spool");
    let mut s = Spool::open(&dir, opts()).unwrap();
    s.append(&(0..5).map(|i| rec(i, 10)).collect::<Vec<_>>()).unwrap();
    let got = read_all(&mut s);
    s.ack(got[0].0).unwrap();
    drop(s);
    let text = fs::read_to_string(dir.join(CURSOR_FILE)).unwrap();
    assert!(parse_cursor(&text).is_some());
    for junk in [&b"v1 0 99 00000000\n"[..], b"", b"\xff\xfe garbage", &[b'9'; 10_000]] {
      fs::write(dir.join(CURSOR_FILE), junk).unwrap();
      let mut s = Spool::open(&dir, opts()).unwrap();
      assert!(s.recovery().cursor_reset);
      assert_eq!(ids(&read_all(&mut s)), msg_ids(0..5));
    }
  }

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
      (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64)).prop_map(|(file, bytes)| Mutation::Extend { file, bytes }),
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
