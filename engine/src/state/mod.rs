//! The state store: each stateful operator keeps its state in [`KeyedState`] tables (one, or one
//! per side for a join), and every micro-batch writes a new version of each table to the
//! checkpoint, as a delta with a snapshot every few versions ([`store`]), within [`StateLimits`].

pub mod bounded;
pub mod index;
pub mod keyed;
pub mod store;

use std::collections::BTreeMap;

pub use keyed::KeyedState;

/// The layout of the state the operators keep: their value types as postcard encodes them and
/// the keys `ops::keys` builds. Saved in a checkpoint's metadata, so a checkpoint from a release
/// with another layout (an enum with a new variant, a field more) is refused instead of decoded
/// into wrong values. Bump it with every change to a state type; the pinned encodings in
/// `checkpoint::suite::state_layout_fingerprint` say when.
pub const STATE_LAYOUT: u32 = 1;
pub use store::{StateStoreConfig, VersionedTable};

/// Where a table writes its entries, one at a time: a version file's body as it is encoded (no
/// key or value copied into a list first: two allocations an entry, a tenth of W8's write), or
/// a list.
pub trait EntrySink {
    /// `Some(value)` puts, `None` deletes.
    fn put(&mut self, key: &[u8], value: Option<&[u8]>);
}

impl EntrySink for Vec<(Vec<u8>, Option<Vec<u8>>)> {
    fn put(&mut self, key: &[u8], value: Option<&[u8]>) {
        self.push((key.to_vec(), value.map(<[u8]>::to_vec)));
    }
}

/// What the state store needs of an operator's table, whatever its value type.
pub trait StateTable {
    /// Writes the entries changed since the last call, encoded, into `out`: `Some(value)` for a
    /// put, `None` for a delete.
    fn write_changes(&mut self, out: &mut dyn EntrySink);
    /// Writes every entry, encoded, in key order, into `out`.
    fn write_all(&self, out: &mut dyn EntrySink);
    /// [`StateTable::write_changes`] as a list.
    fn take_changes(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut out = Vec::new();
        self.write_changes(&mut out);
        out
    }
    /// [`StateTable::write_all`] as a list.
    fn encode_all(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::new();
        self.write_all(&mut out);
        out.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect()
    }
    /// Replaces the table's content with decoded `entries`.
    fn load(&mut self, entries: BTreeMap<Vec<u8>, Vec<u8>>) -> Result<(), String>;
    fn rows(&self) -> u64;
    /// Encoded size of keys and values as of the last version written.
    fn bytes(&self) -> u64;
    /// The first `limit` values, in key order, as JSON: what a person sees of the state.
    fn sample(&self, limit: usize) -> Vec<String>;
    /// The first few entries the last version removed, as JSON.
    fn evicted(&self) -> &[String];
}

/// How much state one query may hold. Going over stops the query with an error naming the
/// operator, instead of letting unbounded state freeze the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateLimits {
    pub max_rows: u64,
    pub max_bytes: u64,
}

impl Default for StateLimits {
    fn default() -> Self {
        StateLimits { max_rows: 1_000_000, max_bytes: 256 * 1024 * 1024 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// The state encoding of [`STATE_LAYOUT`], as `checkpoint::suite::state_layout_fingerprint`
    /// computes it.
    const PINNED: (u32, u32) = (1, 0x906d_4bd7);

    #[test]
    fn the_state_layout_version_changes_with_the_state_encoding() {
        let fingerprint = crate::checkpoint::suite::state_layout_fingerprint().unwrap();
        assert_eq!(
            (STATE_LAYOUT, fingerprint),
            PINNED,
            "the encoding of the operators' state changed: saved checkpoints would be decoded into wrong values. \
             Bump STATE_LAYOUT and pin ({}, {fingerprint:#010x}) here",
            STATE_LAYOUT + 1
        );
    }
}
