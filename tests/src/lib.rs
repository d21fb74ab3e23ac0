//! Helpers shared by the cross-crate tests: finding scenario files and their expected output.

use std::path::{Path, PathBuf};

/// Every `NAME.json` scenario below `dir` (recursively) that has a `NAME.expected.json`. The corpus
/// of Spark's documented function examples (a `spark-docs` folder below `dir`) has its own test,
/// tests/function_corpus.rs, where a clean refusal is allowed: it is walked only when it is `dir`.
pub fn scenarios(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "spark-docs") {
                    stack.push(p);
                }
            } else if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
                if name.ends_with(".json") && !name.ends_with(".expected.json") {
                    let expected = p.with_file_name(name.replace(".json", ".expected.json"));
                    out.push((p.clone(), expected));
                }
            }
        }
    }
    out.sort();
    out
}

pub fn scenario_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}
