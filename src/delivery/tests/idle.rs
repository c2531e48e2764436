//! After an outage the idle worker sleeps: no stale retry time keeps it waking every millisecond.

use super::support::{rig, Rig, MS, SEC};
use crate::delivery::wake::Wake;
use crate::transport::ErrorKind;

/// e1 failed, the breaker (threshold 1, reset 1 s) opened, the probe was delivered: the worker is idle again.
fn after_an_outage(settings: &[(&str, &str)]) -> Rig {
  let mut all = vec![("CB_FAILURE_THRESHOLD", "1"), ("CB_RESET_TIMEOUT", "1000")];
  all.extend_from_slice(settings);
  let mut r = rig(&all);
  r.log(1);
  r.settle();
  r.fail(None, ErrorKind::Network);
  r.settle();
  r.clock.advance(SEC + 300 * MS);
  r.settle();
  r.deliver(None);
  r.settle();
  assert!(r.worker.idle());
  r
}

#[test]
fn the_idle_worker_sleeps_the_flush_interval_after_an_outage() {
  for settings in [&[][..], &[("SPOOL_DIR", "tmp")][..]] {
    let mut r = after_an_outage(settings);
    r.clock.advance(10 * MS);
    assert_eq!(r.settle(), Some(Wake::Sleep(5 * SEC)), "{settings:?}");
  }
}

#[test]
fn an_open_breaker_naps_until_its_probe_once_the_backoff_is_over() {
  let mut r = rig(&[("CB_FAILURE_THRESHOLD", "1"), ("CB_RESET_TIMEOUT", "10000")]);
  r.log(1);
  r.settle();
  r.fail(None, ErrorKind::Network);
  r.settle();
  r.clock.advance(SEC);
  match r.settle() {
    Some(Wake::Nap(d)) => assert!(d >= 5 * SEC - MS, "naps {d:?}"),
    other => panic!("{other:?}"),
  }
}
