//! `ffi`: the C ABI's `extern "C"` functions; see `fuzz/README.md` and `jwtv_fuzz::ffi_harness`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| jwtv_fuzz::ffi_harness::run(data));
