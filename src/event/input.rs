//! What one log call accepted: the caller's fields, copied on the JS thread, nothing derived yet.

use std::time::Instant;

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
  /// Which run of the node in its execution (n8n's index in `runData[nodeName]`): tells apart the events of a
  /// node that runs several times, in a loop, within one millisecond.
  pub run_index: Option<u32>,
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
  /// The n8n node type of `trigger_node` (`n8n-nodes-base.scheduleTrigger`). Read only for the fork format's
  /// `trigger_type`; the current format does not publish it: its messages stay as documented, and the type is
  /// the workflow's, which consumers can look up by `properties.trigger_node`.
  pub trigger_node_type: Option<String>,
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
      trigger_node_type: None,
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

  /// Roughly what the input holds in memory beyond its own size: its strings, boxes and lists.
  pub fn heap_bytes(&self) -> usize {
    fn text(s: &Option<String>) -> usize {
      s.as_ref().map_or(0, String::len)
    }
    let strings = [&self.workflow_name, &self.mode, &self.status, &self.retry_of, &self.parent_execution_id];
    let more = [&self.trigger_node, &self.trigger_node_type, &self.workflow_version_id, &self.user_id];
    let each_string = std::mem::size_of::<String>();
    let mut bytes = self.execution_id.len() + self.workflow_id.len();
    bytes += strings.into_iter().chain(more).map(text).sum::<usize>();
    bytes += self.tags.iter().map(|t| each_string + t.len()).sum::<usize>();
    if let Some(e) = &self.error {
      let fields = [&e.message, &e.name, &e.stack, &e.node_name, &e.node_id, &e.node_type];
      bytes += std::mem::size_of::<ErrorInput>() + fields.into_iter().map(text).sum::<usize>();
    }
    if let Some(n) = &self.node {
      bytes += std::mem::size_of::<NodeInput>() + n.name.len() + text(&n.node_type) + text(&n.id);
    }
    if let Some(x) = &self.extras {
      bytes += std::mem::size_of::<Extras>();
      bytes += x.dimensions.iter().map(|(k, v)| 2 * each_string + k.len() + v.len()).sum::<usize>();
      bytes += x.metrics.iter().map(|(k, _)| each_string + 8 + k.len()).sum::<usize>();
      bytes += x.flags.iter().map(|(k, _)| each_string + 8 + k.len()).sum::<usize>();
    }
    bytes
  }

  pub(crate) fn is_end(&self) -> bool {
    matches!(self.kind, EventKind::Finished | EventKind::Node(NodePhase::Completed | NodePhase::Failed))
  }
}
