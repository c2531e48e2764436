//! Wakes the worker when librdkafka queues an event for it (delivery reports, errors, statistics), so it can wait
//! parked instead of in rdkafka's `BaseProducer::poll`, which truncates its wait to whole milliseconds and spins
//! on the clock for the last one: with records in flight that spin was the worker's largest cost at 20k events/s.

use std::ffi::c_void;
use std::thread::Thread;

use rdkafka::bindings as rdsys;
use rdkafka::producer::Producer as _;

use super::producer::Producer;

pub struct ReportWakeup {
  queue: *mut rdsys::rd_kafka_queue_t,
  /// Boxed: librdkafka holds its address until Drop disables the callback.
  _thread: Box<Thread>,
}

// The queue handle is only used by the thread that owns the worker; librdkafka calls `unpark` from its threads.
unsafe impl Send for ReportWakeup {}

/// librdkafka calls this (under the queue's lock) when the queue goes from empty to non-empty.
unsafe extern "C" fn unpark(_: *mut rdsys::rd_kafka_t, thread: *mut c_void) {
  unsafe { &*(thread as *const Thread) }.unpark();
}

impl ReportWakeup {
  /// Unparks the calling thread whenever the producer's event queue stops being empty.
  pub fn for_current_thread(producer: &Producer) -> ReportWakeup {
    let queue = unsafe { rdsys::rd_kafka_queue_get_main(producer.client().native_ptr()) };
    let thread = Box::new(std::thread::current());
    let opaque = &*thread as *const Thread as *mut c_void;
    unsafe { rdsys::rd_kafka_queue_cb_event_enable(queue, Some(unpark), opaque) };
    ReportWakeup { queue, _thread: thread }
  }

  /// Events are waiting to be polled. They wake no one until the queue has been emptied: check before parking.
  pub fn pending(&self) -> bool {
    unsafe { rdsys::rd_kafka_queue_length(self.queue) > 0 }
  }
}

impl Drop for ReportWakeup {
  fn drop(&mut self) {
    // Once disabled (under the queue's lock) the callback no longer runs, so the thread handle may go.
    unsafe {
      rdsys::rd_kafka_queue_cb_event_enable(self.queue, None, std::ptr::null_mut());
      rdsys::rd_kafka_queue_destroy(self.queue);
    }
  }
}
