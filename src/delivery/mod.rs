//! The delivery policy on the background thread, with no napi and no librdkafka types: `Worker<T: Transport>`
//! composed of small owners of state, each with its rule: the retry queue (retry.rs), the solo lane for records
//! of a too-large batch (solo.rs), in-flight accounting
//! (in_flight.rs), cause memory (cause.rs), the unknown-topic grace (grace.rs), the circuit breaker (breaker.rs),
//! flush and shutdown waiters (waiters.rs), the spool's use (backlog.rs) and the clocks (clock.rs). The loop is
//! worker.rs (state, startup, passes), send.rs, settle.rs, finish.rs; when it sleeps is the pure `next_wake`
//! (wake.rs). tests/ drives it with a scripted transport and a manual clock.

mod backlog;
mod breaker;
mod cause;
mod clock;
mod finish;
mod grace;
mod in_flight;
mod retry;
mod send;
mod settle;
mod solo;
mod waiters;
mod wake;
mod worker;

#[cfg(test)]
mod tests;

pub use waiters::{command_channel, Command, FlushResult, Reply, ShutdownResult};
pub use worker::{StartupError, Worker};
