//! Writes one event: the Segment `track` message of docs/message-format.md, built from an accepted input.
//!
//! The JS thread only copies the caller's fields into `ExecutionInput`; everything else (names, ids, JSON,
//! truncation) happens here, on the background thread.

use super::context::EventContext;
use super::error_text::ErrorText;
use super::ids::message_id;
use super::input::{EventKind, ExecutionInput};
use super::json::Json;
use crate::record::Message;

/// Segment's per-event limit is 32 KB; stay a little under it.
pub const MAX_EVENT_BYTES: usize = 32_000;

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

/// Context Suite keys match `^[a-z_][a-z0-9_]*$`; caller keys are folded into that form.
pub fn snake_key(key: &str) -> String {
  let mut out: String =
    key.chars().take(64).map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
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

/// The fork's trigger_type (its `determineTriggerType`): manual, webhook and cli from the mode; else from the
/// workflow's first node whose type contains `trigger` or `Trigger`: `schedule` when that type contains `cron` or
/// `schedule` (`n8n-nodes-base.scheduleTrigger`), `webhook` when it contains `webhook`, else `trigger`; with no
/// such node, the mode. The legacy Cron node (`n8n-nodes-base.cron`) has no `trigger` in its type, so its runs
/// read the mode (`trigger`), as they did in the fork. Here that node is the one that started the run, whose
/// type the n8n adapters pass; a caller that names the node without its type gets `trigger`.
fn fork_trigger_type<'a>(mode: &'a str, trigger_node: Option<&str>, trigger_node_type: Option<&str>) -> &'a str {
  match (mode, trigger_node_type) {
    ("manual" | "webhook" | "cli", _) => mode,
    (_, Some(t)) if t.contains("trigger") || t.contains("Trigger") => {
      if t.contains("cron") || t.contains("schedule") {
        "schedule"
      } else if t.contains("webhook") {
        "webhook"
      } else {
        "trigger"
      }
    }
    (_, Some(_)) => mode,
    (_, None) if trigger_node.is_some() => "trigger",
    (_, None) => mode,
  }
}

/// The fork's status spellings: `cancelled` with two l, `crashed` reported as `error`.
fn fork_status(status: &str) -> &str {
  match status {
    "canceled" => "cancelled",
    "crashed" => "error",
    other => other,
  }
}

/// Writes one event: the message format of docs/message-format.md, in a fixed key order.
struct Builder<'a> {
  input: &'a ExecutionInput,
  ctx: &'a EventContext,
  /// The error's text after ERROR_DETAIL and REDACT, worked out once for every attempt at a size.
  error: &'a ErrorText<'a>,
  limits: Limits,
  sent_at_ms: i64,
  json: Json,
}

