//! The read side: frames read back from a segment through a read-ahead buffer, checked (length, CRC) and decoded.

use std::io::{self, Read, Seek, SeekFrom};

use super::error::io_err;
use super::files::SpoolDir;
use super::filesystem::{Filesystem, Open};
use super::frame::{decode, parse_header, plausible_len, FRAME_HEADER};
use super::segments::Segments;
use super::SpoolError;
use crate::record::Record;

/// Read-ahead of the reader and the scan at open.
pub(crate) const READ_CHUNK: usize = 1 << 20;

/// One frame read back.
pub(crate) enum Frame {
  /// The record and the frame's length (header included).
  Good(Record, u64),
  /// Damaged, cut short, or its segment is gone.
  Bad,
}

/// Reads frames at given positions; keeps the segment it last read open, with a read-ahead buffer.
#[derive(Debug)]
pub(crate) struct Reader<F: Filesystem> {
  open: Option<SegmentReader<F::File>>,
}

#[derive(Debug)]
struct SegmentReader<T> {
  seq: u64,
  file: T,
  buf: Vec<u8>,
  buf_offset: u64,
}

impl<T: Read + Seek> SegmentReader<T> {
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

impl<F: Filesystem> Reader<F> {
  pub(crate) fn new() -> Self {
    Reader { open: None }
  }

  /// Closes the segment's handle if it is the open one (it was deleted).
  pub(crate) fn forget(&mut self, seq: u64) {
    if self.open.as_ref().is_some_and(|r| r.seq == seq) {
      self.open = None;
    }
  }

  /// The frame at `offset` of segment `seq`, read no further than the segment's valid length.
  pub(crate) fn read_frame(
    &mut self,
    dir: &SpoolDir<F>,
    log: &Segments,
    seq: u64,
    offset: u64,
  ) -> Result<Frame, SpoolError> {
    let Some(si) = log.index(seq) else { return Ok(Frame::Bad) };
    let limit = log.get(si).len;
    let path = dir.segment_path(seq);
    if self.open.as_ref().is_none_or(|r| r.seq != seq) {
      let file = match dir.fs.open(&path, Open::Read) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Frame::Bad),
        Err(e) => return Err(io_err(&path, "open")(e)),
      };
      self.open = Some(SegmentReader { seq, file, buf: Vec::new(), buf_offset: 0 });
    }
    let Some(reader) = self.open.as_mut() else { return Ok(Frame::Bad) };
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
}

#[cfg(test)]
mod tests {
  use std::fs;

  use tempfile::TempDir;

  use crate::spool::tests::support::*;
  use crate::spool::Spool;

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
}
