use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Storage, StorageError, StorageResult};

/// Files in a directory on disk (the CLI's `--checkpoint DIR`). A write goes to a temporary file
/// that is then renamed over the target, so a crash never leaves half a file (as Spark's
/// checkpoint file manager does on HDFS).
#[derive(Debug, Clone)]
pub struct DirStorage {
    root: PathBuf,
}

fn io_error(path: &str, e: std::io::Error) -> StorageError {
    StorageError { path: path.to_string(), detail: e.to_string() }
}

impl DirStorage {
    /// Opens (and creates) the directory `root`.
    pub fn open(root: impl AsRef<Path>) -> StorageResult<Self> {
        let root = root.as_ref().to_path_buf();
        fs::create_dir_all(&root).map_err(|e| io_error(&root.display().to_string(), e))?;
        Ok(DirStorage { root })
    }

    fn path(&self, path: &str) -> StorageResult<PathBuf> {
        // Paths are the engine's own, but a stray `..` must never escape the directory.
        if path.split('/').any(|part| part == ".." || part == ".") || path.starts_with('/') {
            return Err(StorageError { path: path.to_string(), detail: "not a path inside the storage".into() });
        }
        Ok(self.root.join(path))
    }
}

impl Storage for DirStorage {
    fn read(&self, path: &str) -> StorageResult<Option<Vec<u8>>> {
        match fs::read(self.path(path)?) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            // A directory is not a file: like a missing file, there is nothing to read.
            Err(_) if self.path(path)?.is_dir() => Ok(None),
            Err(e) => Err(io_error(path, e)),
        }
    }

    fn size(&self, path: &str) -> StorageResult<Option<u64>> {
        match fs::metadata(self.path(path)?) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(path, e)),
        }
    }

    fn write(&mut self, path: &str, bytes: &[u8]) -> StorageResult<()> {
        let target = self.path(path)?;
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| io_error(path, e))?;
        }
        let tmp = target.with_extension("tmp-write");
        let mut file = fs::File::create(&tmp).map_err(|e| io_error(path, e))?;
        file.write_all(bytes).and_then(|_| file.sync_all()).map_err(|e| io_error(path, e))?;
        fs::rename(&tmp, &target).map_err(|e| io_error(path, e))
    }

    fn list(&self, dir: &str) -> StorageResult<Vec<String>> {
        let entries = match fs::read_dir(self.path(dir)?) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error(dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let name = entry.map_err(|e| io_error(dir, e))?.file_name().to_string_lossy().to_string();
            if !name.ends_with(".tmp-write") {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn delete(&mut self, path: &str) -> StorageResult<()> {
        let target = self.path(path)?;
        let result = if target.is_dir() { fs::remove_dir(&target) } else { fs::remove_file(&target) };
        match result {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(path, e)),
            _ => Ok(()),
        }
    }

    fn delete_all(&mut self, dir: &str) -> StorageResult<()> {
        let target = self.path(dir)?;
        if dir.is_empty() {
            for name in self.list("")? {
                self.delete_all(&name)?;
            }
            return Ok(());
        }
        let result = if target.is_dir() { fs::remove_dir_all(&target) } else { fs::remove_file(&target) };
        match result {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(dir, e)),
            _ => Ok(()),
        }
    }
}