impl Builder<'_> {
  /// `"key":"value"` with the value capped at the text limit, when there is a value.
  fn text(&mut self, key: &str, value: Option<&str>) {
    if let Some(v) = value {
      self.json.key(key);
      self.json.capped(v, self.limits.text);
    }
  }

  fn duration_ms(&self) -> Option<i64> {
    match (self.input.started_at_ms, self.input.stopped_at_ms) {
      (Some(start), Some(stop)) if self.input.is_end() && stop >= start => stop.checked_sub(start),
      _ => None,
    }
  }

  fn write(&mut self, message_id: &str) {
    let i = self.input;
    self.json.begin_object();
    self.json.key("type");
    self.json.string("track");
    self.json.key("event");
    self.json.string(i.event_name());
    self.json.key("messageId");
    self.json.string(message_id);
    self.json.key("timestamp");
    self.json.time(i.event_time_ms());
    self.json.key("sentAt");
    self.json.time(self.sent_at_ms);
    self.text("userId", i.user_id.as_deref());
    // The fork wrote an anonymousId on every event (it never knew the user).
    if i.user_id.is_none() || self.ctx.fork {
      self.json.key("anonymousId");
      self.json.string(&self.ctx.instance_id);
    }
    self.json.key("properties");
    self.properties();
    self.json.key("dimensions");
    self.dimensions();
    self.json.key("metrics");
    self.metrics();
    self.json.key("flags");
    self.flags();
    self.json.key("tags");
    self.json.begin_array();
    for tag in i.tags.iter().take(self.limits.tags) {
      self.json.element();
      self.json.capped(tag, self.limits.tag);
    }
    self.json.end_array();
    self.json.key("involves");
    self.involves();
    self.json.key("context");
    if self.ctx.fork {
      self.fork_context();
    } else {
      self.json.encoded(&self.ctx.context_json);
    }
    self.json.end_object();
  }

  /// The current context without its closing brace, then the fork's `instance` and `n8n` objects.
  fn fork_context(&mut self) {
    let ctx = self.ctx;
    self.json.encoded(&ctx.context_json[..ctx.context_json.len() - 1]);
    self.json.key("instance");
    self.json.begin_object();
    self.json.key("id");
    self.json.string(&ctx.instance_id);
    self.json.key("type");
    self.json.string(&ctx.instance_type);
    self.json.end_object();
    self.json.key("n8n");
    self.json.begin_object();
    self.text("execution_mode", self.input.mode.as_deref());
    self.json.key("instance_type");
    self.json.string(&ctx.instance_type);
    self.json.end_object();
    self.json.end_object();
  }

  fn properties(&mut self) {
    let i = self.input;
    self.json.begin_object();
    self.text("workflow_id", Some(&i.workflow_id));
    self.text("workflow_name", i.workflow_name.as_deref());
    self.text("execution_id", Some(&i.execution_id));
    if let Some(ms) = i.started_at_ms {
      self.json.key("started_at");
      self.json.time(ms);
    }
    if let (true, Some(ms)) = (i.is_end(), i.stopped_at_ms) {
      self.json.key("finished_at");
      self.json.time(ms);
    }
    self.text("retry_of", i.retry_of.as_deref());
    self.text("parent_execution_id", i.parent_execution_id.as_deref());
    self.text("trigger_node", i.trigger_node.as_deref());
    self.text("workflow_version_id", i.workflow_version_id.as_deref());
    if self.ctx.fork {
      self.text("workflow_version", i.workflow_version_id.as_deref());
    }
    if let Some(node) = &i.node {
      self.text("node_name", Some(&node.name));
      self.text("node_type", node.node_type.as_deref());
      self.text("node_id", node.id.as_deref());
      if let Some(run) = node.run_index {
        self.json.key("node_run_index");
        self.json.int(run.into());
      }
    }
    if let Some(e) = &i.error {
      let text = self.error;
      if let Some(m) = text.message.as_deref() {
        self.json.key("error_message");
        self.json.capped(m, self.limits.message);
      }
      if let Some(s) = text.stack.as_deref() {
        self.json.key("error_stack");
        self.json.capped(s, self.limits.stack);
      }
      self.text("error_node_name", e.node_name.as_deref());
      self.text("error_node_id", e.node_id.as_deref());
      self.text("error_node_type", e.node_type.as_deref());
    }
    self.json.key("instance_id");
    self.json.string(&self.ctx.instance_id);
    self.json.end_object();
  }

  fn dimensions(&mut self) {
    let i = self.input;
    let fork = self.ctx.fork;
    // n8n's own `unknown` (it could not tell) is left out like a missing status.
    let status = match (i.status.as_deref(), i.kind) {
      // The fork's end events always carried a status: here the one the event name stands for.
      (Some("unknown") | None, EventKind::Finished) if fork => {
        Some(if i.event_name() == "Workflow Failed" { "error" } else { "success" })
      }
      (Some("unknown"), _) => None,
      (Some(s), _) if fork => Some(fork_status(s)),
      (Some(s), _) => Some(s),
      (None, EventKind::Started | EventKind::Resumed) => Some("running"),
      (None, _) => None,
    };
    let error_name = self.error.name.as_deref();
    let error_type = (i.error.is_some() || i.event_name() == "Workflow Failed").then(|| error_name.unwrap_or("Error"));
    let mode = i.mode.as_deref();
    let trigger = match mode {
      Some(m) if fork => Some(fork_trigger_type(m, i.trigger_node.as_deref(), i.trigger_node_type.as_deref())),
      m => m.map(trigger_type),
    };
    let builtin = [
      ("execution_mode", mode),
      ("status", status),
      ("trigger_type", trigger),
      ("workflow_name", i.workflow_name.as_deref()),
      ("n8n_version", self.ctx.n8n_version.as_deref()),
    ];
    self.json.begin_object();
    for (key, value) in builtin {
      self.text(key, value);
    }
    self.json.key("instance_type");
    self.json.string(&self.ctx.instance_type);
    self.json.key("environment");
    self.json.string(&self.ctx.environment);
    self.text("error_type", error_type);
    let version = self.ctx.n8n_version.as_deref().filter(|_| fork);
    self.text("version", version);
    if let Some(extras) = i.extras.as_deref() {
      let taken = [
        ("execution_mode", mode.is_some()),
        ("status", status.is_some()),
        ("trigger_type", mode.is_some()),
        ("workflow_name", i.workflow_name.is_some()),
        ("n8n_version", self.ctx.n8n_version.is_some()),
        ("instance_type", true),
        ("environment", true),
        ("error_type", error_type.is_some()),
        ("version", version.is_some()),
      ];
      let text = self.limits.text;
      self.merge(&taken, &extras.dimensions, |json, v| json.capped(v, text));
    }
    self.json.end_object();
  }

  fn metrics(&mut self) {
    let duration = self.duration_ms();
    let node_count = self.input.node_count;
    self.json.begin_object();
    if let Some(d) = duration {
      self.json.key("duration_ms");
      self.json.int(d);
    }
    if let Some(n) = node_count {
      self.json.key("node_count");
      self.json.number(n);
    }
    if let Some(extras) = self.input.extras.as_deref() {
      let taken = [("duration_ms", duration.is_some()), ("node_count", node_count.is_some())];
      self.merge(&taken, &extras.metrics, |json, v| json.number(*v));
    }
    self.json.end_object();
  }

  fn flags(&mut self) {
    let i = self.input;
    let mode = i.mode.as_deref();
    let builtin = [
      ("is_manual_execution", mode == Some("manual")),
      ("is_retry", i.retry_of.is_some() || mode == Some("retry")),
      ("is_sub_execution", i.parent_execution_id.is_some() || mode == Some("integrated")),
    ];
    self.json.begin_object();
    for (key, value) in builtin {
      self.json.key(key);
      self.json.bool(value);
    }
    if let Some(extras) = i.extras.as_deref() {
      self.merge(&builtin.map(|(k, _)| (k, true)), &extras.flags, |json, v| json.bool(*v));
    }
    self.json.end_object();
  }

  /// Caller extras after the built-in entries: keys folded to snake case, the first of each key kept, and none
  /// that a built-in entry present in `taken` already has.
  fn merge<V>(&mut self, taken: &[(&str, bool)], extras: &[(String, V)], write: impl Fn(&mut Json, &V)) {
    let mut used: Vec<String> = Vec::new();
    for (k, v) in extras.iter().take(self.limits.extras) {
      let key = snake_key(k);
      if taken.iter().any(|(t, present)| *present && *t == key) || used.contains(&key) {
        continue;
      }
      self.json.key(&key);
      write(&mut self.json, v);
      used.push(key);
    }
  }

  fn involves(&mut self) {
    let i = self.input;
    let mut entries = vec![
      ("WorkflowExecution", "WorkflowExecution", i.execution_id.as_str(), None),
      ("Workflow", "Workflow", i.workflow_id.as_str(), i.workflow_name.as_deref()),
    ];
    entries.extend(i.retry_of.as_deref().map(|id| ("RetryOf", "WorkflowExecution", id, None)));
    entries.extend(i.parent_execution_id.as_deref().map(|id| ("Parent", "WorkflowExecution", id, None)));
    entries.extend(i.user_id.as_deref().map(|id| ("Initiator", "Person", id, None)));
    self.json.begin_array();
    for (role, entity_type, id, label) in entries {
      self.json.element();
      self.json.begin_object();
      self.json.key("role");
      self.json.string(role);
      self.json.key("entity_type");
      self.json.string(entity_type);
      self.text("id", Some(id));
      self.json.key("id_type");
      self.json.string("n8n");
      self.text("label", label);
      self.json.end_object();
    }
    self.json.end_array();
  }
}

