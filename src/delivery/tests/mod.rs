//! Tier 1: the delivery rules, each as table tests, driven by a scripted transport and a manual clock; no broker,
//! no threads, milliseconds in all.

mod cause;
