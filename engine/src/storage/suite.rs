//! The test suite every [`Storage`] must pass, in two phases so a durable storage can be closed
//! and opened again between them (a directory, IndexedDB after a reload). Public so the browser
//! tests run it against IndexedDB.

use super::Storage;

fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

/// Every byte value, so no storage can get away with text-only files.
fn all_bytes() -> Vec<u8> {
    (0..=255u8).cycle().take(1000).collect()
}

fn large() -> Vec<u8> {
    (0..1_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect()
}

/// Writes the files [`check_phase`] expects.
pub fn write_phase(s: &mut dyn Storage) -> Result<(), String> {
    let e = |e: super::StorageError| e.to_string();
    s.write("metadata", b"first").map_err(e)?;
    s.write("metadata", b"second").map_err(e)?;
    for n in [0, 1, 2, 10] {
        s.write(&format!("offsets/{n}"), format!("offsets {n}").as_bytes()).map_err(e)?;
    }
    s.write("commits/0", b"").map_err(e)?;
    s.write("state/0-agg/default/1.delta", &all_bytes()).map_err(e)?;
    s.write("state/0-agg/default/2.snapshot", &large()).map_err(e)?;
    s.write("state/1-join/left/1.delta", b"l").map_err(e)?;
    s.write("gone/a", b"a").map_err(e)?;
    s.write("gone/deep/b", b"b").map_err(e)?;
    s.delete_all("gone").map_err(e)?;
    s.write("offsets/11", b"x").map_err(e)?;
    s.delete("offsets/11").map_err(e)?;
    s.delete("never/written").map_err(e)?;
    let names = s.list("offsets").map_err(e)?;
    check(names == ["0", "1", "10", "2"], || format!("list(offsets) in the write phase gave {names:?}"))
}

/// Checks what [`write_phase`] left, then that the storage still takes changes.
pub fn check_phase(s: &mut dyn Storage) -> Result<(), String> {
    let e = |e: super::StorageError| e.to_string();
    let read = |s: &dyn Storage, p: &str| s.read(p).map_err(|e| e.to_string());
    check(read(s, "metadata")?.as_deref() == Some(b"second"), || "an overwritten file must hold the last write".into())?;
    check(read(s, "offsets/2")?.as_deref() == Some(b"offsets 2"), || "offsets/2 was lost".into())?;
    check(read(s, "commits/0")?.as_deref() == Some(b""), || "an empty file must read back empty, not missing".into())?;
    check(read(s, "state/0-agg/default/1.delta")? == Some(all_bytes()), || "binary bytes changed on the way".into())?;
    check(read(s, "state/0-agg/default/2.snapshot")? == Some(large()), || "a 1 MB file changed on the way".into())?;
    check(read(s, "offsets/11")?.is_none(), || "a deleted file came back".into())?;
    check(read(s, "gone/deep/b")?.is_none(), || "delete_all left a nested file".into())?;
    check(read(s, "missing")?.is_none(), || "a missing file must read as None".into())?;
    check(read(s, "offsets")?.is_none(), || "a directory must read as None: it is not a file".into())?;
    let size = |p: &str| s.size(p).map_err(|e| e.to_string());
    check(size("state/0-agg/default/2.snapshot")? == Some(1_000_000), || "size() must give a file's length".into())?;
    check(size("offsets")?.is_none() && size("missing")?.is_none(), || "size() of a directory or a missing file must be None".into())?;
    let root = s.list("").map_err(e)?;
    check(root == ["commits", "metadata", "offsets", "state"], || format!("list(\"\") gave {root:?}"))?;
    let state = s.list("state").map_err(e)?;
    check(state == ["0-agg", "1-join"], || format!("list(state) gave {state:?}"))?;
    let versions = s.list("state/0-agg/default").map_err(e)?;
    check(versions == ["1.delta", "2.snapshot"], || format!("list(state/0-agg/default) gave {versions:?}"))?;
    check(s.list("nothing/here").map_err(e)?.is_empty(), || "listing a missing directory must give nothing".into())?;
    s.delete_all("state/1-join").map_err(e)?;
    let state = s.list("state").map_err(e)?;
    check(state == ["0-agg"], || format!("after delete_all(state/1-join), list(state) gave {state:?}"))?;
    s.delete_all("").map_err(e)?;
    let root = s.list("").map_err(e)?;
    check(root.is_empty(), || format!("delete_all(\"\") left {root:?}"))
}