/// Room for a typical event (~1.4 KB) in one allocation.
const PAYLOAD_CAPACITY: usize = 2_048;

/// Builds the Kafka message for one accepted input; `sent_at_ms` is the moment it is handed to Kafka.
pub fn prepare(input: &ExecutionInput, ctx: &EventContext, sent_at_ms: i64) -> Message {
  let message_id = message_id(&ctx.instance_id, input);
  let error = ErrorText::of(input.error.as_deref(), ctx);
  let json = Json::with_capacity(PAYLOAD_CAPACITY);
  let mut builder = Builder { input, ctx, error: &error, limits: NORMAL, sent_at_ms, json };
  builder.write(&message_id);
  for limits in [COMPACT, MINIMAL] {
    if builder.json.out.len() <= MAX_EVENT_BYTES {
      break;
    }
    builder.limits = limits;
    builder.json.out.clear();
    builder.write(&message_id);
  }
  Message {
    key: if ctx.key_by_message { message_id.clone() } else { input.execution_id.clone() },
    payload: builder.json.out,
    event_name: input.event_name(),
    message_id,
    event_time_ms: input.event_time_ms(),
  }
}

#[cfg(test)]
mod tests {
  use std::time::Instant;

  use super::*;
  use crate::event::input::NodePhase;
  use crate::event::json::TRUNCATED;
  use crate::event::{ErrorInput, Extras, LIBRARY_NAME, LIBRARY_VERSION};
  use serde_json::Value;

