//! The checkpoint and state store suite (`unbounded_engine::checkpoint::suite`) on the native
//! storages: memory, and a directory reopened between the halves as a new process would. The
//! browser tests run the same suite on IndexedDB.

use unbounded_engine::checkpoint::suite;
use unbounded_engine::storage::{DirStorage, SharedStorage};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("unbounded-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_query_resumes_from_memory() {
    let storage = SharedStorage::memory();
    suite::first_half(&storage).unwrap();
    suite::second_half(&storage).unwrap();
}

#[test]
fn a_query_resumes_from_a_directory_in_a_new_process() {
    let dir = temp_dir("resume");
    suite::first_half(&SharedStorage::new(DirStorage::open(&dir).unwrap())).unwrap();
    suite::second_half(&SharedStorage::new(DirStorage::open(&dir).unwrap())).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damaged_checkpoints_are_refused_in_memory() {
    let cases = suite::corruption_cases(&mut SharedStorage::memory).unwrap();
    assert_eq!(cases.len(), 9, "{cases:?}");
}

#[test]
fn damaged_checkpoints_are_refused_on_disk() {
    let mut n = 0;
    let root = temp_dir("damage");
    let cases = suite::corruption_cases(&mut || {
        n += 1;
        SharedStorage::new(DirStorage::open(root.join(n.to_string())).unwrap())
    })
    .unwrap();
    assert_eq!(cases.len(), 9);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn every_damage_to_every_file_is_refused_or_harmless() {
    let (refused, harmless) = suite::every_damage(&mut SharedStorage::memory).unwrap();
    assert!(refused > 1000 && harmless < refused / 4, "{refused} refused, {harmless} harmless");
}
