//! `verify`: see `fuzz/README.md` and `jwtv_fuzz::verify`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jwtv_fuzz::verify::run(data));
