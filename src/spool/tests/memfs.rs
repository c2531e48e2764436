//! An in-memory `Filesystem` for tests: files and directories as the spool relies on them, locks, and injected faults.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::spool::filesystem::{Filesystem, Open, SpoolFile};

/// A shared in-memory filesystem (clones see the same files). Unix semantics where the spool relies on them: a
/// removed or renamed-over file lives on in its open handles; a lock goes with its handle. Data is durable as
/// soon as it is written (a "crash" is [`MemFs::snapshot`]: the files as they are).
#[derive(Debug, Clone, Default)]
pub(crate) struct MemFs {
  state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
  dirs: BTreeSet<PathBuf>,
  files: BTreeMap<PathBuf, Inode>,
  faults: Vec<Fault>,
  next_handle: u64,
}

type Inode = Arc<Mutex<Node>>;

#[derive(Debug, Default)]
struct Node {
  data: Vec<u8>,
  locked_by: Option<u64>,
}

/// An operation a fault can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
  Open,
  /// A write; the fault writes `partial` bytes of it first.
  Write,
  Sync,
  SyncDir,
  Remove,
  Rename,
}

#[derive(Debug, Clone)]
struct Fault {
  op: Op,
  /// Hits paths whose file name contains this.
  name: String,
  partial: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  m.lock().unwrap_or_else(|e| e.into_inner())
}

fn injected() -> io::Error {
  io::Error::other("injected fault")
}

fn not_found() -> io::Error {
  io::Error::from(io::ErrorKind::NotFound)
}

impl MemFs {
  /// The next `op` on a path whose file name contains `name` fails (once), after writing `partial` bytes for a
  /// write.
  pub(crate) fn fail_next(&self, op: Op, name: &str, partial: usize) {
    lock(&self.state).faults.push(Fault { op, name: name.to_string(), partial });
  }

  /// Faults armed and not hit yet.
  pub(crate) fn pending_faults(&self) -> usize {
    lock(&self.state).faults.len()
  }

  /// A copy of every file and directory, without locks: what a process killed right now leaves behind.
  pub(crate) fn snapshot(&self) -> MemFs {
    let s = lock(&self.state);
    let files = s
      .files
      .iter()
      .map(|(p, n)| (p.clone(), Arc::new(Mutex::new(Node { data: lock(n).data.clone(), locked_by: None }))))
      .collect();
    MemFs {
      state: Arc::new(Mutex::new(State {
        dirs: s.dirs.clone(),
        files,
        faults: Vec::new(),
        next_handle: s.next_handle,
      })),
    }
  }

  pub(crate) fn read(&self, path: &Path) -> Option<Vec<u8>> {
    lock(&self.state).files.get(path).map(|n| lock(n).data.clone())
  }

  /// File names in `dir`, sorted.
  pub(crate) fn names(&self, dir: &Path) -> Vec<String> {
    self.list(dir).unwrap_or_default().into_iter().map(|n| n.to_string_lossy().into_owned()).collect()
  }

  /// Takes the armed fault for `op` on `path`, if any.
  fn fault(&self, op: Op, path: &Path) -> Option<Fault> {
    take_fault(&mut lock(&self.state), op, path)
  }
}

fn take_fault(s: &mut State, op: Op, path: &Path) -> Option<Fault> {
  let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
  let i = s.faults.iter().position(|f| f.op == op && name.contains(&f.name))?;
  Some(s.faults.remove(i))
}

fn parent_exists(s: &State, path: &Path) -> bool {
  path.parent().is_none_or(|p| p.as_os_str().is_empty() || s.dirs.contains(p))
}

impl Filesystem for MemFs {
  type File = MemFile;

  fn open(&self, path: &Path, how: Open) -> io::Result<MemFile> {
    let mut s = lock(&self.state);
    if take_fault(&mut s, Op::Open, path).is_some() {
      return Err(injected());
    }
    if s.dirs.contains(path) {
      return Err(io::Error::from(io::ErrorKind::IsADirectory));
    }
    if !parent_exists(&s, path) {
      return Err(not_found());
    }
    let existing = s.files.get(path).cloned();
    let (create, create_new, truncate) = match how {
      Open::Read | Open::ReadWrite | Open::Write | Open::Append => (false, false, false),
      Open::ReadWriteCreate | Open::AppendCreate => (true, false, false),
      Open::CreateNew => (true, true, false),
      Open::CreateFresh => (true, false, true),
    };
    let node = match existing {
      Some(_) if create_new => return Err(io::Error::from(io::ErrorKind::AlreadyExists)),
      Some(n) => n,
      None if create => {
        let n: Inode = Arc::default();
        s.files.insert(path.to_path_buf(), n.clone());
        n
      }
      None => return Err(not_found()),
    };
    if truncate {
      lock(&node).data.clear();
    }
    s.next_handle += 1;
    let read = matches!(how, Open::Read | Open::ReadWrite | Open::ReadWriteCreate);
    let write = !matches!(how, Open::Read);
    let append = matches!(how, Open::Append | Open::AppendCreate | Open::CreateNew);
    Ok(MemFile { fs: self.clone(), path: path.to_path_buf(), node, id: s.next_handle, pos: 0, read, write, append })
  }

