//! Bare rdkafka ThreadedProducer: sends prepared payloads (max rate or paced) with the addon's producer settings,
//! prints one JSON line: throughput to acknowledged, ack latency, process CPU.
use std::io::BufRead;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

struct Ctx {
  acked: AtomicU64,
  failed: AtomicU64,
  start: Instant,
  recording: std::sync::atomic::AtomicBool,
  latencies_us: Mutex<Vec<u32>>,
}
impl ClientContext for Ctx {}
impl ProducerContext for Ctx {
  type DeliveryOpaque = Box<Instant>;
  fn delivery(&self, r: &DeliveryResult<'_>, sent_at: Box<Instant>) {
    if r.is_err() {
      self.failed.fetch_add(1, Ordering::Relaxed);
      return;
    }
    self.acked.fetch_add(1, Ordering::Relaxed);
    if self.recording.load(Ordering::Relaxed) {
      self.latencies_us.lock().unwrap().push(sent_at.elapsed().as_micros() as u32);
    }
  }
}

fn cpu_ms() -> f64 {
  let mut u: libc_rusage = unsafe { std::mem::zeroed() };
  unsafe { getrusage(0, &mut u) };
  (u.utime.sec + u.stime.sec) as f64 * 1000.0 + (u.utime.usec + u.stime.usec) as f64 / 1000.0
}
#[repr(C)]
struct Timeval {
  sec: i64,
  usec: i64,
}
#[repr(C)]
#[allow(non_camel_case_types)]
struct libc_rusage {
  utime: Timeval,
  stime: Timeval,
  rest: [i64; 14],
}
extern "C" {
  fn getrusage(who: i32, usage: *mut libc_rusage) -> i32;
}

fn arg(name: &str, default: &str) -> String {
  let args: Vec<String> = std::env::args().collect();
  args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned()).unwrap_or_else(|| default.to_string())
}

fn main() {
  let brokers = arg("--brokers", "127.0.0.1:29092");
  let topic = arg("--topic", "bench-ceiling");
  let rate: f64 = arg("--rate", "0").parse().unwrap();
  let warmup = Duration::from_secs_f64(arg("--warmup", "1").parse().unwrap());
  let duration = Duration::from_secs_f64(arg("--duration", "6").parse().unwrap());
  let payloads: Vec<(String, String)> =
    std::io::BufReader::new(std::fs::File::open(arg("--payloads", "payloads.tsv")).unwrap())
      .lines()
      .map(|l| {
        let l = l.unwrap();
        let (k, v) = l.split_once('\t').unwrap();
        (k.to_string(), v.to_string())
      })
      .collect();
  let ctx = Ctx {
    acked: AtomicU64::new(0),
    failed: AtomicU64::new(0),
    start: Instant::now(),
    recording: false.into(),
    latencies_us: Mutex::new(Vec::new()),
  };
  let producer: ThreadedProducer<Ctx> = ClientConfig::new()
    .set("bootstrap.servers", &brokers)
    .set("acks", "all")
    .set("enable.idempotence", "true")
    .set("compression.type", "lz4")
    .set("linger.ms", "5")
    .set("partitioner", "murmur2_random")
    .set("message.timeout.ms", "30000")
    .create_with_context(ctx)
    .expect("producer");
  let c = producer.context();
  let send = |i: u64| loop {
    let (key, value) = &payloads[(i as usize) % payloads.len()];
    let headers = OwnedHeaders::new_with_capacity(3)
      .insert(Header { key: "content-type", value: Some("application/json") })
      .insert(Header { key: "event", value: Some("Workflow Completed") })
      .insert(Header { key: "message-id", value: Some(key.as_str()) });
    let rec = BaseRecord::with_opaque_to(&topic, Box::new(Instant::now()))
      .key(key.as_str())
      .payload(value.as_str())
      .headers(headers);
    match producer.send(rec) {
      Ok(()) => return,
      Err(_) => std::thread::sleep(Duration::from_micros(200)), // local queue full: wait for acks
    }
  };
  send(0);
  while c.acked.load(Ordering::Relaxed) < 1 && c.start.elapsed() < Duration::from_secs(30) {
    std::thread::sleep(Duration::from_millis(5));
  }
  let mut sent = 1u64;
  let t0 = Instant::now();
  let mut m0: Option<(Instant, u64, u64, f64)> = None;
  let end = warmup + duration;
  while t0.elapsed() < end {
    if m0.is_none() && t0.elapsed() >= warmup {
      c.recording.store(true, Ordering::Relaxed);
      m0 = Some((Instant::now(), sent, c.acked.load(Ordering::Relaxed), cpu_ms()));
    }
    if rate > 0.0 {
      let due = 1 + (t0.elapsed().as_secs_f64() * rate) as u64;
      while sent < due {
        send(sent);
        sent += 1;
      }
      std::thread::sleep(Duration::from_micros(500));
    } else {
      for _ in 0..1000 {
        send(sent);
        sent += 1;
      }
    }
  }
  let (t_m0, sent0, acked0, cpu0) = m0.unwrap();
  let secs = t_m0.elapsed().as_secs_f64();
  let (sent1, acked1, cpu1) = (sent, c.acked.load(Ordering::Relaxed), cpu_ms());
  c.recording.store(false, Ordering::Relaxed);
  producer.flush(Duration::from_secs(30)).ok();
  let mut lat = c.latencies_us.lock().unwrap().clone();
  lat.sort_unstable();
  let q = |p: f64| {
    if lat.is_empty() {
      f64::NAN
    } else {
      lat[((p * lat.len() as f64) as usize).min(lat.len() - 1)] as f64 / 1000.0
    }
  };
  let events = (sent1 - sent0) as f64;
  println!(
    "{{\"client\":\"rust-ceiling\",\"scenario\":\"load\",\"rate\":{rate},\"secs\":{secs:.3},\"sent\":{events},\"sentRate\":{:.1},\"ackedRate\":{:.1},\"procCpuMsPer100k\":{:.1},\"procCpuPct\":{:.1},\"latencyMs\":{{\"p50\":{:.3},\"p99\":{:.3},\"n\":{}}},\"failed\":{}}}",
    events / secs, (acked1 - acked0) as f64 / secs, (cpu1 - cpu0) * 100000.0 / events, (cpu1 - cpu0) / 10.0 / secs, q(0.5), q(0.99), lat.len(), c.failed.load(Ordering::Relaxed)
  );
}
