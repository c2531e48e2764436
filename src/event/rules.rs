//! The input rules, written once: both readers of a log call (the fast path and the exact N-API reader) apply
//! these, in the same order, so an input gets the same result and rejection reason on either.

use super::input::NodePhase;

/// Why an input was rejected; shown in the health snapshot as `lastRejection.reason`.
pub type Rejection = String;

/// Dates the ISO-8601 output can show: years 0001 to 9999.
const MIN_TIME_MS: f64 = -62_135_596_800_000.0;
const MAX_TIME_MS: f64 = 253_402_300_799_999.0;

/// executionId, workflowId and a node event's nodeName: a string with something besides white space.
pub fn required(value: Option<&str>, field: &str) -> Result<(), Rejection> {
  match value {
    Some(s) if !s.trim().is_empty() => Ok(()),
    _ => Err(format!("{field} must be a non-empty string")),
  }
}

/// A node event's `event`.
pub fn node_phase(value: Option<&str>) -> Result<NodePhase, Rejection> {
  match value {
    Some("started") => Ok(NodePhase::Started),
    Some("completed") => Ok(NodePhase::Completed),
    Some("failed") => Ok(NodePhase::Failed),
    _ => Err("event must be one of started, completed, failed".into()),
  }
}

/// The rejection of a time that is not one.
pub fn invalid_time(field: &str) -> Rejection {
  format!("{field} must be a valid Date, ISO-8601 string or epoch milliseconds")
}

/// Epoch milliseconds (a number or a Date's value) within the years the output can show.
pub fn time(ms: f64, field: &str) -> Result<i64, Rejection> {
  if !ms.is_finite() || !(MIN_TIME_MS..=MAX_TIME_MS).contains(&ms) {
    return Err(invalid_time(field));
  }
  Ok(ms.trunc() as i64)
}

/// An ISO-8601 (RFC 3339) time, white space around it ignored.
pub fn time_text(text: &str, field: &str) -> Result<i64, Rejection> {
  let ms = chrono::DateTime::parse_from_rfc3339(text.trim()).map_err(|_| invalid_time(field))?.timestamp_millis();
  time(ms as f64, field)
}

/// The largest node run index taken: n8n counts a node's runs in a JS array, which a workflow never fills this far.
pub const MAX_RUN_INDEX: u32 = i32::MAX as u32;

/// runIndex: a whole number from 0 to MAX_RUN_INDEX.
pub fn run_index(n: f64, field: &str) -> Result<u32, Rejection> {
  if n.fract() == 0.0 && (0.0..=MAX_RUN_INDEX as f64).contains(&n) {
    Ok(n as u32)
  } else {
    Err(format!("{field} must be an integer from 0 to {MAX_RUN_INDEX}"))
  }
}

/// nodeCount: a finite number.
pub fn finite(n: f64, field: &str) -> Result<f64, Rejection> {
  if n.is_finite() {
    Ok(n)
  } else {
    Err(format!("{field} must be a finite number"))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn times_are_checked_alike_from_numbers_and_text() {
    assert_eq!(time(1_700_000_000_000.9, "startedAt"), Ok(1_700_000_000_000));
    assert_eq!(time_text(" 2023-11-14T22:13:20.000Z ", "startedAt"), Ok(1_700_000_000_000));
    for bad in [f64::NAN, f64::INFINITY, MAX_TIME_MS + 1.0, MIN_TIME_MS - 1.0] {
      assert_eq!(time(bad, "stoppedAt"), Err(invalid_time("stoppedAt")));
    }
    assert_eq!(time_text("yesterday", "stoppedAt"), Err(invalid_time("stoppedAt")));
    assert_eq!(time_text("+10000-01-01T00:00:00Z", "stoppedAt"), Err(invalid_time("stoppedAt")));
  }

  #[test]
  fn required_fields_and_node_phases() {
    assert!(required(Some(" x "), "executionId").is_ok());
    assert_eq!(required(Some(" \n"), "workflowId"), Err("workflowId must be a non-empty string".into()));
    assert_eq!(required(None, "nodeName"), Err("nodeName must be a non-empty string".into()));
    assert_eq!(node_phase(Some("failed")), Ok(NodePhase::Failed));
    assert!(node_phase(Some("Failed")).is_err() && node_phase(None).is_err());
    assert_eq!(finite(f64::NAN, "nodeCount"), Err("nodeCount must be a finite number".into()));
  }

  #[test]
  fn run_indexes_are_whole_numbers_in_range() {
    assert_eq!((run_index(0.0, "runIndex"), run_index(-0.0, "runIndex")), (Ok(0), Ok(0)));
    assert_eq!(run_index(MAX_RUN_INDEX as f64, "runIndex"), Ok(MAX_RUN_INDEX));
    for bad in [-1.0, 1.5, MAX_RUN_INDEX as f64 + 1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
      assert_eq!(run_index(bad, "runIndex"), Err("runIndex must be an integer from 0 to 2147483647".into()), "{bad}");
    }
  }
}
