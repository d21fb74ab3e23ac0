//! Name resolution and typing: sqlparser's AST plus the streaming clauses become a typed
//! [`LogicalPlan`]. Errors carry the line and column of what they are about.
//!
//! One file per part of a query: `query` (WITH, UNION ALL, the SELECT block), `relations`
//! (FROM and its streaming clauses), `joins`, `aggregate` (GROUP BY, windows, HAVING),
//! `expressions`, `scope` (what a name resolves to) and `naming` (Spark's column names);
//! this file holds the catalog, the analyser's state and the checks on the whole plan.

use arrow_array::RecordBatch;
use sqlparser::ast::{self, Spanned};

use super::coercion::wider_type;
use super::interval::{interval_from_parts, parse_interval_string, Interval, Unit};
use super::limits;
use super::streaming::{DedupClause, Prepared, RelationClauses, WatermarkClause, MARKER_PREFIX};
use super::suggest;
use crate::error::{Error, ErrorKind, Phase, Position, Result};
use crate::expr::{AggFunc, AggregateCall, BinaryOp, CastMode, Expr, Func, LikePattern};
use crate::plan::logical::{SessionGap, SessionSpec, SortKey, WindowSpec};
use crate::plan::logical::{StreamJoinKind, StreamJoinSpec};
use crate::plan::{JoinKind, LogicalPlan};
use crate::time::parse_timestamp;
use crate::types::{Column, DataType, Schema};
use crate::value::Value;

mod aggregate;
mod expressions;
mod generate;
mod joins;
mod lambda;
mod naming;
mod query;
mod relations;
mod scope;

use self::expressions::*;
use self::generate::*;
use self::naming::*;
pub use self::naming::{output_name, spark_sql};
use self::scope::*;

/// What a query can read: streaming sources and static tables, by name.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub sources: Vec<(String, Schema)>,
    pub tables: Vec<(String, Schema, RecordBatch)>,
}

impl Catalog {
    /// A static table from rows written as the scenario format writes them. A value that does
    /// not fit its column is an error here: a static table has no dead-letter output.
    pub fn table_from_json(name: &str, schema: Schema, rows: &[serde_json::Value]) -> Result<(String, Schema, RecordBatch)> {
        let mut log = crate::source::SourceLog::new(name, schema.clone());
        log.append_json(rows).map_err(|e| Error::invalid_input(format!("table `{name}`: {}", e.message)))?;
        let read = log.read(0, log.latest_offset())?;
        if let Some(b) = read.bad.first() {
            return Err(Error::invalid_input(format!("table `{name}`, row {}: {}", b.offset, b.reason)));
        }
        Ok((name.to_string(), schema, read.rows))
    }

    fn source(&self, name: &str) -> Option<&(String, Schema)> {
        self.sources.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    fn table(&self, name: &str) -> Option<&(String, Schema, RecordBatch)> {
        self.tables.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name))
    }
}

/// The analysed query and the facts the streaming rules are checked against at start.
#[derive(Debug, Clone)]
pub struct AnalyzedQuery {
    pub plan: LogicalPlan,
    /// Where the query aggregates (GROUP BY, an aggregate function, DISTINCT), if it does.
    pub aggregation: Option<Position>,
    /// `count(DISTINCT ...)` and friends, refused on streams.
    pub distinct_aggregate: Option<Position>,
    /// An `OVER (...)` window function, refused on streams: its name and position.
    pub over_window: Option<(String, Position)>,
    /// Where the query sorts (ORDER BY), if it does.
    pub order_by: Option<Position>,
    /// The output columns that identify a row of an aggregating query (its GROUP BY columns):
    /// an update-mode sink keeps the latest row per such key.
    pub update_key: Option<Vec<String>>,
}

/// Aggregate calls are collected while a SELECT list or HAVING of an aggregation is resolved;
/// each stands in the expression as a column at `AGG_PLACEHOLDER + k` until it is rewritten
/// onto the aggregate's output.
const AGG_PLACEHOLDER: usize = 1 << 30;

/// The session window of an aggregation stands among its keys as this column until the session
/// operator computes it.
const SESSION_PLACEHOLDER: usize = AGG_PLACEHOLDER - 1;

/// The grouping id of a GROUP BY with CUBE, ROLLUP or GROUPING SETS stands among its keys as
/// this column: `grouping(...)` and `grouping_id()` read it.
const GROUPING_ID_PLACEHOLDER: usize = AGG_PLACEHOLDER - 2;

