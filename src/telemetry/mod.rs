//! What the logger tells about itself: counters, delivery latency, the health snapshot and diagnostics.

mod counters;
pub mod diag;
mod health;
mod latency;
mod spool_status;

pub use counters::Counters;
pub use diag::{scrub, Diagnostics, Level, LogSink, StderrSink};
pub use health::{BreakerState, BrokerStatus, Metrics, SnapshotInputs};
pub use spool_status::SpoolStatus;
