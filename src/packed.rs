//! What a log call hands the worker: the fast path's packed text with its field lengths, split into an
//! `ExecutionInput` on the worker, or an input the exact reader already built.
//!
//! The fast path (src/napi/fast_log.js, src/napi/fast_log.rs) validates on the JS thread but leaves the
//! splitting, the per-field strings and their caps to the worker: one or two allocations on the JS thread per
//! event instead of a dozen, and a 208-byte queue slot instead of a 392-byte `ExecutionInput` moved into its own. The worker splits
//! into one `ExecutionInput` it keeps, so once warm it allocates nothing for that either.

use std::time::{Duration, Instant};

use crate::event::json::prefix;
use crate::event::{EventKind, ExecutionInput};
use crate::intake::queue::Weigh;

/// Defines each string slot's index, in packing order, with the JS property it is read from; `SLOT_NAMES` lists
/// them by index. This is the one source of the slot order: src/napi/fast_log.rs checks src/napi/fast_log.js
/// against it (names, bits and `nums` offsets).
macro_rules! slots {
  ($($name:ident = $js:literal,)*) => {
    slots!(@ 0usize, $($name = $js,)*);
    /// The JS property of each slot, by index (`error.x`: a property of the input's `error` object).
    #[cfg_attr(not(test), allow(dead_code))]
    pub const SLOT_NAMES: [&str; SLOT_COUNT] = [$($js),*];
  };
  (@ $i:expr, $name:ident = $js:literal, $($rest:tt)*) => {
    pub const $name: usize = $i;
    slots!(@ $i + 1, $($rest)*);
  };
  (@ $i:expr,) => {
    pub const SLOT_COUNT: usize = $i;
  };
}

slots! {
  EXECUTION_ID = "executionId",
  WORKFLOW_ID = "workflowId",
  WORKFLOW_NAME = "workflowName",
  MODE = "mode",
  STATUS = "status",
  STARTED_AT = "startedAt",
  STOPPED_AT = "stoppedAt",
  RETRY_OF = "retryOf",
  PARENT_EXECUTION_ID = "parentExecutionId",
  TRIGGER_NODE = "triggerNode",
  WORKFLOW_VERSION_ID = "workflowVersionId",
  USER_ID = "userId",
  NODE_EVENT = "event",
  NODE_NAME = "nodeName",
  NODE_TYPE = "nodeType",
  NODE_ID = "nodeId",
  ERROR_MESSAGE = "error.message",
  ERROR_NAME = "error.name",
  ERROR_STACK = "error.stack",
  ERROR_NODE_NAME = "error.nodeName",
  ERROR_NODE_ID = "error.nodeId",
  ERROR_NODE_TYPE = "error.nodeType",
  TRIGGER_NODE_TYPE = "triggerNodeType",
}

pub const MAX_STACK_BYTES: usize = 64 * 1024;
pub const MAX_TEXT_BYTES: usize = 16 * 1024;

/// What the reader keeps of a string: the whole of it when it fits its 256-byte first copy, else at most
/// `max` bytes. Both paths cap the same way, so they build the same event.
pub fn capped(s: &str, max: usize) -> &str {
  let first = prefix(s, 255);
  if first.len() < 255 {
    first
  } else {
    prefix(s, max)
  }
}

/// A fast-path input, validated; its text is split into fields on the worker.
pub struct PackedInput {
  pub kind: EventKind,
  /// The present string slots, then the tags, back to back.
  pub text: Box<str>,
  /// Bit i: slot i is present.
  pub present: u32,
  /// UTF-8 byte length of each present slot.
  pub lens: [u32; SLOT_COUNT],
  pub tag_lens: Box<[u32]>,
  pub started_at_ms: Option<i64>,
  pub stopped_at_ms: Option<i64>,
  pub node_count: Option<f64>,
  /// A node event's runIndex.
  pub run_index: Option<u32>,
  /// The error was given (as a string or an object), even if none of its fields were strings.
  pub has_error: bool,
  pub accepted_at: Instant,
}

/// One queue slot.
pub enum Queued {
  Packed(PackedInput),
  Read(Box<ExecutionInput>),
}

/// What the queue's byte budget (QUEUE_MAX_BYTES) counts for an entry: its slot and what it points to. O(1)
/// for the fast path's entries; the exact reader's walk its fields.
impl Weigh for Queued {
  fn weight(&self) -> usize {
    std::mem::size_of::<Queued>()
      + match self {
        Queued::Packed(p) => p.text.len() + std::mem::size_of_val(&*p.tag_lens),
        Queued::Read(input) => std::mem::size_of::<ExecutionInput>() + input.heap_bytes(),
      }
  }
}

impl Queued {
  /// The input to build the event from. A packed one is split into `scratch`, reusing the strings of the event
  /// before, so the worker allocates nothing for it once warm. `now_ms` and `now`: one reading of both clocks.
  pub fn input<'a>(&'a self, scratch: &'a mut ExecutionInput, now_ms: i64, now: Instant) -> &'a ExecutionInput {
    match self {
      Queued::Read(input) => input,
      Queued::Packed(packed) => {
        packed.fill(scratch, now_ms, now);
        scratch
      }
    }
  }
}

