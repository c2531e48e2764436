//! Dead letters: a permanent failure goes to the dead-letter topic once; if that fails too (whatever the kind), to
//! the spool's dead-letter file, else it is counted failed. Never retried.

use super::support::rig;
use crate::transport::ErrorKind;

#[test]
#[allow(clippy::type_complexity)] // a table of rows, read column by column
fn a_permanent_failure_is_dead_lettered_once() {
  // (settings, how the dead-letter send ends (None: delivered), dead-letter sends, dead_lettered, failed)
  #[rustfmt::skip]
  let rows: &[(&[(&str, &str)], Option<ErrorKind>, usize, u64, u64)] = &[
    (&[], None, 0, 0, 1),
    (&[("DLQ_TOPIC", "dlq")], None, 1, 1, 0),
    (&[("DLQ_TOPIC", "dlq")], Some(ErrorKind::Network), 1, 0, 1),
    (&[("DLQ_TOPIC", "dlq")], Some(ErrorKind::UnknownTopic), 1, 0, 1),
    (&[("DLQ_TOPIC", "dlq"), ("SPOOL_DIR", "tmp")], Some(ErrorKind::Timeout), 1, 1, 0),
    (&[("SPOOL_DIR", "tmp")], None, 0, 1, 0),
  ];
  for (settings, dlq_outcome, dlq_sends, dead_lettered, failed) in rows {
    let mut r = rig(settings);
    r.log(1);
    r.settle();
    r.sent();
    r.fail(None, ErrorKind::MessageTooLarge);
    r.settle();
    assert_eq!(r.sent(), ["e1"], "{settings:?}: first resent alone (its batch may have been too large, not it)");
    r.fail(None, ErrorKind::MessageTooLarge);
    r.settle();
    let sends = r.sent_full();
    assert!(sends.iter().all(|s| s.dead_letter), "{settings:?}: only the dead-letter send");
    assert_eq!(sends.len(), *dlq_sends, "{settings:?}");
    if r.in_flight() > 0 {
      match dlq_outcome {
        None => r.deliver(None),
        Some(kind) => r.fail(None, *kind),
      }
    }
    for _ in 0..5 {
      r.clock.advance(super::support::SEC);
      r.settle();
    }
    assert!(r.sent().is_empty(), "{settings:?}: never retried");
    let counts = (r.counter(|c| &c.dead_lettered), r.counter(|c| &c.failed), r.counter(|c| &c.delivered));
    assert_eq!(counts, (*dead_lettered, *failed, 0), "{settings:?} {dlq_outcome:?}");
  }
}
