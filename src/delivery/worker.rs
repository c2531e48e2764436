//! The one background thread: its state (small owners, one per rule), startup, the loop and its passes.
//! Sending is in send.rs, delivery reports in settle.rs, flush and shutdown answers in finish.rs, sleeping in
//! wake.rs.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use super::backlog::Backlog;
use super::breaker::{Breaker, BreakerState, Transition};
use super::cause::{is_specific, CauseMemory};
use super::clock::{Clock, PassClock, SystemClock};
use super::grace::TopicGrace;
use super::in_flight::InFlight;
use super::retry::RetryQueue;
use super::solo::SoloLane;
use super::waiters::{Command, Reply, Waiters};
use super::wake::{next_wake, park, Wake, WakeInputs};
use crate::config::{Config, ConfigError};
use crate::event::{EventKind, ExecutionInput};
use crate::intake::Intake;
use crate::telemetry::{Counters, Level, Metrics};
use crate::transport::{take_lost_in_panic, ErrorKind, Pending, Report, Transport};

#[derive(Debug, Clone)]
pub enum StartupError {
  Config(ConfigError),
  Unreachable { kind: ErrorKind, message: String },
}

pub struct Worker<T: Transport, C: Clock = SystemClock> {
  pub(super) intake: Arc<Intake>,
  commands: Receiver<Command>,
  /// Reports taken from the transport and not handled yet (after a panic, the rest of a batch).
  pub(super) reports: VecDeque<Report>,
  pub(super) transport: T,
  pub(super) clock: C,
  pub(super) breaker: Breaker,
  /// The disk spool, when there is one: failed and (in disk mode) all events go through it.
  pub(super) backlog: Option<Backlog>,
  /// Failed events on their way into the spool, appended together at the end of a pass.
  pub(super) to_spill: Vec<Pending>,
  pub(super) retry: RetryQueue,
  /// Records of a batch Kafka refused as too large, resent one by one before anything else.
  pub(super) solo: SoloLane,
  pub(super) in_flight: InFlight,
  /// When direct records waiting in the transport's queue were last purged (breaker open, spool in use).
  pub(super) last_purge: Option<Instant>,
  pub(super) topic: TopicGrace,
  pub(super) cause: CauseMemory,
  pub(super) next_seq: u64,
  /// Where packed inputs are split, its strings reused from one event to the next.
  pub(super) scratch: ExecutionInput,
  /// The clocks for the events built in this pass.
  pub(super) pass_clock: PassClock,
  pub(super) waiters: Waiters,
}

pub(super) fn delivered_now(metrics: &Metrics) -> u64 {
  Counters::get(&metrics.counters.delivered)
}

impl<T: Transport + 'static> Worker<T> {
  /// Starts the thread. `open` makes the transport on it; `on_ready` gets the startup outcome (after validation
  /// when it is configured).
  pub fn spawn(
    intake: Arc<Intake>,
    commands: Receiver<Command>,
    open: impl FnOnce(&Intake) -> Result<T, ConfigError> + Send + 'static,
    on_ready: Reply<Result<(), StartupError>>,
  ) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("kafka-execution-logger".into()).spawn(move || {
      intake.queue.register_worker();
      let transport = match open(&intake) {
        Ok(t) => t,
        Err(e) => return on_ready(Err(StartupError::Config(e))),
      };
      let mut worker = Worker::new(intake.clone(), commands, transport, SystemClock);
      let ready = if intake.config.validate_on_startup { worker.validate_connection() } else { Ok(()) };
      intake.metrics.update_status(|s| s.running = true);
      on_ready(ready);
      worker.run();
    })
  }
}

impl<T: Transport, C: Clock> Worker<T, C> {
  pub fn new(intake: Arc<Intake>, commands: Receiver<Command>, transport: T, clock: C) -> Worker<T, C> {
    let config = &intake.config;
    let breaker = Breaker::new(config.cb_failure_threshold, config.cb_reset_timeout, config.cb_monitoring_period);
    Worker {
      backlog: Backlog::open(config, &intake.diag, &intake.metrics),
      to_spill: Vec::new(),
      commands,
      reports: VecDeque::new(),
      pass_clock: PassClock::new(&clock),
      transport,
      clock,
      breaker,
      retry: RetryQueue::default(),
      solo: SoloLane::default(),
      in_flight: InFlight::default(),
      last_purge: None,
      topic: TopicGrace::default(),
      cause: CauseMemory::default(),
      next_seq: 0,
      scratch: ExecutionInput::new(EventKind::Started, String::new(), String::new(), 0),
      waiters: Waiters::default(),
      intake,
    }
  }

  #[inline]
  pub(super) fn config(&self) -> &Config {
    &self.intake.config
  }

