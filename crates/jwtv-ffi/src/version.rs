//! The library's version, for programs that check at run time which libjwtv
//! they were linked with (the macros give the header's).

use std::ffi::{CStr, c_char};

/// The major version of the header (`JWTV_VERSION_MAJOR`).
pub const JWTV_VERSION_MAJOR: u32 = 0;
/// The minor version of the header.
pub const JWTV_VERSION_MINOR: u32 = 1;
/// The patch version of the header.
pub const JWTV_VERSION_PATCH: u32 = 0;

/// The crate's version, NUL-terminated when the crate is built.
const VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
    Ok(version) => version,
    Err(_) => panic!("a NUL inside the crate's version"),
};

/// The library's version (`"0.1.0"`), a static NUL-terminated string.
/// Compare with the `JWTV_VERSION_*` macros of the header a program was
/// built with.
#[unsafe(no_mangle)]
pub extern "C" fn jwtv_version() -> *const c_char {
    VERSION.as_ptr()
}

/// The crypto library this libjwtv verifies with: `"ring"` (the default) or
/// `"aws-lc"` (built with `--features aws-lc`; adds ES512), a static
/// NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn jwtv_crypto_backend() -> *const c_char {
    let backend: &'static CStr = if cfg!(feature = "aws-lc") { c"aws-lc" } else { c"ring" };
    backend.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_macros_and_the_string_are_the_crates_version() {
        let parts = [JWTV_VERSION_MAJOR, JWTV_VERSION_MINOR, JWTV_VERSION_PATCH].map(|n| n.to_string());
        assert_eq!(parts.join("."), env!("CARGO_PKG_VERSION"));
        // SAFETY: a static NUL-terminated string.
        assert_eq!(unsafe { CStr::from_ptr(jwtv_version()) }.to_str(), Ok(env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn the_backend_is_the_one_built() {
        // SAFETY: a static NUL-terminated string.
        let backend = unsafe { CStr::from_ptr(jwtv_crypto_backend()) }.to_str();
        assert_eq!(backend, Ok(if cfg!(feature = "aws-lc") { "aws-lc" } else { "ring" }));
        assert_eq!(jwtv::Algorithm::from_name("ES512").is_some(), backend == Ok("aws-lc"));
    }
}
