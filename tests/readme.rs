//! The README's promises, checked: the query list auditors read is the one
//! the code sends, and the two set-up commands are there.
//! `HVINV_BLESS=1 cargo test --test readme` rewrites the query block.

use hvinv::inventory::queries::markdown_table;

const BEGIN: &str = "<!-- queries:begin -->\n";
const END: &str = "<!-- queries:end -->";

#[test]
fn readme_lists_exactly_the_queries_the_code_sends() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let text = std::fs::read_to_string(path).unwrap();
    let start = text
        .find(BEGIN)
        .expect("README has the queries:begin marker")
        + BEGIN.len();
    let end = text[start..]
        .find(END)
        .expect("README has the queries:end marker")
        + start;
    let table = markdown_table();
    if std::env::var_os("HVINV_BLESS").is_some() {
        let new = format!("{}{}{}", &text[..start], table, &text[end..]);
        std::fs::write(path, new).unwrap();
        return;
    }
    assert_eq!(
        &text[start..end],
        table,
        "README's query list is stale: run HVINV_BLESS=1 cargo test --test readme"
    );
}

#[test]
fn readme_gives_the_two_setup_commands() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(text.contains("cargo run --release -- demo"));
    assert!(text.contains("scripts/test"));
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run")).unwrap();
    assert!(
        ci.contains("scripts/test"),
        ".ci/run calls the README's test command"
    );
}
