use std::collections::BTreeMap;

use super::{Storage, StorageResult};

/// Files kept in memory: the default for tests and the CLI.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    files: BTreeMap<String, Vec<u8>>,
}

impl MemoryStorage {
    pub fn new() -> Self {
        MemoryStorage::default()
    }

    /// Every file, by path: what an IndexedDB or directory storage loads and persists.
    pub fn files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.files
    }

    pub fn from_files(files: BTreeMap<String, Vec<u8>>) -> Self {
        MemoryStorage { files }
    }
}

/// `dir/` for a directory, or "" for the root.
pub(crate) fn dir_prefix(dir: &str) -> String {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    }
}

impl Storage for MemoryStorage {
    fn read(&self, path: &str) -> StorageResult<Option<Vec<u8>>> {
        Ok(self.files.get(path).cloned())
    }

    fn size(&self, path: &str) -> StorageResult<Option<u64>> {
        Ok(self.files.get(path).map(|b| b.len() as u64))
    }

    fn write(&mut self, path: &str, bytes: &[u8]) -> StorageResult<()> {
        self.files.insert(path.to_string(), bytes.to_vec());
        Ok(())
    }

    fn write_vec(&mut self, path: &str, bytes: Vec<u8>) -> StorageResult<()> {
        self.files.insert(path.to_string(), bytes);
        Ok(())
    }

    fn list(&self, dir: &str) -> StorageResult<Vec<String>> {
        let prefix = dir_prefix(dir);
        let mut names: Vec<String> = self
            .files
            .range(prefix.clone()..)
            .map_while(|(k, _)| k.strip_prefix(&prefix))
            .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
            .collect();
        names.dedup();
        Ok(names)
    }

    fn delete(&mut self, path: &str) -> StorageResult<()> {
        self.files.remove(path);
        Ok(())
    }

    fn delete_all(&mut self, dir: &str) -> StorageResult<()> {
        let prefix = dir_prefix(dir);
        self.files.retain(|k, _| !k.starts_with(&prefix));
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
        assert_eq!(s.list("").unwrap(), vec!["offsets", "state"]);
        s.delete("offsets/0").unwrap();
        assert_eq!(s.read("offsets/0").unwrap(), None);
    }
}
