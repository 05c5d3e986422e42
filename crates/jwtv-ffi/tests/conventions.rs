//! The C conventions are written once, in the header's preamble (the
//! `header` of `cbindgen.toml`); the README's "C conventions" list repeats
//! them word for word, so neither can drift from the other.

use std::path::Path;

/// The words of a text, whatever its line breaks, indentation and comment
/// markers.
fn words<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines.flat_map(str::split_whitespace).collect::<Vec<_>>().join(" ")
}

#[test]
fn the_readme_states_the_conventions_of_the_header() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let preamble = config.header.expect("cbindgen.toml has a header");
    let in_header = preamble.lines().map(|l| l.trim_start_matches("//").trim()).skip_while(|l| !l.starts_with("- "));
    let readme = std::fs::read_to_string(crate_dir.join("../../README.md")).expect("README.md");
    let in_readme = readme
        .lines()
        .skip_while(|l| *l != "### C conventions")
        .skip_while(|l| !l.starts_with("- "))
        .take_while(|l| !l.trim().is_empty());
    let (in_header, in_readme) = (words(in_header), words(in_readme));
    assert!(!in_header.is_empty(), "the header's preamble lists the conventions");
    assert_eq!(in_readme, in_header, "README.md's \"C conventions\" differ from cbindgen.toml's header");
}
