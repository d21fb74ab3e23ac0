//! One micro-batch, in Spark's order: write the offsets, compute, write state version N+1, write
//! the sinks, write the commit; progress as Spark reports it.

use super::*;

impl StreamingQuery {
    /// Plans and runs the next micro-batch, if there is anything to do.
    pub(super) fn run_one(&mut self) -> Result<Option<BatchOutcome>> {
        self.run_one_reading(true)
    }

    /// [`Self::run_one`]; `limited`: whether the sources' read limits apply (Spark's
    /// `Trigger.Once` ignores them).
    pub(super) fn run_one_reading(&mut self, limited: bool) -> Result<Option<BatchOutcome>> {
        self.check_sources()?;
        let started = self.clock.now_ms();
        // The files each source read newest first takes in this batch, for its file log.
        let mut newest_first = Vec::new();
        let (entry, replay) = match self.runtime.pending.clone() {
            Some(e) => (e, true),
            None => {
                let mut ranges = BTreeMap::new();
                let mut any_new = false;
                for name in &self.runtime.pipeline.sources {
                    let start = self.runtime.committed.get(name).copied().unwrap_or(0);
                    // A Kafka batch's offsets count the messages it reads; which ones, per
                    // partition, is its entry in `sources/<source>/N`.
                    if let (Some(reader), Some((_, source))) =
                        (self.runtime.kafka_readers.get_mut(name), self.kafka.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
                    {
                        let count = reader.plan(source, self.runtime.next_batch_id, limited, started as i64);
                        any_new |= count > 0;
                        ranges.insert(name.clone(), (start, start + count.max(0) as u64));
                        continue;
                    }
                    // An Auto Loader batch's offsets are file indices, in landing order.
                    if let Some(al) = self.auto_loader.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, s)| s) {
                        let end = al.plan_end(start, limited);
                        any_new |= end > start;
                        ranges.insert(name.clone(), (start, end));
                        continue;
                    }
                    // A rate batch's offsets are seconds since the query first started.
                    if let (Some(reader), Some(options)) = (self.runtime.rate_readers.get(name), self.rate_source(name)) {
                        let end = reader.latest_second(options, started as i64, start as i64) as u64;
                        any_new |= end > start;
                        ranges.insert(name.clone(), (start, end));
                        continue;
                    }
                    let log = self.sources.iter().find(|s| s.name().eq_ignore_ascii_case(name));
                    let end = match (log, self.runtime.file_logs.get_mut(name)) {
                        (Some(log), Some(files)) => {
                            let picked = files.select(log, limited);
                            let end = start + picked.iter().map(|f| f.records).sum::<u64>();
                            newest_first.push((name.clone(), picked));
                            end
                        }
                        (Some(log), None) => log.plan_end(start, limited),
                        (None, _) => start,
                    };
                    any_new |= end > start;
                    ranges.insert(name.clone(), (start, end));
                }
                // Without new data, a batch still runs when the watermark has moved since the last
                // one and an operator emits or evicts on it (Spark's no-data batch), and never
                // as the first batch after a start: Spark asks the previous batch of the run.
                let no_data_due = !self.runtime.fresh
                    && self.runtime.watermark > self.runtime.last_batch_watermark
                    && self.runtime.pipeline.wants_no_data_batch();
                if !any_new && !no_data_due {
                    return Ok(None);
                }
                let entry = OffsetEntry {
                    batch_id: self.runtime.next_batch_id,
                    sources: ranges,
                    watermark_micros: self.runtime.watermark,
                    late_watermark_micros: self.runtime.last_batch_watermark,
                    batch_timestamp_ms: started,
                    conf: self.conf.clone(),
                };
                (Rc::new(entry), false)
            }
        };
        let batch_id = entry.batch_id;
        if self.crash_here(FailurePoint::BeforeOffsetsWrite) {
            return Ok(Some(BatchOutcome::Crashed(batch_id, FailurePoint::BeforeOffsetsWrite)));
        }
        if !replay {
            for (name, files) in &newest_first {
                if let Some(log) = self.runtime.file_logs.get_mut(name) {
                    log.write(&mut self.checkpoint, name, batch_id, files)?;
                }
            }
            for (name, reader) in self.runtime.kafka_readers.iter_mut() {
                let topic = self.kafka.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map_or(name.as_str(), |(_, s)| s.topic.name());
                reader.write_planned(&mut self.checkpoint, name, topic)?;
            }
            for (name, (start, end)) in &entry.sources {
                if let Some(al) = self.auto_loader.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, s)| s) {
                    al.write_file_log(&mut self.checkpoint, name, batch_id, *start, *end)?;
                }
            }
            self.checkpoint.write_offsets(&entry)?;
            self.runtime.pending = Some(Rc::clone(&entry));
        }
        let wal_done = self.clock.now_ms();
        if self.crash_here(FailurePoint::AfterOffsetsWrite) {
            return Ok(Some(BatchOutcome::Crashed(batch_id, FailurePoint::AfterOffsetsWrite)));
        }
        // Read this batch's offset ranges.
        let mut inputs = Vec::with_capacity(self.runtime.pipeline.sources.len());
        // When the query processes what it reads: at the batch's start, or, run live (continuous,
        // Real-Time Mode), as each record arrives (once the query is running).
        let live_since = self.live.map(|l| l.since_ms);
        let processed = move |arrived: f64| live_since.map_or(started, |since| arrived.max(since));
        let mut record_latencies = Vec::new();
        let mut bad = Vec::new();
        let mut source_progress = Vec::new();
        for name in &self.runtime.pipeline.sources {
            let (start, end) = entry.sources.get(name).copied().unwrap_or((0, 0));
            if let (Some(reader), Some(source)) = (self.runtime.kafka_readers.get(name), self.kafka_source(name)) {
                let (rows, _lost) = reader.read(source, batch_id)?;
                record_latencies.extend(self.arrivals.for_kafka(name, &rows, &processed));
                let latest = source.topic.latest_offsets();
                let consumed = reader.planned_range().map(|(_, e)| e.clone()).unwrap_or_default();
                let mut metrics = crate::kafka::metrics::offsets_behind_latest(&consumed, &latest);
                metrics.insert("estimatedTotalBytesBehindLatest".into(), format!("{:.1}", source.topic.bytes_behind(&consumed) as f64));
                source_progress.push(SourceProgress {
                    description: format!("KafkaV2[Subscribe[{}]]", source.topic.name()),
                    start_offset: start,
                    end_offset: end,
                    latest_offset: end + consumed.count_until(&latest).max(0) as u64,
                    num_input_rows: rows.num_rows() as u64,
                    metrics,
                });
                inputs.push(rows);
                continue;
            }
            if let Some(al) = self.auto_loader_source(name) {
                let schema = self.definition.catalog.sources.iter().find(|(n, _)| n == name).map(|(_, s)| s.clone()).unwrap_or_default();
                let read = al.read(&self.storage, name, &schema, start, end)?;
                source_progress.push(SourceProgress {
                    description: format!("CloudFilesSource[{name}]"),
                    start_offset: start,
                    end_offset: end,
                    latest_offset: al.files.len() as u64,
                    num_input_rows: read.rows.num_rows() as u64,
                    metrics: BTreeMap::new(),
                });
                bad.extend(read.bad);
                inputs.push(read.rows);
                continue;
            }
            if let (Some(reader), Some(o)) = (self.runtime.rate_readers.get(name), self.rate_source(name)) {
                let rows = reader.rows(o, start as i64, end as i64)?;
                record_latencies.extend(latency::for_rate(name, start, &rows, &processed));
                source_progress.push(SourceProgress {
                    description: format!(
                        "RateStreamV2[rowsPerSecond={}, rampUpTimeSeconds={}, numPartitions={}]",
                        o.rows_per_second, o.ramp_up_seconds, o.num_partitions
                    ),
                    start_offset: start,
                    end_offset: end,
                    latest_offset: end,
                    num_input_rows: rows.num_rows() as u64,
                    metrics: BTreeMap::new(),
                });
                inputs.push(rows);
                continue;
            }
            let log = self.source(name).ok_or_else(|| Error::internal(format!("source {name} vanished")))?;
            let read = match self.runtime.file_logs.get(name) {
                Some(files) => log.read_files(files.files_in(name, start, end)?, start)?,
                None => log.read(start, end)?,
            };
            record_latencies.extend(self.arrivals.for_range(name, start, end, &processed));
            source_progress.push(SourceProgress {
                description: format!("MemoryStream[{name}]"),
                start_offset: start,
                end_offset: end,
                latest_offset: log.latest_offset(),
                num_input_rows: read.rows.num_rows() as u64,
                metrics: BTreeMap::new(),
            });
            bad.extend(read.bad);
            inputs.push(read.rows);
        }
        let got_batch = self.clock.now_ms();
        let mut ctx = BatchContext {
            late_rows: Vec::new(),
            operator_watermarks: Vec::new(),
            sources: &inputs,
            watermarks: Watermarks { eviction: entry.watermark_micros, late: entry.late_watermark_micros },
            max_event_time: vec![None; self.runtime.pipeline.watermark_delays.len()],
        };
        let rows = self.runtime.pipeline.root.execute(&mut ctx).map_err(|e| e.in_phase(crate::error::Phase::Batch))?.rows;
        let max_event_time = ctx.max_event_time;
        let late_rows = ctx.late_rows;
        let operator_watermarks = ctx.operator_watermarks;
        // State version N+1 of every stateful operator's tables.
        let mut state_ops = self.write_state(batch_id + 1)?;
        if self.crash_here(FailurePoint::AfterStateWrite) {
            return Ok(Some(BatchOutcome::Crashed(batch_id, FailurePoint::AfterStateWrite)));
        }
        // Dead letters are kept with the checkpoint, by batch, before the sinks see the batch.
        if !bad.is_empty() {
            let entries: Vec<DeadLetterEntry> = bad
                .iter()
                .map(|r| DeadLetterEntry {
                    source: r.source.clone(),
                    offset: r.offset,
                    row: r.row.clone(),
                    column: r.column.clone(),
                    reason: r.reason.clone(),
                })
                .collect();
            self.checkpoint.write_dead_letters(batch_id, &entries)?;
            for record in &bad {
                if !self.dead_letter.iter().any(|d| d.record.source == record.source && d.record.offset == record.offset) {
                    self.dead_letter.push(DeadLetter { batch_id, record: record.clone() });
                }
            }
        }
        let write = BatchWrite { query_id: &self.metadata.id, batch_id, rows: &rows };
        // A live query's sink is at-least-once: a replayed epoch is written again.
        let skipped_by_table = if self.live.is_some() {
            self.table.write_at_least_once(&write)?;
            false
        } else {
            !self.table.write(&write)?
        };
        self.file.write(&write)?;
        let added = self.clock.now_ms();
        if self.crash_here(FailurePoint::AfterSinkWrite) {
            return Ok(Some(BatchOutcome::Crashed(batch_id, FailurePoint::AfterSinkWrite)));
        }
        // The watermark computed from this batch takes effect from the next one.
        let input_watermarks: Vec<(String, Option<i64>)> =
            self.runtime.pipeline.watermark_sources.iter().cloned().zip(self.runtime.operator_watermarks.iter().copied()).collect();
        let next_watermark = self.advance_watermark(&max_event_time);
        self.checkpoint.write_commit(&CommitEntry { batch_id, next_watermark_micros: next_watermark })?;
        let finished = self.clock.now_ms();
        self.runtime.committed = entry.sources.iter().map(|(k, (_, end))| (k.clone(), *end)).collect();
        self.runtime.next_batch_id = batch_id + 1;
        self.runtime.pending = None;
        self.runtime.fresh = false;
        self.runtime.watermark = next_watermark;
        self.runtime.last_batch_watermark = entry.watermark_micros;

        let num_input_rows: u64 = inputs.iter().map(|b| b.num_rows() as u64).sum();
        let since_last = self.runtime.last_trigger_ms.map(|t| started - t).unwrap_or(0.0);
        self.runtime.last_trigger_ms = Some(started);
        let total = finished - started;
        let per_second = |rows: u64, ms: f64| if ms > 0.0 { rows as f64 * 1000.0 / ms } else { 0.0 };
        let event_time = EventTimeStats {
            watermark: (entry.watermark_micros > 0).then_some(entry.watermark_micros),
            max: max_event_time.iter().flatten().max().copied(),
        };
        let progress = QueryProgress {
            id: self.metadata.id.clone(),
            batch_id,
            timestamp_ms: entry.batch_timestamp_ms,
            num_input_rows,
            input_rows_per_second: per_second(num_input_rows, since_last),
            processed_rows_per_second: per_second(num_input_rows, total),
            duration_ms: DurationMs {
                latest_offset: 0.0,
                get_batch: got_batch - wal_done,
                query_planning: 0.0,
                add_batch: added - got_batch,
                wal_commit: wal_done - started,
                commit_offsets: finished - added,
                trigger_execution: total,
            },
            event_time,
            state_operators: std::mem::take(&mut state_ops),
            sources: source_progress,
            num_output_rows: rows.num_rows() as u64,
            num_bad_records: bad.len() as u64,
            record_latencies,
        };
        // Trimmed in steps of RECENT_PROGRESS, so keeping the latest costs O(1) a batch.
        if self.history.len() >= 2 * RECENT_PROGRESS {
            self.history.drain(..self.history.len() - RECENT_PROGRESS);
        }
        self.history.push(progress.clone());
        Ok(Some(BatchOutcome::Committed(Box::new(BatchReport {
            batch_id,
            watermark: (entry.watermark_micros > 0).then_some(entry.watermark_micros),
            dropped_late: progress.state_operators.iter().map(|s| s.num_rows_dropped_by_watermark).sum(),
            state_rows: progress.state_operators.iter().map(|s| s.num_rows_total).sum(),
            skipped_by_table,
            rows,
            bad_records: bad,
            late_rows,
            operator_watermarks,
            input_watermarks,
            progress,
        }))))
    }

    /// Writes `version` of every stateful operator's tables and returns the operators' progress,
    /// with the state's size as written. State over the query's limits stops the query here,
    /// before the sinks see the batch.
    pub(super) fn write_state(&mut self, version: u64) -> Result<Vec<StateOperatorProgress>> {
        let storage = self.checkpoint.storage_mut();
        let mut progress = Vec::new();
        let mut owners = Vec::new();
        let mut stores = self.runtime.stores.iter_mut();
        self.runtime.pipeline.root.visit_stateful_mut(&mut |id, op| {
            let mut bytes = 0;
            for table in op.state_tables() {
                let store = stores.next().ok_or_else(|| Error::internal(format!("operator {id} has a state table without a store")))?;
                store.commit(storage, version, table)?;
                bytes += table.bytes();
            }
            if let Some(mut p) = op.state_progress() {
                p.memory_used_bytes = bytes;
                progress.push(p);
                owners.push(id.to_string());
            }
            Ok(())
        })?;
        self.check_limits(&owners, &progress)?;
        Ok(progress)
    }

    /// `owners[k]` names the operator of `progress[k]`.
    pub(super) fn check_limits(&self, owners: &[String], progress: &[StateOperatorProgress]) -> Result<()> {
        let rows: u64 = progress.iter().map(|p| p.num_rows_total).sum();
        let bytes: u64 = progress.iter().map(|p| p.memory_used_bytes).sum();
        let limits = self.limits;
        if rows <= limits.max_rows && bytes <= limits.max_bytes {
            return Ok(());
        }
        let Some((k, biggest)) = progress.iter().enumerate().max_by_key(|(_, p)| (p.num_rows_total, p.memory_used_bytes)) else {
            return Ok(());
        };
        let id = owners.get(k).cloned().unwrap_or_else(|| biggest.operator_name.clone());
        let (what, limit) = if rows > limits.max_rows {
            (format!("{rows} rows"), format!("{} rows", limits.max_rows))
        } else {
            (format!("{bytes} bytes"), format!("{} bytes", limits.max_bytes))
        };
        let advice = if self.analyzed.plan.has_watermark() {
            "a shorter watermark delay (WATERMARK ts DELAY OF ...) or a smaller window lets it forget sooner"
        } else {
            "add a watermark (FROM STREAM src WATERMARK ts DELAY OF INTERVAL 10 SECONDS) and group by a window of the event time, so old state can be dropped"
        };
        Err(Error::new(
            ErrorKind::StateLimit,
            format!(
                "the query's state grew to {what}, over the limit of {limit}; most of it is held by operator `{id}` ({} rows). \
                 The query stopped before committing this batch. State that only grows needs a way to end: {advice}",
                biggest.num_rows_total
            ),
        ))
    }
}

/// The settings recorded with every batch's offsets.
pub(super) fn conf(state_store: StateStoreConfig, limits: StateLimits) -> BTreeMap<String, String> {
    [
        ("spark.sql.streaming.multipleWatermarkPolicy", "min".to_string()),
        ("spark.sql.streaming.stateStore.providerClass", "unbounded.VersionedTable (delta + snapshot, postcard)".to_string()),
        ("spark.sql.streaming.stateStore.minDeltasForSnapshot", state_store.snapshot_interval.to_string()),
        ("spark.sql.streaming.minBatchesToRetain", state_store.versions_to_retain.to_string()),
        ("unbounded.state.maxRows", limits.max_rows.to_string()),
        ("unbounded.state.maxBytes", limits.max_bytes.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}
