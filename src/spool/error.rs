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

/// `map_err(io_err(path, "read"))`: an I/O error as a `SpoolError::Io` naming the file and what was tried.
pub(crate) fn io_err<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(io::Error) -> SpoolError + 'a {
  move |source| SpoolError::Io { path: path.to_path_buf(), action, source }
}
