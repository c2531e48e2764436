//! Tier 2: the real transport and the policy together, in-process, against librdkafka's mock cluster (no JVM).
//! Seconds, not milliseconds: these run the real loop with real time.

use std::time::{Duration, Instant};

use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

use super::support::{intake, log};
use crate::delivery::breaker::BreakerState;
use crate::delivery::waiters::command_channel;
use crate::delivery::worker::Worker;
use crate::telemetry::Counters;
use crate::transport::RdkafkaTransport;

const TOPIC: &str = "executions";

fn worker<C: rdkafka::client::ClientContext>(
  mock: &MockCluster<'static, C>,
  settings: &[(&str, &str)],
) -> Worker<RdkafkaTransport> {
  mock.create_topic(TOPIC, 1, 1).unwrap();
  mock.create_topic("executions.dlq", 1, 1).unwrap();
  let brokers = mock.bootstrap_servers();
  let mut all =
    vec![("BROKERS", brokers.as_str()), ("TOPIC", TOPIC), ("QUEUE_FLUSH_INTERVAL", "50"), ("TIMEOUT_SEND", "1000")];
  all.extend_from_slice(settings);
  let (intake, _) = intake(&all);
  intake.queue.register_worker();
  let transport = RdkafkaTransport::open(&intake.config, intake.metrics.clone(), intake.diag.clone()).unwrap();
  let (_commands, receiver) = command_channel();
  Worker::new(intake, receiver, transport, crate::delivery::clock::SystemClock)
}

/// Runs the loop until `done` or `within`; true when done.
fn run_until(
  w: &mut Worker<RdkafkaTransport>,
  within: Duration,
  done: impl Fn(&Worker<RdkafkaTransport>) -> bool,
) -> bool {
  let end = Instant::now() + within;
  while Instant::now() < end {
    w.step();
    if done(w) {
      return true;
    }
  }
  false
}

fn count(
  w: &Worker<RdkafkaTransport>,
  pick: impl Fn(&crate::telemetry::Counters) -> &std::sync::atomic::AtomicU64,
) -> u64 {
  Counters::get(pick(&w.intake.metrics.counters))
}

#[test]
fn events_are_delivered_through_the_mock_cluster() {
  let mock = MockCluster::new(1).unwrap();
  // The file's 1 s send timeout suits the failure tests; here, on a loaded CI host, the first sends can time out
  // before the first metadata answer, five such failures open the breaker and nothing is sent for the rest of the
  // 20 s (seen in CI). This test is about delivery, so sends get the time a loaded host needs.
  let mut w = worker(&mock, &[("TIMEOUT_SEND", "10000")]);
  log(&w.intake, 1, 200, crate::time::now_ms());
  assert!(
    run_until(&mut w, Duration::from_secs(20), |w| count(w, |c| &c.delivered) == 200),
    "delivered {}",
    count(&w, |c| &c.delivered)
  );
  assert!(w.idle());
}

#[test]
fn a_permanent_failure_reaches_the_dead_letter_topic_once() {
  let mock = MockCluster::new(1).unwrap();
  let mut w = worker(&mock, &[("DLQ_TOPIC", "executions.dlq")]);
  mock.request_errors(RDKafkaApiKey::Produce, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_INVALID_RECORD]);
  log(&w.intake, 1, 1, crate::time::now_ms());
  assert!(run_until(&mut w, Duration::from_secs(20), |w| count(w, |c| &c.dead_lettered) == 1), "dead-lettered");
  log(&w.intake, 2, 5, crate::time::now_ms());
  assert!(run_until(&mut w, Duration::from_secs(20), |w| count(w, |c| &c.delivered) == 5), "then delivered");
  assert_eq!((count(&w, |c| &c.failed), count(&w, |c| &c.dead_lettered)), (0, 1));
}

#[test]
fn an_outage_opens_the_breaker_and_a_probe_closes_it_when_the_broker_is_back() {
  let mock = MockCluster::new(1).unwrap();
  let mut w = worker(&mock, &[("CB_FAILURE_THRESHOLD", "2"), ("CB_RESET_TIMEOUT", "500")]);
  log(&w.intake, 1, 1, crate::time::now_ms());
  assert!(run_until(&mut w, Duration::from_secs(20), |w| count(w, |c| &c.delivered) == 1), "first delivery");
  mock.broker_down(1).unwrap();
  log(&w.intake, 2, 10, crate::time::now_ms());
  assert!(run_until(&mut w, Duration::from_secs(20), |w| w.breaker.state() == BreakerState::Open), "the breaker opens");
  mock.broker_up(1).unwrap();
  assert!(
    run_until(&mut w, Duration::from_secs(30), |w| count(w, |c| &c.delivered) == 11),
    "delivered {}",
    count(&w, |c| &c.delivered)
  );
  // Records librdkafka held through the outage may land while the breaker is still open; the next event probes.
  log(&w.intake, 12, 1, crate::time::now_ms());
  let closed =
    |w: &Worker<RdkafkaTransport>| count(w, |c| &c.delivered) == 12 && w.breaker.state() == BreakerState::Closed;
  assert!(run_until(&mut w, Duration::from_secs(30), closed), "the probe closes the breaker");
  assert_eq!(count(&w, |c| &c.failed) + count(&w, |c| &c.dropped), 0);
}
