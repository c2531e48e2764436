//! Who waits for the worker: flush and shutdown commands, their deadlines and their answers.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

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

pub enum Command {
  Flush { deadline: Instant, reply: Reply<FlushResult> },
  Shutdown { deadline: Instant, reply: Reply<ShutdownResult> },
}

pub fn command_channel() -> (Sender<Command>, Receiver<Command>) {
  crossbeam_channel::unbounded()
}

/// With a spool, shutdown stops sending this long before its deadline to purge, collect and spool the rest.
pub const SPOOL_MARGIN: Duration = Duration::from_millis(150);

pub struct Flush {
  pub deadline: Instant,
  pub delivered_at_start: u64,
  pub reply: Reply<FlushResult>,
}

pub struct Shutdown {
  pub deadline: Instant,
  pub delivered_at_start: u64,
  pub reply: Reply<ShutdownResult>,
}

#[derive(Default)]
pub struct Waiters {
  pub flushes: Vec<Flush>,
  pub shutdown: Option<Shutdown>,
}

impl Waiters {
  /// Takes a command; `delivered` is the delivered counter now, from which its answer counts.
  pub fn take(&mut self, command: Command, delivered: u64) {
    match command {
      Command::Flush { deadline, reply } => self.flushes.push(Flush { deadline, delivered_at_start: delivered, reply }),
      Command::Shutdown { deadline, reply } => {
        self.shutdown = Some(Shutdown { deadline, delivered_at_start: delivered, reply })
      }
    }
  }

  #[inline]
  pub fn shutting_down(&self) -> bool {
    self.shutdown.is_some()
  }

  /// When sending stops: the shutdown deadline, less a margin with a spool so what is left can be purged and
  /// spooled in time.
  pub fn stop_sending_at(&self, spool: bool) -> Option<Instant> {
    let deadline = self.shutdown.as_ref()?.deadline;
    Some(if spool { deadline.checked_sub(SPOOL_MARGIN).unwrap_or(deadline) } else { deadline })
  }

  /// The earliest flush deadline.
  pub fn next_flush_deadline(&self) -> Option<Instant> {
    self.flushes.iter().map(|f| f.deadline).min()
  }

  /// Takes out the flushes to answer now: all when idle, else those whose deadline passed.
  pub fn due_flushes(&mut self, idle: bool, now: Instant) -> Vec<Flush> {
    let (due, waiting): (Vec<Flush>, Vec<Flush>) =
      std::mem::take(&mut self.flushes).into_iter().partition(|f| idle || now >= f.deadline);
    self.flushes = waiting;
    due
  }
}
