use std::collections::{BTreeMap, HashMap};

use super::{Storage, StorageResult};

/// Files kept in memory: the default for tests and the CLI.
///
/// Files are hashed by directory, then by name, rather than ordered by path: a batch writes
/// and deletes a few files among thousands (a sink keeps every version) whose paths share long
/// prefixes, and ordering them compared whole paths a dozen times a file; in wasm, whose
/// `memcmp` goes a byte at a time, that was a sixth of a trigger in a profile. Listing, which
/// only a restart does, sorts.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    dirs: HashMap<String, Files, Hasher>,
}

type Hasher = foldhash::fast::FixedState;
type Files = HashMap<String, Vec<u8>, Hasher>;

/// `a/b/c` as (`a/b`, `c`); a path without `/` is in the root, "".
fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

/// Whether directory `d` is `dir` or lies under it ("" holds every directory).
fn is_under(d: &str, dir: &str) -> bool {
    dir.is_empty() || (d.starts_with(dir) && (d.len() == dir.len() || d.as_bytes()[dir.len()] == b'/'))
}

impl MemoryStorage {
    pub fn new() -> Self {
        MemoryStorage::default()
    }

    /// A storage holding these files, by path: what an IndexedDB or directory storage loads.
    pub fn from_files(files: BTreeMap<String, Vec<u8>>) -> Self {
        let mut storage = MemoryStorage::new();
        for (path, bytes) in files {
            storage.put(&path, bytes);
        }
        storage
    }

    fn put(&mut self, path: &str, bytes: Vec<u8>) {
        let (dir, name) = split(path);
        match self.dirs.get_mut(dir) {
            Some(files) => {
                files.insert(name.to_string(), bytes);
            }
            None => {
                let mut files = Files::default();
                files.insert(name.to_string(), bytes);
                self.dirs.insert(dir.to_string(), files);
            }
        }
    }

    fn file(&self, path: &str) -> Option<&Vec<u8>> {
        let (dir, name) = split(path);
        self.dirs.get(dir)?.get(name)
    }
}

impl Storage for MemoryStorage {
    fn read(&self, path: &str) -> StorageResult<Option<Vec<u8>>> {
        Ok(self.file(path).cloned())
    }

    fn size(&self, path: &str) -> StorageResult<Option<u64>> {
        Ok(self.file(path).map(|b| b.len() as u64))
    }

    fn write(&mut self, path: &str, bytes: &[u8]) -> StorageResult<()> {
        self.put(path, bytes.to_vec());
        Ok(())
    }

    fn write_vec(&mut self, path: &str, bytes: Vec<u8>) -> StorageResult<()> {
        self.put(path, bytes);
        Ok(())
    }

    /// The names directly in `dir`, files and directories, sorted.
    fn list(&self, dir: &str) -> StorageResult<Vec<String>> {
        let dir = dir.trim_end_matches('/');
        let mut names: Vec<String> = self.dirs.get(dir).into_iter().flat_map(|files| files.keys().cloned()).collect();
        for sub in self.dirs.keys().filter(|d| is_under(d, dir)) {
            let rest = if dir.is_empty() { sub.as_str() } else { sub.get(dir.len() + 1..).unwrap_or_default() };
            if let Some(child) = rest.split('/').next().filter(|c| !c.is_empty()) {
                names.push(child.to_string());
            }
        }
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    fn delete(&mut self, path: &str) -> StorageResult<()> {
        let (dir, name) = split(path);
        if let Some(files) = self.dirs.get_mut(dir) {
            files.remove(name);
            if files.is_empty() {
                self.dirs.remove(dir);
            }
        }
        Ok(())
    }

    fn delete_all(&mut self, dir: &str) -> StorageResult<()> {
        let dir = dir.trim_end_matches('/');
        self.dirs.retain(|d, _| !is_under(d, dir));
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

    #[test]
    fn a_directory_is_not_confused_with_a_sibling_that_shares_its_prefix() {
        let mut s = MemoryStorage::new();
        for path in ["a", "a.b", "a/x", "a/y/z", "ab/c", "root"] {
            s.write(path, path.as_bytes()).unwrap();
        }
        assert_eq!(s.list("").unwrap(), vec!["a", "a.b", "ab", "root"]);
        assert_eq!(s.list("a/").unwrap(), vec!["x", "y"]);
        s.delete_all("a").unwrap();
        assert_eq!(s.list("").unwrap(), vec!["a", "a.b", "ab", "root"], "the file `a` stays; only what is under a/ goes");
        assert_eq!((s.read("a/x").unwrap(), s.read("a/y/z").unwrap()), (None, None));
        assert_eq!(s.read("ab/c").unwrap().as_deref(), Some(&b"ab/c"[..]));
        s.delete("ab/c").unwrap();
        assert_eq!(s.list("").unwrap(), vec!["a", "a.b", "root"], "an emptied directory is gone");
        let copy = MemoryStorage::from_files([("p/q".to_string(), b"1".to_vec())].into());
        assert_eq!(copy.read("p/q").unwrap().as_deref(), Some(&b"1"[..]));
    }
}
