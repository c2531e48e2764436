//! What the command-line tools need from Kafka: read a topic's records in a time range (inspect, replay from
//! the dead-letter topic) and produce records as they are (replay), with the logger's connection settings.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, DefaultConsumerContext};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};

use crate::config::Config;
use crate::transport::connection_config;

/// One record read from a topic; value and key as UTF-8 text (lossy for binary data).
#[derive(Debug, Clone)]
pub struct Consumed {
  pub partition: i32,
  pub offset: i64,
  pub timestamp: Option<i64>,
  pub key: Option<String>,
  pub value: Option<String>,
  pub headers: Vec<(String, String)>,
}

pub struct ReadQuery<'a> {
  pub topic: &'a str,
  pub since_ms: Option<i64>,
  pub until_ms: Option<i64>,
  pub max_messages: usize,
  pub timeout: Duration,
  /// Continues an earlier read ([`TopicRead::resume`]): the next offset of each partition it had not read to
  /// its end; the other partitions, and `since_ms`, do not apply.
  pub resume: Option<Vec<(i32, i64)>>,
}

fn text(bytes: Option<&[u8]>) -> Option<String> {
  bytes.map(|b| String::from_utf8_lossy(b).into_owned())
}

/// What a topic read returned, and why it stopped short when it did.
#[derive(Debug, Default)]
pub struct TopicRead {
  pub records: Vec<Consumed>,
  /// Set when the read ended before every partition was read to its end: the records are a part only.
  pub partial: Option<String>,
  /// With `partial`: where to continue (the next offset of each partition not read to its end).
  pub resume: Option<Vec<(i32, i64)>>,
}

/// Reads every record of `topic` from `since_ms` (or the beginning) up to the end it had when the read began,
/// holding at most `max_messages` records; a read that stops at that bound or at the timeout says so (`partial`)
/// and where to continue (`resume`), so a caller can read a topic page by page.
pub fn read_topic(config: &Config, query: &ReadQuery) -> Result<TopicRead, String> {
  let consumer: BaseConsumer<DefaultConsumerContext> = connection_config(config)
    .set("group.id", "n8n-kafka-execution-logger-tools")
    .set("enable.auto.commit", "false")
    .set("enable.partition.eof", "true")
    .create()
    .map_err(|e| format!("cannot create a consumer: {e}"))?;
  let deadline = Instant::now() + query.timeout;
  let metadata = consumer
    .fetch_metadata(Some(query.topic), query.timeout)
    .map_err(|e| format!("cannot read the metadata of {}: {e}", query.topic))?;
  let partitions: Vec<i32> = metadata
    .topics()
    .iter()
    .filter(|t| t.name() == query.topic && t.error().is_none())
    .flat_map(|t| t.partitions().iter().map(|p| p.id()))
    .collect();
  if partitions.is_empty() {
    return Err(format!("topic {} does not exist or has no partitions", query.topic));
  }
  let mut assignment = TopicPartitionList::new();
  if let Some(resume) = &query.resume {
    let partitions: Vec<i32> = resume.iter().map(|r| r.0).filter(|p| partitions.contains(p)).collect();
    for (p, offset) in resume.iter().filter(|r| partitions.contains(&r.0)) {
      assignment.add_partition_offset(query.topic, *p, Offset::from_raw(*offset)).map_err(|e| e.to_string())?;
    }
    return consume(&consumer, query, &partitions, assignment, deadline);
  }
  for p in &partitions {
    let start = query.since_ms.map_or(Offset::Beginning, Offset::Offset);
    assignment.add_partition_offset(query.topic, *p, start).map_err(|e| e.to_string())?;
  }
  if query.since_ms.is_some() {
    // With timestamps as offsets, offsets_for_times answers the first offset at or after each time.
    assignment =
      consumer.offsets_for_times(assignment, query.timeout).map_err(|e| format!("cannot seek by time: {e}"))?;
  }
  consume(&consumer, query, &partitions, assignment, deadline)
}