  fn ctx() -> EventContext {
    EventContext::new("inst-1".into(), "main".into(), Some("2.8.4".into()), "test".into())
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
  fn every_event_name_is_known_when_read_back_from_disk() {
    let mut inputs: Vec<ExecutionInput> =
      ["success", "error", "canceled", "waiting"].iter().map(|status| finished(status)).collect();
    for kind in [
      EventKind::Started,
      EventKind::Resumed,
      EventKind::Node(NodePhase::Started),
      EventKind::Node(NodePhase::Completed),
      EventKind::Node(NodePhase::Failed),
    ] {
      inputs.push(ExecutionInput::new(kind, "42".into(), "wf-1".into(), 1_700_000_009_000));
    }
    for input in inputs {
      let name = input.event_name();
      assert_eq!(crate::record::known_event_name(name), name);
    }
    assert_eq!(crate::record::known_event_name("Workflow Exploded"), "Workflow Event");
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
    assert!(v["metrics"]["duration_ms"].is_u64(), "{}", v["metrics"]);
    assert_eq!(v["metrics"]["duration_ms"], 1500);
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
  fn a_node_event_shows_its_run_index_only_when_given() {
    let mut i = finished("success");
    i.kind = EventKind::Node(crate::event::NodePhase::Completed);
    i.node = Some(Box::new(crate::event::NodeInput { name: "Loop".into(), run_index: Some(2), ..Default::default() }));
    for v in [json(&i), fork_json(&i)] {
      assert_eq!(v["properties"]["node_run_index"].as_u64(), Some(2), "{}", v["properties"]);
    }
    let first = prepare(&i, &ctx(), 1).message_id;
    i.node.as_mut().unwrap().run_index = None;
    assert!(json(&i)["properties"].get("node_run_index").is_none());
    assert_ne!(prepare(&i, &ctx(), 1).message_id, first);
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
    i.error =
      Some(Box::new(ErrorInput { message: Some(ansi.clone()), stack: Some(ansi.clone()), ..Default::default() }));
    i.workflow_name = Some(ansi.clone());
    i.tags = vec![ansi.clone(); 100];
    i.trigger_node = Some(ansi.clone());
    i.retry_of = Some(ansi.clone());
    i.extras = Some(Box::new(Extras {
      dimensions: (0..100).map(|n| (format!("k{n}"), ansi.clone())).collect(),
      ..Default::default()
    }));
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
    assert_eq!(v["metrics"]["_9lives"].as_u64(), Some(9));
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

  #[test]
  fn the_payload_bytes_are_pinned() {
    // Key order, escaping and number format as the serde-based builder wrote them before json.rs replaced it.
    let mut i = finished("error");
    i.workflow_name = Some("My \"flow\"\n".into());
    i.node_count = Some(7.0);
    i.tags = vec!["a".into(), "é".into()];
    i.user_id = Some("u-1".into());
    i.error = Some(Box::new(ErrorInput {
      message: Some("boom\u{1}".into()),
      name: Some("NodeOperationError".into()),
      ..Default::default()
    }));
    let expected = r#"{"type":"track","event":"Workflow Failed","messageId":"cb13d01d-1b5b-5193-9e2f-15958a19766a","timestamp":"2023-11-14T22:13:21.500Z","sentAt":"2023-11-14T22:13:22.000Z","userId":"u-1","properties":{"workflow_id":"wf-1","workflow_name":"My \"flow\"\n","execution_id":"42","started_at":"2023-11-14T22:13:20.000Z","finished_at":"2023-11-14T22:13:21.500Z","error_message":"boom\u0001","instance_id":"inst-1"},"dimensions":{"execution_mode":"webhook","status":"error","trigger_type":"webhook","workflow_name":"My \"flow\"\n","n8n_version":"2.8.4","instance_type":"main","environment":"test","error_type":"NodeOperationError"},"metrics":{"duration_ms":1500,"node_count":7},"flags":{"is_manual_execution":false,"is_retry":false,"is_sub_execution":false},"tags":["a","é"],"involves":[{"role":"WorkflowExecution","entity_type":"WorkflowExecution","id":"42","id_type":"n8n"},{"role":"Workflow","entity_type":"Workflow","id":"wf-1","id_type":"n8n","label":"My \"flow\"\n"},{"role":"Initiator","entity_type":"Person","id":"u-1","id_type":"n8n"}],"context":{"app":{"name":"n8n","version":"2.8.4"},"library":{"name":"n8n-kafka-execution-logger","version":"VERSION"}}}"#;
    let payload = prepare(&i, &ctx(), 1_700_000_002_000).payload;
    assert_eq!(String::from_utf8(payload).unwrap(), expected.replace("VERSION", LIBRARY_VERSION));
  }

  fn fork_ctx() -> EventContext {
    ctx().with_format(true, false)
  }

  fn fork_json(input: &ExecutionInput) -> Value {
    serde_json::from_slice(&prepare(input, &fork_ctx(), 1_700_000_002_000).payload).unwrap()
  }

  #[test]
  fn fork_format_adds_the_forks_fields_beside_the_current_ones() {
    let mut i = finished("canceled");
    i.workflow_version_id = Some("v-7".into());
    i.node_count = Some(3.0);
    i.user_id = Some("user-9".into());
    let v = fork_json(&i);
    assert_eq!((&v["userId"], &v["anonymousId"]), (&"user-9".into(), &"inst-1".into()));
    assert_eq!(v["event"], "Workflow Cancelled");
    assert_eq!(v["dimensions"]["status"], "cancelled");
    assert_eq!(v["dimensions"]["version"], "2.8.4");
    assert_eq!(v["dimensions"]["n8n_version"], "2.8.4");
    assert_eq!(v["properties"]["workflow_version"], "v-7");
    assert_eq!(v["properties"]["workflow_version_id"], "v-7");
    assert_eq!(v["context"]["instance"], serde_json::json!({ "id": "inst-1", "type": "main" }));
    assert_eq!(v["context"]["n8n"], serde_json::json!({ "execution_mode": "webhook", "instance_type": "main" }));
    assert_eq!(v["context"]["library"]["name"], LIBRARY_NAME);
    assert_eq!(v["metrics"]["node_count"].as_u64(), Some(3));
    // Values stay right: event time, stable id, the duration the fork never filled.
    assert_eq!(v["timestamp"], "2023-11-14T22:13:21.500Z");
    assert_eq!(v["messageId"], json(&i)["messageId"]);
    assert_eq!(v["metrics"]["duration_ms"], 1500);
    assert_eq!(fork_json(&finished("crashed"))["dimensions"]["status"], "error");
    assert_eq!(fork_json(&finished("waiting"))["dimensions"]["status"], "waiting");
    assert_eq!(fork_json(&finished("waiting"))["event"], "Workflow Waiting");
  }

  #[test]
  fn fork_trigger_types_follow_the_forks_mode_rules() {
    let mut i = finished("success");
    for (mode, trigger_node, expected) in [
      ("manual", Some("When clicking"), "manual"),
      ("webhook", Some("Webhook"), "webhook"),
      ("cli", None, "cli"),
      ("trigger", Some("Every hour"), "trigger"),
      ("integrated", Some("Execute Workflow Trigger"), "trigger"),
      ("retry", None, "retry"),
    ] {
      i.mode = Some(mode.into());
      i.trigger_node = trigger_node.map(str::to_string);
      assert_eq!(fork_json(&i)["dimensions"]["trigger_type"], expected, "{mode}");
    }
    i.mode = Some("integrated".into());
    assert_eq!(json(&i)["dimensions"]["trigger_type"], "sub_workflow");
  }

  #[test]
  fn fork_trigger_types_follow_the_forks_node_type_rules() {
    let mut i = finished("success");
    for (mode, node_type, expected) in [
      ("trigger", "n8n-nodes-base.scheduleTrigger", "schedule"),
      // The legacy Cron node: no `trigger` in its type, so the fork never took it for a trigger node.
      ("trigger", "n8n-nodes-base.cron", "trigger"),
      ("trigger", "n8n-nodes-base.rabbitmqTrigger", "trigger"),
      ("integrated", "n8n-nodes-base.executeWorkflowTrigger", "trigger"),
      ("error", "n8n-nodes-base.errorTrigger", "trigger"),
      // The fork's substring rule as written, on made-up types: cron before webhook, either only on a trigger type.
      ("trigger", "example.cronWebhookTrigger", "schedule"),
      ("trigger", "example.webhookTrigger", "webhook"),
      ("retry", "n8n-nodes-base.webhook", "retry"),
      // The mode decides first.
      ("manual", "n8n-nodes-base.scheduleTrigger", "manual"),
      ("webhook", "n8n-nodes-base.webhook", "webhook"),
      ("cli", "n8n-nodes-base.scheduleTrigger", "cli"),
    ] {
      i.mode = Some(mode.into());
      i.trigger_node = Some("Start".into());
      i.trigger_node_type = Some(node_type.into());
      assert_eq!(fork_json(&i)["dimensions"]["trigger_type"], expected, "{mode} {node_type}");
    }
    // No type: a named trigger node reads `trigger`, no node the mode.
    i.mode = Some("trigger".into());
    i.trigger_node_type = None;
    assert_eq!(fork_json(&i)["dimensions"]["trigger_type"], "trigger");
    i.mode = Some("retry".into());
    i.trigger_node = None;
    assert_eq!(fork_json(&i)["dimensions"]["trigger_type"], "retry");
  }

  #[test]
  fn the_current_format_does_not_publish_the_trigger_node_type() {
    let mut i = finished("success");
    i.mode = Some("trigger".into());
    i.trigger_node = Some("Every hour".into());
    let without = prepare(&i, &ctx(), 0).payload;
    i.trigger_node_type = Some("n8n-nodes-base.scheduleTrigger".into());
    assert_eq!(prepare(&i, &ctx(), 0).payload, without);
    assert_eq!(fork_json(&i)["dimensions"]["trigger_type"], "schedule");
    assert!(!String::from_utf8(prepare(&i, &fork_ctx(), 0).payload).unwrap().contains("scheduleTrigger"));
  }

  #[test]
  fn an_unknown_status_is_omitted_and_fork_end_events_always_carry_one() {
    assert!(json(&finished("unknown"))["dimensions"].get("status").is_none());
    let mut i = finished("unknown");
    assert_eq!(fork_json(&i)["dimensions"]["status"], "success");
    i.error = Some(Box::default());
    assert_eq!(fork_json(&i)["event"], "Workflow Failed");
    assert_eq!(fork_json(&i)["dimensions"]["status"], "error");
    i.kind = EventKind::Started;
    i.status = None;
    assert_eq!(fork_json(&i)["dimensions"]["status"], "running");
  }

  #[test]
  fn fork_format_never_writes_a_key_twice() {
    let mut i = finished("success");
    i.extras = Some(Box::new(Extras { dimensions: vec![("version".into(), "caller".into())], ..Default::default() }));
    let text = String::from_utf8(prepare(&i, &fork_ctx(), 0).payload).unwrap();
    let dimensions = text.split("\"dimensions\":{").nth(1).and_then(|rest| rest.split('}').next()).unwrap();
    assert_eq!(dimensions.matches("\"version\"").count(), 1, "{text}");
    let no_version = EventContext::new("i".into(), "worker".into(), None, "e".into()).with_format(true, false);
    let v: Value = serde_json::from_slice(&prepare(&i, &no_version, 0).payload).unwrap();
    assert_eq!(v["dimensions"]["version"], "caller");
  }

  #[test]
  fn the_key_is_the_execution_id_or_the_message_id() {
    let i = finished("success");
    let by_execution = prepare(&i, &ctx(), 0);
    assert_eq!(by_execution.key, "42");
    let by_message = prepare(&i, &ctx().with_format(false, true), 0);
    assert_eq!(by_message.key, by_message.message_id);
    assert_eq!(by_message.payload, by_execution.payload);
  }

  /// prepare()'s CPU per event for the benchmarks' n8n-shaped input (BENCHMARKS.md):
  /// `cargo test --release --target x86_64-unknown-linux-gnu prepare_cost -- --ignored --nocapture`.
  #[test]
  #[ignore = "a measurement, not a check"]
  fn prepare_cost() {
    let mut i =
      ExecutionInput::new(EventKind::Finished, "1000042".into(), "Xk3pQ9vLm2NwT7a2".into(), 1_700_000_009_000);
    i.workflow_name = Some("Sync orders to the warehouse".into());
    i.mode = Some("webhook".into());
    i.status = Some("success".into());
    i.started_at_ms = Some(1_700_000_000_000);
    i.stopped_at_ms = Some(1_700_000_001_234);
    i.node_count = Some(7.0);
    i.trigger_node = Some("Webhook".into());
    i.workflow_version_id = Some("5f0c3c9e-2b1a-4d8e-9f6a-7c3b2a1d0e9f".into());
    i.tags = vec!["billing".into(), "production".into()];
    i.user_id = Some("8d7e6f5a-4b3c-4d2e-9f1a-0b9c8d7e6f5a".into());
    for (name, ctx) in [("current", ctx()), ("fork", fork_ctx())] {
      let mut rounds = Vec::new();
      for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..200_000 {
          std::hint::black_box(prepare(std::hint::black_box(&i), &ctx, 1_700_000_002_000));
        }
        rounds.push(start.elapsed().as_nanos() / 200_000);
      }
      let mut sorted = rounds.clone();
      sorted.sort();
      println!("prepare() {name}: ns per event by round {rounds:?}; median {}", sorted[3]);
    }
  }
}
