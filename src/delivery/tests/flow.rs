//! Flow control: the in-flight cap, the transport's full queue, and purged records (not failures).

use super::support::{rig, MS};
use crate::delivery::breaker::BreakerState;
use crate::transport::{ErrorKind, Purge, SendError};

#[test]
fn no_more_than_the_cap_is_in_flight() {
  // (QUEUE_MAX_SIZE: the queue's capacity and the in-flight cap, QUEUE_BATCH_SIZE: sent per pass)
  for (cap, batch) in [(5, 5), (5, 2), (4, 1), (100, 3)] {
    let mut r = rig(&[("QUEUE_MAX_SIZE", &cap.to_string()), ("QUEUE_BATCH_SIZE", &batch.to_string())]);
    let first = cap.min(10);
    r.log(first as u32);
    r.settle();
    assert_eq!(r.in_flight(), first, "cap {cap}, batch {batch}");
    r.log(3);
    r.settle();
    assert_eq!(
      (r.in_flight(), r.intake.queue.len()),
      ((first + 3).min(cap), (first + 3).saturating_sub(cap)),
      "cap {cap}"
    );
    r.deliver(Some(2));
    r.settle();
    assert_eq!(
      (r.in_flight(), r.intake.queue.len()),
      ((first + 1).min(cap), (first + 1).saturating_sub(cap)),
      "cap {cap}: room again"
    );
  }
}

#[test]
fn a_full_transport_queue_pauses_20_ms_without_counting_a_failure() {
  let mut r = rig(&[("CB_FAILURE_THRESHOLD", "1")]);
  r.kafka.0.borrow_mut().refuse.push_back(SendError::QueueFull);
  r.log(2);
  r.settle();
  assert_eq!(r.sent(), Vec::<String>::new(), "e1 refused, e2 waits behind it");
  r.clock.advance(19 * MS);
  r.settle();
  assert!(r.sent().is_empty());
  r.clock.advance(MS);
  r.settle();
  assert_eq!(r.sent(), ["e1", "e2"]);
  assert_eq!((r.counter(|c| &c.failed), r.counter(|c| &c.retried)), (0, 0));
  assert_eq!(r.worker.breaker.state(), BreakerState::Closed);
}

#[test]
fn a_refused_send_settles_as_a_failure_of_its_kind() {
  // (the transport's refusal, failed, retried)
  for (kind, failed, retried) in [(ErrorKind::MessageTooLarge, 1, 0), (ErrorKind::Network, 0, 1)] {
    let mut r = rig(&[]);
    r.kafka.0.borrow_mut().refuse.push_back(SendError::Failed { kind, message: "refused".into() });
    r.log(1);
    r.settle();
    assert_eq!((r.counter(|c| &c.failed), r.counter(|c| &c.retried)), (failed, retried), "{kind:?}");
  }
}

#[test]
fn purged_records_are_resent_without_counting_a_failure() {
  let mut r = rig(&[("CB_FAILURE_THRESHOLD", "1")]);
  r.log(2);
  r.settle();
  r.sent();
  use crate::transport::Transport;
  r.kafka.clone().purge(Purge::Queued);
  r.settle();
  assert_eq!(r.sent(), ["e1", "e2"], "resent at once, in order");
  assert_eq!((r.counter(|c| &c.failed), r.counter(|c| &c.retried)), (0, 0));
  assert_eq!(r.worker.breaker.state(), BreakerState::Closed);
  assert!(r.intake.metrics.status().last_error.is_none(), "not an error");
}
