//! Gives `libjwtv.so` its SONAME on Linux: `libjwtv.so.MAJOR`, or
//! `libjwtv.so.0.MINOR` while the major version is 0 (where a minor release
//! may change the ABI). `install.sh` makes the matching symlinks.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let abi = if major == "0" { format!("0.{minor}") } else { major };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libjwtv.so.{abi}");
}
