//! Tier 1: the delivery rules, each as table tests, driven by a scripted transport and a manual clock; no broker,
//! no threads, milliseconds in all. Tier 2 (mock_cluster.rs): the real transport and policy against librdkafka's
//! mock cluster, in-process. Tier 3 is the JS suites and the reliability matrix against a real broker.

mod breaker;
mod cause;
mod dead_letter;
mod deadlines;
mod flow;
mod grace;
mod idle;
mod mock_cluster;
mod panic;
mod retry;
mod solo;
mod spill;
mod support;
mod wake;
