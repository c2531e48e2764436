//! Spill order: with a spool, failed records and then the queue go to disk in acceptance order while the breaker
//! holds, and are replayed in that order after the probe.

use super::support::{rig, MS, SEC};
use crate::delivery::breaker::BreakerState;
use crate::transport::ErrorKind;

#[test]
fn failures_then_the_queue_are_spilled_and_replayed_in_acceptance_order() {
  // (events in flight that fail, events queued during the outage)
  for (failing, queued) in [(1, 0), (3, 3), (2, 5), (4, 1)] {
    let mut r = rig(&[("SPOOL_DIR", "tmp"), ("CB_FAILURE_THRESHOLD", "1"), ("CB_RESET_TIMEOUT", "1000")]);
    let mut keys = r.log(failing);
    r.settle();
    assert_eq!(r.sent(), keys);
    r.fail(None, ErrorKind::Network);
    r.settle();
    assert_eq!(r.worker.breaker.state(), BreakerState::Open);
    keys.extend(r.log(queued));
    r.clock.advance(200 * MS);
    r.settle();
    assert!(r.sent().is_empty(), "nothing while open");
    assert_eq!(r.intake.queue.len(), 0, "the queue went to the spool");
    assert_eq!(r.worker.backlog.as_ref().unwrap().unacked(), keys.len() as u64);
    r.clock.advance(SEC + 100 * MS);
    r.settle();
    let probe = r.sent_full();
    assert_eq!((probe.len(), probe[0].key.as_str(), probe[0].probe), (1, keys[0].as_str(), true), "the oldest probes");
    r.deliver(None);
    let mut replayed = vec![keys[0].clone()];
    for _ in 0..10 {
      r.settle();
      replayed.extend(r.sent());
      r.deliver(None);
    }
    assert_eq!(replayed, keys, "replayed in acceptance order");
    assert_eq!(r.worker.backlog.as_ref().unwrap().unacked(), 0);
    assert_eq!(r.counter(|c| &c.delivered), keys.len() as u64);
  }
}

#[test]
fn in_disk_mode_every_event_goes_through_the_spool_in_order() {
  let mut r = rig(&[("SPOOL_DIR", "tmp"), ("DURABILITY", "disk")]);
  let keys = r.log(5);
  r.settle();
  assert_eq!(r.sent(), keys);
  assert!(r.kafka.0.borrow().in_flight.iter().all(|p| p.spool_pos.is_some()), "read back from the spool");
  r.deliver(None);
  r.settle();
  assert_eq!(r.worker.backlog.as_ref().unwrap().unacked(), 0);
}
