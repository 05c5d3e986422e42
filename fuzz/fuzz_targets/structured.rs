//! `structured`: see `fuzz/README.md` and `jwtv_fuzz::structured`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jwtv_fuzz::structured::run(data));