/// Puts `value` into `field`, reusing its memory.
fn set(field: &mut String, value: &str) {
  field.clear();
  field.push_str(value);
}

fn set_opt(field: &mut Option<String>, value: Option<&str>) {
  match value {
    Some(v) => set(field.get_or_insert_with(String::new), v),
    None => *field = None,
  }
}

impl PackedInput {
  /// Overwrites every field of `input` (the destructuring below lists them all, so a new one cannot be missed).
  fn fill(&self, input: &mut ExecutionInput, now_ms: i64, now: Instant) {
    let ExecutionInput {
      kind,
      execution_id,
      workflow_id,
      workflow_name,
      mode,
      status,
      started_at_ms,
      stopped_at_ms,
      node_count,
      retry_of,
      parent_execution_id,
      trigger_node,
      trigger_node_type,
      workflow_version_id,
      user_id,
      tags,
      error,
      node,
      extras,
      accepted_at_ms,
      accepted_at,
    } = input;
    let mut slots: [Option<&str>; SLOT_COUNT] = [None; SLOT_COUNT];
    let mut at = 0;
    for (i, slot) in slots.iter_mut().enumerate() {
      if self.present & (1 << i) != 0 {
        let end = at + self.lens[i] as usize;
        *slot = self.text.get(at..end);
        at = end;
      }
    }
    let text = |i: usize| slots[i].map(|s| capped(s, MAX_TEXT_BYTES));
    *kind = self.kind;
    // Both ids (and a node event's name) were checked present on the JS thread.
    set(execution_id, text(EXECUTION_ID).unwrap_or_default());
    set(workflow_id, text(WORKFLOW_ID).unwrap_or_default());
    set_opt(workflow_name, text(WORKFLOW_NAME));
    set_opt(mode, slots[MODE].map(|s| capped(s, 64)));
    set_opt(status, slots[STATUS].map(|s| capped(s, 64)));
    *started_at_ms = self.started_at_ms;
    *stopped_at_ms = self.stopped_at_ms;
    *node_count = self.node_count;
    set_opt(retry_of, text(RETRY_OF));
    set_opt(parent_execution_id, text(PARENT_EXECUTION_ID));
    set_opt(trigger_node, text(TRIGGER_NODE));
    set_opt(trigger_node_type, text(TRIGGER_NODE_TYPE));
    set_opt(workflow_version_id, text(WORKFLOW_VERSION_ID));
    set_opt(user_id, text(USER_ID));
    tags.truncate(self.tag_lens.len());
    for (i, &len) in self.tag_lens.iter().enumerate() {
      let end = at + len as usize;
      let tag = capped(self.text.get(at..end).unwrap_or_default(), MAX_TEXT_BYTES);
      at = end;
      match tags.get_mut(i) {
        Some(old) => set(old, tag),
        None => tags.push(tag.to_owned()),
      }
    }
    if self.has_error {
      let e = error.get_or_insert_with(Box::default);
      set_opt(&mut e.message, text(ERROR_MESSAGE));
      set_opt(&mut e.name, text(ERROR_NAME));
      set_opt(&mut e.stack, slots[ERROR_STACK].map(|s| capped(s, MAX_STACK_BYTES)));
      set_opt(&mut e.node_name, text(ERROR_NODE_NAME));
      set_opt(&mut e.node_id, text(ERROR_NODE_ID));
      set_opt(&mut e.node_type, text(ERROR_NODE_TYPE));
    } else {
      *error = None;
    }
    if let EventKind::Node(_) = self.kind {
      let n = node.get_or_insert_with(Box::default);
      set(&mut n.name, text(NODE_NAME).unwrap_or_default());
      set_opt(&mut n.node_type, text(NODE_TYPE));
      set_opt(&mut n.id, text(NODE_ID));
      n.run_index = self.run_index;
    } else {
      *node = None;
    }
    *extras = None;
    // The log call read the monotonic clock only; its wall time is the worker's, less the time since.
    let waited = now.saturating_duration_since(self.accepted_at).min(Duration::from_secs(1 << 40));
    *accepted_at_ms = now_ms - waited.as_millis() as i64;
    *accepted_at = self.accepted_at;
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::event::NodePhase;

  fn packed(kind: EventKind, fields: &[(usize, &str)], tags: &[&str]) -> PackedInput {
    let mut lens = [0u32; SLOT_COUNT];
    let mut present = 0;
    let mut text = String::new();
    for &(slot, value) in fields {
      present |= 1 << slot;
      lens[slot] = value.len() as u32;
      text.push_str(value);
    }
    tags.iter().for_each(|t| text.push_str(t));
    PackedInput {
      kind,
      text: text.into(),
      present,
      lens,
      tag_lens: tags.iter().map(|t| t.len() as u32).collect(),
      started_at_ms: Some(1_000),
      stopped_at_ms: None,
      node_count: Some(3.0),
      run_index: None,
      has_error: false,
      accepted_at: Instant::now(),
    }
  }

  fn blank() -> ExecutionInput {
    ExecutionInput::new(EventKind::Started, String::new(), String::new(), 0)
  }

  fn unpacked(p: PackedInput, now_ms: i64, now: Instant) -> ExecutionInput {
    Queued::Packed(p).input(&mut blank(), now_ms, now).clone()
  }

  #[test]
  fn splits_the_packed_text_into_the_fields_and_tags() {
    let fields =
      [(EXECUTION_ID, "42"), (WORKFLOW_ID, "wf-é"), (MODE, "webhook"), (NODE_NAME, "HTTP 😀"), (NODE_ID, "n1")];
    let p = packed(EventKind::Node(NodePhase::Completed), &fields, &["a", "", "tag ü"]);
    let at = p.accepted_at;
    let input = unpacked(p, 5_000, at + Duration::from_millis(30));
    assert_eq!((input.execution_id.as_str(), input.workflow_id.as_str()), ("42", "wf-é"));
    assert_eq!(input.mode.as_deref(), Some("webhook"));
    assert_eq!(input.workflow_name, None);
    let node = input.node.expect("a node event has its node");
    assert_eq!((node.name.as_str(), node.node_type.as_deref(), node.id.as_deref()), ("HTTP 😀", None, Some("n1")));
    assert_eq!(input.tags, ["a", "", "tag ü"]);
    assert_eq!((input.started_at_ms, input.node_count, input.error), (Some(1_000), Some(3.0), None));
    assert_eq!(input.accepted_at_ms, 4_970, "wall time of acceptance: the worker's clock less the wait");
  }

  #[test]
  fn caps_mode_and_status_like_the_exact_reader() {
    let long = "m".repeat(300);
    let p = packed(EventKind::Finished, &[(EXECUTION_ID, "1"), (WORKFLOW_ID, "w"), (STATUS, &long)], &[]);
    let input = unpacked(p, 0, Instant::now());
    assert_eq!(input.status.as_deref(), Some(&long[..64]));
  }

  proptest::proptest! {
    /// Also when the scratch input held another event before: nothing of it may leak into the next.
    #[test]
    fn every_field_and_tag_comes_back_whole(
      values in proptest::collection::vec(proptest::option::of("\\PC{0,40}"), SLOT_COUNT),
      tags in proptest::collection::vec("\\PC{0,20}", 0..5),
      node in proptest::bool::ANY,
      has_error in proptest::bool::ANY,
    ) {
      let fields: Vec<(usize, &str)> = values.iter().enumerate().filter_map(|(i, v)| Some((i, v.as_deref()?))).collect();
      let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
      let kind = if node { EventKind::Node(NodePhase::Failed) } else { EventKind::Finished };
      let at = Instant::now();
      let make = || PackedInput { has_error, accepted_at: at, ..packed(kind, &fields, &tags) };
      let mut scratch = blank();
      let before: Vec<(usize, String)> = (0..SLOT_COUNT).map(|i| (i, format!("old {i}"))).collect();
      let before: Vec<(usize, &str)> = before.iter().map(|(i, v)| (*i, v.as_str())).collect();
      let other = if node { EventKind::Resumed } else { EventKind::Node(NodePhase::Started) };
      let old = PackedInput { has_error: !has_error, ..packed(other, &before, &["x"; 7]) };
      Queued::Packed(old).input(&mut scratch, 1, at);
      let reused = Queued::Packed(make()).input(&mut scratch, 0, at).clone();
      let input = unpacked(make(), 0, at);
      proptest::prop_assert_eq!(&reused, &input);
      if !node || !has_error {
        proptest::prop_assert_eq!((input.node.is_some(), input.error.is_some()), (node, has_error));
        return Ok(());
      }
      let error = input.error.expect("an error was given");
      let node = input.node.expect("a node event has its node");
      let got = [
        Some(input.execution_id), Some(input.workflow_id), input.workflow_name, input.mode, input.status,
        None, None, input.retry_of, input.parent_execution_id, input.trigger_node, input.workflow_version_id,
        input.user_id, None, Some(node.name), node.node_type, node.id, error.message, error.name, error.stack,
        error.node_name, error.node_id, error.node_type, input.trigger_node_type,
      ];
      for (i, value) in values.iter().enumerate() {
        // Times and the node phase are read on the JS thread, not split on the worker; absent ids become "".
        let expected = match i {
          STARTED_AT | STOPPED_AT | NODE_EVENT => None,
          EXECUTION_ID | WORKFLOW_ID | NODE_NAME => Some(value.clone().unwrap_or_default()),
          _ => value.clone(),
        };
        proptest::prop_assert_eq!(&got[i], &expected, "slot {}", i);
      }
      proptest::prop_assert_eq!(input.tags, tags);
    }
  }
}
