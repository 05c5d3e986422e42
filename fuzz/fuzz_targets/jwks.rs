//! `jwks`: see `fuzz/README.md` and `jwtv_fuzz::jwks`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jwtv_fuzz::jwks::run(data));
