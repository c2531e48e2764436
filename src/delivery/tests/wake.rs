//! `next_wake`: every branch of the sleep decision, as a table over plain inputs.

use std::time::{Duration, Instant};

use super::support::{MS, SEC};
use crate::delivery::wake::{next_wake, Wake, WakeInputs};

fn idle() -> WakeInputs {
  WakeInputs {
    queue_empty: true,
    retry_waiting: false,
    retry_at: None,
    solo_waiting: false,
    breaker_holds: false,
    in_flight: 0,
    direct_in_flight: 0,
    cap: 10,
    spool: false,
    spool_active: false,
    spool_readable: false,
    flush_interval: 5 * SEC,
    spool_sync_interval: 100 * MS,
    timers: [None; 4],
  }
}

type Row = (&'static str, fn(&mut WakeInputs, Instant), Wake);

#[rustfmt::skip]
const ROWS: &[Row] = &[
  ("idle: sleeps the flush interval, a push wakes it", |_, _| {}, Wake::Sleep(Duration::from_secs(5))),
  ("queued events and room: at once", |i, _| i.queue_empty = false, Wake::Now),
  ("queued events, in-flight cap reached: 1 ms naps", |i, _| { i.queue_empty = false; i.in_flight = 10 }, Wake::Nap(MS)),
  ("records in flight, nothing queued: 1 ms naps", |i, _| i.in_flight = 1, Wake::Nap(MS)),
  ("a resend is due, breaker closed: at once", |i, now| { i.retry_waiting = true; i.retry_at = Some(now) }, Wake::Now),
  ("a resend is due, no backoff set: at once", |i, _| i.retry_waiting = true, Wake::Now),
  ("resends wait for their backoff: nap until it ends", |i, now| { i.retry_waiting = true; i.retry_at = Some(now + 200 * MS) }, Wake::Nap(Duration::from_millis(200))),
  ("queued events wait behind resends in backoff", |i, now| { i.queue_empty = false; i.retry_waiting = true; i.retry_at = Some(now + 300 * MS) }, Wake::Nap(Duration::from_millis(300))),
  ("breaker holds, queued events: nap until the probe", |i, now| { i.queue_empty = false; i.breaker_holds = true; i.timers[0] = Some(now + 3 * SEC) }, Wake::Nap(Duration::from_secs(3))),
  ("breaker holds, nothing queued: nap the flush interval at most", |i, now| { i.breaker_holds = true; i.timers[0] = Some(now + 60 * SEC) }, Wake::Nap(Duration::from_secs(5))),
  ("spool has records to replay: at once", |i, _| { i.spool = true; i.spool_active = true; i.spool_readable = true }, Wake::Now),
  ("replay waits for direct records in flight", |i, _| { i.spool = true; i.spool_active = true; i.spool_readable = true; i.in_flight = 1; i.direct_in_flight = 1 }, Wake::Nap(MS)),
  ("replay waits for the backoff", |i, now| { i.spool = true; i.spool_active = true; i.spool_readable = true; i.retry_at = Some(now + 300 * MS) }, Wake::Sleep(Duration::from_millis(300))),
  ("replay waits for the breaker", |i, now| { i.spool = true; i.spool_active = true; i.spool_readable = true; i.breaker_holds = true; i.timers[0] = Some(now + 2 * SEC) }, Wake::Nap(Duration::from_secs(2))),
  ("replay waits for room", |i, _| { i.spool = true; i.spool_active = true; i.spool_readable = true; i.in_flight = 10 }, Wake::Nap(MS)),
  ("spool in use, queued events behind direct ones: 1 ms naps", |i, _| { i.spool = true; i.spool_active = true; i.queue_empty = false; i.in_flight = 1; i.direct_in_flight = 1 }, Wake::Nap(MS)),
  ("queued events spilled: moved at the group-commit interval", |i, now| { i.spool = true; i.queue_empty = false; i.breaker_holds = true; i.timers[0] = Some(now + 9 * SEC) }, Wake::Nap(Duration::from_millis(100))),
  ("a flush deadline before the interval", |i, now| i.timers[1] = Some(now + 50 * MS), Wake::Sleep(Duration::from_millis(50))),
  ("the shutdown's stop before the interval", |i, now| i.timers[2] = Some(now + 20 * MS), Wake::Sleep(Duration::from_millis(20))),
  ("a group commit due", |i, now| i.timers[3] = Some(now + 7 * MS), Wake::Sleep(Duration::from_millis(7))),
  ("a timer due now still parks 1 ms", |i, now| i.timers[1] = Some(now), Wake::Sleep(MS)),
  ("a retry time already past is no timer", |i, now| i.retry_at = Some(now - 50 * MS), Wake::Sleep(Duration::from_secs(5))),
  ("breaker holds, backoff over: nap until the probe", |i, now| { i.retry_waiting = true; i.retry_at = Some(now - 50 * MS); i.breaker_holds = true; i.timers[0] = Some(now + 3 * SEC) }, Wake::Nap(Duration::from_secs(3))),
  ("a solo record waits, nothing in flight: at once", |i, _| i.solo_waiting = true, Wake::Now),
  ("a solo record waits for the records in flight", |i, _| { i.solo_waiting = true; i.in_flight = 2 }, Wake::Nap(MS)),
  ("queued events wait behind the solo lane", |i, _| { i.solo_waiting = true; i.queue_empty = false; i.in_flight = 1 }, Wake::Nap(MS)),
  ("due resends wait behind the solo lane", |i, _| { i.solo_waiting = true; i.retry_waiting = true; i.in_flight = 1 }, Wake::Nap(MS)),
  ("replay waits behind the solo lane", |i, _| { i.solo_waiting = true; i.spool = true; i.spool_active = true; i.spool_readable = true; i.in_flight = 1 }, Wake::Nap(MS)),
  ("the solo lane waits for the backoff", |i, now| { i.solo_waiting = true; i.retry_waiting = true; i.retry_at = Some(now + 200 * MS) }, Wake::Nap(Duration::from_millis(200))),
  ("the solo lane waits for the breaker", |i, now| { i.solo_waiting = true; i.breaker_holds = true; i.timers[0] = Some(now + 2 * SEC) }, Wake::Nap(Duration::from_secs(2))),
  ("the earliest of several timers", |i, now| { i.timers = [Some(now + 4 * SEC), Some(now + 30 * MS), Some(now + 2 * SEC), Some(now + 90 * MS)] }, Wake::Sleep(Duration::from_millis(30))),
];

#[test]
fn every_branch_of_next_wake() {
  let now = Instant::now();
  for (name, set, expected) in ROWS {
    let mut inputs = idle();
    set(&mut inputs, now);
    assert_eq!(next_wake(now, &inputs), *expected, "{name}");
  }
}
