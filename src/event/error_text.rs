//! An error's text as the event may carry it: ERROR_DETAIL's fields only, REDACT's matches hidden, before any cut.

use std::borrow::Cow;

use super::context::EventContext;
use super::input::ErrorInput;
use crate::config::ErrorDetail;

/// The error's message, stack and name as the event writes them; each is borrowed from the input unless a
/// pattern matched, so the default settings cost no copy.
#[derive(Default)]
pub(super) struct ErrorText<'a> {
  pub message: Option<Cow<'a, str>>,
  pub stack: Option<Cow<'a, str>>,
  pub name: Option<Cow<'a, str>>,
}

impl<'a> ErrorText<'a> {
  /// Redaction runs on the whole text, before the builder's length caps: a match cut in two would leave its
  /// first half visible.
  pub fn of(error: Option<&'a ErrorInput>, ctx: &EventContext) -> Self {
    let Some(e) = error else { return Self::default() };
    let (message, stack) = match ctx.error_detail {
      ErrorDetail::Full => (e.message.as_deref(), e.stack.as_deref()),
      ErrorDetail::Message => (e.message.as_deref(), None),
      ErrorDetail::Type => (None, None),
    };
    let redact = |text: Option<&'a str>| {
      text.map(|t| match &ctx.redaction {
        Some(redaction) => redaction.apply(t),
        None => Cow::Borrowed(t),
      })
    };
    Self { message: redact(message), stack: redact(stack), name: redact(e.name.as_deref()) }
  }
}

#[cfg(test)]
mod tests {
  use serde_json::Value;

  use super::*;
  use crate::config::Redaction;
  use crate::event::json::TRUNCATED;
  use crate::event::{prepare, EventKind, ExecutionInput, NodeInput, NodePhase};

  const MARKER: &str = "mk-7f3a9c";

  fn failed() -> ExecutionInput {
    let mut i = ExecutionInput::new(EventKind::Finished, "42".into(), "wf-1".into(), 1_700_000_009_000);
    i.status = Some("error".into());
    i.error = Some(Box::new(ErrorInput {
      message: Some(format!("boom {MARKER}")),
      name: Some("NodeOperationError".into()),
      stack: Some(format!("Error: boom {MARKER}\n    at Code (node.js:1:1)")),
      node_name: Some("Explode".into()),
      node_id: Some("n-1".into()),
      node_type: Some("n8n-nodes-base.code".into()),
    }));
    i
  }

  fn event(input: &ExecutionInput, detail: ErrorDetail, redact: Option<&str>) -> (String, Value) {
    let redaction = redact.map(|r| Redaction::parse(r).unwrap().unwrap());
    let ctx =
      EventContext::new("inst-1".into(), "main".into(), None, "test".into()).with_error_detail(detail, redaction);
    let text = String::from_utf8(prepare(input, &ctx, 0).payload).unwrap();
    let value = serde_json::from_str(&text).unwrap();
    (text, value)
  }

  #[test]
  fn full_carries_message_and_stack() {
    let (_, v) = event(&failed(), ErrorDetail::Full, None);
    assert_eq!(v["properties"]["error_message"], format!("boom {MARKER}"));
    assert!(v["properties"]["error_stack"].as_str().unwrap().contains(MARKER));
  }

  #[test]
  fn message_drops_the_stack() {
    let mut i = failed();
    i.error.as_mut().unwrap().stack = Some("only in the stack: mk-stack".into());
    let (text, v) = event(&i, ErrorDetail::Message, None);
    assert_eq!(v["properties"]["error_message"], format!("boom {MARKER}"));
    assert!(v["properties"].get("error_stack").is_none());
    assert!(!text.contains("mk-stack"), "{text}");
  }

  #[test]
  fn type_keeps_the_class_and_the_node_and_no_free_text() {
    for input in [failed(), node_failed()] {
      let (text, v) = event(&input, ErrorDetail::Type, None);
      assert!(!text.contains(MARKER) && !text.contains("boom"), "{text}");
      let p = &v["properties"];
      assert!(p.get("error_message").is_none() && p.get("error_stack").is_none(), "{text}");
      assert_eq!(v["dimensions"]["error_type"], "NodeOperationError");
      assert_eq!((&p["error_node_name"], &p["error_node_type"]), (&"Explode".into(), &"n8n-nodes-base.code".into()));
    }
  }

  fn node_failed() -> ExecutionInput {
    let mut i = failed();
    i.kind = EventKind::Node(NodePhase::Failed);
    i.node = Some(Box::new(NodeInput {
      name: "Explode".into(),
      node_type: Some("n8n-nodes-base.code".into()),
      id: None,
      run_index: None,
    }));
    i
  }

  #[test]
  fn redaction_hides_matches_in_message_stack_and_name() {
    let mut i = failed();
    i.error.as_mut().unwrap().name = Some(format!("Error{MARKER}"));
    let (text, v) = event(&i, ErrorDetail::Full, Some(r#"["mk-[0-9a-f]+"]"#));
    assert!(!text.contains(MARKER), "{text}");
    assert_eq!(v["properties"]["error_message"], "boom [redacted]");
    assert!(v["properties"]["error_stack"].as_str().unwrap().starts_with("Error: boom [redacted]\n"));
    assert_eq!(v["dimensions"]["error_type"], "Error[redacted]");
    // At the message level the message is still redacted.
    let (text, _) = event(&i, ErrorDetail::Message, Some(r#"["mk-[0-9a-f]+"]"#));
    assert!(!text.contains(MARKER), "{text}");
  }

  #[test]
  fn a_secret_across_the_length_cap_is_redacted_whole_before_the_cut() {
    // The message keeps its first 4096 bytes less the truncation mark; the secret starts 6 bytes before the cut.
    let before = 4_096 - TRUNCATED.len() - 6;
    let mut i = failed();
    i.error.as_mut().unwrap().message = Some(format!("{}secret-0123456789abcdef", "a".repeat(before)));
    let (_, plain) = event(&i, ErrorDetail::Full, None);
    assert!(plain["properties"]["error_message"].as_str().unwrap().contains("secret"), "the cut leaves a part");
    let (text, v) = event(&i, ErrorDetail::Full, Some(r#"["secret-[0-9a-f]+"]"#));
    let message = v["properties"]["error_message"].as_str().unwrap();
    assert!(!text.contains("secret") && !text.contains("0123"), "{message}");
    assert!(message.starts_with(&format!("{}[redac", "a".repeat(before))), "{message}");
  }

  #[test]
  fn without_an_error_nothing_changes() {
    let mut i = failed();
    i.error = None;
    i.status = Some("success".into());
    let (full, _) = event(&i, ErrorDetail::Full, None);
    assert_eq!(event(&i, ErrorDetail::Type, Some(r#"["wf"]"#)).0, full);
  }
}
