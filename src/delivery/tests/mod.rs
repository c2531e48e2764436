//! Tier 1: the delivery rules, each as table tests, driven by a scripted transport and a manual clock; no broker,
//! no threads, milliseconds in all.

mod breaker;
mod cause;
mod dead_letter;
mod deadlines;
mod flow;
mod grace;
mod idle;
mod retry;
mod spill;
mod support;
mod wake;
