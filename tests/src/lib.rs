//! Helpers shared by the cross-crate tests: finding scenario files and their expected output.

use std::path::{Path, PathBuf};

/// Every `NAME.json` scenario below `dir` (recursively) that has a `NAME.expected.json`.
pub fn scenarios(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
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
