//! n8n-kafka-execution-logger: fire-and-forget n8n execution events, delivered to Kafka by one background thread.
//!
//! Layout: `settings`/`config` (configuration), `event` (input and message), `json` (its writer), `packed` (what a
//! log call queues), `queue`, `breaker`, `errors` (error classes), `producer` (librdkafka), `metrics` (counters,
//! health), `diag` (diagnostics), `worker` (the background thread) and `wakeup` (its librdkafka wake-ups), `logger`
//! (the Rust API), and the napi boundary in `binding`, `js_input` (with `fast_log.js`) and `js_logger`.

pub mod backlog;
pub mod breaker;
pub mod config;
pub mod errors;
pub mod event;
pub mod intake;
mod json;
pub mod logger;
pub mod packed;
pub mod producer;
pub mod settings;
pub mod spool;
pub mod telemetry;
mod time;
pub mod tools;
mod wakeup;
pub mod worker;

/// mimalloc: events cross threads (allocated on the JS thread, freed on the worker), which glibc malloc serves
/// through one locked arena (BENCHMARKS.md, "What each change bought").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod binding;
mod js_input;
mod js_logger;
