//! Turns each ```rust block of the README into a function of the README test
//! (tests/readme_rust.rs): the README's Rust examples are compiled and run as written.

use std::fmt::Write;

fn main() {
    let readme_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    println!("cargo:rerun-if-changed={readme_path}");
    let readme = std::fs::read_to_string(readme_path).expect("README.md");
    let mut out = String::new();
    let mut block: Option<(usize, String)> = None;
    let mut count = 0;
    for (n, line) in readme.lines().enumerate() {
        match &mut block {
            None if line.trim_end() == "```rust" => block = Some((n + 2, String::new())),
            Some((start, code)) if line.trim_end() == "```" => {
                count += 1;
                // Each block is the body of a function whose errors its `?`s return.
                writeln!(
                    out,
                    "/// README.md line {start}.\n#[allow(unused)]\npub fn block_{count}() -> \
                     Result<(), Box<dyn std::error::Error>> {{\n{code}\nOk(())\n}}\n"
                )
                .unwrap();
                block = None;
            }
            Some((_, code)) => {
                code.push_str(line);
                code.push('\n');
            }
            None => {}
        }
    }
    writeln!(
        out,
        "/// A block's outcome.\npub type Outcome = Result<(), Box<dyn std::error::Error>>;\n/// A block's name and body.\npub type Block = (&'static str, fn() -> Outcome);\n/// Every block, in README order.\npub const BLOCKS: &[Block] = &[{}];",
        (1..=count)
            .map(|i| format!("(\"block {i}\", block_{i})"))
            .collect::<Vec<_>>()
            .join(", ")
    )
    .unwrap();
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("readme_rust.rs");
    std::fs::write(dest, out).unwrap();
}
