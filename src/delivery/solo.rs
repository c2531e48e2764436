//! The solo lane: records Kafka refused as part of a too-large record batch, resent one at a time, each by itself,
//! before anything newer, so that a small event is never dead-lettered for the size of its batch-mates.

use std::collections::BTreeMap;

use crate::transport::Pending;

/// Kafka checks `max.message.bytes` per record batch, and librdkafka fails every record of a refused batch with
/// the same error; only a record refused while it travelled alone is too large itself.
#[derive(Debug, Default)]
pub struct SoloLane {
  /// By acceptance order.
  records: BTreeMap<u64, Pending>,
  /// One of them is on its way: nothing else may go until it settles.
  travelling: bool,
}

impl SoloLane {
  /// Records wait here, or one is on its way: nothing else is sent.
  pub fn busy(&self) -> bool {
    self.travelling || !self.records.is_empty()
  }

  pub fn len(&self) -> usize {
    self.records.len()
  }

  /// Records that live only here (not in the spool too): what a shutdown must spill or count.
  pub fn direct(&self) -> usize {
    self.records.values().filter(|p| p.spool_pos.is_none()).count()
  }

  pub fn keep(&mut self, pending: Pending) {
    self.records.insert(pending.seq, pending);
  }

  /// The oldest record, marked to travel alone: the caller sends it only when nothing else is in flight.
  pub fn next(&mut self) -> Option<Pending> {
    let (_, mut pending) = self.records.pop_first()?;
    pending.alone = true;
    self.travelling = true;
    Some(pending)
  }

  /// A record sent alone settled (delivered or not): the next may go.
  pub fn settled(&mut self) {
    self.travelling = false;
  }

  /// Empties the lane at shutdown: the records that live only here, oldest first (those read from the spool
  /// stay there, unacknowledged, for the next start).
  pub fn take_direct(&mut self) -> impl Iterator<Item = Pending> {
    self.travelling = false;
    std::mem::take(&mut self.records).into_values().filter(|p| p.spool_pos.is_none())
  }
}
