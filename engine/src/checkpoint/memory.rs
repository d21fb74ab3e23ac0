use std::collections::BTreeMap;

use super::CheckpointStorage;
use crate::error::Result;

/// Checkpoint files kept in memory: the default for tests and the CLI.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        MemoryStorage::default()
    }
}

impl CheckpointStorage for MemoryStorage {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.files.get(path).cloned())
    }

    fn write(&mut self, path: &str, bytes: &[u8]) -> Result<()> {
        self.files.insert(path.to_string(), bytes.to_vec());
        Ok(())
    }

    fn list(&self, dir: &str) -> Result<Vec<String>> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        let mut names: Vec<String> = self
            .files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
            .collect();
        names.dedup();
        Ok(names)
    }

    fn delete(&mut self, path: &str) -> Result<()> {
        self.files.remove(path);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn lists_direct_children() {
        let mut s = MemoryStorage::new();
        s.write("offsets/0", b"a").unwrap();
        s.write("offsets/1", b"b").unwrap();
        s.write("state/limit-0/1", b"c").unwrap();
        assert_eq!(s.list("offsets").unwrap(), vec!["0", "1"]);
        assert_eq!(s.list("state").unwrap(), vec!["limit-0"]);
        s.delete("offsets/0").unwrap();
        assert_eq!(s.read("offsets/0").unwrap(), None);
    }
}
