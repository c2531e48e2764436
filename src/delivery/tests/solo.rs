//! The solo lane: the records of a batch Kafka refused as too large go again one at a time, each by itself, before
//! anything newer; only a record refused alone is dead-lettered.

use super::support::{rig, Rig, SEC};
use crate::transport::{ErrorKind, SendError};

/// e1..e3 sent together, then refused together as a too-large batch.
fn refused_batch(settings: &[(&str, &str)]) -> Rig {
  let mut r = rig(settings);
  r.log(3);
  r.settle();
  assert_eq!(r.sent(), ["e1", "e2", "e3"]);
  r.fail(None, ErrorKind::MessageTooLarge);
  r.settle();
  r
}

#[test]
fn a_too_large_batch_is_resent_one_record_at_a_time_in_order() {
  let mut r = refused_batch(&[("DLQ_TOPIC", "dlq")]);
  r.log(2);
  for key in ["e1", "e2", "e3"] {
    let sent = r.sent_full();
    assert_eq!(sent.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(), [key], "alone, oldest first");
    assert!(!sent[0].dead_letter, "{key}: to its own topic again");
    assert_eq!(r.in_flight(), 1, "nothing else while it travels");
    r.deliver(None);
    r.settle();
  }
  assert_eq!(r.sent(), ["e4", "e5"], "new events only once the lane is empty");
  let counts = (r.counter(|c| &c.retried), r.counter(|c| &c.dead_lettered), r.counter(|c| &c.failed));
  assert_eq!(counts, (3, 0, 0));
}

#[test]
fn only_a_record_refused_alone_is_dead_lettered() {
  let mut r = refused_batch(&[("DLQ_TOPIC", "dlq")]);
  assert_eq!(r.sent(), ["e1"]);
  r.deliver(None);
  r.settle();
  assert_eq!(r.sent(), ["e2"]);
  r.fail(None, ErrorKind::MessageTooLarge);
  r.settle();
  let sent = r.sent_full();
  assert_eq!((sent.len(), sent[0].key.as_str(), sent[0].dead_letter), (1, "e2", true), "e2 is too large itself");
  r.deliver(None);
  r.settle();
  assert_eq!(r.sent(), ["e3"], "the lane goes on after the dead letter");
  r.deliver(None);
  r.settle();
  let counts = (r.counter(|c| &c.delivered), r.counter(|c| &c.dead_lettered), r.counter(|c| &c.failed));
  assert_eq!(counts, (2, 1, 0));
}

#[test]
fn a_client_side_size_refusal_is_the_records_own() {
  let mut r = rig(&[("DLQ_TOPIC", "dlq")]);
  let refusal = SendError::Failed { kind: ErrorKind::MessageTooLarge, message: "over message.max.bytes".into() };
  r.kafka.0.borrow_mut().refuse.push_back(refusal);
  r.log(2);
  r.settle();
  let sent = r.sent_full();
  let keys: Vec<_> = sent.iter().map(|s| (s.key.as_str(), s.dead_letter)).collect();
  assert_eq!(keys, [("e1", true), ("e2", false)], "e1 to the dead letters at once, no solo resend");
  assert_eq!(r.counter(|c| &c.retried), 0);
}

#[test]
fn a_solo_record_that_fails_otherwise_is_retried_and_may_go_alone_again() {
  let mut r = refused_batch(&[("DLQ_TOPIC", "dlq")]);
  assert_eq!(r.sent(), ["e1"]);
  r.fail(None, ErrorKind::Network);
  r.settle();
  assert!(r.sent().is_empty(), "e1 waits for its backoff; e2, e3 wait in the lane");
  r.clock.advance(SEC);
  r.settle();
  assert_eq!(r.sent(), ["e2"], "the lane first, e1's resend after it");
  r.deliver(None);
  r.settle();
  assert_eq!(r.sent(), ["e3"]);
  r.deliver(None);
  r.settle();
  assert_eq!(r.sent(), ["e1"], "the resend, in a batch again");
  r.fail(None, ErrorKind::MessageTooLarge);
  r.settle();
  let sent = r.sent_full();
  assert_eq!((sent.len(), sent[0].dead_letter), (1, false), "refused in a batch: alone once more, not dead-lettered");
  r.deliver(None);
  r.settle();
  assert_eq!((r.counter(|c| &c.delivered), r.counter(|c| &c.dead_lettered)), (3, 0));
}

#[test]
fn shutdown_spills_the_lane_with_a_spool_and_counts_it_without() {
  // (settings, dropped, left in the spool)
  for (settings, dropped, spooled) in [(&[][..], 2, 0), (&[("SPOOL_DIR", "tmp")][..], 0, 2)] {
    let mut r = refused_batch(settings);
    assert_eq!(r.sent(), ["e1"]);
    let answer = r.shutdown(std::time::Duration::ZERO);
    r.settle();
    let result = answer.lock().take().expect("shutdown answered");
    assert_eq!((result.dropped, result.spooled), (dropped, spooled), "{settings:?}: e2 and e3");
  }
}
