//! Execution events: the compact input taken on the JS thread, and the Segment `track` message built from it.
//!
//! The JS thread only copies the caller's fields into `ExecutionInput`; everything else (names, ids, JSON,
//! truncation) happens here, on the background thread. The format is decided in docs/message-format.md.

use std::sync::LazyLock;
use std::time::Instant;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use uuid::Uuid;

/// Segment's per-event limit is 32 KB; stay a little under it.
pub const MAX_EVENT_BYTES: usize = 32_000;
pub const LIBRARY_NAME: &str = "n8n-kafka-execution-logger";
pub const LIBRARY_VERSION: &str = env!("CARGO_PKG_VERSION");

static MESSAGE_ID_NAMESPACE: LazyLock<Uuid> =
  LazyLock::new(|| Uuid::new_v5(&Uuid::NAMESPACE_URL, b"urn:npm:n8n-kafka-execution-logger:message-id"));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodePhase {
  Started,
  Completed,
  Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
  Started,
  Resumed,
  Finished,
  Node(NodePhase),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorInput {
  pub message: Option<String>,
  pub name: Option<String>,
  pub stack: Option<String>,
  pub node_name: Option<String>,
  pub node_id: Option<String>,
  pub node_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeInput {
  pub name: String,
  pub node_type: Option<String>,
  pub id: Option<String>,
}

/// Caller-supplied extras merged into the event (built-in keys win).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
  pub dimensions: Vec<(String, String)>,
  pub metrics: Vec<(String, f64)>,
  pub flags: Vec<(String, bool)>,
}

/// What one log call accepted: the caller's fields, copied, nothing derived yet.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionInput {
  pub kind: EventKind,
  pub execution_id: String,
  pub workflow_id: String,
  pub workflow_name: Option<String>,
  pub mode: Option<String>,
  pub status: Option<String>,
  pub started_at_ms: Option<i64>,
  pub stopped_at_ms: Option<i64>,
  pub node_count: Option<f64>,
  pub retry_of: Option<String>,
  pub parent_execution_id: Option<String>,
  pub trigger_node: Option<String>,
  pub workflow_version_id: Option<String>,
  pub user_id: Option<String>,
  pub tags: Vec<String>,
  pub error: Option<Box<ErrorInput>>,
  pub node: Option<Box<NodeInput>>,
  pub extras: Option<Box<Extras>>,
  /// Wall clock when the call was accepted: the event time when the caller gave none.
  pub accepted_at_ms: i64,
  /// Monotonic acceptance time, for the delivery latency.
  pub accepted_at: Instant,
}

impl ExecutionInput {
  pub fn new(kind: EventKind, execution_id: String, workflow_id: String, accepted_at_ms: i64) -> Self {
    Self {
      kind,
      execution_id,
      workflow_id,
      workflow_name: None,
      mode: None,
      status: None,
      started_at_ms: None,
      stopped_at_ms: None,
      node_count: None,
      retry_of: None,
      parent_execution_id: None,
      trigger_node: None,
      workflow_version_id: None,
      user_id: None,
      tags: Vec::new(),
      error: None,
      node: None,
      extras: None,
      accepted_at_ms,
      accepted_at: Instant::now(),
    }
  }

  pub fn event_name(&self) -> &'static str {
    match self.kind {
      EventKind::Started => "Workflow Started",
      EventKind::Resumed => "Workflow Resumed",
      EventKind::Node(NodePhase::Started) => "Node Started",
      EventKind::Node(NodePhase::Completed) => "Node Completed",
      EventKind::Node(NodePhase::Failed) => "Node Failed",
      EventKind::Finished => match self.status.as_deref() {
        Some("success") => "Workflow Completed",
        Some("error" | "crashed") => "Workflow Failed",
        Some("canceled") => "Workflow Cancelled",
        Some("waiting") => "Workflow Waiting",
        // An unknown or missing status: the presence of an error decides.
        _ if self.error.is_some() => "Workflow Failed",
        _ => "Workflow Completed",
      },
    }
  }

  /// When the event happened: start for starts, stop for ends, the call itself for resumes.
  pub fn event_time_ms(&self) -> i64 {
    match self.kind {
      EventKind::Started | EventKind::Node(NodePhase::Started) => self.started_at_ms,
      EventKind::Finished | EventKind::Node(_) => self.stopped_at_ms,
      EventKind::Resumed => None,
    }
    .unwrap_or(self.accepted_at_ms)
  }

  fn is_end(&self) -> bool {
    matches!(self.kind, EventKind::Finished | EventKind::Node(NodePhase::Completed | NodePhase::Failed))
  }
}

