//! The logger as a plain Rust object: intake on the caller's thread, lifecycle of the background worker.
//! The napi binding is a thin wrapper around this, and Rust tests and benchmarks use it directly.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use uuid::Uuid;

use crate::config::{Config, ConfigError};
use crate::delivery::{command_channel, Command, FlushResult, Reply, ShutdownResult, StartupError, Worker};
use crate::event::EventContext;
use crate::intake::queue::EventQueue;
use crate::intake::Intake;
use crate::telemetry::{Counters, Metrics, SnapshotInputs};
use crate::telemetry::{Diagnostics, Level, LogSink};
use crate::transport::{self, RdkafkaTransport};

enum Lifecycle {
  Created(Receiver<Command>),
  Running,
  /// Shutdown requested; everyone who asked waits for the one result.
  Stopping(Vec<Reply<ShutdownResult>>),
  Stopped(ShutdownResult),
}

/// Answers initialize() exactly once, also when the background thread never runs (its closure is dropped).
struct ReadyOnce(Option<Reply<Result<(), StartupError>>>);

impl ReadyOnce {
  fn answer(mut self, result: Result<(), StartupError>) {
    if let Some(reply) = self.0.take() {
      reply(result);
    }
  }
}

impl Drop for ReadyOnce {
  fn drop(&mut self) {
    if let Some(reply) = self.0.take() {
      reply(Err(StartupError::Config(ConfigError("the background thread could not start".into()))));
    }
  }
}

pub struct Logger {
  shared: Arc<Intake>,
  commands: Sender<Command>,
  lifecycle: Arc<Mutex<Lifecycle>>,
}

/// A stable id for this machine when n8n gave none: anonymousId must not change between runs.
fn host_instance_id() -> String {
  let host = std::fs::read_to_string("/etc/hostname")
    .ok()
    .or_else(|| std::env::var("HOSTNAME").ok())
    .or_else(|| std::env::var("COMPUTERNAME").ok())
    .unwrap_or_else(|| "unknown-host".into());
  crate::event::uuid_v5(&Uuid::NAMESPACE_DNS, &[host.trim().as_bytes()]).to_string()
}

impl Logger {
  pub fn new(config: Config, sink: Box<dyn LogSink>) -> Result<Logger, ConfigError> {
    transport::validate(&config)?;
    let secrets = config.secret_values();
    let context = EventContext::new(
      config.instance_id.clone().unwrap_or_else(host_instance_id),
      config.instance_type.to_string(),
      config.n8n_version.clone(),
      config.environment.clone(),
    )
    .with_format(config.fork_format, config.key_by_message)
    .with_error_detail(config.error_detail, config.redaction.clone());
    let (commands, receiver) = command_channel();
    let shared = Arc::new(Intake {
      queue: EventQueue::new(config.queue_max_size, config.queue_max_bytes),
      metrics: Arc::new(Metrics::new()),
      diag: Arc::new(Diagnostics::new(sink, secrets)),
      intake_open: AtomicBool::new(true),
      context,
      config,
    });
    // At construction, so that a logger that is never initialized still tells (a misspelt variable, say).
    for warning in &shared.config.warnings {
      shared.diag.log(Level::Warn, warning);
    }
    Ok(Logger { shared, commands, lifecycle: Arc::new(Mutex::new(Lifecycle::Created(receiver))) })
  }

  pub fn config(&self) -> &Config {
    &self.shared.config
  }

  /// What log calls need: the fast path keeps a clone in its native function (src/js_input.rs).
  pub fn intake(&self) -> &Arc<Intake> {
    &self.shared
  }

  /// Starts the background thread once; later calls report success at once.
  pub fn initialize(&self, on_ready: Reply<Result<(), StartupError>>) {
    let receiver = {
      let mut lifecycle = self.lifecycle.lock();
      match std::mem::replace(&mut *lifecycle, Lifecycle::Running) {
        Lifecycle::Created(receiver) => receiver,
        Lifecycle::Running => return on_ready(Ok(())),
        other => {
          *lifecycle = other;
          drop(lifecycle);
          let message = "the logger was shut down; create a new one".to_string();
          return on_ready(Err(StartupError::Config(ConfigError(message))));
        }
      }
    };
    let diag = self.shared.diag.clone();
    let config = &self.shared.config;
    diag.log(
      Level::Info,
      &format!(
        "sending execution events to topic {} on {} ({})",
        config.topic,
        config.brokers.join(","),
        config.security_protocol()
      ),
    );
    let once = ReadyOnce(Some(on_ready));
    let shared = self.shared.clone();
    let on_ready: Reply<Result<(), StartupError>> = Box::new(move |result| {
      if let Err(StartupError::Config(_)) = &result {
        // The thread ends here (no producer): take no more events. Commands are answered by `send`.
        shared.intake_open.store(false, Ordering::SeqCst);
      }
      once.answer(result);
    });
    let open = |intake: &Intake| RdkafkaTransport::open(&intake.config, intake.metrics.clone(), intake.diag.clone());
    if let Err(e) = Worker::spawn(self.shared.clone(), receiver, open, on_ready) {
      diag.log(Level::Error, &format!("cannot start the background thread: {e}"));
    }
  }

