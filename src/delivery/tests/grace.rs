//! The unknown-topic grace: a topic reported unknown is waited for (500 ms pauses) until it has been unknown for
//! 10 s with no delivery in between; then its records fail permanently.

use super::support::{rig, MS};
use crate::transport::ErrorKind;

/// e1's topic is unknown until `appears_at_ms`; e2, also in flight, is delivered at `other_at_ms`.
/// Returns (failed, delivered).
fn run(appears_at_ms: u64, other_at_ms: Option<u64>) -> (u64, u64) {
  let mut r = rig(&[]);
  r.log(2);
  r.settle();
  r.sent();
  let mut t = 0;
  loop {
    if other_at_ms == Some(t) {
      r.report("e2", None);
    }
    if t >= appears_at_ms {
      r.report("e1", None);
      r.settle();
      break;
    }
    r.report("e1", Some(ErrorKind::UnknownTopic));
    r.settle();
    if r.counter(|c| &c.failed) > 0 {
      break;
    }
    assert!(r.sent().is_empty(), "no resend before the pause");
    r.clock.advance(500 * MS);
    t += 500;
    r.settle();
    assert_eq!(r.sent(), ["e1"], "resent after 500 ms");
  }
  (r.counter(|c| &c.failed), r.counter(|c| &c.delivered))
}

#[test]
fn an_unknown_topic_is_waited_for_10_s_without_a_delivery() {
  // (the topic appears at, another record is delivered at, failed, delivered)
  let rows: &[(u64, Option<u64>, u64, u64)] =
    &[(500, None, 0, 1), (3_000, None, 0, 1), (9_500, None, 0, 1), (12_000, None, 1, 0), (12_000, Some(6_000), 0, 2)];
  for (appears, other, failed, delivered) in rows {
    assert_eq!(run(*appears, *other), (*failed, *delivered), "appears at {appears} ms, other delivered at {other:?}");
  }
}

#[test]
fn a_record_waits_half_a_second_per_unknown_report_and_is_counted_retried() {
  let mut r = rig(&[]);
  r.log(1);
  r.settle();
  r.sent();
  r.fail(None, ErrorKind::UnknownTopic);
  r.settle();
  r.clock.advance(499 * MS);
  r.settle();
  assert!(r.sent().is_empty(), "not before 500 ms");
  r.clock.advance(MS);
  r.settle();
  assert_eq!(r.sent(), ["e1"]);
  assert_eq!((r.counter(|c| &c.retried), r.counter(|c| &c.failed)), (1, 0));
}