/// Per-logger facts stamped on every event.
#[derive(Debug, Clone)]
pub struct EventContext {
  pub instance_id: String,
  pub instance_type: String,
  pub n8n_version: Option<String>,
  pub environment: String,
}

/// A message ready for Kafka: key, JSON value and what the headers and record timestamp need.
#[derive(Debug, Clone)]
pub struct PreparedEvent {
  pub key: String,
  pub payload: Vec<u8>,
  pub event_name: &'static str,
  pub message_id: String,
  pub event_time_ms: i64,
}

/// Deterministic: a resend of the same event carries the same id, so consumers can deduplicate.
pub fn message_id(instance_id: &str, input: &ExecutionInput) -> String {
  let node = input.node.as_ref().map_or("", |n| n.name.as_str());
  let name = format!(
    "{instance_id}\n{}\n{}\n{}\n{node}",
    input.execution_id,
    input.event_name(),
    input.event_time_ms()
  );
  Uuid::new_v5(&MESSAGE_ID_NAMESPACE, name.as_bytes()).to_string()
}

pub fn iso_millis(ms: i64) -> String {
  DateTime::<Utc>::from_timestamp_millis(ms)
    .unwrap_or(DateTime::UNIX_EPOCH)
    .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Length caps for one build; a second, tighter set guarantees the 32 KB limit.
#[derive(Clone, Copy)]
struct Limits {
  stack: usize,
  message: usize,
  text: usize,
  tags: usize,
  tag: usize,
  extras: usize,
}

const NORMAL: Limits = Limits { stack: 16_384, message: 4_096, text: 1_024, tags: 50, tag: 256, extras: 50 };
const COMPACT: Limits = Limits { stack: 2_048, message: 1_024, text: 256, tags: 20, tag: 64, extras: 10 };
/// Caps count bytes before JSON escaping, and a control character escapes to six: this last set stays under
/// the limit even when every byte does.
const MINIMAL: Limits = Limits { stack: 512, message: 256, text: 64, tags: 5, tag: 32, extras: 0 };
const TRUNCATED: &str = "…[truncated]";

fn cap(value: &str, max: usize) -> std::borrow::Cow<'_, str> {
  if value.len() <= max {
    return value.into();
  }
  let mut end = max.saturating_sub(TRUNCATED.len());
  while !value.is_char_boundary(end) {
    end -= 1;
  }
  format!("{}{TRUNCATED}", &value[..end]).into()
}

/// Context Suite keys match `^[a-z_][a-z0-9_]*$`; caller keys are folded into that form.
pub fn snake_key(key: &str) -> String {
  let mut out: String = key
    .chars()
    .take(64)
    .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' })
    .collect();
  if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
    out.insert(0, '_');
  }
  out
}

fn trigger_type(mode: &str) -> &str {
  match mode {
    "integrated" => "sub_workflow",
    "error" => "error_workflow",
    other => other,
  }
}

struct Builder<'a> {
  input: &'a ExecutionInput,
  ctx: &'a EventContext,
  limits: Limits,
  sent_at_ms: i64,
}

impl Builder<'_> {
  fn text<'s>(&self, value: &'s Option<String>) -> Option<std::borrow::Cow<'s, str>> {
    value.as_deref().map(|v| cap(v, self.limits.text))
  }

  fn extras(&self) -> Option<&Extras> {
    self.input.extras.as_deref()
  }

  fn duration_ms(&self) -> Option<i64> {
    match (self.input.started_at_ms, self.input.stopped_at_ms) {
      (Some(start), Some(stop)) if self.input.is_end() && stop >= start => stop.checked_sub(start),
      _ => None,
    }
  }

  fn is_retry(&self) -> bool {
    self.input.retry_of.is_some() || self.input.mode.as_deref() == Some("retry")
  }

  fn is_sub_execution(&self) -> bool {
    self.input.parent_execution_id.is_some() || self.input.mode.as_deref() == Some("integrated")
  }
}

