//! The bounded lock-free queue between the JS thread and the background thread, with cheap wake-ups.
//!
//! A push never blocks: when the queue is full, or its items' bytes are over the budget, the oldest events are
//! dropped and counted. The JS thread unparks the worker only when the worker said it is going to sleep, so a
//! busy stream costs no syscalls.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use parking_lot::Mutex;

/// Roughly what a queued item holds in memory; the same every time it is asked.
pub trait Weigh {
  fn weight(&self) -> usize;
}

/// What a push evicted to keep the queue within its bounds (the evicted items are dropped).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Evicted {
  /// 1 when the queue was full: its oldest item made room.
  pub for_count: u32,
  /// The oldest items dropped because the items' bytes were over the budget.
  pub for_bytes: u32,
}

pub struct EventQueue<T> {
  items: ArrayQueue<T>,
  /// The weight of the items pushed and not yet popped; added before an item is visible, so never below zero.
  bytes: AtomicUsize,
  max_bytes: usize,
  worker_sleeping: AtomicBool,
  worker: Mutex<Option<Thread>>,
}

impl<T> EventQueue<T> {
  pub fn new(capacity: usize, max_bytes: usize) -> Self {
    Self {
      items: ArrayQueue::new(capacity),
      bytes: AtomicUsize::new(0),
      max_bytes,
      worker_sleeping: AtomicBool::new(false),
      worker: Mutex::new(None),
    }
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

  /// The weight of the queued items.
  pub fn bytes(&self) -> usize {
    self.bytes.load(Ordering::Relaxed)
  }

  pub fn max_bytes(&self) -> usize {
    self.max_bytes
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

impl<T: Weigh> EventQueue<T> {
  /// Queues `item`; the common case costs one atomic add besides the ring's own push.
  pub fn push(&self, item: T) -> Evicted {
    let weight = item.weight();
    let bytes = self.bytes.fetch_add(weight, Ordering::AcqRel) + weight;
    let mut evicted = Evicted::default();
    if let Some(oldest) = self.items.force_push(item) {
      self.bytes.fetch_sub(oldest.weight(), Ordering::AcqRel);
      evicted.for_count = 1;
    }
    if bytes > self.max_bytes {
      evicted.for_bytes = self.shed();
    }
    self.wake();
    evicted
  }

  /// Drops the oldest items until the rest fit the budget: the newest too, when it alone is over.
  fn shed(&self) -> u32 {
    let mut dropped = 0;
    while self.bytes.load(Ordering::Acquire) > self.max_bytes {
      let Some(oldest) = self.pop() else { break };
      drop(oldest);
      dropped += 1;
    }
    dropped
  }

  pub fn pop(&self) -> Option<T> {
    let item = self.items.pop()?;
    self.bytes.fetch_sub(item.weight(), Ordering::AcqRel);
    Some(item)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::Arc;
  use std::time::Instant;

  /// A test item weighs its value.
  impl Weigh for usize {
    fn weight(&self) -> usize {
      *self
    }
  }

  const NO_BYTE_BOUND: usize = usize::MAX / 2;

  #[test]
  fn full_queue_drops_the_oldest() {
    let q = EventQueue::new(2, NO_BYTE_BOUND);
    assert_eq!(q.push(1), Evicted::default());
    assert_eq!(q.push(2), Evicted::default());
    assert_eq!(q.push(3), Evicted { for_count: 1, for_bytes: 0 });
    assert_eq!((q.pop(), q.pop(), q.pop()), (Some(2), Some(3), None));
  }

  #[test]
  fn the_byte_budget_drops_the_oldest_until_the_rest_fit_and_the_count_returns_to_zero() {
    let q = EventQueue::new(100, 1000);
    for item in [400, 300, 200] {
      assert_eq!(q.push(item), Evicted::default());
    }
    assert_eq!(q.bytes(), 900);
    // 900 + 500 is over 1000: the oldest (400) goes, and the budget is exactly met.
    assert_eq!(q.push(500), Evicted { for_count: 0, for_bytes: 1 });
    assert_eq!((q.len(), q.bytes()), (3, 1000));
    // An item alone over the budget is dropped itself, after everything older.
    assert_eq!(q.push(1001), Evicted { for_count: 0, for_bytes: 4 });
    assert_eq!((q.len(), q.bytes()), (0, 0));
    for item in [10, 20, 30] {
      q.push(item);
    }
    assert_eq!(std::iter::from_fn(|| q.pop()).collect::<Vec<_>>(), [10, 20, 30]);
    assert_eq!(q.bytes(), 0, "drained: every byte counted on push was given back on pop");
  }

  #[test]
  fn a_push_wakes_a_sleeping_worker() {
    let q = Arc::new(EventQueue::new(8, NO_BYTE_BOUND));
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
      let q = EventQueue::new(cap, NO_BYTE_BOUND);
      let mut dropped = 0;
      for i in 0..n {
        dropped += q.push(i).for_count as usize;
        proptest::prop_assert!(q.len() <= cap);
      }
      proptest::prop_assert_eq!(dropped, n.saturating_sub(cap));
      let kept: Vec<usize> = std::iter::from_fn(|| q.pop()).collect();
      proptest::prop_assert_eq!(kept, (n.saturating_sub(cap)..n).collect::<Vec<_>>());
    }

    /// Alone on the queue, after every push: the bytes are within the budget and are the queued items' weights.
    #[test]
    fn after_each_push_the_bytes_are_within_the_budget(
      weights in proptest::collection::vec(1usize..400, 0..200),
      cap in 1usize..64,
      budget in 1usize..2000,
    ) {
      let q = EventQueue::new(cap, budget);
      let mut model = std::collections::VecDeque::new();
      for w in weights {
        let evicted = q.push(w);
        model.push_back(w);
        for _ in 0..evicted.for_count + evicted.for_bytes {
          model.pop_front();
        }
        proptest::prop_assert!(q.bytes() <= budget, "{} bytes queued, budget {}", q.bytes(), budget);
        proptest::prop_assert_eq!(q.bytes(), model.iter().sum::<usize>());
        proptest::prop_assert_eq!(q.len(), model.len());
      }
    }

    /// With a worker popping concurrently: every item is either popped or counted as dropped, and the counter
    /// ends at zero.
    #[test]
    fn bytes_stay_within_the_budget_and_return_to_zero(
      weights in proptest::collection::vec(1usize..400, 0..400),
      cap in 1usize..64,
      budget in 1usize..2000,
    ) {
      let q = Arc::new(EventQueue::new(cap, budget));
      let done = Arc::new(AtomicBool::new(false));
      let worker = {
        let (q, done) = (q.clone(), done.clone());
        std::thread::spawn(move || {
          let mut popped = 0;
          while !done.load(Ordering::Acquire) || !q.is_empty() {
            popped += q.pop().is_some() as usize;
          }
          popped
        })
      };
      let mut dropped = 0;
      for &w in &weights {
        let evicted = q.push(w);
        dropped += (evicted.for_count + evicted.for_bytes) as usize;
      }
      done.store(true, Ordering::Release);
      let popped = worker.join().unwrap();
      proptest::prop_assert_eq!(popped + dropped, weights.len());
      proptest::prop_assert_eq!(q.bytes(), 0);
    }
  }
}
