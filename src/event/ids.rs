//! Ids: the deterministic messageId (a name-based UUID v5 of the event's identity) and the v5 function itself.

use std::sync::LazyLock;

use sha1::{Digest, Sha1};
use uuid::Uuid;

use super::input::ExecutionInput;

static MESSAGE_ID_NAMESPACE: LazyLock<Uuid> =
  LazyLock::new(|| uuid_v5(&Uuid::NAMESPACE_URL, &[b"urn:npm:n8n-kafka-execution-logger:message-id"]));

/// The name-based UUID v5 of `name_parts` joined. The `sha1` crate uses the CPU's SHA instructions where it has
/// them: for a message id's ~100-byte name that is 55 instead of 140 ns with the uuid crate's own v5.
pub fn uuid_v5(namespace: &Uuid, name_parts: &[&[u8]]) -> Uuid {
  let mut sha1 = Sha1::new();
  sha1.update(namespace.as_bytes());
  for part in name_parts {
    sha1.update(part);
  }
  let digest = sha1.finalize();
  uuid::Builder::from_sha1_bytes(digest[..16].try_into().expect("SHA-1 digests have 20 bytes")).into_uuid()
}

/// Deterministic: a resend of the same event carries the same id, so consumers can deduplicate. A node's run
/// index, when given, is a sixth part: the runs of a node in a loop can share a millisecond. Without one the
/// name is the five parts it always was, so workflow events and callers that give none keep their ids.
pub fn message_id(instance_id: &str, input: &ExecutionInput) -> String {
  let node = input.node.as_deref();
  let mut time = itoa::Buffer::new();
  let node_name = node.map_or("", |n| n.name.as_str());
  let parts = [instance_id, &input.execution_id, input.event_name(), time.format(input.event_time_ms()), node_name];
  let mut name: [&[u8]; 11] = [b"\n"; 11];
  for (i, part) in parts.iter().enumerate() {
    name[2 * i] = part.as_bytes();
  }
  let mut run = itoa::Buffer::new();
  let len = match node.and_then(|n| n.run_index) {
    Some(index) => {
      name[10] = run.format(index).as_bytes();
      11
    }
    None => 9,
  };
  let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
  uuid_v5(&MESSAGE_ID_NAMESPACE, &name[..len]).hyphenated().encode_lower(&mut text).to_owned()
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::event::{EventKind, NodeInput, NodePhase};

  fn node_event(run_index: Option<u32>) -> ExecutionInput {
    let mut input = ExecutionInput::new(EventKind::Node(NodePhase::Completed), "42".into(), "wf".into(), 0);
    input.stopped_at_ms = Some(1_700_000_000_123);
    input.node = Some(Box::new(NodeInput { name: "Loop".into(), run_index, ..Default::default() }));
    input
  }

  #[test]
  fn runs_of_a_node_in_one_millisecond_get_their_own_ids() {
    let [first, second] = [0, 1].map(|run| message_id("inst", &node_event(Some(run))));
    assert_ne!(first, second, "two runs of one node in the same millisecond");
    assert_eq!(first, message_id("inst", &node_event(Some(0))), "the same run: the same id on every resend");
  }

  #[test]
  fn without_a_run_index_the_id_is_the_five_part_one() {
    // Events without a run index (every workflow event) keep the ids of the five-part name they always had.
    let five_parts = |name: &str| uuid_v5(&MESSAGE_ID_NAMESPACE, &[name.as_bytes()]).to_string();
    assert_eq!(message_id("inst", &node_event(None)), five_parts("inst\n42\nNode Completed\n1700000000123\nLoop"));
    let mut started = ExecutionInput::new(EventKind::Started, "42".into(), "wf".into(), 0);
    started.started_at_ms = Some(1_700_000_000_000);
    assert_eq!(message_id("inst", &started), five_parts("inst\n42\nWorkflow Started\n1700000000000\n"));
    assert_eq!(
      message_id("inst", &node_event(Some(3))),
      five_parts("inst\n42\nNode Completed\n1700000000123\nLoop\n3")
    );
  }

  proptest::proptest! {
    #[test]
    fn uuid_v5_is_the_uuid_crates_v5(parts in proptest::collection::vec(".{0,80}", 0..6)) {
      let parts: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
      let joined = parts.concat();
      for namespace in [Uuid::NAMESPACE_URL, Uuid::NAMESPACE_DNS, *MESSAGE_ID_NAMESPACE] {
        proptest::prop_assert_eq!(uuid_v5(&namespace, &parts), Uuid::new_v5(&namespace, &joined));
      }
    }
  }
}