/// Writes built-in entries, then caller extras whose (folded) keys are not taken yet.
fn serialize_merged<S: Serializer, V: Serialize>(
  serializer: S,
  builtin: Vec<(&str, V)>,
  extras: Option<&[(String, V)]>,
  max_extras: usize,
) -> Result<S::Ok, S::Error> {
  let mut map = serializer.serialize_map(None)?;
  let mut used: Vec<String> = builtin.iter().map(|(k, _)| k.to_string()).collect();
  for (k, v) in &builtin {
    map.serialize_entry(k, v)?;
  }
  for (k, v) in extras.unwrap_or_default().iter().take(max_extras) {
    let key = snake_key(k);
    if !used.contains(&key) {
      map.serialize_entry(&key, v)?;
      used.push(key);
    }
  }
  map.end()
}

struct Properties<'a>(&'a Builder<'a>);
struct Dimensions<'a>(&'a Builder<'a>);
struct Metrics<'a>(&'a Builder<'a>);
struct Flags<'a>(&'a Builder<'a>);
struct Involves<'a>(&'a Builder<'a>);

impl Serialize for Properties<'_> {
  fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
    let b = self.0;
    let i = b.input;
    let mut map = serializer.serialize_map(None)?;
    map.serialize_entry("workflow_id", &cap(&i.workflow_id, b.limits.text))?;
    if let Some(v) = b.text(&i.workflow_name) {
      map.serialize_entry("workflow_name", &v)?;
    }
    map.serialize_entry("execution_id", &cap(&i.execution_id, b.limits.text))?;
    if let Some(ms) = i.started_at_ms {
      map.serialize_entry("started_at", &iso_millis(ms))?;
    }
    if let (true, Some(ms)) = (i.is_end(), i.stopped_at_ms) {
      map.serialize_entry("finished_at", &iso_millis(ms))?;
    }
    let optional = [
      ("retry_of", &i.retry_of),
      ("parent_execution_id", &i.parent_execution_id),
      ("trigger_node", &i.trigger_node),
      ("workflow_version_id", &i.workflow_version_id),
    ];
    for (key, value) in optional {
      if let Some(v) = b.text(value) {
        map.serialize_entry(key, &v)?;
      }
    }
    if let Some(node) = &i.node {
      map.serialize_entry("node_name", &cap(&node.name, b.limits.text))?;
      for (key, value) in [("node_type", &node.node_type), ("node_id", &node.id)] {
        if let Some(v) = b.text(value) {
          map.serialize_entry(key, &v)?;
        }
      }
    }
    if let Some(e) = &i.error {
      if let Some(m) = &e.message {
        map.serialize_entry("error_message", &cap(m, b.limits.message))?;
      }
      if let Some(s) = &e.stack {
        map.serialize_entry("error_stack", &cap(s, b.limits.stack))?;
      }
      let node = [("error_node_name", &e.node_name), ("error_node_id", &e.node_id), ("error_node_type", &e.node_type)];
      for (key, value) in node {
        if let Some(v) = b.text(value) {
          map.serialize_entry(key, &v)?;
        }
      }
    }
    map.serialize_entry("instance_id", &b.ctx.instance_id)?;
    map.end()
  }
}

impl Serialize for Dimensions<'_> {
  fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
    let b = self.0;
    let i = b.input;
    let status = match (&i.status, i.kind) {
      (Some(s), _) => Some(cap(s, b.limits.text)),
      (None, EventKind::Started | EventKind::Resumed) => Some("running".into()),
      (None, _) => None,
    };
    let mut builtin = vec![
      ("execution_mode", i.mode.as_deref().map(|m| cap(m, b.limits.text))),
      ("status", status),
      ("trigger_type", i.mode.as_deref().map(|m| cap(trigger_type(m), b.limits.text))),
      ("workflow_name", b.text(&i.workflow_name)),
      ("n8n_version", b.text(&b.ctx.n8n_version)),
      ("instance_type", Some(b.ctx.instance_type.as_str().into())),
      ("environment", Some(b.ctx.environment.as_str().into())),
    ];
    if i.error.is_some() || b.input.event_name() == "Workflow Failed" {
      let error_type = i.error.as_ref().and_then(|e| e.name.as_deref()).unwrap_or("Error");
      builtin.push(("error_type", Some(cap(error_type, b.limits.text))));
    }
    let builtin: Vec<(&str, String)> =
      builtin.into_iter().filter_map(|(k, v)| v.map(|v| (k, v.into_owned()))).collect();
    let extras: Option<Vec<(String, String)>> = b.extras().map(|e| {
      e.dimensions.iter().map(|(k, v)| (k.clone(), cap(v, b.limits.text).into_owned())).collect()
    });
    serialize_merged(serializer, builtin, extras.as_deref(), b.limits.extras)
  }
}

