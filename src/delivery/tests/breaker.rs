//! The breaker's probe: while open nothing is sent; then one record, the oldest, probes, and its outcome decides.

use super::support::{rig, Rig, MS, SEC};
use crate::delivery::breaker::BreakerState;
use crate::delivery::clock::Clock;
use crate::transport::ErrorKind;

/// Three events failed, the breaker (threshold 2, reset 1 s) opened, the probe e1 is out.
fn probing() -> (Rig, Vec<String>) {
  let mut r = rig(&[("CB_FAILURE_THRESHOLD", "2"), ("CB_RESET_TIMEOUT", "1000")]);
  let keys = r.log(3);
  r.settle();
  r.sent();
  r.fail(None, ErrorKind::Network);
  r.settle();
  assert_eq!(r.worker.breaker.state(), BreakerState::Open);
  r.clock.advance(900 * MS);
  r.log(1);
  r.settle();
  assert!(r.sent().is_empty(), "nothing while open");
  r.clock.advance(400 * MS);
  r.settle();
  let probe = r.sent_full();
  assert_eq!(probe.len(), 1, "one probe");
  assert_eq!((probe[0].key.as_str(), probe[0].probe), (keys[0].as_str(), true), "the oldest record probes");
  r.settle();
  assert!(r.sent().is_empty(), "nothing else while the probe is out");
  (r, keys)
}

#[test]
#[allow(clippy::type_complexity)] // a table of rows, read column by column
fn the_probe_outcome_decides() {
  // (outcome of the probe, None for delivered; breaker after; sent at once; sent 600 ms later; failed counter)
  #[rustfmt::skip]
  let rows: &[(Option<ErrorKind>, BreakerState, &[&str], &[&str], u64)] = &[
    (None, BreakerState::Closed, &["e2", "e3", "e4"], &[], 0),
    (Some(ErrorKind::Network), BreakerState::Open, &[], &[], 0),
    (Some(ErrorKind::Timeout), BreakerState::Open, &[], &[], 0),
    // The cluster answered: the record is at fault, the probe succeeded.
    (Some(ErrorKind::InvalidMessage), BreakerState::Closed, &["e2", "e3", "e4"], &[], 1),
    // The topic is being created: the cluster answered; the records wait 500 ms for it, in order.
    (Some(ErrorKind::UnknownTopic), BreakerState::Closed, &[], &["e1", "e2", "e3", "e4"], 0),
  ];
  for (outcome, state, now, later, failed) in rows {
    let (mut r, _) = probing();
    match outcome {
      None => r.deliver(None),
      Some(kind) => r.fail(None, *kind),
    }
    r.settle();
    assert_eq!(r.worker.breaker.state(), *state, "{outcome:?}");
    assert_eq!(r.sent(), *now, "{outcome:?}");
    r.clock.advance(600 * MS);
    r.settle();
    assert_eq!(r.sent(), *later, "{outcome:?}, 600 ms later");
    assert_eq!(r.counter(|c| &c.failed), *failed, "{outcome:?}");
  }
}

#[test]
fn a_failed_probe_reopens_for_longer() {
  let (mut r, _) = probing();
  let t = r.clock.now();
  r.fail(None, ErrorKind::Network);
  r.settle();
  let open = r.worker.breaker.open_until().unwrap() - t;
  assert!(open >= 2 * SEC, "{open:?}");
}

#[test]
fn connectivity_errors_count_toward_the_breaker_only_with_work() {
  let mut r = rig(&[("CB_FAILURE_THRESHOLD", "2")]);
  for _ in 0..5 {
    r.client_error(ErrorKind::Network, "1/1 brokers are down", true);
    r.settle();
  }
  assert_eq!(r.worker.breaker.state(), BreakerState::Closed, "idle: not counted");
  r.log(1);
  r.settle();
  r.client_error(ErrorKind::Kafka, "something else", false);
  r.settle();
  assert_eq!(r.worker.breaker.state(), BreakerState::Closed, "not a connectivity error");
  for _ in 0..2 {
    r.client_error(ErrorKind::Network, "1/1 brokers are down", true);
    r.settle();
  }
  assert_eq!(r.worker.breaker.state(), BreakerState::Open, "a record in flight: counted");
}