  /// Metadata for our topic proves the cluster is reachable and accepts our credentials.
  pub(super) fn validate_connection(&mut self) -> Result<(), StartupError> {
    let config = &self.intake.config;
    let Err((kind, error)) = self.transport.check_reachable(config.timeout_connect) else { return Ok(()) };
    // The cause (authentication, TLS) arrives as a client error event shortly after the request fails.
    let settle = self.clock.now() + Duration::from_secs(2);
    while self.clock.now() < settle && !self.cause.last().is_some_and(|(k, _)| is_specific(k)) {
      self.transport.poll(Duration::from_millis(50));
      self.handle_reports(self.clock.now());
    }
    let kind = match self.cause.last() {
      // A timeout after an authentication or TLS error: the error callback knows the real cause.
      Some((kind, _)) if is_specific(kind) => kind,
      _ => kind,
    };
    let cause = self.cause.last().map_or(error, |(_, m)| m.to_string());
    let config = &self.intake.config;
    let message = format!(
      "cannot reach Kafka at {} within {} ms ({}): {}",
      config.brokers.join(","),
      config.timeout_connect.as_millis(),
      kind.as_str(),
      self.intake.diag.scrub(&cause)
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
          self.count_panic(panic.as_ref());
          std::thread::sleep(Duration::from_millis(100));
        }
      }
    }
  }

  /// After a panic in a pass: the events it had in hand (dropped while unwinding, each counted by its own drop)
  /// are counted as dropped, and the panic is logged and shown as the last error.
  pub(super) fn count_panic(&self, panic: &(dyn std::any::Any + Send)) {
    let message = panic
      .downcast_ref::<&str>()
      .map(|s| s.to_string())
      .or_else(|| panic.downcast_ref::<String>().cloned())
      .unwrap_or_else(|| "unknown panic".into());
    let lost = take_lost_in_panic();
    Counters::add(&self.intake.metrics.counters.dropped, lost);
    let text = format!("background thread panicked, {lost} events in hand lost (counted as dropped): {message}");
    self.intake.metrics.record_error(ErrorKind::Internal, text.clone());
    self.intake.diag.limited(Level::Error, "panic", &text);
  }

  /// One pass and the wait after it; false once shutdown completed.
  pub(super) fn step(&mut self) -> bool {
    let Some(now) = self.pass() else { return false };
    self.wait(now);
    true
  }

  /// One pass of the loop: commands, sending, delivery reports, status, group commit, answers. Returns when it
  /// ended (the time the wait is decided from), or None once shutdown completed.
  pub(super) fn pass(&mut self) -> Option<Instant> {
    self.pass_clock.expire();
    self.take_commands();
    let now = self.clock.now();
    self.pump(now);
    self.transport.poll(Duration::ZERO);
    self.handle_reports(now);
    self.publish_status();
    let now = self.clock.now();
    if let Some(backlog) = &mut self.backlog {
      backlog.sync_if_due(now, false);
    }
    self.answer_flushes(now);
    if self.waiters.stop_sending_at(self.backlog.is_some()).is_some_and(|stop| self.idle() || now >= stop) {
      self.finish_shutdown();
      return None;
    }
    Some(now)
  }

  fn take_commands(&mut self) {
    for command in self.commands.try_iter() {
      self.waiters.take(command, delivered_now(&self.intake.metrics));
    }
  }

  pub(super) fn idle(&self) -> bool {
    self.intake.queue.is_empty()
      && self.retry.is_empty()
      && !self.solo.busy()
      && self.to_spill.is_empty()
      && self.in_flight.total() == 0
      && self.backlog.as_ref().is_none_or(Backlog::is_empty)
  }

  pub(super) fn log_transition(&self, transition: Option<Transition>) {
    if let Some(t) = transition {
      let level = if t.to == BreakerState::Open { Level::Warn } else { Level::Info };
      let why = self.cause.last().map(|(k, _)| format!(" (last error: {})", k.as_str())).unwrap_or_default();
      self.intake.diag.log(level, &format!("circuit breaker {} -> {}{why}", t.from.as_str(), t.to.as_str()));
    }
  }

  pub(super) fn publish_status(&self) {
    let (breaker, in_flight) = (self.breaker.state(), self.in_flight.total());
    let retry_pending = (self.retry.len() + self.solo.len()) as u64;
    let spool = self.backlog.as_ref().map(Backlog::snapshot);
    self.intake.metrics.update_status(|s| {
      s.breaker = breaker;
      s.in_flight = in_flight;
      s.retry_pending = retry_pending;
      s.spool = spool;
    });
  }

  /// What the wait after a pass ending at `now` depends on.
  pub(super) fn wake_inputs(&self) -> WakeInputs {
    let config = self.config();
    let spool = self.backlog.is_some();
    WakeInputs {
      queue_empty: self.intake.queue.is_empty(),
      retry_waiting: !self.retry.is_empty(),
      solo_waiting: self.solo.busy(),
      retry_at: self.retry.at(),
      breaker_holds: !self.waiters.shutting_down() && self.breaker.holds(),
      in_flight: self.in_flight.total(),
      direct_in_flight: self.in_flight.direct(),
      cap: config.queue_max_size as u64,
      spool,
      spool_active: self.backlog.as_ref().is_some_and(Backlog::active),
      spool_readable: self.backlog.as_ref().is_some_and(Backlog::can_read),
      flush_interval: config.queue_flush_interval,
      spool_sync_interval: config.spool_sync_interval,
      timers: [
        self.breaker.open_until(),
        self.waiters.next_flush_deadline(),
        self.waiters.stop_sending_at(spool),
        self.backlog.as_ref().and_then(Backlog::sync_due),
      ],
    }
  }

  /// The wait after a pass that ended at `now`.
  pub(super) fn next_wake(&self, now: Instant) -> Wake {
    next_wake(now, &self.wake_inputs())
  }

  fn wait(&mut self, now: Instant) {
    let wake = self.next_wake(now);
    // Reports waiting to be polled wake no one until the transport's queue is emptied: the next pass polls them.
    if wake != Wake::Now && !self.transport.reports_pending() {
      park(&self.intake.queue, wake);
    }
  }
}
