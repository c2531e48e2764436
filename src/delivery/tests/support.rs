//! The test rig: a scripted transport, a manual clock, and a worker on a real intake (no thread, no broker).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use parking_lot::Mutex;

use crate::config::{Config, Sources};
use crate::delivery::clock::Clock;
use crate::delivery::waiters::{command_channel, Command, FlushResult, Reply, ShutdownResult};
use crate::delivery::wake::Wake;
use crate::delivery::worker::Worker;
use crate::event::{EventContext, EventKind, ExecutionInput};
use crate::intake::queue::EventQueue;
use crate::intake::Intake;
use crate::packed::Queued;
use crate::telemetry::{Counters, Diagnostics, StderrSink};
use crate::transport::{ErrorKind, Pending, Purge, Report, SendError, Transport};

/// Time that moves only when a test says so.
#[derive(Clone)]
pub struct ManualClock {
  base: Instant,
  offset: Rc<Cell<Duration>>,
}

impl ManualClock {
  pub fn advance(&self, by: Duration) {
    self.offset.set(self.offset.get() + by);
  }
}

impl Clock for ManualClock {
  fn now(&self) -> Instant {
    self.base + self.offset.get()
  }

  fn wall_ms(&self) -> i64 {
    1_700_000_000_000 + self.offset.get().as_millis() as i64
  }
}

/// One record as the transport took it.
#[derive(Debug, Clone)]
pub struct Sent {
  /// The execution id (the record's key).
  pub key: String,
  pub probe: bool,
  pub dead_letter: bool,
}

#[derive(Default)]
pub struct Script {
  /// Every record handed over, in order.
  pub sent: Vec<Sent>,
  /// Handed over, not settled yet, oldest first.
  pub in_flight: VecDeque<Pending>,
  /// What the next sends return (Ok once empty).
  pub refuse: VecDeque<SendError>,
  pub reports: VecDeque<Report>,
  pub purges: Vec<Purge>,
  pub reachable: Option<(ErrorKind, String)>,
  /// The send that panics, counted from 1 over the script's life (a bug inside a pass).
  pub panic_at_send: Option<usize>,
  sends: usize,
}

/// A transport whose outcomes the test decides.
#[derive(Clone, Default)]
pub struct FakeTransport(pub Rc<RefCell<Script>>);

impl Transport for FakeTransport {
  fn send(&mut self, pending: &Pending) -> Result<(), SendError> {
    let mut s = self.0.borrow_mut();
    s.sends += 1;
    if s.panic_at_send == Some(s.sends) {
      panic!("scripted panic in send {}", s.sends);
    }
    if let Some(error) = s.refuse.pop_front() {
      return Err(error);
    }
    s.sent.push(Sent {
      key: pending.message().key.clone(),
      probe: pending.probe,
      dead_letter: pending.dead_letter.is_some(),
    });
    s.in_flight.push_back(pending.clone());
    Ok(())
  }

  fn poll(&mut self, _timeout: Duration) {}

  fn take_reports(&mut self, into: &mut VecDeque<Report>) {
    into.append(&mut self.0.borrow_mut().reports);
  }

  fn purge(&mut self, what: Purge) {
    let mut s = self.0.borrow_mut();
    s.purges.push(what);
    if what != Purge::AllNonBlocking {
      while let Some(p) = s.in_flight.pop_front() {
        s.reports.push_back(Report::Failed { pending: Box::new(p), kind: ErrorKind::Purged, message: "purged".into() });
      }
    }
  }

  fn reports_pending(&self) -> bool {
    !self.0.borrow().reports.is_empty()
  }

  fn check_reachable(&mut self, _timeout: Duration) -> Result<(), (ErrorKind, String)> {
    self.0.borrow().reachable.clone().map_or(Ok(()), Err)
  }
}

pub type TestWorker = Worker<FakeTransport, ManualClock>;

/// A worker with its intake, transport, clock and command sender.
pub struct Rig {
  pub worker: TestWorker,
  pub kafka: FakeTransport,
  pub clock: ManualClock,
  pub intake: Arc<Intake>,
  pub commands: Sender<Command>,
  /// Holds the spool's folder for the rig's life.
  _spool: Option<tempfile::TempDir>,
  next_event: u32,
}

/// An intake for settings given as `N8N_KAFKA_LOGGER_*` pairs (SPOOL_DIR and DLQ_TOPIC off unless given;
/// SPOOL_DIR `tmp` is a fresh temporary folder, returned to be held).
pub fn intake(settings: &[(&str, &str)]) -> (Arc<Intake>, Option<tempfile::TempDir>) {
  let spool = settings.iter().any(|(k, v)| *k == "SPOOL_DIR" && *v == "tmp").then(|| tempfile::tempdir().unwrap());
  let mut env: std::collections::HashMap<String, String> = [("SPOOL_DIR", "off"), ("DLQ_TOPIC", "off")]
    .iter()
    .map(|(k, v)| (format!("N8N_KAFKA_LOGGER_{k}"), v.to_string()))
    .collect();
  for (k, v) in settings {
    let v = if *k == "SPOOL_DIR" && *v == "tmp" {
      spool.as_ref().unwrap().path().display().to_string()
    } else {
      v.to_string()
    };
    env.insert(format!("N8N_KAFKA_LOGGER_{k}"), v);
  }
  let config = Config::parse(&Sources::from_env(env)).expect("test settings parse");
  let intake = Arc::new(Intake {
    queue: EventQueue::new(config.queue_max_size, config.queue_max_bytes),
    metrics: Default::default(),
    diag: Arc::new(Diagnostics::new(Box::new(StderrSink), Vec::new())),
    intake_open: AtomicBool::new(true),
    context: EventContext::new("instance".into(), "main".into(), None, "test".into()),
    config,
  });
  (intake, spool)
}