  fn is_dir(&self, path: &Path) -> bool {
    lock(&self.state).dirs.contains(path)
  }

  fn exists(&self, path: &Path) -> bool {
    let s = lock(&self.state);
    s.dirs.contains(path) || s.files.contains_key(path)
  }

  fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
    let mut s = lock(&self.state);
    for a in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
      if s.files.contains_key(a) {
        return Err(io::Error::from(io::ErrorKind::AlreadyExists));
      }
      s.dirs.insert(a.to_path_buf());
    }
    Ok(())
  }

  fn set_private(&self, dir: &Path) -> io::Result<()> {
    if self.is_dir(dir) {
      Ok(())
    } else {
      Err(not_found())
    }
  }

  fn sync_dir(&self, dir: &Path) -> io::Result<()> {
    if self.fault(Op::SyncDir, dir).is_some() {
      return Err(injected());
    }
    self.set_private(dir)
  }

  fn list(&self, dir: &Path) -> io::Result<Vec<OsString>> {
    let s = lock(&self.state);
    if !s.dirs.contains(dir) {
      return Err(not_found());
    }
    let children = s.files.keys().chain(s.dirs.iter()).filter(|p| p.parent() == Some(dir));
    let mut names: Vec<OsString> = children.filter_map(|p| p.file_name().map(|n| n.to_os_string())).collect();
    names.sort();
    Ok(names)
  }

  fn remove_file(&self, path: &Path) -> io::Result<()> {
    let mut s = lock(&self.state);
    if take_fault(&mut s, Op::Remove, path).is_some() {
      return Err(injected());
    }
    s.files.remove(path).map(|_| ()).ok_or_else(not_found)
  }

  fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
    let mut s = lock(&self.state);
    if take_fault(&mut s, Op::Rename, to).is_some() {
      return Err(injected());
    }
    let node = s.files.remove(from).ok_or_else(not_found)?;
    s.files.insert(to.to_path_buf(), node);
    Ok(())
  }

  /// Memory has no links, owners or modes.
  fn unsafe_dir(&self, _dir: &Path, _follow: bool) -> io::Result<Option<String>> {
    Ok(None)
  }
}

/// An open file of a [`MemFs`].
#[derive(Debug)]
pub(crate) struct MemFile {
  fs: MemFs,
  path: PathBuf,
  node: Inode,
  id: u64,
  pos: u64,
  read: bool,
  write: bool,
  append: bool,
}

fn bad_handle() -> io::Error {
  io::Error::from_raw_os_error(9) // EBADF: not opened for that
}

impl Read for MemFile {
  fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
    if !self.read {
      return Err(bad_handle());
    }
    let node = lock(&self.node);
    let start = (self.pos as usize).min(node.data.len());
    let n = buf.len().min(node.data.len() - start);
    buf[..n].copy_from_slice(&node.data[start..start + n]);
    self.pos += n as u64;
    Ok(n)
  }
}

impl Write for MemFile {
  fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
    if !self.write {
      return Err(bad_handle());
    }
    let fault = self.fs.fault(Op::Write, &self.path);
    let buf = match &fault {
      Some(f) => &buf[..f.partial.min(buf.len())],
      None => buf,
    };
    let mut node = lock(&self.node);
    if self.append {
      self.pos = node.data.len() as u64;
    }
    let end = self.pos as usize + buf.len();
    if node.data.len() < end {
      node.data.resize(end, 0);
    }
    node.data[self.pos as usize..end].copy_from_slice(buf);
    self.pos = end as u64;
    match fault {
      Some(_) => Err(injected()),
      None => Ok(buf.len()),
    }
  }

  fn flush(&mut self) -> io::Result<()> {
    Ok(())
  }
}

impl Seek for MemFile {
  fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
    let len = lock(&self.node).data.len() as i128;
    let pos = match to {
      SeekFrom::Start(p) => p as i128,
      SeekFrom::End(d) => len + d as i128,
      SeekFrom::Current(d) => self.pos as i128 + d as i128,
    };
    if pos < 0 {
      return Err(io::Error::from(io::ErrorKind::InvalidInput));
    }
    self.pos = pos as u64;
    Ok(self.pos)
  }
}

impl SpoolFile for MemFile {
  fn size(&self) -> io::Result<u64> {
    Ok(lock(&self.node).data.len() as u64)
  }
  fn set_len(&self, len: u64) -> io::Result<()> {
    if !self.write {
      return Err(bad_handle());
    }
    lock(&self.node).data.resize(len as usize, 0);
    Ok(())
  }
  fn sync_data(&self) -> io::Result<()> {
    if self.fs.fault(Op::Sync, &self.path).is_some() {
      return Err(injected());
    }
    Ok(())
  }
  fn sync_all(&self) -> io::Result<()> {
    self.sync_data()
  }
  fn try_lock(&self) -> io::Result<bool> {
    let mut node = lock(&self.node);
    match node.locked_by {
      Some(id) if id != self.id => Ok(false),
      _ => {
        node.locked_by = Some(self.id);
        Ok(true)
      }
    }
  }
}

impl Drop for MemFile {
  fn drop(&mut self) {
    let mut node = lock(&self.node);
    if node.locked_by == Some(self.id) {
      node.locked_by = None;
    }
  }
}
