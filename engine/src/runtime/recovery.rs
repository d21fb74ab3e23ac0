//! Starting from a checkpoint: the query's id, the checks that the checkpoint and the sink are
//! one query's, and the runtime rebuilt from what the checkpoint holds.

use super::*;

/// A new id for a new checkpoint: the query text, the time and a counter, hashed (FNV-1a:
/// tiny and stable), so two checkpoints of one query still differ, as in Spark.
pub(super) fn new_query_id(sql: &str, now_ms: f64) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STARTED: AtomicU64 = AtomicU64::new(0);
    let salt = STARTED.fetch_add(1, Ordering::Relaxed);
    let mut h: u64 = 0xcbf29ce484222325;
    for b in sql.bytes().chain(now_ms.to_bits().to_le_bytes()).chain(salt.to_le_bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// The sink table holds every batch the checkpoint says committed (it is written first) and
/// none past the last one planned: otherwise the two are not one query's.
pub(super) fn check_sink(table: &TableSink, id: &str, rt: &Runtime) -> Result<()> {
    let planned = rt.pending.as_ref().map_or(rt.next_batch_id.checked_sub(1), |p| Some(p.batch_id));
    let committed = match &rt.pending {
        Some(p) => p.batch_id.checked_sub(1),
        None => planned,
    };
    let written = table.last_batch_id(id);
    let detail = match (committed, written) {
        (Some(c), None) => format!("the checkpoint says batch {c} committed, but the sink table holds no batch of this query"),
        (Some(c), Some(w)) if w < c => {
            format!("the checkpoint says batch {c} committed, but the sink table holds its batches only up to {w}")
        }
        (_, Some(w)) if planned.is_none_or(|p| w > p) => match planned {
            Some(p) => format!("the sink table holds batch {w}, past the checkpoint's last batch {p}"),
            None => format!("the sink table holds batches up to {w}, but the checkpoint has none"),
        },
        _ => return Ok(()),
    };
    Err(CheckpointError::SinkMismatch { id: id.to_string(), detail }.into())
}

impl StreamingQuery {
    pub(super) fn dead_letters_from(checkpoint: &Checkpoint) -> Result<Vec<DeadLetter>> {
        let mut out = Vec::new();
        for (batch_id, entries) in checkpoint.dead_letters()? {
            out.extend(entries.into_iter().map(|e| DeadLetter {
                batch_id,
                record: BadRecord { source: e.source, offset: e.offset, row: e.row, column: e.column, reason: e.reason },
            }));
        }
        Ok(out)
    }

    /// Loads what the checkpoint holds into freshly built operators: offsets, watermark, state.
    /// Everything is read before anything is applied, so a damaged checkpoint changes nothing.
    pub(super) fn runtime_from(
        mut pipeline: Pipeline,
        checkpoint: &Checkpoint,
        metadata: &Metadata,
        config: StateStoreConfig,
        sources: &[SourceLog],
    ) -> Result<Runtime> {
        let recovery = checkpoint.recover(metadata)?;
        // State is loaded at the version the last commit produced (batch N writes version N+1).
        let version = recovery.commit.as_ref().map_or(0, |c| c.batch_id + 1);
        // Every table is read before any operator is touched.
        let mut loaded = Vec::new();
        let mut stores = Vec::new();
        pipeline.root.visit_stateful(&mut |id, op| {
            for table in op.state_table_names() {
                let table = VersionedTable { dir: format!("state/{id}/{table}"), config };
                loaded.push(table.load(checkpoint.storage(), version));
                stores.push(TableStore::open(checkpoint.storage(), table));
            }
        });
        let stores = stores.into_iter().collect::<std::result::Result<Vec<_>, _>>()?;
        let mut loaded = loaded.into_iter();
        pipeline.root.visit_stateful_mut(&mut |id, op| {
            let damaged = |detail| Error::from(CheckpointError::Damaged { path: format!("state/{id} (version {version})"), detail });
            for table in op.state_tables() {
                let entries = loaded.next().transpose()?.unwrap_or_default();
                table.load(entries).map_err(damaged)?;
            }
            op.check_state().map_err(damaged)?;
            op.state_loaded();
            Ok(())
        })?;
        let mut rt = Runtime {
            operator_watermarks: vec![None; pipeline.watermark_delays.len()],
            pipeline,
            stores,
            next_batch_id: 0,
            committed: BTreeMap::new(),
            pending: None,
            watermark: 0,
            last_batch_watermark: 0,
            last_trigger_ms: None,
            file_logs: BTreeMap::new(),
            kafka_readers: BTreeMap::new(),
            rate_readers: BTreeMap::new(),
            fresh: true,
        };
        if let (Some(c), Some(o)) = (&recovery.commit, &recovery.committed_offsets) {
            rt.committed = o.sources.iter().map(|(k, (_, end))| (k.clone(), *end)).collect();
            rt.watermark = o.watermark_micros.max(c.next_watermark_micros);
            rt.last_batch_watermark = o.watermark_micros;
            rt.next_batch_id = c.batch_id + 1;
        }
        if let Some(p) = recovery.pending {
            rt.committed = p.sources.iter().map(|(k, (start, _))| (k.clone(), *start)).collect();
            rt.watermark = p.watermark_micros;
            rt.next_batch_id = p.batch_id;
            rt.pending = Some(Rc::new(p));
        }
        let planned = rt.pending.as_ref().map_or(rt.next_batch_id, |p| p.batch_id + 1);
        for s in sources.iter().filter(|s| s.options().latest_first && s.options().limited()) {
            let Some(name) = rt.pipeline.sources.iter().find(|n| n.as_str() == s.name()).cloned() else { continue };
            let end = match &rt.pending {
                Some(p) => p.sources.get(&name).map_or(0, |r| r.1),
                None => rt.committed.get(&name).copied().unwrap_or(0),
            };
            rt.file_logs.insert(name.clone(), file_log::FileLog::load(checkpoint, &name, planned, end)?);
        }
        Ok(rt)
    }
}