struct AggCollector {
    calls: Vec<(String, AggregateCall)>,
    /// The grouping columns of a GROUP BY with grouping sets (None for a plain GROUP BY).
    grouping: Option<Vec<Expr>>,
}

/// Aggregates the analyzer builds from others (`listagg` is a join over `collect_list`,
/// `percentile_cont(p) WITHIN GROUP (ORDER BY x)` is `percentile(x, p)`).
const REWRITTEN_AGGREGATES: &[&str] = &["listagg", "string_agg", "percentile_cont"];

fn is_spark_aggregate(name: &str) -> bool {
    AggFunc::is_aggregate_name(name) || REWRITTEN_AGGREGATES.contains(&name)
}
const TIME_WINDOWS: &[&str] = &["window", "session_window"];

/// Names the analyzer resolves itself rather than as expression functions: the time windows
/// and the generators (for the function catalog's completeness test).
#[cfg(test)]
pub(crate) fn special_function_names() -> impl Iterator<Item = &'static str> {
    TIME_WINDOWS.iter().chain(generate::GENERATOR_NAMES).chain(expressions::REWRITTEN_CALLS).chain(REWRITTEN_AGGREGATES).copied()
}

fn position_of(span: sqlparser::tokenizer::Span) -> Option<Position> {
    (span.start.line > 0).then_some(Position { line: span.start.line, column: span.start.column })
}

fn expr_position(e: &ast::Expr) -> Option<Position> {
    limits::expr_position(e)
}

fn quote(name: &str) -> String {
    format!("`{name}`")
}

/// Analyses `sql` against `catalog`.
pub fn analyze(sql: &str, catalog: &Catalog) -> Result<AnalyzedQuery> {
    let (query, prepared) = super::parse(sql)?;
    let result = analyze_parsed(&query, &prepared, catalog);
    limits::dismantle_query(query);
    limits::dismantle_exprs(prepared.relations.into_iter().filter_map(|r| r.watermark.map(|w| w.event_time)).collect());
    result
}

fn analyze_parsed(query: &ast::Query, prepared: &Prepared, catalog: &Catalog) -> Result<AnalyzedQuery> {
    let mut a = Analyzer {
        catalog,
        prepared,
        ctes: Vec::new(),
        relations: 0,
        nesting: 0,
        aggregation: None,
        distinct_aggregate: None,
        over_window: None,
        order_by: None,
        collecting: None,
        window_column: None,
        session_window: None,
        alias_fallback: Vec::new(),
        lambda_vars: Vec::new(),
    };
    let (plan, _) = a.query(query)?;
    let plan = crate::plan::optimize::optimize(plan);
    if !plan.is_streaming() {
        return Err(Error::unsupported(
            "[WRITE_STREAM_NOT_ALLOWED] 'writeStream' can be called only on streaming Dataset/DataFrame. The query reads no streaming source: name one of the scenario's sources in FROM. SQLSTATE: 42601",
        )
        .with_condition("WRITE_STREAM_NOT_ALLOWED"));
    }
    let update_key = update_key_of(&plan);
    Ok(AnalyzedQuery {
        plan,
        aggregation: a.aggregation,
        distinct_aggregate: a.distinct_aggregate,
        over_window: a.over_window,
        order_by: a.order_by,
        update_key,
    })
}

struct Analyzer<'a> {
    catalog: &'a Catalog,
    prepared: &'a Prepared,
    /// Common table expressions in scope, in the order they are defined (outer WITH first). A
    /// CTE sees only the ones before it, as in Spark: in `WITH events AS (... FROM events)` the
    /// inner `events` is the source, and two CTEs cannot refer to each other.
    ctes: Vec<(String, &'a ast::Query)>,
    /// Relations read and queries analysed so far: a CTE is analysed again wherever it is used,
    /// so stacked CTEs can expand exponentially; counted against [`limits::MAX_RELATIONS`].
    relations: usize,
    /// How many queries (subqueries, CTE bodies) enclose the one being analysed.
    nesting: usize,
    aggregation: Option<Position>,
    distinct_aggregate: Option<Position>,
    over_window: Option<(String, Position)>,
    order_by: Option<Position>,
    /// Set while resolving the SELECT list or HAVING of an aggregation.
    collecting: Option<AggCollector>,
    /// The `window(...)` of the aggregation being resolved: its SQL text and column.
    window_column: Option<(String, usize)>,
    /// The `session_window(...)` of the aggregation being resolved: its SQL text, time and gap.
    session_window: Option<(String, Expr, SessionGap)>,
    /// SELECT aliases HAVING may refer to, resolved.
    alias_fallback: Vec<(String, Expr)>,
    /// The variables of the lambdas being resolved, outermost first (lambda.rs).
    lambda_vars: Vec<(String, DataType)>,
}

