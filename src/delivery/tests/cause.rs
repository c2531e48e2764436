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
  let resolve = "no-such-host.invalid:9092/bootstrap: Failed to resolve 'no-such-host.invalid:9092': Name or service not known";
  let e = explain(&mut cause, ErrorKind::Dns, resolve, false, t);
  assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Dns, resolve));
  assert_eq!(down(&mut cause), (ErrorKind::Dns, format!("1/1 brokers are down: {resolve}")));
  let refused = "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused";
  explain(&mut cause, ErrorKind::Network, refused, false, t);
  assert_eq!(down(&mut cause), (ErrorKind::Network, "1/1 brokers are down".into()));
}
