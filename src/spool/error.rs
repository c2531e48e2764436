//! `SpoolError`, the spool's one error type, and `io_err`, which names the file and the action an I/O error hit.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub enum SpoolError {
  /// Another process (or another `Spool` in this one) holds the directory's lock.
  Locked {
    dir: PathBuf,
    pid: Option<u32>,
    /// The host named in the lock file when it is another machine's (a slot over a network filesystem).
    host: Option<String>,
  },
  /// Every slot under a base directory is locked.
  NoFreeSlot {
    base: PathBuf,
    slots: usize,
  },
  Io {
    path: PathBuf,
    action: &'static str,
    source: io::Error,
  },
  InvalidOptions {
    reason: String,
  },
  /// A directory or file the spool refuses to use: a symbolic link, or a directory another user owns or that
  /// group or others may write to (anyone who can write into it could redirect the spool's writes).
  Unsafe {
    path: PathBuf,
    reason: String,
  },
  /// The dead-letter file reached its cap (`max_bytes`): the line was not written.
  DeadLettersFull {
    path: PathBuf,
    cap: u64,
  },
}

impl fmt::Display for SpoolError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      SpoolError::Locked { dir, pid, host } => {
        let mut who = match pid {
          Some(pid) => format!("pid {pid}"),
          None => "pid unknown".to_string(),
        };
        if let Some(host) = host {
          who = format!(
            "{who} on host {host}; a slot claimed by another machine is left to it, delete its \
                         spool.lock once that machine is gone for good"
          );
        }
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
      SpoolError::Unsafe { path, reason } => write!(
        f,
        "spool: refusing {}: {reason}; anyone who can write into the spool directory could make n8n overwrite \
         other files through it. Give the directory to the user running n8n with mode 0700 (chmod 700), remove \
         the link, or set N8N_KAFKA_LOGGER_SPOOL_DIR elsewhere",
        path.display()
      ),
      SpoolError::DeadLettersFull { path, cap } => write!(
        f,
        "spool: {} reached its cap of {cap} bytes (N8N_KAFKA_LOGGER_SPOOL_MAX_BYTES); the dead letter was not \
         written. Replay the file (replay --from-file) and delete it",
        path.display()
      ),
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

/// `map_err(io_err(path, "read"))`: an I/O error as a `SpoolError::Io` naming the file and what was tried. An
/// open refused because the name is a symbolic link (O_NOFOLLOW) is [`SpoolError::Unsafe`].
pub(crate) fn io_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> SpoolError + 'a {
  move |source| {
    if is_symlink_refusal(&source) {
      return SpoolError::Unsafe { path: path.to_path_buf(), reason: "it is a symbolic link".into() };
    }
    SpoolError::Io { path: path.to_path_buf(), action, source }
  }
}

/// The error O_NOFOLLOW gives for a symbolic link: ELOOP (Linux, macOS), EMLINK (FreeBSD).
pub(crate) fn is_symlink_refusal(e: &io::Error) -> bool {
  #[cfg(unix)]
  {
    let code = e.raw_os_error();
    code == Some(libc::ELOOP) || (cfg!(target_os = "freebsd") && code == Some(libc::EMLINK))
  }
  #[cfg(not(unix))]
  {
    let _ = e;
    false
  }
}