impl<'a> Analyzer<'a> {
    /// Counts one more relation or query against the plan-size budget.
    fn count_relation(&mut self, pos: Option<Position>) -> Result<()> {
        self.relations += 1;
        if self.relations > limits::MAX_RELATIONS {
            return Err(limits::too_many_relations(self.relations).at(pos));
        }
        Ok(())
    }
}

/// The delay of the watermark that governs `plan`'s event time, if any.
fn watermark_delay(plan: &LogicalPlan) -> Option<i64> {
    match plan {
        LogicalPlan::Watermark { delay, .. } => Some(delay.total_micros()),
        other => other.children().into_iter().find_map(watermark_delay),
    }
}

/// HAVING must be a boolean; returns the input unchanged when it is.
fn boolean_filter_input(input: LogicalPlan, predicate: &Expr, text: &ast::Expr) -> Result<LogicalPlan> {
    if !matches!(predicate.data_type(), DataType::Boolean | DataType::Null) {
        return Err(Error::type_mismatch(format!("HAVING `{text}` must be a boolean, not {}", predicate.data_type().spark_name()))
            .at(expr_position(text)));
    }
    Ok(input)
}

/// The output columns of an aggregating query that are its grouping keys.
fn update_key_of(plan: &LogicalPlan) -> Option<Vec<String>> {
    let LogicalPlan::Project { input, exprs, schema } = plan else { return None };
    let mut below = input.as_ref();
    while let LogicalPlan::Filter { input, .. } = below {
        below = input;
    }
    let LogicalPlan::Aggregate { keys, .. } = below else { return None };
    Some(
        exprs
            .iter()
            .zip(&schema.columns)
            .filter(|(e, _)| matches!(e, Expr::Column { index, .. } if *index < keys.len()))
            .map(|(_, c)| c.name.clone())
            .collect(),
    )
}

