//! Execution events: the input a log call accepted, and the Segment `track` message built from it on the worker.
//!
//! `input` (the accepted fields), `rules` (what makes an input valid, for both readers), `context` (per-logger
//! facts), `ids` (messageId), `error_text` (ERROR_DETAIL and REDACT on an error's text), `builder` (the message
//! format, docs/message-format.md), `json` (its hand-written writer, measured in BENCHMARKS.md). What it builds is a
//! `crate::record::Message`.

mod builder;
mod context;
mod error_text;
mod ids;
mod input;
pub(crate) mod json;
pub mod rules;

pub use builder::{prepare, snake_key, MAX_EVENT_BYTES};
pub use context::{EventContext, LIBRARY_NAME, LIBRARY_VERSION};
pub use ids::{message_id, uuid_v5};
pub use input::{ErrorInput, EventKind, ExecutionInput, Extras, NodeInput, NodePhase};
