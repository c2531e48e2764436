//! cargo fuzz run event_prepare: `event::prepare` on arbitrary inputs (see fuzz/src/lib.rs for the properties).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::event_prepare(data));
