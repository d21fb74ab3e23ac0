//! Where durable files live: a small file system of `/`-separated paths. The checkpoint, the
//! state store and the sinks all write through it, so memory, a directory on disk and IndexedDB
//! are three implementations of one trait, and one ordered stream of writes reaches each.

#[cfg(not(target_arch = "wasm32"))]
mod dir;
mod memory;
pub mod suite;

#[cfg(not(target_arch = "wasm32"))]
pub use dir::DirStorage;
pub use memory::MemoryStorage;

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

/// A storage failure: which path and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError {
    pub path: String,
    pub detail: String,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot access `{}` in the storage: {}", self.path, self.detail)
    }
}

impl std::error::Error for StorageError {}

impl From<StorageError> for crate::Error {
    fn from(e: StorageError) -> Self {
        crate::Error::new(crate::ErrorKind::Checkpoint, e.to_string())
    }
}

pub type StorageResult<T> = std::result::Result<T, StorageError>;

/// A small file system. A write replaces the whole file at once: a reader sees the old bytes or
/// the new ones, never a mix; writes become durable in the order they were made.
pub trait Storage {
    fn read(&self, path: &str) -> StorageResult<Option<Vec<u8>>>;
    /// A file's size; None for a missing file or a directory. Storages that know it without
    /// reading the file say so.
    fn size(&self, path: &str) -> StorageResult<Option<u64>> {
        Ok(self.read(path)?.map(|b| b.len() as u64))
    }
    fn write(&mut self, path: &str, bytes: &[u8]) -> StorageResult<()>;
    /// [`Storage::write`] of bytes the caller is done with: a storage that keeps them in memory
    /// takes them instead of copying them.
    fn write_vec(&mut self, path: &str, bytes: Vec<u8>) -> StorageResult<()> {
        self.write(path, &bytes)
    }
    /// The names directly under `dir` (files and directories), sorted.
    fn list(&self, dir: &str) -> StorageResult<Vec<String>>;
    /// Removes one file; removing a missing file is not an error.
    fn delete(&mut self, path: &str) -> StorageResult<()>;
    /// Removes `dir` and everything under it.
    fn delete_all(&mut self, dir: &str) -> StorageResult<()> {
        for name in self.list(dir)? {
            let path = join(dir, &name);
            self.delete_all(&path)?;
            self.delete(&path)?;
        }
        Ok(())
    }
}

/// `dir/name`, where an empty `dir` is the root.
pub fn join(dir: &str, name: &str) -> String {
    let dir = dir.trim_end_matches('/');
    if dir.is_empty() {
        return name.to_string();
    }
    let mut path = String::with_capacity(dir.len() + 1 + name.len());
    path.push_str(dir);
    path.push('/');
    path.push_str(name);
    path
}

/// `dir/<n>` followed by `suffix` (`offsets/12`, `state/0-agg/default/12.delta`), as `format!`
/// would write it, without going through the formatter: every micro-batch names a few files.
pub fn numbered(dir: &str, n: u64, suffix: &str) -> String {
    let mut digits = [0u8; 20];
    let mut k = digits.len();
    let mut rest = n;
    loop {
        k -= 1;
        digits[k] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let digits = std::str::from_utf8(&digits[k..]).unwrap_or_default();
    let dir = dir.trim_end_matches('/');
    let mut path = String::with_capacity(dir.len() + 1 + digits.len() + suffix.len());
    if !dir.is_empty() {
        path.push_str(dir);
        path.push('/');
    }
    path.push_str(digits);
    path.push_str(suffix);
    path
}

/// One storage shared by the parts of a query (checkpoint, sinks) so their writes stay in one
/// order, each part seeing its own directory through [`SharedStorage::scoped`].
#[derive(Clone)]
pub struct SharedStorage(Rc<RefCell<dyn Storage>>);

impl SharedStorage {
    pub fn new(storage: impl Storage + 'static) -> Self {
        SharedStorage(Rc::new(RefCell::new(storage)))
    }

    pub fn from_rc(storage: Rc<RefCell<dyn Storage>>) -> Self {
        SharedStorage(storage)
    }

    pub fn memory() -> Self {
        SharedStorage::new(MemoryStorage::new())
    }

    /// A view of the directory `prefix`.
    pub fn scoped(&self, prefix: &str) -> Scoped {
        Scoped { inner: self.0.clone(), prefix: prefix.trim_end_matches('/').to_string() }
    }
}

impl fmt::Debug for SharedStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedStorage")
    }
}

/// A directory of a [`SharedStorage`], seen as a storage of its own.
#[derive(Clone)]
pub struct Scoped {
    inner: Rc<RefCell<dyn Storage>>,
    prefix: String,
}

impl Scoped {
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    fn full(&self, path: &str) -> String {
        join(&self.prefix, path)
    }
}

impl Storage for Scoped {
    fn read(&self, path: &str) -> StorageResult<Option<Vec<u8>>> {
        self.inner.borrow().read(&self.full(path))
    }

    fn size(&self, path: &str) -> StorageResult<Option<u64>> {
        self.inner.borrow().size(&self.full(path))
    }

    fn write(&mut self, path: &str, bytes: &[u8]) -> StorageResult<()> {
        self.inner.borrow_mut().write(&self.full(path), bytes)
    }

    fn write_vec(&mut self, path: &str, bytes: Vec<u8>) -> StorageResult<()> {
        self.inner.borrow_mut().write_vec(&self.full(path), bytes)
    }

    fn list(&self, dir: &str) -> StorageResult<Vec<String>> {
        self.inner.borrow().list(&self.full(dir))
    }

    fn delete(&mut self, path: &str) -> StorageResult<()> {
        self.inner.borrow_mut().delete(&self.full(path))
    }

    fn delete_all(&mut self, dir: &str) -> StorageResult<()> {
        self.inner.borrow_mut().delete_all(&self.full(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn numbered_paths_are_the_formatted_ones() {
        for n in [0, 7, 10, 99, 100, 12_345, u64::MAX] {
            assert_eq!(numbered("offsets", n, ""), format!("offsets/{n}"));
            assert_eq!(numbered("state/0-agg/default/", n, ".delta"), format!("state/0-agg/default/{n}.delta"));
            assert_eq!(numbered("", n, ".snapshot"), format!("{n}.snapshot"));
        }
    }

    #[test]
    fn scoped_views_share_one_storage() {
        let shared = SharedStorage::memory();
        let mut checkpoint = shared.scoped("checkpoint");
        let mut sink = shared.scoped("tables/sink");
        checkpoint.write("offsets/0", b"o").unwrap();
        sink.write("_log/0", b"s").unwrap();
        assert_eq!(shared.scoped("").list("").unwrap(), vec!["checkpoint", "tables"]);
        assert_eq!(shared.scoped("tables").read("sink/_log/0").unwrap().as_deref(), Some(&b"s"[..]));
        checkpoint.delete_all("").unwrap();
        assert!(shared.scoped("checkpoint").list("").unwrap().is_empty());
        assert_eq!(sink.list("_log").unwrap(), vec!["0"]);
    }

    #[test]
    fn memory_storage_passes_the_suite() {
        let mut s = MemoryStorage::new();
        suite::write_phase(&mut s).unwrap();
        suite::check_phase(&mut s).unwrap();
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn dir_storage_passes_the_suite_across_reopening() {
        let root = std::env::temp_dir().join(format!("unbounded-suite-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        suite::write_phase(&mut DirStorage::open(&root).unwrap()).unwrap();
        suite::check_phase(&mut DirStorage::open(&root).unwrap()).unwrap();
        std::fs::remove_dir_all(&root).unwrap();
    }
}
