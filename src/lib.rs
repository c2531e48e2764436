//! n8n-kafka-execution-logger: fire-and-forget n8n execution events, delivered to Kafka by one background thread.
//!
//! Layout (README.md, "Layout"; ARCHITECTURE.md; the dependency rule, napi -> logger -> {intake, delivery} ->
//! {transport, spool, event, telemetry} -> {record, config, time}, is checked by tests/module_dependencies.rs):
//! - `napi/`: the napi boundary: the class, the exact reader, the fast path (`fast_log.js` and its Rust half), the
//!   caller's logger, and every unsafe napi-sys call in `napi/raw.rs`.
//! - `logger`: the Rust API; `tools`: what the command-line tools need from Kafka.
//! - `intake/`: what a log call does (hand-off, the bounded queue, counters), with `packed` (what a call queues).
//! - `delivery/`: the background thread's policy (`Worker<T: Transport>`: retry order, breaker, unknown-topic grace,
//!   dead letters, spill and replay through the spool, flush and shutdown deadlines, when to sleep).
//! - `transport/`: the `Transport` trait, the only seam to librdkafka, its librdkafka implementation, and
//!   `error_kind` (Kafka error classes).
//! - `spool/`: the durable on-disk log; `telemetry/`: counters, latency, health snapshot, diagnostics.
//! - `event/`: the accepted input, the message format and its JSON writer; `record`: the one shape of a Kafka
//!   message and its delivery history (made by `event`, stored by `spool`, sent by `transport`); `config/`: the settings table, sources,
//!   parsing and `ConfigError`; `time`: clocks and ISO-8601 times (a leaf).
//!
//! Public for `fuzz/` only: `config`, `event` and the `record` it returns; everything else is crate-private.

pub mod config;
pub(crate) mod delivery;
pub(crate) mod error_kind;
pub mod event;
pub(crate) mod intake;
pub(crate) mod logger;
pub(crate) mod packed;
pub mod record;
pub(crate) mod spool;
pub(crate) mod telemetry;
pub(crate) mod time;
pub(crate) mod tools;
pub(crate) mod transport;

/// mimalloc: events cross threads (allocated on the JS thread, freed on the worker), which glibc malloc serves
/// through one locked arena (BENCHMARKS.md, "What each change bought").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod napi;
