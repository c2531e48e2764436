//! The napi boundary: JS values in, Rust values out, and nothing decided here (the logic lives below `logger`).
//!
//! `binding` is the `KafkaExecutionLogger` class and the tool functions; `js_input` is the exact reader of a log
//! call's object; `fast_log` is the native half of the fast path, whose JS half `fast_log.js` sits beside it;
//! `js_logger` hands diagnostics to the caller's logger; `errors` maps every failure to a JS error and its code;
//! `raw` holds every `unsafe` napi-sys call. `types.d.ts` holds the shapes prepended to the generated `index.d.ts`
//! (package.json `napi.dtsHeaderFile`).

mod binding;
mod errors;
mod fast_log;
mod js_input;
mod js_logger;
mod raw;
