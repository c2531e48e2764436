//! Cause memory: the real cause of a connection failure stays what `lastError` shows.

use std::time::Instant;

use crate::delivery::cause::{CauseMemory, Explained};
use crate::transport::ErrorKind;

fn explain(c: &mut CauseMemory, kind: ErrorKind, message: &str, summary: bool, now: Instant) -> Explained {
  let e = c.explain(kind, message.into(), summary, now);
  c.remember(e.clone(), now);
  e
}

#[test]
fn a_dns_failure_explains_the_following_all_brokers_down() {
  let mut cause = CauseMemory::default();
  let t = Instant::now();
  let down = |c: &mut CauseMemory| {
    let e = explain(c, ErrorKind::Network, "1/1 brokers are down", true, t);
    (e.kind, e.message)
  };
  assert_eq!(down(&mut cause), (ErrorKind::Network, "1/1 brokers are down".into()));
  let resolve =
    "no-such-host.invalid:9092/bootstrap: Failed to resolve 'no-such-host.invalid:9092': Name or service not known";
  let e = explain(&mut cause, ErrorKind::Dns, resolve, false, t);
  assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Dns, resolve));
  assert_eq!(down(&mut cause), (ErrorKind::Dns, format!("1/1 brokers are down: {resolve}")));
  let refused = "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused";
  explain(&mut cause, ErrorKind::Network, refused, false, t);
  assert_eq!(down(&mut cause), (ErrorKind::Network, "1/1 brokers are down".into()));
}

#[test]
fn a_specific_cause_is_not_recorded_over_for_30_s() {
  // (first error, second error, seconds between, second recorded?)
  #[rustfmt::skip]
  let rows = [
    (ErrorKind::Authentication, ErrorKind::Network, 5, false),
    (ErrorKind::Tls, ErrorKind::Timeout, 29, false),
    (ErrorKind::Dns, ErrorKind::Network, 10, false),
    (ErrorKind::Authentication, ErrorKind::Network, 30, true),
    (ErrorKind::Authentication, ErrorKind::Tls, 1, true),
    (ErrorKind::Network, ErrorKind::Network, 1, true),
    (ErrorKind::Network, ErrorKind::Authentication, 1, true),
  ];
  for (first, second, secs, recorded) in rows {
    let mut cause = CauseMemory::default();
    let t = Instant::now();
    assert!(explain(&mut cause, first, "first", false, t).record);
    let later = t + std::time::Duration::from_secs(secs);
    assert_eq!(
      explain(&mut cause, second, "second", false, later).record,
      recorded,
      "{first:?} then {second:?} after {secs} s"
    );
    let kept = if recorded { (second, "second") } else { (first, "first") };
    assert_eq!(cause.last(), Some(kept), "{first:?} then {second:?}");
  }
}