/// Reads the assigned partitions up to their ends, `max_messages` or the deadline.
fn consume(
  consumer: &BaseConsumer<DefaultConsumerContext>,
  query: &ReadQuery,
  partitions: &[i32],
  assignment: TopicPartitionList,
  deadline: Instant,
) -> Result<TopicRead, String> {
  if partitions.is_empty() {
    return Ok(TopicRead::default());
  }
  // The next offset of each partition: where it was assigned, then after each record read.
  let mut next: std::collections::HashMap<i32, i64> =
    assignment.elements().iter().map(|e| (e.partition(), e.offset().to_raw().unwrap_or(-2))).collect();
  consumer.assign(&assignment).map_err(|e| e.to_string())?;
  let mut done: HashSet<i32> = HashSet::new();
  let mut records = Vec::new();
  while done.len() < partitions.len() && records.len() < query.max_messages && Instant::now() < deadline {
    match consumer.poll(Duration::from_millis(100)) {
      None => {}
      Some(Err(KafkaError::PartitionEOF(p))) => drop(done.insert(p)),
      Some(Err(e)) => return Err(format!("cannot read {}: {e}", query.topic)),
      Some(Ok(m)) => {
        let timestamp = m.timestamp().to_millis();
        if query.until_ms.is_some_and(|until| timestamp.is_some_and(|t| t > until)) {
          continue;
        }
        let headers = m
          .headers()
          .map(|h| h.iter().map(|Header { key, value }| (key.to_string(), text(value).unwrap_or_default())).collect())
          .unwrap_or_default();
        next.insert(m.partition(), m.offset() + 1);
        records.push(Consumed {
          partition: m.partition(),
          offset: m.offset(),
          timestamp,
          key: text(m.key()),
          value: text(m.payload()),
          headers,
        });
      }
    }
  }
  let unread = partitions.len() - done.len();
  let partial = (unread > 0).then(|| {
    let why = if records.len() >= query.max_messages {
      format!("stopped at the limit of {} records", query.max_messages)
    } else {
      format!("timed out after {} ms", query.timeout.as_millis())
    };
    format!("{why} with {unread} of {} partitions of {} not read to their end", partitions.len(), query.topic)
  });
  let resume = partial.is_some().then(|| {
    partitions.iter().filter(|p| !done.contains(p)).map(|p| (*p, next.get(p).copied().unwrap_or(-2))).collect()
  });
  Ok(TopicRead { records, partial, resume })
}

/// A record to produce exactly as given.
pub struct Outgoing {
  pub key: Option<String>,
  pub value: String,
  pub headers: Vec<(String, String)>,
  pub timestamp: Option<i64>,
}

#[derive(Default)]
struct Tally {
  delivered: AtomicU64,
  errors: Mutex<Vec<String>>,
}

impl ClientContext for Tally {}

impl ProducerContext for Tally {
  type DeliveryOpaque = ();

  fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
    match result {
      Ok(_) => drop(self.delivered.fetch_add(1, Ordering::Relaxed)),
      Err((e, _)) => self.errors.lock().push(e.to_string()),
    }
  }
}

pub struct Produced {
  pub delivered: u64,
  pub errors: Vec<String>,
}

/// Produces `records` to `topic` (idempotent, acks=all) and waits for every delivery report or the timeout.
pub fn produce(config: &Config, topic: &str, records: &[Outgoing], timeout: Duration) -> Result<Produced, String> {
  let producer: BaseProducer<Tally> = connection_config(config)
    .set("enable.idempotence", "true")
    .set("message.timeout.ms", timeout.as_millis().max(1000).to_string())
    .create_with_context(Tally::default())
    .map_err(|e| format!("cannot create a producer: {e}"))?;
  let mut errors = Vec::new();
  for r in records {
    let mut headers = OwnedHeaders::new_with_capacity(r.headers.len());
    for (key, value) in &r.headers {
      headers = headers.insert(Header { key, value: Some(value.as_str()) });
    }
    let mut record: BaseRecord<str, str, ()> = BaseRecord::to(topic).payload(r.value.as_str()).headers(headers);
    if let Some(key) = &r.key {
      record = record.key(key.as_str());
    }
    if let Some(ts) = r.timestamp {
      record = record.timestamp(ts);
    }
    if let Err((e, _)) = producer.send(record) {
      errors.push(e.to_string());
    }
    producer.poll(Duration::ZERO);
  }
  if let Err(e) = producer.flush(timeout) {
    errors.push(format!("not all records were acknowledged within {} ms: {e}", timeout.as_millis()));
  }
  let tally = producer.context();
  errors.extend(tally.errors.lock().drain(..));
  Ok(Produced { delivered: tally.delivered.load(Ordering::Relaxed), errors })
}
