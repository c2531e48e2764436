//! Deadlines: a flush is answered once idle or at its deadline; shutdown ends once idle or at its deadline (with
//! a spool 150 ms before it, to purge and spool what is left).

use std::time::Duration;

use super::support::{rig, MS, SEC};
use crate::delivery::waiters::{FlushResult, ShutdownResult};

#[test]
fn a_flush_is_answered_when_idle_or_at_its_deadline() {
  // (events logged, delivered before the deadline, flush timeout advanced past?, answer)
  #[rustfmt::skip]
  let rows: &[(u32, usize, bool, Option<FlushResult>)] = &[
    (0, 0, false, Some(FlushResult { delivered: 0, pending: 0 })),
    (2, 2, false, Some(FlushResult { delivered: 2, pending: 0 })),
    (2, 1, false, None),
    (2, 1, true, Some(FlushResult { delivered: 1, pending: 1 })),
    (3, 0, true, Some(FlushResult { delivered: 0, pending: 3 })),
  ];
  for (logged, delivered, past_deadline, answer) in rows {
    let mut r = rig(&[]);
    r.log(*logged);
    r.settle();
    let flush = r.flush(SEC);
    r.settle();
    r.deliver(Some(*delivered));
    r.clock.advance(if *past_deadline { SEC } else { 999 * MS });
    r.settle();
    assert_eq!(*flush.lock(), *answer, "{logged} logged, {delivered} delivered, past the deadline {past_deadline}");
  }
}

#[test]
#[allow(clippy::type_complexity)] // a table of rows, read column by column
fn shutdown_ends_when_idle_or_at_its_deadline() {
  // (settings, events in flight, delivered, time advanced, ended?, result when ended)
  #[rustfmt::skip]
  let rows: &[(&[(&str, &str)], u32, usize, Duration, bool, ShutdownResult)] = &[
    (&[], 0, 0, Duration::ZERO, true, ShutdownResult { delivered: 0, pending: 0, dropped: 0, spooled: 0 }),
    (&[], 2, 2, Duration::ZERO, true, ShutdownResult { delivered: 2, pending: 0, dropped: 0, spooled: 0 }),
    (&[], 2, 1, 999 * MS, false, ShutdownResult { delivered: 0, pending: 0, dropped: 0, spooled: 0 }),
    (&[], 2, 1, SEC, true, ShutdownResult { delivered: 1, pending: 1, dropped: 0, spooled: 0 }),
    (&[("SPOOL_DIR", "tmp")], 2, 0, 849 * MS, false, ShutdownResult { delivered: 0, pending: 0, dropped: 0, spooled: 0 }),
    (&[("SPOOL_DIR", "tmp")], 2, 0, 850 * MS, true, ShutdownResult { delivered: 0, pending: 0, dropped: 0, spooled: 2 }),
  ];
  for (settings, logged, delivered, advance, ended, result) in rows {
    let mut r = rig(settings);
    r.log(*logged);
    r.settle();
    let answer = r.shutdown(SEC);
    r.deliver(Some(*delivered));
    r.clock.advance(*advance);
    let wake = r.settle();
    let row = format!("{settings:?}: {logged} in flight, {delivered} delivered, after {advance:?}");
    assert_eq!(wake.is_none(), *ended, "{row}");
    assert_eq!(answer.lock().is_some(), *ended, "{row}");
    if *ended {
      assert_eq!(answer.lock().unwrap(), *result, "{row}");
    }
  }
}

#[test]
fn shutdown_resends_at_once_despite_backoff_and_breaker_and_drops_the_queue_at_the_deadline() {
  let mut r = rig(&[("CB_FAILURE_THRESHOLD", "1"), ("QUEUE_MAX_SIZE", "2"), ("QUEUE_BATCH_SIZE", "2")]);
  r.log(2);
  r.settle();
  r.sent();
  r.fail(None, crate::transport::ErrorKind::Network);
  r.settle();
  r.log(1);
  let answer = r.shutdown(SEC);
  r.settle();
  assert_eq!(r.sent(), ["e1", "e2"], "resent at once, in order");
  r.clock.advance(SEC);
  assert!(r.settle().is_none());
  assert_eq!(answer.lock().unwrap(), ShutdownResult { delivered: 0, pending: 2, dropped: 1, spooled: 0 });
}
