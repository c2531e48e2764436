//! The filesystem operations the spool performs, as a trait (static dispatch, `RealFs` by default); tests use memory.

use std::ffi::OsString;
use std::fmt::Debug;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::Path;

/// How the spool opens a file. Every file it creates is 0600 (unix). `RealFs` never follows a symbolic link
/// (O_NOFOLLOW on every open: the open fails, see `error::is_symlink_refusal`) and creates new names exclusively
/// (O_EXCL) except the lock and dead-letter files, which are reopened across runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
  /// Read an existing file (a segment being replayed, the cursor).
  Read,
  /// Read and write an existing file (a segment scanned at open, which may be truncated).
  ReadWrite,
  /// Read and write, created when missing, never truncated (the lock file).
  ReadWriteCreate,
  /// Write an existing file in place (the cursor).
  Write,
  /// Append to an existing file (the active segment).
  Append,
  /// Append, created when missing (the dead-letter file).
  AppendCreate,
  /// Append to a new file; fails when the name exists (a new segment, a quarantine file).
  CreateNew,
  /// Write a fresh file: whatever has the name (a file, a link) is removed first, then the name is created
  /// exclusively (the cursor's temp file).
  CreateFresh,
}

/// An open file of a [`Filesystem`].
pub trait SpoolFile: Read + Write + Seek + Debug {
  /// The file's length in bytes.
  fn size(&self) -> io::Result<u64>;
  fn set_len(&self, len: u64) -> io::Result<()>;
  fn sync_data(&self) -> io::Result<()>;
  fn sync_all(&self) -> io::Result<()>;
  /// Takes an exclusive advisory lock without waiting; Ok(false) when another holder has it. The lock goes with
  /// the handle.
  fn try_lock(&self) -> io::Result<bool>;
}

/// The directory operations the spool performs, and how it opens files.
pub trait Filesystem: Clone + Debug {
  type File: SpoolFile;
  fn open(&self, path: &Path, how: Open) -> io::Result<Self::File>;
  fn is_dir(&self, path: &Path) -> bool;
  fn exists(&self, path: &Path) -> bool;
  /// Creates `dir` and its missing parents, mode 0700 before the umask.
  fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
  /// Sets a directory's mode to exactly 0700.
  fn set_private(&self, dir: &Path) -> io::Result<()>;
  /// fsyncs a directory, so that files created, renamed or deleted in it survive an OS crash.
  fn sync_dir(&self, dir: &Path) -> io::Result<()>;
  /// The names in `dir`.
  fn list(&self, dir: &Path) -> io::Result<Vec<OsString>>;
  fn remove_file(&self, path: &Path) -> io::Result<()>;
  /// Replaces `to` with `from`.
  fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
  /// Why `dir` is no place for a spool, or None: a symbolic link (unless `follow`), not a directory, owned by
  /// another user than the process's, or writable by group or others.
  fn unsafe_dir(&self, dir: &Path, follow: bool) -> io::Result<Option<String>>;
}

/// The operating system's filesystem (std::fs).
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

/// Options that never follow a symbolic link (unix).
fn no_follow() -> OpenOptions {
  #[allow(unused_mut)]
  let mut o = OpenOptions::new();
  #[cfg(unix)]
  {
    use std::os::unix::fs::OpenOptionsExt;
    o.custom_flags(libc::O_NOFOLLOW);
  }
  o
}

/// [`no_follow`], and a file created is 0600.
fn private_file() -> OpenOptions {
  #[allow(unused_mut)]
  let mut o = no_follow();
  #[cfg(unix)]
  {
    use std::os::unix::fs::OpenOptionsExt;
    o.mode(0o600);
  }
  o
}

/// Opens `path` for reading without following a symbolic link (the `spool status` probe, the dead-letter reader).
pub(crate) fn open_read_no_follow(path: &Path) -> io::Result<File> {
  no_follow().read(true).open(path)
}

impl Filesystem for RealFs {
  type File = File;

  fn open(&self, path: &Path, how: Open) -> io::Result<File> {
    match how {
      Open::Read => no_follow().read(true).open(path),
      Open::ReadWrite => no_follow().read(true).write(true).open(path),
      Open::ReadWriteCreate => private_file().read(true).write(true).create(true).truncate(false).open(path),
      Open::Write => no_follow().write(true).open(path),
      Open::Append => private_file().append(true).open(path),
      Open::AppendCreate => private_file().append(true).create(true).open(path),
      Open::CreateNew => private_file().append(true).create_new(true).open(path),
      Open::CreateFresh => {
        match fs::remove_file(path) {
          Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
          _ => {}
        }
        private_file().write(true).create_new(true).open(path)
      }
    }
  }

  #[inline]
  fn is_dir(&self, path: &Path) -> bool {
    path.is_dir()
  }

  #[inline]
  fn exists(&self, path: &Path) -> bool {
    path.exists()
  }

  fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
      use std::os::unix::fs::DirBuilderExt;
      b.mode(0o700);
    }
    b.create(dir)
  }

  fn set_private(&self, dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
      use std::os::unix::fs::PermissionsExt;
      fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
  }

  fn sync_dir(&self, dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all())?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
  }

  fn list(&self, dir: &Path) -> io::Result<Vec<OsString>> {
    fs::read_dir(dir)?.map(|e| e.map(|e| e.file_name())).collect()
  }

  #[inline]
  fn remove_file(&self, path: &Path) -> io::Result<()> {
    fs::remove_file(path)
  }

  #[inline]
  fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)
  }

  fn unsafe_dir(&self, dir: &Path, follow: bool) -> io::Result<Option<String>> {
    let meta = if follow { fs::metadata(dir)? } else { fs::symlink_metadata(dir)? };
    if meta.file_type().is_symlink() {
      return Ok(Some("it is a symbolic link".into()));
    }
    if !meta.is_dir() {
      return Ok(Some("it is not a directory".into()));
    }
    #[cfg(unix)]
    {
      use std::os::unix::fs::MetadataExt;
      // SAFETY: geteuid has no preconditions and cannot fail.
      let me = unsafe { libc::geteuid() };
      if meta.uid() != me {
        return Ok(Some(format!("it is owned by uid {}, not by the user running this process (uid {me})", meta.uid())));
      }
      let mode = meta.mode() & 0o7777;
      if mode & 0o022 != 0 {
        let who = if mode & 0o002 != 0 { "others" } else { "its group" };
        return Ok(Some(format!("it is writable by {who} (mode {mode:04o})")));
      }
    }
    Ok(None)
  }
}

impl SpoolFile for File {
  #[inline]
  fn size(&self) -> io::Result<u64> {
    Ok(self.metadata()?.len())
  }
  #[inline]
  fn set_len(&self, len: u64) -> io::Result<()> {
    File::set_len(self, len)
  }
  #[inline]
  fn sync_data(&self) -> io::Result<()> {
    File::sync_data(self)
  }
  #[inline]
  fn sync_all(&self) -> io::Result<()> {
    File::sync_all(self)
  }
  fn try_lock(&self) -> io::Result<bool> {
    match File::try_lock(self) {
      Ok(()) => Ok(true),
      Err(fs::TryLockError::WouldBlock) => Ok(false),
      Err(fs::TryLockError::Error(e)) => Err(e),
    }
  }
}
