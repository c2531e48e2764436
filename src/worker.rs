//! The one background thread: drains the queue into librdkafka, serves delivery reports, retries in order,
//! drives the circuit breaker, publishes status, and answers flush and shutdown within their deadlines.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use rdkafka::error::KafkaError;
use rdkafka::producer::{Producer as _, PurgeConfig};
use rdkafka::types::RDKafkaErrorCode;

use crate::backlog::{Backlog, SPILL_CHUNK};
use crate::breaker::{Breaker, BreakerState, Permit, Transition};
use crate::config::ConfigError;
use crate::telemetry::Level;
use crate::errors::{classify, ErrorKind};
use crate::event::{prepare, EventKind, ExecutionInput};
use crate::telemetry::{Counters, Metrics};
use crate::producer::{self, DeadLetter, Pending, Producer, Report};
use crate::intake::Intake;
use crate::time::now_ms;
use crate::wakeup::ReportWakeup;

pub type Reply<T> = Box<dyn FnOnce(T) + Send>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlushResult {
  pub delivered: u64,
  pub pending: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownResult {
  /// Delivered while shutting down.
  pub delivered: u64,
  /// Handed to Kafka but unacknowledged at the deadline: may or may not have landed.
  pub pending: u64,
  /// Neither delivered nor spooled: lost.
  pub dropped: u64,
  /// Left in the disk spool, replayed at the next start.
  pub spooled: u64,
}

#[derive(Debug, Clone)]
pub enum StartupError {
  Config(ConfigError),
  Unreachable { kind: ErrorKind, message: String },
}

pub enum Command {
  Flush { deadline: Instant, reply: Reply<FlushResult> },
  Shutdown { deadline: Instant, reply: Reply<ShutdownResult> },
}

/// How long the worker naps while records are in flight and the queue is empty. Delivery reports wake it
/// (wakeup.rs), pushes do not (no syscall on the JS thread), so new events wait up to this long.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(1);
const RETRY_BASE: Duration = Duration::from_millis(100);
const RETRY_MAX: Duration = Duration::from_secs(30);
/// librdkafka's own queue refused a record: try again shortly, without counting a failure.
const LOCAL_QUEUE_FULL_PAUSE: Duration = Duration::from_millis(20);
/// Events moved from the queue into the spool per pass.
const SPILL_BATCH: usize = 10_000;
/// With a spool, shutdown stops sending this long before its deadline to purge, collect and spool the rest.
const SPOOL_MARGIN: Duration = Duration::from_millis(150);

/// How long the topic may be reported unknown before that counts as a permanent failure.
const UNKNOWN_TOPIC_GRACE: Duration = Duration::from_secs(10);
/// Retry pause for a record whose topic is reported unknown within that grace period.
const UNKNOWN_TOPIC_PAUSE: Duration = Duration::from_millis(500);
/// While the breaker is open, how often records waiting in librdkafka's queue are purged (to be spilled).
const PURGE_INTERVAL: Duration = Duration::from_millis(500);

/// How long an authentication or TLS error stays the reported cause of later generic network errors.
const CAUSE_MEMORY: Duration = Duration::from_secs(30);

/// Both clocks, read together and reused for up to `REUSE` events of one pass: reading them for every event
/// cost the worker more than splitting the event. Acceptance times stay exact (they are worked out from one
/// reading of both); an event's `sentAt` can be early by the time it takes to build a few dozen events (~0.1 ms).
struct PassClock {
  wall_ms: i64,
  now: Instant,
  uses_left: u32,
}

impl PassClock {
  const REUSE: u32 = 32;

  fn new() -> PassClock {
    PassClock { wall_ms: now_ms(), now: Instant::now(), uses_left: 0 }
  }

  /// The next event reads the clocks afresh (at the start of a pass, when time has passed since the last).
  fn expire(&mut self) {
    self.uses_left = 0;
  }

  fn read(&mut self) -> (i64, Instant) {
    if self.uses_left == 0 {
      *self = PassClock { wall_ms: now_ms(), now: Instant::now(), uses_left: Self::REUSE };
    }
    self.uses_left -= 1;
    (self.wall_ms, self.now)
  }
}

struct Flush {
  deadline: Instant,
  delivered_at_start: u64,
  reply: Reply<FlushResult>,
}

struct Shutdown {
  deadline: Instant,
  delivered_at_start: u64,
  reply: Reply<ShutdownResult>,
}

pub struct Worker {
  shared: Arc<Intake>,
  commands: Receiver<Command>,
  /// Delivery reports taken from the producer's context and not handled yet (after a panic, the rest of a batch).
  reports: VecDeque<Report>,
  /// Declared before `producer`: dropped first, while librdkafka still runs.
  wakeup: ReportWakeup,
  producer: Producer,
  breaker: Breaker,
  /// The disk spool, when there is one: failed and (in disk mode) all events go through it.
  backlog: Option<Backlog>,
  /// Failed events on their way into the spool, appended together at the end of a pass.
  to_spill: Vec<Pending>,
  /// Without a spool: failed records waiting to be resent, in acceptance order; new events wait behind them.
  retry: BTreeMap<u64, Pending>,
  retry_at: Option<Instant>,
  retry_round: u32,
  in_flight: u64,
  /// In flight straight from the queue (not from the spool). Until they settle, nothing is spilled from the
  /// queue or replayed: a failure among them must reach the spool before anything newer (per-execution order).
  direct_in_flight: u64,
  /// When direct records waiting in librdkafka's queue were last purged (breaker open, spool in use).
  last_purge: Option<Instant>,
  /// Since when the topic has been reported unknown, with no delivery since.
  topic_unknown_since: Option<Instant>,
  next_seq: u64,
  /// Where packed inputs are split, its strings reused from one event to the next.
  scratch: ExecutionInput,
  /// The clocks for the events built in this pass.
  clock: PassClock,
  flushes: Vec<Flush>,
  shutdown: Option<Shutdown>,
  last_client_error: Option<(ErrorKind, String, Instant)>,
}

/// Errors that name the real cause of a connection failure, which a later "all brokers down" must not hide.
fn is_specific(kind: ErrorKind) -> bool {
  matches!(kind, ErrorKind::Authentication | ErrorKind::Tls | ErrorKind::Dns)
}

fn delivered_now(metrics: &Metrics) -> u64 {
  Counters::get(&metrics.counters.delivered)
}

fn backoff(round: u32) -> Duration {
  let exp = RETRY_BASE.saturating_mul(1u32 << round.min(16)).min(RETRY_MAX);
  exp.mul_f64(0.5 + rand::random::<f64>() * 0.5)
}

impl Worker {
  /// Starts the thread. `on_ready` gets the startup outcome (after validation when it is configured).
  pub fn spawn(
    shared: Arc<Intake>,
    commands: Receiver<Command>,
    on_ready: Reply<Result<(), StartupError>>,
  ) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("kafka-execution-logger".into()).spawn(move || {
      shared.queue.register_worker();
      let producer = match producer::create(&shared.config, shared.metrics.clone(), shared.diag.clone()) {
        Ok(p) => p,
        Err(e) => return on_ready(Err(StartupError::Config(e))),
      };
      let config = &shared.config;
      let breaker = Breaker::new(config.cb_failure_threshold, config.cb_reset_timeout, config.cb_monitoring_period);
      let mut worker = Worker {
        backlog: Backlog::open(config, &shared.diag),
        to_spill: Vec::new(),
        shared: shared.clone(),
        commands,
        reports: VecDeque::new(),
        wakeup: ReportWakeup::for_current_thread(&producer),
        producer,
        breaker,
        retry: BTreeMap::new(),
        retry_at: None,
        retry_round: 0,
        in_flight: 0,
        direct_in_flight: 0,
        last_purge: None,
        topic_unknown_since: None,
        next_seq: 0,
        scratch: ExecutionInput::new(EventKind::Started, String::new(), String::new(), 0),
        clock: PassClock::new(),
        flushes: Vec::new(),
        shutdown: None,
        last_client_error: None,
      };
      let ready = if shared.config.validate_on_startup { worker.validate_connection() } else { Ok(()) };
      shared.metrics.update_status(|s| s.running = true);
      on_ready(ready);
      worker.run();
    })
  }

  /// Metadata for our topic proves the cluster is reachable and accepts our credentials.
  fn validate_connection(&mut self) -> Result<(), StartupError> {
    let shared = self.shared.clone();
    let config = &shared.config;
    let result = self.producer.client().fetch_metadata(Some(&config.topic), config.timeout_connect);
    let Err(error) = result else { return Ok(()) };
    // The cause (authentication, TLS) arrives as a client error event shortly after the request fails.
    let settle = Instant::now() + Duration::from_secs(2);
    while Instant::now() < settle && !self.last_client_error.as_ref().is_some_and(|(k, _, _)| is_specific(*k)) {
      self.producer.poll(Duration::from_millis(50));
      self.handle_reports(Instant::now());
    }
    let kind = match (&error, &self.last_client_error) {
      // A timeout after an authentication or TLS error: the error callback knows the real cause.
      (_, Some((kind, _, _))) if is_specific(*kind) => *kind,
      (KafkaError::MetadataFetch(code), _) => classify(*code),
      _ => ErrorKind::Network,
    };
    let cause = self.last_client_error.as_ref().map_or_else(|| error.to_string(), |(_, m, _)| m.clone());
    let message = format!(
      "cannot reach Kafka at {} within {} ms ({}): {}",
      config.brokers.join(","),
      config.timeout_connect.as_millis(),
      kind.as_str(),
      self.shared.diag.scrub(&cause)
    );
    Err(StartupError::Unreachable { kind, message })
  }

  fn run(mut self) {
    loop {
      // A panic here must not take n8n down: count it, log it, keep the thread alive.
      let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.step()));
      match step {
        Ok(true) => continue,
        Ok(false) => return,
        Err(panic) => {
          let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
          self.shared.metrics.record_error(ErrorKind::Internal, format!("background thread panicked: {message}"));
          self.shared.diag.limited(Level::Error, "panic", &format!("background thread panicked: {message}"));
          std::thread::sleep(Duration::from_millis(100));
        }
      }
    }
  }

  /// One pass of the loop; false once shutdown completed.
  fn step(&mut self) -> bool {
    self.clock.expire();
    self.take_commands();
    let now = Instant::now();
    self.pump(now);
    self.producer.poll(Duration::ZERO);
    self.handle_reports(now);
    self.publish_status();
    let now = Instant::now();
    if let Some(backlog) = &mut self.backlog {
      backlog.sync_if_due(now, false);
    }
    self.answer_flushes(now);
    if self.shutdown.as_ref().is_some_and(|s| self.idle() || now >= self.stop_sending_at(s)) {
      self.finish_shutdown();
      return false;
    }
    self.wait(now);
    true
  }

  fn take_commands(&mut self) {
    for command in self.commands.try_iter() {
      match command {
        Command::Flush { deadline, reply } => {
          let delivered_at_start = delivered_now(&self.shared.metrics);
          self.flushes.push(Flush { deadline, delivered_at_start, reply });
        }
        Command::Shutdown { deadline, reply } => {
          let delivered_at_start = delivered_now(&self.shared.metrics);
          self.shutdown = Some(Shutdown { deadline, delivered_at_start, reply });
        }
      }
    }
  }

  fn idle(&self) -> bool {
    self.shared.queue.is_empty()
      && self.retry.is_empty()
      && self.to_spill.is_empty()
      && self.in_flight == 0
      && self.backlog.as_ref().is_none_or(Backlog::is_empty)
  }

  /// With a spool, sending stops a little before the deadline so what is left can be purged and spooled in time.
  fn stop_sending_at(&self, shutdown: &Shutdown) -> Instant {
    match self.backlog {
      Some(_) => shutdown.deadline.checked_sub(SPOOL_MARGIN).unwrap_or(shutdown.deadline),
      None => shutdown.deadline,
    }
  }

  fn log_transition(&self, transition: Option<Transition>) {
    if let Some(t) = transition {
      let level = if t.to == BreakerState::Open { Level::Warn } else { Level::Info };
      let why = self.last_client_error.as_ref().map(|(k, _, _)| format!(" (last error: {})", k.as_str())).unwrap_or_default();
      self.shared.diag.log(level, &format!("circuit breaker {} -> {}{why}", t.from.as_str(), t.to.as_str()));
    }
  }

  /// Moves events into librdkafka as far as the breaker, the retry order and the in-flight cap allow.
  fn pump(&mut self, now: Instant) {
    let shutting_down = self.shutdown.is_some();
    let (permit, transition) = if shutting_down { (Permit::Send, None) } else { self.breaker.permit(now) };
    self.log_transition(transition);
    self.release_direct_in_flight(now);
    self.spill_if_needed();
    if self.backlog.as_ref().is_some_and(Backlog::active) {
      return self.send_from_backlog(permit, now);
    }
    match permit {
      Permit::Hold => {}
      Permit::Probe => {
        let next = self.retry.pop_first().map(|(_, p)| p).or_else(|| self.next_from_queue());
        if let Some(mut pending) = next {
          pending.probe = true;
          self.breaker.probe_sent();
          self.send(pending, now);
        }
      }
      Permit::Send if !self.retry.is_empty() => {
        if shutting_down || self.retry_at.is_none_or(|t| now >= t) {
          self.retry_at = None;
          for (_, pending) in std::mem::take(&mut self.retry) {
            self.send(pending, now);
          }
        }
      }
      Permit::Send => {
        let cap = self.shared.config.queue_max_size as u64;
        for _ in 0..self.shared.config.queue_batch_size {
          if self.in_flight >= cap || !self.retry.is_empty() {
            break;
          }
          match self.next_from_queue() {
            Some(pending) => self.send(pending, now),
            None => break,
          }
        }
      }
    }
  }

  /// With a spool, an open breaker means the queue must go to disk; records sent straight from the queue hold
  /// it back (they settle first, for per-execution order) until they time out after TIMEOUT_SEND, long enough
  /// for a busy queue to overflow. Once it is half full, those still in librdkafka's queue (never sent, or back
  /// there after a lost connection) are purged, every 500 ms, so they settle now and are spilled ahead of the
  /// queue. Not sooner: a record back from a lost connection may have been written, and a purge sends it again.
  /// Records on the wire are never purged.
  fn release_direct_in_flight(&mut self, now: Instant) {
    let open = self.shutdown.is_none() && self.breaker.state() == BreakerState::Open;
    let queue = &self.shared.queue;
    let filling = queue.len() * 2 >= queue.capacity();
    let due = self.last_purge.is_none_or(|t| now.duration_since(t) >= PURGE_INTERVAL);
    if open && filling && due && self.backlog.is_some() && self.direct_in_flight > 0 {
      self.last_purge = Some(now);
      self.producer.purge(PurgeConfig::default().queue());
    }
  }

  /// Failed events, and queued ones while the spool is in use or the breaker holds, go to disk in order.
  fn spill_if_needed(&mut self) {
    let Some(backlog) = &self.backlog else { return };
    let holds = self.shutdown.is_none() && self.breaker.holds();
    if !(backlog.active() || holds || !self.to_spill.is_empty()) {
      return;
    }
    let failed = std::mem::take(&mut self.to_spill);
    let mut refused = self.spill(failed);
    // Queued events follow one chunk at a time: a large spill never holds more than a chunk of built events.
    let mut moved = 0;
    while refused == 0 && self.direct_in_flight == 0 && moved < SPILL_BATCH {
      let chunk: Vec<Pending> = std::iter::from_fn(|| self.next_from_queue()).take(SPILL_CHUNK).collect();
      let n = chunk.len();
      refused = self.spill(chunk);
      moved += n;
      if n < SPILL_CHUNK {
        break;
      }
    }
  }

  /// Appends to the spool; returns how many it refused (counted as dropped).
  fn spill(&mut self, batch: Vec<Pending>) -> u64 {
    let Some(backlog) = &mut self.backlog else { return 0 };
    let refused = backlog.spill(&batch, &self.shared.diag);
    Counters::add(&self.shared.metrics.counters.dropped, refused);
    refused
  }

  /// Sends spooled events in append order, as far as the breaker, the backoff and the in-flight cap allow.
  fn send_from_backlog(&mut self, permit: Permit, now: Instant) {
    let shutting_down = self.shutdown.is_some();
    if self.direct_in_flight > 0 || (!shutting_down && self.retry_at.is_some_and(|t| now < t)) {
      return;
    }
    let room = (self.shared.config.queue_max_size as u64).saturating_sub(self.in_flight) as usize;
    let max = match permit {
      Permit::Hold => 0,
      Permit::Probe => 1,
      Permit::Send => self.shared.config.queue_batch_size.min(room),
    };
    let Some(backlog) = &mut self.backlog else { return };
    for mut pending in backlog.next_batch(max, &mut self.next_seq) {
      if permit == Permit::Probe {
        pending.probe = true;
        self.breaker.probe_sent();
      }
      self.send(pending, now);
    }
  }

  fn next_from_queue(&mut self) -> Option<Pending> {
    let queued = self.shared.queue.pop()?;
    let (now_ms, now) = self.clock.read();
    let input = queued.input(&mut self.scratch, now_ms, now);
    let event = prepare(input, &self.shared.context, now_ms);
    self.next_seq += 1;
    Some(Pending {
      seq: self.next_seq,
      key: event.key,
      payload: event.payload,
      event_name: event.event_name,
      message_id: event.message_id,
      event_time_ms: event.event_time_ms,
      accepted_at: input.accepted_at,
      attempts: 0,
      probe: false,
      dead_letter: None,
      first_failure_ms: None,
      spool_pos: None,
    })
  }

  fn send(&mut self, pending: Pending, now: Instant) {
    let config = &self.shared.config;
    let result = self.producer.send(pending.record(&config.topic, config.dlq_topic.as_deref().unwrap_or_default()));
    let error = match result {
      Ok(()) => {
        self.in_flight += 1;
        self.direct_in_flight += u64::from(pending.spool_pos.is_none());
        return;
      }
      Err((error, _record)) => error,
    };
    let code = error.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Fail);
    if code == RDKafkaErrorCode::QueueFull {
      return self.retry(pending, now, Some(LOCAL_QUEUE_FULL_PAUSE));
    }
    let message = self.shared.diag.scrub(&error.to_string());
    self.settle_failure(Box::new(pending), classify(code), message, now);
  }

  fn handle_reports(&mut self, now: Instant) {
    let mut latencies = Vec::new();
    self.producer.context().take_reports(&mut self.reports);
    // One clock reading for the whole batch: its reports came out of one poll.
    let received = Instant::now();
    while let Some(report) = self.reports.pop_front() {
      match report {
        Report::Delivered(pending) => {
          self.settled(&pending);
          let counters = &self.shared.metrics.counters;
          Counters::add(if pending.dead_letter.is_some() { &counters.dead_lettered } else { &counters.delivered }, 1);
          if pending.dead_letter.is_none() {
            self.topic_unknown_since = None;
          }
          latencies.push(received.saturating_duration_since(pending.accepted_at));
          if let (Some(backlog), Some(pos)) = (&mut self.backlog, pending.spool_pos) {
            backlog.acknowledge(pos);
          }
          if self.retry.is_empty() {
            self.retry_round = 0;
          }
          let t = self.breaker.record_success();
          self.log_transition(t);
        }
        Report::Failed { pending, kind, message } => {
          self.settled(&pending);
          self.settle_failure(pending, kind, message, now);
        }
        Report::ClientError { kind, message } => self.client_error(kind, message, now),
      }
    }
    if !latencies.is_empty() {
      self.shared.metrics.record_latencies(latencies.into_iter());
      if let Some(backlog) = &mut self.backlog {
        backlog.checkpoint();
      }
    }
    if !self.to_spill.is_empty() {
      let failed = std::mem::take(&mut self.to_spill);
      self.spill(failed);
    }
  }

  fn settled(&mut self, pending: &Pending) {
    self.in_flight = self.in_flight.saturating_sub(1);
    if pending.spool_pos.is_none() {
      self.direct_in_flight = self.direct_in_flight.saturating_sub(1);
    }
  }

  fn client_error(&mut self, kind: ErrorKind, message: String, now: Instant) {
    self.shared.diag.limited(Level::Warn, "kafka-client", &format!("Kafka client error ({}): {message}", kind.as_str()));
    // "All brokers are down" follows an authentication or TLS failure; the cause is what operators need.
    let hides_cause = !is_specific(kind)
      && self.last_client_error.as_ref().is_some_and(|(k, _, at)| is_specific(*k) && now.duration_since(*at) < CAUSE_MEMORY);
    if hides_cause {
      return self.count_connectivity_failure(kind, now);
    }
    self.shared.metrics.record_error(kind, message.clone());
    self.count_connectivity_failure(kind, now);
    self.last_client_error = Some((kind, message, now));
  }

  fn count_connectivity_failure(&mut self, kind: ErrorKind, now: Instant) {
    // Connectivity trouble counts toward the breaker only while there is something to deliver.
    let has_work = !self.idle();
    if kind.is_connectivity() && has_work {
      let t = self.breaker.record_failure(now);
      self.log_transition(t);
    }
  }

  /// A record failed: permanent failures go to the dead letters; others wait for an ordered retry.
  fn settle_failure(&mut self, mut pending: Box<Pending>, kind: ErrorKind, message: String, now: Instant) {
    if kind == ErrorKind::Purged {
      // Purged by us (shutdown with a spool, or a producer restart): not a failure of the cluster.
      return self.retry(*pending, now, Some(Duration::ZERO));
    }
    let metrics = self.shared.metrics.clone();
    metrics.record_error(kind, message.clone());
    pending.attempts += 1;
    let was_probe = std::mem::take(&mut pending.probe);
    let at = now_ms();
    pending.first_failure_ms.get_or_insert(at);
    let appearing = kind == ErrorKind::UnknownTopic && pending.dead_letter.is_none() && self.topic_may_be_appearing(now);
    if appearing {
      // The cluster answered (a probe succeeded); the record waits a moment for its topic, nothing else does.
      if was_probe {
        let t = self.breaker.record_success();
        self.log_transition(t);
      }
      Counters::add(&metrics.counters.retried, 1);
      let grace = UNKNOWN_TOPIC_GRACE.as_secs();
      self.shared.diag.limited(Level::Warn, "retry", &format!("topic reported unknown, retrying for up to {grace} s (it may be being created): {message}"));
      return self.retry(*pending, now, Some(UNKNOWN_TOPIC_PAUSE));
    }
    let permanent = kind.is_permanent();
    // The dead-letter topic gets one attempt: whatever made it fail (often a missing topic, which librdkafka
    // reports as a retriable timeout), the dead-letter file is the safe place, and a retry would start over.
    if permanent || pending.dead_letter.is_some() {
      if was_probe && permanent {
        // The cluster answered; the record is at fault, not the connection: the probe succeeded.
        let t = self.breaker.record_success();
        self.log_transition(t);
      }
      return self.dead_letter(pending, kind, message, now);
    }
    Counters::add(&metrics.counters.retried, 1);
    self.shared.diag.limited(Level::Warn, "retry", &format!("delivery failed ({}), will retry: {message}", kind.as_str()));
    let t = self.breaker.record_failure(now);
    self.log_transition(t);
    self.retry(*pending, now, None);
  }

  /// A topic being created (auto-creation after a broker restart, or by an operator right now) is reported
  /// unknown for a moment: like librdkafka's topic.metadata.propagation.max.ms, the topic counts as missing
  /// only once it has been unknown, with no delivery in between, for a grace period.
  fn topic_may_be_appearing(&mut self, now: Instant) -> bool {
    now.duration_since(*self.topic_unknown_since.get_or_insert(now)) < UNKNOWN_TOPIC_GRACE
  }

  /// Permanent failures go to the dead-letter topic; if that fails too, to the spool's dead-letter file.
  fn dead_letter(&mut self, mut pending: Box<Pending>, kind: ErrorKind, message: String, now: Instant) {
    let at = now_ms();
    let first_failure_ms = pending.first_failure_ms.unwrap_or(at);
    match (&self.shared.config.dlq_topic, &pending.dead_letter) {
      (Some(dlq), None) => {
        self.shared.diag.limited(
          Level::Warn,
          "dead-letter",
          &format!("{} {} failed permanently ({}), sending it to {dlq}: {message}", pending.event_name, pending.message_id, kind.as_str()),
        );
        pending.dead_letter = Some(Box::new(DeadLetter { kind, message, first_failure_ms, last_failure_ms: at }));
        self.send(*pending, now)
      }
      _ => {
        let (kind, message) = match pending.dead_letter.take() {
          Some(first) => (first.kind, format!("{}; the dead-letter topic failed too ({}): {message}", first.message, kind.as_str())),
          None => (kind, message),
        };
        let counters = &self.shared.metrics.counters;
        let filed = self.backlog.as_mut().is_some_and(|b| b.dead_letter(&pending, kind, &message));
        Counters::add(if filed { &counters.dead_lettered } else { &counters.failed }, 1);
        let whereto = if filed { "written to the dead-letter file" } else { "dropped" };
        self.shared.diag.limited(
          Level::Error,
          "permanent-failure",
          &format!("{} {} {whereto} after a permanent failure ({}): {message}", pending.event_name, pending.message_id, kind.as_str()),
        );
        if let (Some(backlog), Some(pos)) = (&mut self.backlog, pending.spool_pos) {
          backlog.acknowledge(pos);
        }
      }
    }
  }

  /// Keeps a record for later: in the spool (where a replayed one already is), or in memory without a spool.
  fn retry(&mut self, pending: Pending, now: Instant, pause: Option<Duration>) {
    match (&mut self.backlog, pending.spool_pos) {
      (Some(backlog), Some(_)) => backlog.retry_later(),
      (Some(_), None) => self.to_spill.push(pending),
      (None, _) => drop(self.retry.insert(pending.seq, pending)),
    }
    match pause {
      Some(pause) => self.retry_at = Some(now + pause),
      None if self.retry_at.is_none_or(|t| t <= now) => {
        self.retry_at = Some(now + backoff(self.retry_round));
        self.retry_round = self.retry_round.saturating_add(1);
      }
      None => {}
    }
  }

  fn publish_status(&self) {
    let (breaker, in_flight, retry_pending) = (self.breaker.state(), self.in_flight, self.retry.len() as u64);
    let spool = self.backlog.as_ref().map(Backlog::snapshot);
    self.shared.metrics.update_status(|s| {
      s.breaker = breaker;
      s.in_flight = in_flight;
      s.retry_pending = retry_pending;
      s.spool = spool;
    });
  }

  fn pending_count(&self) -> u64 {
    let spooled = self.backlog.as_ref().map_or(0, |b| b.unacked());
    self.shared.queue.len() as u64 + self.retry.len() as u64 + self.to_spill.len() as u64 + self.in_flight.max(spooled)
  }

  fn answer_flushes(&mut self, now: Instant) {
    if self.flushes.is_empty() {
      return;
    }
    let idle = self.idle();
    let delivered = delivered_now(&self.shared.metrics);
    let pending = self.pending_count();
    let (due, waiting): (Vec<Flush>, Vec<Flush>) =
      std::mem::take(&mut self.flushes).into_iter().partition(|f| idle || now >= f.deadline);
    self.flushes = waiting;
    for flush in due {
      (flush.reply)(FlushResult { delivered: delivered - flush.delivered_at_start, pending });
    }
  }

  /// Sleeps until there is something to do: a delivery report, a new event, a retry, a timer or a command.
  fn wait(&mut self, now: Instant) {
    let queue = &self.shared.queue;
    let retry_waiting = !self.retry.is_empty();
    let breaker_holds = self.shutdown.is_none() && self.breaker.holds();
    // While the spool is in use, queued events wait until the direct records in flight have settled.
    let spool_waits = self.direct_in_flight > 0 && self.backlog.as_ref().is_some_and(Backlog::active);
    let can_send_new =
      !retry_waiting && !breaker_holds && !spool_waits && self.in_flight < self.shared.config.queue_max_size as u64;
    if can_send_new && !queue.is_empty() {
      return;
    }
    if retry_waiting && self.retry_at.is_none_or(|t| t <= now) && !breaker_holds {
      return;
    }
    let backoff_over = self.retry_at.is_none_or(|t| t <= now);
    let room = self.in_flight < self.shared.config.queue_max_size as u64;
    let replay_ready = self.direct_in_flight == 0 && self.backlog.as_ref().is_some_and(|b| b.active() && b.can_read());
    if !breaker_holds && backoff_over && room && replay_ready {
      return;
    }
    let mut until = now + self.shared.config.queue_flush_interval;
    // While events are spilled rather than sent, they are moved to disk once per group-commit interval.
    let spill_due = (self.backlog.is_some() && !queue.is_empty()).then(|| now + self.shared.config.spool_sync_interval);
    let timers = [
      self.retry_at,
      self.breaker.open_until(),
      self.flushes.iter().map(|f| f.deadline).min(),
      self.shutdown.as_ref().map(|s| self.stop_sending_at(s)),
      self.backlog.as_ref().and_then(Backlog::sync_due),
      spill_due,
    ];
    for t in timers.into_iter().flatten() {
      until = until.min(t);
    }
    let timeout = until.saturating_duration_since(now).max(Duration::from_millis(1));
    if self.wakeup.pending() {
      return; // the next step polls them; queued events wake no one until the queue is emptied
    }
    if self.in_flight > 0 {
      queue.nap(timeout.min(IN_FLIGHT_POLL));
    } else if can_send_new {
      queue.sleep(timeout);
    } else {
      // New events cannot go out yet; only commands and timers should wake us.
      queue.nap(timeout);
    }
  }

  fn finish_shutdown(&mut self) {
    let Some(deadline) = self.shutdown.as_ref().map(|s| s.deadline) else { return };
    if self.backlog.is_some() {
      // What Kafka did not acknowledge in time is purged from librdkafka and spooled for the next start.
      self.producer.purge(PurgeConfig::default().queue().inflight());
      while self.in_flight > 0 && Instant::now() < deadline {
        self.producer.poll(Duration::from_millis(5));
        self.handle_reports(Instant::now());
      }
      self.clock.expire();
      let mut rest = std::mem::take(&mut self.to_spill);
      rest.extend(std::mem::take(&mut self.retry).into_values());
      rest.extend(std::iter::from_fn(|| self.next_from_queue()));
      self.spill(rest);
      if let Some(backlog) = &mut self.backlog {
        backlog.sync_if_due(Instant::now(), true);
      }
    }
    let Some(shutdown) = self.shutdown.take() else { return };
    let metrics = &self.shared.metrics;
    let mut dropped = self.retry.len() as u64;
    self.retry.clear();
    while self.shared.queue.pop().is_some() {
      dropped += 1;
    }
    Counters::add(&metrics.counters.dropped, dropped);
    let delivered = delivered_now(metrics) - shutdown.delivered_at_start;
    let result = ShutdownResult {
      delivered,
      pending: if self.backlog.is_some() { 0 } else { self.in_flight },
      dropped,
      spooled: self.backlog.as_ref().map_or(0, Backlog::unacked),
    };
    self.publish_status();
    metrics.update_status(|s| {
      s.running = false;
      s.stopped = true;
      s.in_flight = 0;
      s.retry_pending = 0;
    });
    for flush in std::mem::take(&mut self.flushes) {
      (flush.reply)(FlushResult { delivered: delivered_now(metrics) - flush.delivered_at_start, pending: self.in_flight });
    }
    // Answer first: tearing librdkafka down may take longer than the caller's deadline allows.
    (shutdown.reply)(result);
    self.producer.purge(PurgeConfig::default().queue().inflight().non_blocking());
  }
}

pub fn command_channel() -> (Sender<Command>, Receiver<Command>) {
  crossbeam_channel::unbounded()
}
