//! n8n-kafka-execution-logger: fire-and-forget n8n execution events, delivered to Kafka by one background thread.
//!
//! Layout: `config/` (the settings table, sources, parsing and `ConfigError`), `event/` (input, message and its
//! JSON writer), `packed` (what a log call queues), `queue`, `breaker`, `error_kind` (Kafka error classes),
//! `producer` (librdkafka), `metrics` (counters, health), `diag` (diagnostics), `worker` (the background thread)
//! and `wakeup` (its librdkafka wake-ups), `logger` (the Rust API), and the napi boundary in `napi/`.

pub mod backlog;
pub mod breaker;
pub mod config;
pub mod diag;
pub mod error_kind;
pub mod event;
pub mod logger;
pub mod metrics;
pub mod packed;
pub mod producer;
pub mod queue;
pub mod spool;
pub mod tools;
mod wakeup;
pub mod worker;

/// mimalloc: events cross threads (allocated on the JS thread, freed on the worker), which glibc malloc serves
/// through one locked arena (BENCHMARKS.md, "What each change bought").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod napi;

// Old paths of moved modules, for the files another branch of issue 16 is moving meanwhile (backlog, metrics,
// producer, worker): they keep compiling unchanged, and the merge replaces these two lines with their new paths.
pub use config::settings;
pub(crate) use error_kind as errors;
