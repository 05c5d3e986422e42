//! `include/jwtv.h` is what cbindgen makes of this crate today.
//!
//! After changing the ABI, regenerate it with
//! `JWTV_BLESS=1 cargo test -p jwtv-ffi --test header`.

use std::path::Path;

#[test]
fn the_checked_in_header_is_current() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen understands the crate");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).expect("UTF-8 header");
    let path = crate_dir.join("../../include/jwtv.h");
    if std::env::var_os("JWTV_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write include/jwtv.h");
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "include/jwtv.h is stale: run `JWTV_BLESS=1 cargo test -p jwtv-ffi --test header` and commit it"
    );
}

#[test]
fn every_exported_symbol_has_the_prefix() {
    let header =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../include/jwtv.h")).expect("header");
    let declarations = header.lines().filter(|l| l.contains('(') && !l.starts_with(['#', ' ', '/']));
    for line in declarations {
        // A function, or a function pointer type: `typedef void (*name)(…);`.
        let name = match line.strip_prefix("typedef ").and_then(|rest| rest.split_once("(*")) {
            Some((_, rest)) => rest.split(')').next().unwrap_or_default(),
            None => line.split('(').next().and_then(|head| head.split_whitespace().last()).unwrap_or_default(),
        };
        let name = name.trim_start_matches('*');
        assert!(name.starts_with("jwtv_"), "unprefixed symbol in the header: {line}");
    }
}