fn non_time_window(name: &str) -> Error {
    Error::unsupported(format!(
        "[NON_TIME_WINDOW_NOT_SUPPORTED_IN_STREAMING] Window function is not supported in {name} on streaming DataFrames/Datasets. Structured Streaming only supports time-window aggregation using the WINDOW function. SQLSTATE: 42KDE"
    ))
    .with_condition("NON_TIME_WINDOW_NOT_SUPPORTED_IN_STREAMING")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Column;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn catalog() -> Catalog {
        let readings = Schema::new(vec![
            Column { name: "device".into(), data_type: DataType::String },
            Column { name: "temp".into(), data_type: DataType::Double },
            Column { name: "humidity".into(), data_type: DataType::Int },
            Column { name: "ts".into(), data_type: DataType::Timestamp },
        ]);
        let devices = Schema::new(vec![
            Column { name: "device".into(), data_type: DataType::String },
            Column { name: "site".into(), data_type: DataType::String },
        ]);
        let rows = RecordBatch::new_empty(devices.to_arrow());
        Catalog { sources: vec![("readings".into(), readings)], tables: vec![("devices".into(), devices, rows)] }
    }

    fn error(sql: &str) -> Error {
        analyze(sql, &catalog()).err().unwrap_or_else(|| panic!("expected an error for {sql}"))
    }

    #[test]
    fn grouping_sets_expand_once_per_set_and_refuse_what_they_cannot_keep_apart() {
        let ok = |sql: &str| analyze(sql, &catalog()).unwrap_or_else(|e| panic!("{sql}: {e}"));
        ok("SELECT device, grouping(device) AS g, grouping_id() AS id, count(*) AS n FROM STREAM readings GROUP BY CUBE(device, humidity)");
        ok("SELECT device, sum(temp) AS t FROM STREAM readings GROUP BY device, ROLLUP(humidity) HAVING grouping(humidity) = 0");
        ok("SELECT device, humidity, count(*) AS n FROM STREAM readings GROUP BY GROUPING SETS ((device, humidity), (device), ())");
        let kind = |sql: &str| error(sql).kind;
        // Spark keeps a repeated set's rows apart; refused rather than merged.
        assert_eq!(
            kind("SELECT device, count(*) AS n FROM STREAM readings GROUP BY GROUPING SETS ((device), (device))"),
            ErrorKind::UnsupportedOperation
        );
        assert_eq!(kind("SELECT device, count(*) AS n FROM STREAM readings GROUP BY CUBE(device, temp, humidity, ts, device || 'a', temp + 1, humidity + 1)"), ErrorKind::UnsupportedOperation);
        assert_eq!(kind("SELECT device, grouping(device) AS g FROM STREAM readings GROUP BY device"), ErrorKind::TypeMismatch);
        assert_eq!(kind("SELECT device, grouping(temp) AS g FROM STREAM readings GROUP BY CUBE(device)"), ErrorKind::TypeMismatch);
        assert_eq!(
            kind("SELECT device, grouping_id(humidity) AS g FROM STREAM readings GROUP BY CUBE(device, humidity)"),
            ErrorKind::TypeMismatch
        );
    }

    #[test]
    fn time_and_ntz_literals_are_read_only_where_their_type_cannot_show() {
        let ok = |sql: &str| analyze(sql, &catalog()).unwrap_or_else(|e| panic!("{sql}: {e}"));
        ok("SELECT hour(TIMESTAMP_NTZ '2018-02-14 12:58:59.123456789') AS h FROM STREAM readings");
        ok("SELECT make_timestamp(DATE'2014-12-28', TIME'6:30:45.887', 'CET') AS t FROM STREAM readings");
        ok("SELECT date_format(TIME'14:30:45', 'HH:mm:ss') AS t FROM STREAM readings");
        ok("SELECT trim(BOTH FROM device) AS d, second(TIMESTAMP_LTZ '2018-02-14 12:58:59') AS s FROM STREAM readings");
        ok("SELECT decode(humidity, 1, 'one', NULL, 'none', 'many') AS d FROM STREAM readings");
        // The literal's own type would show: refused, never answered as a TIMESTAMP.
        assert_eq!(error("SELECT TIMESTAMP_NTZ '2018-02-14 12:58:59' AS t FROM STREAM readings").kind, ErrorKind::UnsupportedOperation);
        assert_eq!(error("SELECT date_format(TIME'14:30:45', 'yyyy') AS t FROM STREAM readings").kind, ErrorKind::UnsupportedOperation);
        assert_eq!(
            error("SELECT make_timestamp(2014, 12, 28, 6, 30, 45, 'Mars/Olympus') AS t FROM STREAM readings").kind,
            ErrorKind::UnsupportedOperation
        );
        assert_eq!(error("SELECT make_timestamp(DATE'2014-12-28', TIME'25:00') AS t FROM STREAM readings").kind, ErrorKind::Parse);
    }

    #[test]
    fn fields_of_a_constant_interval_are_literals() {
        let value = |sql: &str| match analyze(sql, &catalog()).unwrap_or_else(|e| panic!("{sql}: {e}")).plan {
            crate::plan::LogicalPlan::Project { exprs, .. } => exprs[0].clone(),
            other => panic!("{other:?}"),
        };
        let lit = |v| Expr::Literal(v);
        assert_eq!(value("SELECT extract(days FROM interval 5 days 3 hours 7 minutes) AS v FROM STREAM readings"), lit(Value::Int(5)));
        assert_eq!(
            value("SELECT date_part('seconds', interval 5 hours 30 seconds 1 milliseconds 1 microseconds) AS v FROM STREAM readings"),
            lit(Value::Double(30.001001))
        );
        assert_eq!(value("SELECT extract(MONTH FROM INTERVAL '2021-11' YEAR TO MONTH) AS v FROM STREAM readings"), lit(Value::Int(11)));
        assert_eq!(
            value("SELECT datepart('MINUTE', INTERVAL '123 23:55:59.002001' DAY TO SECOND) AS v FROM STREAM readings"),
            lit(Value::Int(55))
        );
        assert_eq!(
            error("SELECT extract(DAY FROM INTERVAL '2021-11' YEAR TO MONTH) AS v FROM STREAM readings").kind,
            ErrorKind::TypeMismatch
        );
        assert_eq!(value("SELECT INTERVAL '1-1' YEAR TO MONTH div INTERVAL '-1' MONTH AS v FROM STREAM readings"), lit(Value::BigInt(-13)));
        assert_eq!(error("SELECT INTERVAL '1' YEAR div INTERVAL '1' DAY AS v FROM STREAM readings").kind, ErrorKind::TypeMismatch);
        assert_eq!(
            error("SELECT width_bucket(INTERVAL '1' YEAR, INTERVAL '0' DAY, INTERVAL '10' DAY, 10) AS v FROM STREAM readings").kind,
            ErrorKind::TypeMismatch
        );
    }

    #[test]
    fn within_group_is_taken_only_where_its_order_is_understood() {
        let ok = |sql: &str| analyze(sql, &catalog()).unwrap_or_else(|e| panic!("{sql}: {e}"));
        ok("SELECT listagg(device, ', ') WITHIN GROUP (ORDER BY device DESC) AS d FROM STREAM readings");
        ok("SELECT string_agg(device) AS d, mode() WITHIN GROUP (ORDER BY humidity DESC) AS m FROM STREAM readings");
        ok("SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY temp) AS p FROM STREAM readings");
        for sql in [
            "SELECT listagg(device) WITHIN GROUP (ORDER BY temp) AS d FROM STREAM readings",
            "SELECT max(temp) WITHIN GROUP (ORDER BY temp) AS d FROM STREAM readings",
        ] {
            assert_eq!(error(sql).kind, ErrorKind::UnsupportedOperation, "{sql}");
        }
        ok("SELECT listagg(humidity) AS d, percentile_disc(0.25) WITHIN GROUP (ORDER BY temp DESC) AS p FROM STREAM readings");
    }

    #[test]
    fn read_files_and_cloud_files_read_a_source_as_databricks_writes_them() {
        for sql in [
            "SELECT device FROM STREAM read_files('readings', format => 'json')",
            "SELECT r.device FROM STREAM cloud_files('readings', 'csv') AS r",
            "SELECT device FROM STREAM read_files('readings', format => 'JSON')",
        ] {
            let a = analyze(sql, &catalog()).unwrap_or_else(|e| panic!("{sql}: {e}"));
            assert_eq!(a.plan.schema().names(), vec!["device"], "{sql}");
        }
        assert_eq!(error("SELECT * FROM STREAM read_files('nosuch', format => 'json')").kind, ErrorKind::UnknownTable);
        assert!(error("SELECT * FROM STREAM read_files('readings')").message.contains("needs the format"));
        assert!(error("SELECT * FROM STREAM cloud_files('readings', 'parquet')").message.contains("`parquet` is not read here"));
        assert!(error("SELECT * FROM STREAM read_files('readings', format => 'json', header => 'true')").message.contains("`header`"));
        assert!(error("SELECT * FROM STREAM read_files(1, format => 'json')").message.contains("arguments are strings"));
    }

    #[test]
    fn read_kafka_reads_a_kafka_source_by_the_topic_it_subscribes_to() {
        let mut c = catalog();
        c.sources.push(("sensor_data".into(), crate::kafka::kafka_schema()));
        let ok = |sql: &str| analyze(sql, &c).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let a = ok("SELECT CAST(value AS STRING) AS v FROM STREAM read_kafka(bootstrapServers => 'host:9092', subscribe => 'sensor_data')");
        assert_eq!(a.plan.schema().names(), vec!["v"]);
        ok("SELECT k.partition FROM STREAM read_kafka(subscribe => 'SENSOR_DATA') AS k");
        let e = |sql: &str| analyze(sql, &c).err().unwrap_or_else(|| panic!("expected an error for {sql}"));
        assert!(e("SELECT * FROM STREAM read_kafka(subscribe => 'readings')").message.contains("is not one"));
        assert_eq!(e("SELECT * FROM STREAM read_kafka(subscribe => 'nosuch')").kind, ErrorKind::UnknownTable);
        assert!(e("SELECT * FROM STREAM read_kafka(bootstrapServers => 'h:1')").message.contains("needs the topic"));
        assert!(e("SELECT * FROM STREAM read_kafka(subscribe => 'sensor_data', startingOffsets => 'earliest')")
            .message
            .contains("`startingOffsets`"));
        assert!(e("SELECT * FROM STREAM read_kafka('sensor_data')").message.contains("named arguments"));
        assert!(e("SELECT * FROM STREAM read_kafka(subscribe => 'a,b')").message.contains("one topic"));
        let p = e("SELECT *\nFROM STREAM read_kafka(subscribe => 1)").position.unwrap();
        assert_eq!((p.line, p.column), (2, 13));
    }

    fn at(e: &Error) -> (ErrorKind, u64, u64) {
        let p = e.position.unwrap_or_else(|| panic!("no position in {e}"));
        (e.kind, p.line, p.column)
    }

    #[test]
    fn errors_have_a_kind_and_a_place() {
        assert_eq!(at(&error("SELEC device FROM readings")), (ErrorKind::Parse, 1, 1));
        assert_eq!(at(&error("SELECT device,\n  pressure\nFROM readings")), (ErrorKind::UnknownColumn, 2, 3));
        assert_eq!(at(&error("SELECT * FROM STREAM nosuch")), (ErrorKind::UnknownTable, 1, 22));
        assert_eq!(at(&error("SELECT upperr(device) FROM readings")), (ErrorKind::UnknownFunction, 1, 8));
        assert_eq!(at(&error("SELECT device FROM readings r JOIN devices d ON r.device = d.device")), (ErrorKind::AmbiguousColumn, 1, 8));
        assert_eq!(at(&error("SELECT temp + (humidity > 50) FROM readings")).0, ErrorKind::TypeMismatch);
        assert_eq!(at(&error("SELECT * FROM readings WATERMARK device DELAY OF INTERVAL 1 SECOND")), (ErrorKind::TypeMismatch, 1, 34));
        assert_eq!(at(&error("SELECT * FROM readings WHERE humidity")).0, ErrorKind::TypeMismatch);
    }

    #[test]
    fn suggestions_name_the_likely_column_and_function() {
        assert!(error("SELECT tmp FROM readings").message.contains("Did you mean one of the following? [`temp`"));
        assert!(error("SELECT upperr(device) FROM readings").message.contains("Did you mean `upper`?"));
        assert!(error("SELECT * FROM reading").message.contains("Did you mean `readings`?"));
    }

    #[test]
    fn unaliased_columns_are_named_as_spark_names_them() {
        let q = analyze(
            "SELECT r.device, round(temp * 1.8 + 32, 2), upper(device), CAST(humidity AS STRING), temp > 1 FROM readings r",
            &catalog(),
        )
        .unwrap();
        assert_eq!(
            q.plan.schema().names(),
            vec!["device", "round(((temp * 1.8) + 32), 2)", "upper(device)", "humidity", "(temp > 1)"],
            "PySpark 4.3 names a cast of a bare column after the column"
        );
        let q = analyze("SELECT CAST(humidity + 1 AS STRING) FROM readings", &catalog()).unwrap();
        assert_eq!(q.plan.schema().names(), vec!["CAST((humidity + 1) AS STRING)"]);
    }

    #[test]
    fn types_follow_sparks_rules() {
        let q = analyze("SELECT humidity + 1 AS a, humidity / 2 AS b, humidity * temp AS c, floor(temp) AS d, '5' > humidity AS e, coalesce(humidity, 0L) AS f FROM readings", &catalog()).unwrap();
        let types: Vec<DataType> = q.plan.schema().columns.iter().map(|c| c.data_type.clone()).collect();
        assert_eq!(types, vec![DataType::Int, DataType::Double, DataType::Double, DataType::BigInt, DataType::Boolean, DataType::BigInt]);
    }

    #[test]
    fn streaming_facts_are_recorded_for_the_start_checks() {
        let q = analyze("SELECT device, count(*) FROM readings GROUP BY device", &catalog()).unwrap();
        assert!(q.aggregation.is_some() && q.distinct_aggregate.is_none());
        let q = analyze("SELECT count(DISTINCT device) FROM readings", &catalog()).unwrap();
        assert!(q.distinct_aggregate.is_some());
        let q = analyze("SELECT DISTINCT device FROM readings", &catalog()).unwrap();
        assert!(q.aggregation.is_some());
        let q = analyze("SELECT device FROM readings ORDER BY device", &catalog()).unwrap();
        assert!(q.order_by.is_some());
        assert_eq!(error("SELECT * FROM devices").kind, ErrorKind::UnsupportedOperation);
        assert_eq!(error("SELECT * FROM STREAM devices").spark_condition, Some("_LEGACY_ERROR_TEMP_1008"));
    }

    #[test]
    fn joins_split_keys_from_the_rest_of_the_condition() {
        let q = analyze("SELECT r.device, d.site FROM readings r LEFT JOIN devices d ON r.device = d.device AND r.temp > 20", &catalog())
            .unwrap();
        fn find(p: &LogicalPlan) -> Option<(usize, bool, JoinKind)> {
            if let LogicalPlan::StaticJoin { stream_keys, residual, kind, .. } = p {
                return Some((stream_keys.len(), residual.is_some(), *kind));
            }
            p.children().into_iter().find_map(find)
        }
        assert_eq!(find(&q.plan), Some((1, true, JoinKind::LeftOuter)));
        assert_eq!(error("SELECT * FROM devices d LEFT JOIN readings r ON r.device = d.device").kind, ErrorKind::UnsupportedOperation);
    }

    /// The sink of a one-row stream through `SELECT <select> FROM STREAM one`.
    fn one_row(select: &str) -> serde_json::Value {
        let text = format!(
            r#"{{"version": 1, "name": "t", "sources": {{"one": {{"schema": [["id", "int"]]}}}}, "query": "SELECT {select} FROM STREAM one", "steps": [{{"add": "one", "rows": [[1]]}}, {{"run": {{}}}}]}}"#
        );
        crate::scenario::run_text(&text).unwrap().document["sink"].clone()
    }

    #[test]
    fn null_functions_mean_what_spark_says() {
        let row = one_row("isnull(NULL), isnull(id), isnotnull(id), equal_null(NULL, NULL), equal_null(id, 2), nvl2(NULL, 2, 1), nvl2(id, 'a', 'b'), zeroifnull(NULL), zeroifnull(id + 1), nullifzero(0), nullifzero(id)");
        assert_eq!(row, serde_json::json!([[true, false, true, true, false, 1, "a", 0, 2, null, 1]]));
        assert_eq!(error("SELECT nvl2(temp, 1) FROM readings").kind, ErrorKind::TypeMismatch);
    }

    #[test]
    fn byte_hash_url_and_name_functions_give_spark_values() {
        let row = one_row(
            "base64('Spark SQL'), unbase64('U3BhcmsgU1FM'), base64(unhex('537061726B')), isnan(CAST('NaN' AS DOUBLE)), isnan(NULL), isnan(1.0D), dayname(DATE'2008-02-20'), monthname(DATE'2008-02-20'), hash('Spark', array(123), 2), url_encode('a b/c'), parse_url('http://spark.apache.org/path?query=1', 'HOST'), find_in_set('ab', 'abc,b,ab,c,def'), luhn_check('8112189876')",
        );
        assert_eq!(
            row,
            serde_json::json!([[
                "U3BhcmsgU1FM",
                "U3BhcmsgU1FM",
                "U3Bhcms=",
                true,
                false,
                false,
                "Wed",
                "Feb",
                -1321691492,
                "a+b%2Fc",
                "spark.apache.org",
                3,
                true
            ]])
        );
    }

    #[test]
    fn number_literals_of_types_not_built_are_parse_errors_not_unknown_columns() {
        // (`2S` and `3Y` reach the analyzer as `2 AS S`: only a tokenizer change can tell them apart.)
        for q in ["SELECT 1.0F FROM readings", "SELECT 1.5f + 1 FROM readings"] {
            let e = error(q);
            assert_eq!(e.kind, ErrorKind::Parse, "{q}: {e}");
            assert!(e.message.contains("literal"), "{q}: {e}");
        }
        assert_eq!(error("SELECT tempF FROM readings").kind, ErrorKind::UnknownColumn);
    }

    #[test]
    fn the_smallest_int_and_bigint_are_literals_of_their_type() {
        let q = analyze(
            "SELECT -2147483648 AS a, -2147483648L AS b, -9223372036854775808 AS c, try_multiply(-2147483648, 10) AS d FROM readings",
            &catalog(),
        )
        .unwrap();
        let types: Vec<DataType> = q.plan.schema().columns.iter().map(|c| c.data_type.clone()).collect();
        assert_eq!(types, vec![DataType::Int, DataType::BigInt, DataType::BigInt, DataType::Int]);
    }
}
