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

#[cfg(test)]
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
  use std::collections::BTreeMap;

  use proptest::prelude::*;
  use tempfile::TempDir;

  use super::*;
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
    assert_eq!(st.oldest_event_time_ms, Some(records[40].message.event_time_ms));
    drop(s);
    let mut s = Spool::open(&dir, opts_seg(2048)).unwrap();
    assert_eq!(s.stats().records, 60);
    assert_eq!(s.stats().oldest_event_time_ms, Some(records[40].message.event_time_ms));
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

  // -- the window against a plain model ---------------------------------------------------------------------

  #[derive(Debug, Clone)]
  enum WOp {
    /// Records become available to read.
    Append(u8),
    Read(u8),
    /// A read during which the first known unacked record turns out damaged (lost).
    ReadLosing(u8),
    /// The next fresh read finds a damaged region standing for this many records.
    Damage(u8),
    /// Ack the n-th outstanding record (returned and not acked).
    Ack(usize),
    /// Ack an already acked position again, or a position the window never handed out.
    AckBogus(usize),
    Rewind,
  }

  fn wop() -> impl Strategy<Value = WOp> {
    prop_oneof![
      2 => (1u8..8).prop_map(WOp::Append),
      3 => (1u8..6).prop_map(WOp::Read),
      1 => (1u8..6).prop_map(WOp::ReadLosing),
      1 => (1u8..4).prop_map(WOp::Damage),
      4 => any::<usize>().prop_map(WOp::Ack),
      1 => any::<usize>().prop_map(WOp::AckBogus),
      1 => Just(WOp::Rewind),
    ]
  }

  /// The model: every entry ever read in order, each acked or not, its weight and whether it is a lost record
  /// (never returned); the prefix of popped entries; the read index; the records not read yet.
  #[derive(Debug, Default)]
  struct Model {
    entries: Vec<(bool, u64)>,
    prefix: usize,
    read: usize,
    available: u64,
  }

  impl Model {
    fn settle(&mut self) -> u64 {
      let mut weight = 0;
      while self.prefix < self.entries.len() && self.entries[self.prefix].0 {
        weight += self.entries[self.prefix].1;
        self.prefix += 1;
      }
      self.read = self.read.max(self.prefix);
      weight
    }
  }

  /// Synthetic positions: record k of the log starts at offset 10 * k of segment 0.
  fn entry(k: u64, weight: u64, acked: bool) -> Entry {
    let next = Cursor { seq: 0, offset: 10 * (k + weight), idx: k + weight };
    Entry { seq: 0, offset: 10 * k, next, acked, weight, event_time: Some(k as i64) }
  }

  proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Reads return what the model says (unacked entries in order after the read index, then fresh records),
    /// acks in any order pop exactly the contiguous acked prefix with its weight, bogus and repeated acks change
    /// nothing, and a rewind returns to the first unacked entry.
    #[test]
    fn window_matches_model(ops in prop::collection::vec(wop(), 1..120)) {
      let id = |x: &Cursor| x.offset;
      let mut w = Window::new(Cursor::start(0));
      let mut m = Model::default();
      let mut handed: BTreeMap<usize, SpoolPos> = BTreeMap::new();
      let mut next_record = 0u64;
      let mut pending_damage = None;
      for op in ops {
        let mut popped = Popped::default();
        match op {
          WOp::Append(n) => m.available += n as u64,
          WOp::Damage(n) => pending_damage = Some(n as u64),
          WOp::Read(max) | WOp::ReadLosing(max) => {
            let mut lose = matches!(op, WOp::ReadLosing(_));
            let (mut got, mut want) = (Vec::new(), Vec::new());
            let mut skipped = false;
            while got.len() < max as usize {
              let at = w.read_cursor(|c| c);
              if let Some((pos, e)) = w.known() {
                let i = m.read;
                prop_assert!(i < m.entries.len());
                prop_assert_eq!(e.acked, m.entries[i].0);
                if !e.acked {
                  if lose {
                    lose = false;
                    w.lose(pos);
                    m.entries[i].0 = true;
                    skipped = true;
                  } else {
                    got.push(pos);
                    want.push(i);
                  }
                }
                w.pass_known();
                m.read += 1;
                continue;
              }
              prop_assert_eq!(m.read, m.entries.len(), "the window knows every entry the model read");
              prop_assert_eq!(id(&at), 10 * next_record);
              if m.available == 0 {
                break;
              }
              if let Some(n) = pending_damage.take() {
                let n = n.min(m.available);
                w.push(entry(next_record, n, true));
                m.entries.push((true, n));
                m.available -= n;
                next_record += n;
                skipped = true;
              } else {
                let pos = w.push(entry(next_record, 1, false));
                got.push(pos);
                want.push(m.entries.len());
                m.entries.push((false, 1));
                m.available -= 1;
                next_record += 1;
              }
              m.read += 1;
            }
            for (pos, i) in got.iter().zip(&want) {
              prop_assert_eq!(pos.offset(), 10 * m.entries[..*i].iter().map(|e| e.1).sum::<u64>());
              // A record read again after a rewind keeps its position.
              prop_assert_eq!(*handed.entry(*i).or_insert(*pos), *pos);
            }
            if skipped {
              popped = w.pop_acked(|c| c);
            }
          }
          WOp::Ack(n) => {
            let outstanding: Vec<usize> = handed.keys().copied().filter(|&i| !m.entries[i].0).collect();
            if !outstanding.is_empty() {
              let i = outstanding[n % outstanding.len()];
              prop_assert!(w.ack(handed[&i]));
              m.entries[i].0 = true;
              popped = w.pop_acked(|c| c);
            }
          }
          WOp::AckBogus(n) => {
            let acked: Vec<usize> = handed.keys().copied().filter(|&i| m.entries[i].0).collect();
            let pos = match acked.is_empty() {
              false => handed[&acked[n % acked.len()]],
              true => SpoolPos { seq: 0, offset: 10 * (n as u64 % 1000) + 3, rid: n as u64 % 1000 },
            };
            prop_assert!(!w.ack(pos));
            prop_assert_eq!(w.pop_acked(|c| c), Popped::default());
          }
          WOp::Rewind => {
            w.rewind();
            m.read = m.prefix;
          }
        }
        let before = m.prefix;
        let weight = m.settle();
        prop_assert_eq!(popped, Popped { entries: (m.prefix - before) as u64, records: weight });
        prop_assert_eq!(w.ack_rid, m.prefix as u64);
        prop_assert_eq!(w.read_rid, m.read as u64);
        prop_assert_eq!(w.entries.len(), m.entries.len() - m.prefix);
        let head: u64 = m.entries[..m.prefix].iter().map(|e| e.1).sum();
        prop_assert_eq!(id(&w.ack_cursor()), 10 * head);
        prop_assert_eq!(w.front().map(|e| e.offset), (m.prefix < m.entries.len()).then_some(10 * head));
      }
    }
  }
}
