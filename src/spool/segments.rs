//! The in-memory index of the log: which segments exist, their valid lengths and record counts, and positions in it.

use std::collections::VecDeque;

/// A position in the log: segment, byte offset, and index of the record among the segment's scanned records
/// (from the scan start: the cursor offset for the first segment at open, 0 otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cursor {
  pub(crate) seq: u64,
  pub(crate) offset: u64,
  pub(crate) idx: u64,
}

impl Cursor {
  /// The start of segment `seq`.
  pub(crate) fn start(seq: u64) -> Cursor {
    Cursor { seq, offset: 0, idx: 0 }
  }
}

#[derive(Debug)]
pub(crate) struct Segment {
  pub(crate) seq: u64,
  /// Valid bytes (the file's length).
  pub(crate) len: u64,
  /// Records from the scan start to `len`.
  pub(crate) count: u64,
}

/// The segments on disk in sequence order (the last one is appended to), and what they hold.
#[derive(Debug, Default)]
pub(crate) struct Segments {
  list: VecDeque<Segment>,
  /// Sequence number of the next segment created.
  pub(crate) next_seq: u64,
  /// Bytes of all segment files (what `max_bytes` caps).
  pub(crate) bytes: u64,
  /// Records not yet removed from the head (read or not, acked out of order or not).
  pub(crate) records: u64,
  /// Event time of the record at the head, when there is one.
  pub(crate) head_event_time: Option<i64>,
}

impl Segments {
  pub(crate) fn new(list: VecDeque<Segment>, next_seq: u64, records: u64, head_event_time: Option<i64>) -> Self {
    let bytes = list.iter().map(|s| s.len).sum();
    Segments { list, next_seq, bytes, records, head_event_time }
  }

  pub(crate) fn len(&self) -> usize {
    self.list.len()
  }

  pub(crate) fn index(&self, seq: u64) -> Option<usize> {
    self.list.binary_search_by_key(&seq, |s| s.seq).ok()
  }

  pub(crate) fn get(&self, i: usize) -> &Segment {
    &self.list[i]
  }

  pub(crate) fn front(&self) -> Option<&Segment> {
    self.list.front()
  }

  pub(crate) fn back(&self) -> Option<&Segment> {
    self.list.back()
  }

  pub(crate) fn back_mut(&mut self) -> Option<&mut Segment> {
    self.list.back_mut()
  }

  /// Adds an empty segment with the next sequence number and returns that number.
  pub(crate) fn push_new(&mut self) -> u64 {
    let seq = self.next_seq;
    self.next_seq = self.next_seq.saturating_add(1);
    self.list.push_back(Segment { seq, len: 0, count: 0 });
    seq
  }

  /// Removes the first segment when it lies wholly before segment `seq`.
  pub(crate) fn pop_before(&mut self, seq: u64) -> Option<Segment> {
    if self.list.front().is_some_and(|s| s.seq < seq) {
      self.list.pop_front()
    } else {
      None
    }
  }

  /// Moves a cursor that sits at the end of a segment (or in a deleted one) to the start of the next segment.
  pub(crate) fn normalize(&self, mut c: Cursor) -> Cursor {
    loop {
      match self.index(c.seq) {
        Some(i) if c.offset >= self.list[i].len && i + 1 < self.list.len() => c = Cursor::start(self.list[i + 1].seq),
        Some(_) => return c,
        None => match self.list.iter().find(|s| s.seq > c.seq) {
          Some(s) => c = Cursor::start(s.seq),
          None => return c,
        },
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn segments_normalize_moves_past_ends_and_gaps() {
    let seg = |seq, len| Segment { seq, len, count: len / 10 };
    let s = Segments::new([seg(3, 30), seg(4, 0), seg(7, 20)].into(), 8, 5, None);
    let at = |seq, offset| Cursor { seq, offset, idx: 9 };
    assert_eq!(s.normalize(at(3, 10)), at(3, 10), "inside a segment");
    assert_eq!(s.normalize(at(3, 30)), Cursor::start(7), "past an end and an empty segment");
    assert_eq!(s.normalize(at(5, 0)), Cursor::start(7), "a deleted segment");
    assert_eq!(s.normalize(at(1, 4)), Cursor::start(3), "before the first segment");
    assert_eq!(s.normalize(at(7, 20)), at(7, 20), "the end of the last segment stays");
    assert_eq!(s.normalize(at(9, 0)), at(9, 0), "after the last segment");
    assert_eq!(s.bytes, 50);
  }
}
