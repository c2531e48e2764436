//! n8n-kafka-execution-logger: fire-and-forget n8n execution events, delivered to Kafka by one background thread.
//!
//! Layout (dependencies point one way: napi -> logger -> {intake, delivery} -> {transport, spool, event,
//! telemetry} -> {config, time}):
//! - `settings`/`config`: configuration; `time`: clocks and ISO-8601 times (a leaf).
//! - `event` (input and message), `json` (its writer), `packed` (what a log call queues).
//! - `intake`: what a log call does (hand-off, the bounded queue, counters), shared with the worker.
//! - `delivery`: the background thread's policy (`Worker<T: Transport>`: retry order, breaker, unknown-topic
//!   grace, dead letters, spill and replay through the spool, flush and shutdown deadlines, when to sleep).
//! - `transport`: the `Transport` trait, the only seam to librdkafka, and its librdkafka implementation.
//! - `spool`: the durable on-disk log; `telemetry`: counters, latency, health snapshot, diagnostics.
//! - `errors` (error classes), `logger` (the Rust API), `tools` (command-line tools), and the napi boundary in
//!   `binding`, `js_input` (with `fast_log.js`) and `js_logger`.

pub mod config;
pub mod delivery;
pub mod errors;
pub mod event;
pub mod intake;
mod json;
pub mod logger;
pub mod packed;
pub mod settings;
pub mod spool;
pub mod telemetry;
mod time;
pub mod tools;
pub mod transport;

/// mimalloc: events cross threads (allocated on the JS thread, freed on the worker), which glibc malloc serves
/// through one locked arena (BENCHMARKS.md, "What each change bought").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod binding;
mod js_input;
mod js_logger;