impl Serialize for Metrics<'_> {
  fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
    let b = self.0;
    let mut builtin: Vec<(&str, f64)> = Vec::new();
    if let Some(d) = b.duration_ms() {
      builtin.push(("duration_ms", d as f64));
    }
    if let Some(n) = b.input.node_count {
      builtin.push(("node_count", n));
    }
    serialize_merged(serializer, builtin, b.extras().map(|e| e.metrics.as_slice()), b.limits.extras)
  }
}

impl Serialize for Flags<'_> {
  fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
    let b = self.0;
    let builtin = vec![
      ("is_manual_execution", b.input.mode.as_deref() == Some("manual")),
      ("is_retry", b.is_retry()),
      ("is_sub_execution", b.is_sub_execution()),
    ];
    serialize_merged(serializer, builtin, b.extras().map(|e| e.flags.as_slice()), b.limits.extras)
  }
}

#[derive(Serialize)]
struct Involved<'a> {
  role: &'static str,
  entity_type: &'static str,
  id: std::borrow::Cow<'a, str>,
  id_type: &'static str,
  #[serde(skip_serializing_if = "Option::is_none")]
  label: Option<std::borrow::Cow<'a, str>>,
}

fn involved<'a>(role: &'static str, entity_type: &'static str, id: &'a str, max: usize) -> Involved<'a> {
  Involved { role, entity_type, id: cap(id, max), id_type: "n8n", label: None }
}

impl Serialize for Involves<'_> {
  fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
    let b = self.0;
    let i = b.input;
    let entry = |role, entity_type, id| involved(role, entity_type, id, b.limits.text);
    let mut list = vec![
      entry("WorkflowExecution", "WorkflowExecution", &i.execution_id),
      Involved { label: b.text(&i.workflow_name), ..entry("Workflow", "Workflow", &i.workflow_id) },
    ];
    if let Some(id) = &i.retry_of {
      list.push(entry("RetryOf", "WorkflowExecution", id));
    }
    if let Some(id) = &i.parent_execution_id {
      list.push(entry("Parent", "WorkflowExecution", id));
    }
    if let Some(id) = &i.user_id {
      list.push(entry("Initiator", "Person", id));
    }
    serializer.collect_seq(list)
  }
}

#[derive(Serialize)]
struct App<'a> {
  name: &'static str,
  #[serde(skip_serializing_if = "Option::is_none")]
  version: Option<&'a str>,
}

#[derive(Serialize)]
struct Library {
  name: &'static str,
  version: &'static str,
}

#[derive(Serialize)]
struct Context<'a> {
  app: App<'a>,
  library: Library,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Track<'a> {
  #[serde(rename = "type")]
  kind: &'static str,
  event: &'static str,
  message_id: &'a str,
  timestamp: String,
  sent_at: String,
  #[serde(skip_serializing_if = "Option::is_none")]
  user_id: Option<std::borrow::Cow<'a, str>>,
  #[serde(skip_serializing_if = "Option::is_none")]
  anonymous_id: Option<&'a str>,
  properties: Properties<'a>,
  dimensions: Dimensions<'a>,
  metrics: Metrics<'a>,
  flags: Flags<'a>,
  tags: Vec<std::borrow::Cow<'a, str>>,
  involves: Involves<'a>,
  context: Context<'a>,
}

