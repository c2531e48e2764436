//! Retry order and backoff: failed records are resent in acceptance order after the backoff, ahead of new events.

use std::time::{Duration, Instant};

use super::support::{outcome, rig, MS};
use crate::delivery::retry::{backoff, RetryQueue};
use crate::transport::ErrorKind;

#[test]
fn failed_records_are_resent_in_acceptance_order_before_new_events() {
  // (which of e1..e4 fail, reports in reverse order)
  let rows: &[(&[usize], bool)] =
    &[(&[0, 1, 2, 3], false), (&[1], false), (&[0, 2], false), (&[0, 1, 2, 3], true), (&[1, 3], true)];
  for (failing, reversed) in rows {
    let mut r = rig(&[("CB_FAILURE_THRESHOLD", "100")]);
    let keys = r.log(4);
    r.settle();
    assert_eq!(r.sent(), keys);
    {
      let mut s = r.kafka.0.borrow_mut();
      let mut records: Vec<_> = s.in_flight.drain(..).enumerate().collect();
      if *reversed {
        records.reverse();
      }
      for (i, p) in records {
        s.reports.push_back(outcome(p, failing.contains(&i).then_some(ErrorKind::Network)));
      }
    }
    r.settle();
    let new = r.log(2);
    r.settle();
    assert_eq!(r.sent(), Vec::<String>::new(), "{failing:?}: nothing goes out during the backoff, new events wait");
    r.clock.advance(100 * MS);
    r.settle();
    let mut expected: Vec<String> = failing.iter().map(|&i| keys[i].clone()).collect();
    expected.extend(new);
    assert_eq!(r.sent(), expected, "{failing:?} reversed {reversed}");
    assert_eq!(r.counter(|c| &c.retried), failing.len() as u64);
  }
}

#[test]
fn the_backoff_doubles_from_100_ms_to_30_s_with_up_to_half_off() {
  for (round, full) in [(0, 100), (1, 200), (2, 400), (8, 25_600), (9, 30_000), (16, 30_000), (40, 30_000)] {
    let full = Duration::from_millis(full);
    for _ in 0..50 {
      let b = backoff(round);
      assert!(b >= full / 2 && b <= full, "round {round}: {b:?}");
    }
  }
}

#[test]
fn a_pause_replaces_the_backoff_and_a_running_backoff_is_not_extended() {
  let t = Instant::now();
  let mut q = RetryQueue::default();
  q.schedule(t, None);
  let first = q.at().unwrap();
  assert!(first > t && first <= t + 100 * MS);
  q.schedule(t + MS, None);
  assert_eq!(q.at(), Some(first), "a second failure during the backoff keeps it");
  q.schedule(t + MS, Some(20 * MS));
  assert_eq!(q.at(), Some(t + 21 * MS), "a fixed pause replaces it");
  q.schedule(t + 30 * MS, None);
  let second = q.at().unwrap() - (t + 30 * MS);
  assert!(second >= 100 * MS && second <= 200 * MS, "the next round is longer: {second:?}");
  q.delivered();
  q.schedule(t + 500 * MS, None);
  assert!(q.at().unwrap() - (t + 500 * MS) <= 100 * MS, "a delivery with nothing waiting starts over");
}
