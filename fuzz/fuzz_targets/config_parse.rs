//! cargo fuzz run config_parse: `config::Config::parse` on arbitrary env maps and options (see fuzz/src/lib.rs).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::config_parse(data));