fn serialize(builder: &Builder<'_>, message_id: &str) -> Vec<u8> {
  let i = builder.input;
  let user_id = builder.text(&i.user_id);
  let track = Track {
    kind: "track",
    event: i.event_name(),
    message_id,
    timestamp: iso_millis(i.event_time_ms()),
    sent_at: iso_millis(builder.sent_at_ms),
    anonymous_id: user_id.is_none().then_some(builder.ctx.instance_id.as_str()),
    user_id,
    properties: Properties(builder),
    dimensions: Dimensions(builder),
    metrics: Metrics(builder),
    flags: Flags(builder),
    tags: i.tags.iter().take(builder.limits.tags).map(|t| cap(t, builder.limits.tag)).collect(),
    involves: Involves(builder),
    context: Context {
      app: App { name: "n8n", version: builder.ctx.n8n_version.as_deref() },
      library: Library { name: LIBRARY_NAME, version: LIBRARY_VERSION },
    },
  };
  serde_json::to_vec(&track).expect("serializing plain strings and finite numbers cannot fail")
}

/// Builds the Kafka message for one accepted input; `sent_at_ms` is the moment it is handed to Kafka.
pub fn prepare(input: &ExecutionInput, ctx: &EventContext, sent_at_ms: i64) -> PreparedEvent {
  let message_id = message_id(&ctx.instance_id, input);
  let mut builder = Builder { input, ctx, limits: NORMAL, sent_at_ms };
  let mut payload = serialize(&builder, &message_id);
  for limits in [COMPACT, MINIMAL] {
    if payload.len() <= MAX_EVENT_BYTES {
      break;
    }
    builder.limits = limits;
    payload = serialize(&builder, &message_id);
  }
  PreparedEvent {
    key: input.execution_id.clone(),
    payload,
    event_name: input.event_name(),
    message_id,
    event_time_ms: input.event_time_ms(),
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use serde_json::Value;

  fn ctx() -> EventContext {
    EventContext {
      instance_id: "inst-1".into(),
      instance_type: "main".into(),
      n8n_version: Some("2.8.4".into()),
      environment: "test".into(),
    }
  }

  fn finished(status: &str) -> ExecutionInput {
    let mut i = ExecutionInput::new(EventKind::Finished, "42".into(), "wf-1".into(), 1_700_000_009_000);
    i.status = Some(status.into());
    i.mode = Some("webhook".into());
    i.workflow_name = Some("My flow".into());
    i.started_at_ms = Some(1_700_000_000_000);
    i.stopped_at_ms = Some(1_700_000_001_500);
    i
  }

  fn json(input: &ExecutionInput) -> Value {
    serde_json::from_slice(&prepare(input, &ctx(), 1_700_000_002_000).payload).unwrap()
  }

  #[test]
  fn event_names_follow_the_status() {
    for (status, name) in [
      ("success", "Workflow Completed"),
      ("error", "Workflow Failed"),
      ("crashed", "Workflow Failed"),
      ("canceled", "Workflow Cancelled"),
      ("waiting", "Workflow Waiting"),
      ("unknown", "Workflow Completed"),
    ] {
      assert_eq!(finished(status).event_name(), name, "{status}");
    }
  }

  #[test]
  fn a_finished_event_carries_times_duration_and_context_suite_fields() {
    let v = json(&finished("success"));
    assert_eq!(v["type"], "track");
    assert_eq!(v["event"], "Workflow Completed");
    assert_eq!(v["timestamp"], "2023-11-14T22:13:21.500Z");
    assert_eq!(v["sentAt"], "2023-11-14T22:13:22.000Z");
    assert_eq!(v["anonymousId"], "inst-1");
    assert!(v.get("userId").is_none());
    assert_eq!(v["properties"]["started_at"], "2023-11-14T22:13:20.000Z");
    assert_eq!(v["properties"]["finished_at"], "2023-11-14T22:13:21.500Z");
    assert_eq!(v["metrics"]["duration_ms"], 1500.0);
    assert_eq!(v["dimensions"]["trigger_type"], "webhook");
    assert_eq!(v["dimensions"]["status"], "success");
    assert_eq!(v["flags"]["is_retry"], false);
    assert_eq!(v["involves"][1]["label"], "My flow");
    assert_eq!(v["context"]["library"]["name"], LIBRARY_NAME);
    assert_eq!(v["context"]["app"]["version"], "2.8.4");
  }

  #[test]
  fn message_ids_are_deterministic_per_event() {
    let a = prepare(&finished("success"), &ctx(), 1);
    let b = prepare(&finished("success"), &ctx(), 2);
    assert_eq!(a.message_id, b.message_id);
    let mut started = finished("success");
    started.kind = EventKind::Started;
    assert_ne!(prepare(&started, &ctx(), 1).message_id, a.message_id);
  }

  #[test]
  fn retries_users_and_parents_are_linked() {
    let mut i = finished("error");
    i.retry_of = Some("41".into());
    i.parent_execution_id = Some("7".into());
    i.user_id = Some("user-9".into());
    i.error = Some(Box::new(ErrorInput { name: Some("NodeOperationError".into()), ..Default::default() }));
    let v = json(&i);
    assert_eq!(v["userId"], "user-9");
    assert!(v.get("anonymousId").is_none());
    assert_eq!(v["flags"]["is_retry"], true);
    assert_eq!(v["flags"]["is_sub_execution"], true);
    assert_eq!(v["dimensions"]["error_type"], "NodeOperationError");
    let roles: Vec<&str> = v["involves"].as_array().unwrap().iter().map(|e| e["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["WorkflowExecution", "Workflow", "RetryOf", "Parent", "Initiator"]);
  }

  #[test]
  fn huge_fields_are_truncated_under_32kb() {
    let mut i = finished("error");
    i.error = Some(Box::new(ErrorInput {
      message: Some("m".repeat(100_000)),
      stack: Some("é".repeat(200_000)),
      ..Default::default()
    }));
    i.tags = vec!["t".repeat(10_000); 500];
    i.workflow_name = Some("ü".repeat(50_000));
    i.extras = Some(Box::new(Extras {
      dimensions: (0..500).map(|n| (format!("Key {n}"), "v".repeat(5_000))).collect(),
      ..Default::default()
    }));
    let event = prepare(&i, &ctx(), 0);
    assert!(event.payload.len() < MAX_EVENT_BYTES, "{}", event.payload.len());
    let v: Value = serde_json::from_slice(&event.payload).unwrap();
    assert!(v["properties"]["error_stack"].as_str().unwrap().ends_with(TRUNCATED));
  }

  #[test]
  fn control_characters_that_escape_to_six_bytes_still_fit() {
    let ansi = "\u{1}\u{1b}[31m".repeat(20_000);
    let mut i = finished("error");
    i.error = Some(Box::new(ErrorInput { message: Some(ansi.clone()), stack: Some(ansi.clone()), ..Default::default() }));
    i.workflow_name = Some(ansi.clone());
    i.tags = vec![ansi.clone(); 100];
    i.trigger_node = Some(ansi.clone());
    i.retry_of = Some(ansi.clone());
    i.extras = Some(Box::new(Extras { dimensions: (0..100).map(|n| (format!("k{n}"), ansi.clone())).collect(), ..Default::default() }));
    let event = prepare(&i, &ctx(), 0);
    assert!(event.payload.len() < MAX_EVENT_BYTES, "{}", event.payload.len());
  }

  #[test]
  fn far_apart_times_do_not_overflow_the_duration() {
    let mut i = finished("success");
    i.started_at_ms = Some(i64::MIN);
    i.stopped_at_ms = Some(i64::MAX);
    assert!(json(&i)["metrics"].get("duration_ms").is_none());
  }

  #[test]
  fn extras_are_merged_with_snake_case_keys_and_never_override_builtins() {
    let mut i = finished("success");
    i.extras = Some(Box::new(Extras {
      dimensions: vec![("Region Name".into(), "eu".into()), ("status".into(), "hacked".into())],
      metrics: vec![("9lives".into(), 9.0)],
      flags: vec![("is-beta".into(), true)],
    }));
    let v = json(&i);
    assert_eq!(v["dimensions"]["region_name"], "eu");
    assert_eq!(v["dimensions"]["status"], "success");
    assert_eq!(v["metrics"]["_9lives"], 9.0);
    assert_eq!(v["flags"]["is_beta"], true);
  }

  #[test]
  fn unknown_fields_are_omitted_never_null() {
    let i = ExecutionInput::new(EventKind::Started, "1".into(), "w".into(), 0);
    let text = String::from_utf8(prepare(&i, &ctx(), 0).payload).unwrap();
    assert!(!text.contains("null"), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["dimensions"]["status"], "running");
    assert!(v["properties"].get("finished_at").is_none());
    assert!(v["metrics"].get("duration_ms").is_none());
  }
}