/// Queues events e<first>, e<first+1>, ... in acceptance order; returns their keys.
pub fn log(intake: &Intake, first: u32, n: u32, wall_ms: i64) -> Vec<String> {
  (first..first + n)
    .map(|i| {
      let id = format!("e{i}");
      let input = ExecutionInput::new(EventKind::Started, id.clone(), "wf".into(), wall_ms);
      assert!(intake.settle(Ok(Queued::Read(Box::new(input)))));
      id
    })
    .collect()
}

/// A worker on the scripted transport for these settings.
pub fn rig(settings: &[(&str, &str)]) -> Rig {
  let (intake, spool) = intake(settings);
  let kafka = FakeTransport::default();
  let clock = ManualClock { base: Instant::now(), offset: Rc::default() };
  let (commands, receiver) = command_channel();
  let worker = Worker::new(intake.clone(), receiver, kafka.clone(), clock.clone());
  Rig { worker, kafka, clock, intake, commands, _spool: spool, next_event: 0 }
}

pub const MS: Duration = Duration::from_millis(1);
pub const SEC: Duration = Duration::from_secs(1);

impl Rig {
  /// Queues `n` events, e1, e2, ... in acceptance order; returns their keys.
  pub fn log(&mut self, n: u32) -> Vec<String> {
    let keys = log(&self.intake, self.next_event + 1, n, self.clock.wall_ms());
    self.next_event += n;
    keys
  }

  /// One pass of the loop; the wait it decides, or None once shutdown completed.
  pub fn pass(&mut self) -> Option<Wake> {
    let now = self.worker.pass()?;
    Some(self.worker.next_wake(now))
  }

  /// Passes until nothing more happens at this instant (at most 50).
  pub fn settle(&mut self) -> Option<Wake> {
    for _ in 0..50 {
      match self.pass()? {
        Wake::Now => continue,
        wake => return Some(wake),
      }
    }
    panic!("the worker never waits");
  }

  /// Keys sent since the last call.
  pub fn sent(&mut self) -> Vec<String> {
    std::mem::take(&mut self.kafka.0.borrow_mut().sent).into_iter().map(|s| s.key).collect()
  }

  pub fn sent_full(&mut self) -> Vec<Sent> {
    std::mem::take(&mut self.kafka.0.borrow_mut().sent)
  }

  pub fn in_flight(&self) -> usize {
    self.kafka.0.borrow().in_flight.len()
  }

  /// Settles the oldest `n` records in flight as delivered (all when `n` is None).
  pub fn deliver(&mut self, n: Option<usize>) {
    self.settle_with(n, None);
  }

  /// Settles the oldest `n` records in flight as failed with `kind`.
  pub fn fail(&mut self, n: Option<usize>, kind: ErrorKind) {
    self.settle_with(n, Some(kind));
  }

  fn settle_with(&mut self, n: Option<usize>, failure: Option<ErrorKind>) {
    let mut s = self.kafka.0.borrow_mut();
    let n = n.unwrap_or(s.in_flight.len());
    for _ in 0..n {
      let p = s.in_flight.pop_front().expect("a record in flight");
      s.reports.push_back(outcome(p, failure));
    }
  }

  /// Settles the record in flight with `key`: delivered, or failed with the kind given.
  pub fn report(&mut self, key: &str, failure: Option<ErrorKind>) {
    let mut s = self.kafka.0.borrow_mut();
    let at =
      s.in_flight.iter().position(|p| p.message().key == key).unwrap_or_else(|| panic!("{key} is not in flight"));
    let p = s.in_flight.remove(at).unwrap();
    s.reports.push_back(outcome(p, failure));
  }

  pub fn client_error(&mut self, kind: ErrorKind, message: &str, summary: bool) {
    self.kafka.0.borrow_mut().reports.push_back(Report::ClientError { kind, message: message.into(), summary });
  }

  pub fn counter(&self, pick: impl Fn(&crate::telemetry::Counters) -> &std::sync::atomic::AtomicU64) -> u64 {
    Counters::get(pick(&self.intake.metrics.counters))
  }

  /// Sends a flush command with `timeout`; its answer lands in the returned slot.
  pub fn flush(&self, timeout: Duration) -> Answer<FlushResult> {
    let (answer, reply) = answer();
    self.commands.send(Command::Flush { deadline: self.clock.now() + timeout, reply }).unwrap();
    answer
  }

  /// Sends a shutdown command with `timeout`; its answer lands in the returned slot.
  pub fn shutdown(&self, timeout: Duration) -> Answer<ShutdownResult> {
    let (answer, reply) = answer();
    self.commands.send(Command::Shutdown { deadline: self.clock.now() + timeout, reply }).unwrap();
    answer
  }
}

/// The report for a record: delivered, or failed with `failure`.
pub fn outcome(p: Pending, failure: Option<ErrorKind>) -> Report {
  let pending = Box::new(p);
  match failure {
    None => Report::Delivered(pending),
    Some(kind) => Report::Failed { pending, kind, message: format!("{} failure", kind.as_str()) },
  }
}

pub type Answer<T> = Arc<Mutex<Option<T>>>;

fn answer<T: Send + 'static>() -> (Answer<T>, Reply<T>) {
  let answer = Answer::default();
  let slot = answer.clone();
  (answer, Box::new(move |r| *slot.lock() = Some(r)))
}
