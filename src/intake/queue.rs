//! The bounded lock-free queue between the JS thread and the background thread, with cheap wake-ups.
//!
//! A push never blocks: when the queue is full the oldest event is dropped and counted. The JS thread
//! unparks the worker only when the worker said it is going to sleep, so a busy stream costs no syscalls.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::Thread;
use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use parking_lot::Mutex;

pub enum Pushed<T> {
  Accepted,
  /// Accepted, and the oldest event was evicted to make room.
  AcceptedDroppingOldest(T),
}

pub struct EventQueue<T> {
  items: ArrayQueue<T>,
  worker_sleeping: AtomicBool,
  worker: Mutex<Option<Thread>>,
}

impl<T> EventQueue<T> {
  pub fn new(capacity: usize) -> Self {
    Self { items: ArrayQueue::new(capacity), worker_sleeping: AtomicBool::new(false), worker: Mutex::new(None) }
  }

  pub fn capacity(&self) -> usize {
    self.items.capacity()
  }

  pub fn len(&self) -> usize {
    self.items.len()
  }

  pub fn is_empty(&self) -> bool {
    self.items.is_empty()
  }

  pub fn push(&self, item: T) -> Pushed<T> {
    let result = match self.items.force_push(item) {
      None => Pushed::Accepted,
      Some(oldest) => Pushed::AcceptedDroppingOldest(oldest),
    };
    self.wake();
    result
  }

  pub fn pop(&self) -> Option<T> {
    self.items.pop()
  }

  /// Wakes the worker if it announced a sleep; otherwise a relaxed load and nothing else.
  pub fn wake(&self) {
    if self.worker_sleeping.load(Ordering::Relaxed) && self.worker_sleeping.swap(false, Ordering::AcqRel) {
      self.unpark_worker();
    }
  }

  /// Called once from the worker thread so producers know whom to unpark.
  pub fn register_worker(&self) {
    *self.worker.lock() = Some(std::thread::current());
  }

  /// Wakes the worker whatever it waits for: commands (flush, shutdown) use this.
  pub fn unpark_worker(&self) {
    if let Some(worker) = self.worker.lock().as_ref() {
      worker.unpark();
    }
  }

  /// Worker side, when new events could not be sent anyway: pushes do not wake it, commands and timers do.
  pub fn nap(&self, timeout: Duration) {
    std::thread::park_timeout(timeout);
  }

  /// Worker side: sleep up to `timeout` unless events are waiting. A push after the flag is set unparks,
  /// and an unpark that lands before `park_timeout` makes it return at once, so no wake-up is lost.
  pub fn sleep(&self, timeout: Duration) {
    self.worker_sleeping.store(true, Ordering::SeqCst);
    if self.items.is_empty() {
      std::thread::park_timeout(timeout);
    }
    self.worker_sleeping.store(false, Ordering::SeqCst);
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::Arc;
  use std::time::Instant;

  #[test]
  fn full_queue_drops_the_oldest() {
    let q = EventQueue::new(2);
    assert!(matches!(q.push(1), Pushed::Accepted));
    assert!(matches!(q.push(2), Pushed::Accepted));
    assert!(matches!(q.push(3), Pushed::AcceptedDroppingOldest(1)));
    assert_eq!((q.pop(), q.pop(), q.pop()), (Some(2), Some(3), None));
  }

  #[test]
  fn a_push_wakes_a_sleeping_worker() {
    let q = Arc::new(EventQueue::new(8));
    let worker = {
      let q = q.clone();
      std::thread::spawn(move || {
        q.register_worker();
        let start = Instant::now();
        while q.is_empty() {
          q.sleep(Duration::from_secs(30));
        }
        start.elapsed()
      })
    };
    std::thread::sleep(Duration::from_millis(50));
    q.push(7);
    assert!(worker.join().unwrap() < Duration::from_secs(10));
  }

  proptest::proptest! {
    #[test]
    fn never_holds_more_than_capacity_and_keeps_the_newest(cap in 1usize..64, n in 0usize..300) {
      let q = EventQueue::new(cap);
      let mut dropped = 0;
      for i in 0..n {
        if let Pushed::AcceptedDroppingOldest(_) = q.push(i) { dropped += 1; }
        proptest::prop_assert!(q.len() <= cap);
      }
      proptest::prop_assert_eq!(dropped, n.saturating_sub(cap));
      let kept: Vec<usize> = std::iter::from_fn(|| q.pop()).collect();
      proptest::prop_assert_eq!(kept, (n.saturating_sub(cap)..n).collect::<Vec<_>>());
    }
  }
}
