//! A panic inside a pass: the thread lives on, and the events the pass had in hand are counted as dropped; the
//! events held elsewhere (in flight, queued, waiting for a resend) are not lost and not counted.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::support::{rig, SEC};
use crate::record::{Message, Record};
use crate::transport::{take_lost_in_panic, ErrorKind, InHand, Pending};

#[test]
fn a_panic_counts_the_events_the_pass_had_in_hand() {
  let mut r = rig(&[("CB_FAILURE_THRESHOLD", "50")]);
  r.log(5);
  r.settle();
  r.fail(None, ErrorKind::Network);
  r.settle();
  assert_eq!(r.worker.retry.len(), 5);
  r.sent();
  r.kafka.0.borrow_mut().panic_at_send = Some(7);
  r.log(2);
  r.clock.advance(SEC);
  let panic = catch_unwind(AssertUnwindSafe(|| r.worker.pass())).expect_err("the 2nd resend panics");
  r.worker.count_panic(panic.as_ref());
  // e1 went out; e2 was being sent and e3..e5 were still in the pass's hands; e6, e7 wait in the queue.
  assert_eq!(r.sent(), ["e1"]);
  assert_eq!(r.counter(|c| &c.dropped), 4, "e2..e5");
  assert_eq!(r.intake.queue.len(), 2);
  let error = r.intake.metrics.status().last_error.expect("the panic is the last error");
  assert!(error.message.contains("4 events in hand lost"), "{}", error.message);
  r.deliver(None);
  r.settle();
  r.deliver(None);
  r.settle();
  assert_eq!(r.counter(|c| &c.delivered), 3, "e1, e6, e7: the worker goes on");
  assert_eq!(take_lost_in_panic(), 0, "counted once");
}

fn pending() -> Pending {
  let message = Message {
    key: "k".into(),
    payload: Vec::new(),
    event_name: "Node Failed",
    message_id: "m".into(),
    event_time_ms: 0,
  };
  Pending::new(1, Record::new(message), std::time::Instant::now(), None)
}

#[test]
fn only_an_event_dropped_by_unwinding_counts_as_lost() {
  drop(pending());
  InHand::new().into_pending();
  assert_eq!(take_lost_in_panic(), 0, "settled events and built ones are not lost");
  let _ = catch_unwind(|| {
    let _event = pending();
    let _copy = pending().meta();
    let _delivered = Box::new(pending()).delivered();
    let _taken = InHand::new();
    panic!("a bug");
  });
  assert_eq!(
    take_lost_in_panic(),
    2,
    "the event and the one taken from the queue; not librdkafka's copy or a delivered one"
  );
}
