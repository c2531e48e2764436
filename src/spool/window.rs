//! The read/ack window: records read and not yet part of the acked prefix, the read and ack cursors, and `SpoolPos`.

use std::collections::VecDeque;

use super::segments::Cursor;

/// Where a record returned by `read_next` lives; hand it back to `ack` once Kafka confirmed delivery.
/// Only valid for the `Spool` that returned it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpoolPos {
  seq: u64,
  offset: u64,
  /// Number of the window entry since open (the record's read id).
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

/// A record read but not yet part of the acked prefix (or a skipped damaged region: acked, weight = records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
  pub(crate) seq: u64,
  pub(crate) offset: u64,
  /// Where the record after it starts.
  pub(crate) next: Cursor,
  pub(crate) acked: bool,
  /// Records this entry stands for: 1, or the records of a damaged region.
  pub(crate) weight: u64,
  pub(crate) event_time: Option<i64>,
}

/// What one advance of the acked prefix removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Popped {
  pub(crate) entries: u64,
  pub(crate) records: u64,
}

/// The read/ack window.
///
/// Reads return records in append order after everything already read (the read cursor). Acks may arrive in any
/// order; the ack cursor is the first unacked record, and only the contiguous acked prefix is removed. A rewind
/// moves the read cursor back to the ack cursor (after a failed send); records already acked out of order are not
/// returned again. Entries are numbered from open (`rid`): entry `rid` is `entries[rid - ack_rid]`, and a
/// [`SpoolPos`] names its entry, so positions stay valid across rewinds. An entry costs about 64 bytes until it
/// leaves the window: the caller bounds them by its in-flight limit. No I/O: the spool reads the frames.
#[derive(Debug)]
pub(crate) struct Window {
  ack: Cursor,
  ack_rid: u64,
  read: Cursor,
  read_rid: u64,
  entries: VecDeque<Entry>,
}

impl Window {
  /// A window with nothing read, both cursors at `start`.
  pub(crate) fn new(start: Cursor) -> Self {
    Window { ack: start, ack_rid: 0, read: start, read_rid: 0, entries: VecDeque::new() }
  }

  /// The first record not in the acked prefix.
  pub(crate) fn ack_cursor(&self) -> Cursor {
    self.ack
  }

  /// Where the next read starts, after `normalize` (the log's move past segment ends) is applied to it.
  pub(crate) fn read_cursor(&mut self, normalize: impl FnOnce(Cursor) -> Cursor) -> Cursor {
    self.read = normalize(self.read);
    self.read
  }

  /// The entry at the read cursor when it was read before (a rewind happened), with its position.
  pub(crate) fn known(&self) -> Option<(SpoolPos, Entry)> {
    let e = *self.entries.get(self.read_rid.checked_sub(self.ack_rid)? as usize)?;
    Some((SpoolPos { seq: e.seq, offset: e.offset, rid: self.read_rid }, e))
  }

  /// Moves the read cursor past the entry [`known`](Self::known) returned.
  pub(crate) fn pass_known(&mut self) {
    if let Some((_, e)) = self.known() {
      self.read = e.next;
      self.read_rid += 1;
    }
  }

  /// A record read for the first time at the read cursor (which must be past every known entry): adds its entry
  /// and moves the read cursor to `e.next`.
  pub(crate) fn push(&mut self, e: Entry) -> SpoolPos {
    debug_assert_eq!(self.read_rid, self.ack_rid + self.entries.len() as u64);
    self.entries.push_back(e);
    let pos = SpoolPos { seq: e.seq, offset: e.offset, rid: self.read_rid };
    self.read = e.next;
    self.read_rid += 1;
    pos
  }

  /// Marks a known entry acked without a delivery (its frame was damaged since it was first read).
  pub(crate) fn lose(&mut self, pos: SpoolPos) {
    if let Some(e) = pos.rid.checked_sub(self.ack_rid).and_then(|i| self.entries.get_mut(i as usize)) {
      e.acked = true;
    }
  }

  /// Marks one record delivered; false when the position is already acked, not read, or from another window.
  pub(crate) fn ack(&mut self, pos: SpoolPos) -> bool {
    let Some(i) = pos.rid.checked_sub(self.ack_rid) else { return false };
    let Some(e) = self.entries.get_mut(i as usize) else { return false };
    if e.seq != pos.seq || e.offset != pos.offset || e.acked {
      return false;
    }
    e.acked = true;
    true
  }

  /// Moves the read cursor back to the first unacked record.
  pub(crate) fn rewind(&mut self) {
    self.read = self.ack;
    self.read_rid = self.ack_rid;
  }

  /// Removes the acked head of the window: the ack cursor moves past it (then `normalize`d), and a read cursor
  /// left behind by a rewind moves with it (late acks of rewound records).
  pub(crate) fn pop_acked(&mut self, normalize: impl FnOnce(Cursor) -> Cursor) -> Popped {
    let mut popped = Popped::default();
    while self.entries.front().is_some_and(|e| e.acked) {
      if let Some(e) = self.entries.pop_front() {
        self.ack = e.next;
        self.ack_rid += 1;
        popped.entries += 1;
        popped.records += e.weight;
      }
    }
    if popped.entries == 0 {
      return popped;
    }
    self.ack = normalize(self.ack);
    if self.read_rid < self.ack_rid {
      self.read = self.ack;
      self.read_rid = self.ack_rid;
    }
    popped
  }

  /// The first entry not in the acked prefix.
  pub(crate) fn front(&self) -> Option<&Entry> {
    self.entries.front()
  }
}

#[cfg(test)]
mod tests {
  use tempfile::TempDir;

  use crate::spool::tests::support::*;
  use crate::spool::Spool;

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
}