  pub fn flush(&self, timeout: Duration, reply: Reply<FlushResult>) {
    if !matches!(*self.lifecycle.lock(), Lifecycle::Running) {
      return reply(FlushResult { delivered: 0, pending: self.shared.queue.len() as u64 });
    }
    self.send(Command::Flush { deadline: Instant::now() + timeout, reply });
  }

  /// Stops intake at once, then drains within `timeout` (TIMEOUT_DISCONNECT when None). Idempotent.
  pub fn shutdown(&self, timeout: Option<Duration>, reply: Reply<ShutdownResult>) {
    self.shared.intake_open.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + timeout.unwrap_or(self.shared.config.timeout_disconnect);
    let mut lifecycle = self.lifecycle.lock();
    match &mut *lifecycle {
      Lifecycle::Stopped(result) => {
        let result = *result;
        drop(lifecycle);
        reply(result)
      }
      Lifecycle::Stopping(waiters) => waiters.push(reply),
      Lifecycle::Created(_) => {
        let result = self.stop_without_worker();
        *lifecycle = Lifecycle::Stopped(result);
        drop(lifecycle);
        reply(result)
      }
      Lifecycle::Running => {
        *lifecycle = Lifecycle::Stopping(vec![reply]);
        drop(lifecycle);
        let shared_lifecycle = self.lifecycle.clone();
        let fan_out: Reply<ShutdownResult> = Box::new(move |result| {
          let waiters = match std::mem::replace(&mut *shared_lifecycle.lock(), Lifecycle::Stopped(result)) {
            Lifecycle::Stopping(waiters) => waiters,
            _ => Vec::new(),
          };
          waiters.into_iter().for_each(|reply| reply(result));
        });
        self.send(Command::Shutdown { deadline, reply: fan_out });
      }
    }
  }

  fn send(&self, command: Command) {
    // The worker holds the receiver for as long as it runs, so a send only fails when it is gone (it could
    // not start, or it stopped): answer here, or the caller would wait forever.
    match self.commands.send(command) {
      Ok(()) => self.shared.queue.unpark_worker(),
      Err(crossbeam_channel::SendError(Command::Flush { reply, .. })) => {
        reply(FlushResult { delivered: 0, pending: self.shared.queue.len() as u64 })
      }
      Err(crossbeam_channel::SendError(Command::Shutdown { reply, .. })) => reply(self.stop_without_worker()),
    }
  }

  /// Shutdown without a background thread: what is queued cannot be delivered.
  fn stop_without_worker(&self) -> ShutdownResult {
    let mut dropped = 0;
    while self.shared.queue.pop().is_some() {
      dropped += 1;
    }
    Counters::add(&self.shared.metrics.counters.dropped, dropped);
    self.shared.metrics.update_status(|s| s.stopped = true);
    ShutdownResult { delivered: 0, pending: 0, dropped, spooled: 0 }
  }

  pub fn health(&self) -> serde_json::Value {
    self.shared.metrics.snapshot(SnapshotInputs {
      queue_depth: self.shared.queue.len(),
      queue_capacity: self.shared.queue.capacity(),
      queue_bytes: self.shared.queue.bytes(),
      queue_max_bytes: self.shared.queue.max_bytes(),
      config: self.shared.config.redacted_summary(),
    })
  }
}

impl Drop for Logger {
  /// A logger collected without shutdown() still stops its thread, within TIMEOUT_DISCONNECT.
  fn drop(&mut self) {
    if matches!(*self.lifecycle.lock(), Lifecycle::Running) {
      self.shutdown(None, Box::new(|_| {}));
    }
  }
}
