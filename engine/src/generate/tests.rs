use super::*;
use crate::source::SourceLog;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn config(kind: GeneratorKind) -> GeneratorConfig {
    GeneratorConfig { kind, events_per_second: 100.0, ..GeneratorConfig::default() }
}

#[test]
fn every_kind_writes_rows_its_sources_accept() {
    for kind in GeneratorKind::ALL {
        let mut g = Generator::new(config(kind));
        let events = g.take(500, 200);
        let sources = kind.sources();
        let mut logs: Vec<SourceLog> = sources.iter().map(|(n, s)| SourceLog::new(n, s.clone())).collect();
        for e in &events {
            let log = logs.iter_mut().find(|l| l.name() == e.source).unwrap_or_else(|| panic!("{kind:?} wrote to unknown {}", e.source));
            log.append_json(&[Json::Array(e.row.clone())]).unwrap();
        }
        for log in &logs {
            let read = log.read(0, log.latest_offset()).unwrap();
            assert!(read.bad.is_empty(), "{kind:?}: {:?}", read.bad.first());
            assert!(read.rows.num_rows() > 0, "{kind:?} never wrote to {}", log.name());
        }
    }
}

#[test]
fn the_rate_and_the_clock_follow_processing_time() {
    let mut g = Generator::new(GeneratorConfig { events_per_second: 10.0, out_of_order_ms: 0, ..GeneratorConfig::default() });
    let first = g.advance(250.0);
    let second = g.advance(750.0);
    assert_eq!(first.len() + second.len(), 10, "10 events per second");
    assert_eq!(g.clock_micros() - START_MICROS, 1_000_000, "one second of event time");
    let fast = GeneratorConfig { speed: 60.0, ..g.config().clone() };
    g.set_config(fast);
    g.advance(1000.0);
    assert_eq!(g.clock_micros() - START_MICROS, 61_000_000, "speed 60: a minute of event time per second");
}

#[test]
fn knobs_make_late_duplicate_and_bad_events() {
    let mut g = Generator::new(GeneratorConfig {
        late_share: 0.2,
        late_by_ms: 60_000,
        duplicate_share: 0.1,
        bad_share: 0.1,
        out_of_order_ms: 0,
        ..config(GeneratorKind::Payments)
    });
    let events = g.take(1000, 1000);
    let ids: Vec<&Json> = events.iter().map(|e| &e.row[0]).collect();
    let distinct: std::collections::HashSet<String> = ids.iter().map(|v| v.to_string()).collect();
    let dupes = ids.len() - distinct.len();
    assert!((50..150).contains(&dupes), "about 10% retries, got {dupes}");
    let bad = events.iter().filter(|e| e.row[2] == Json::String("n/a".into())).count();
    assert!((50..150).contains(&bad), "about 10% bad records, got {bad}");
    let mut late = 0;
    let mut newest = String::new();
    for e in &events {
        let t = e.row[4].as_str().unwrap_or_default().to_string();
        if t < newest {
            late += 1;
        }
        newest = newest.max(t);
    }
    assert!(late > 100, "a fifth of the events arrive a minute late, got {late}");
}

#[test]
fn the_same_seed_gives_the_same_stream() {
    let a = Generator::new(config(GeneratorKind::Nexmark)).take(200, 100);
    let b = Generator::new(config(GeneratorKind::Nexmark)).take(200, 100);
    assert_eq!(a, b);
    let bids = a.iter().filter(|e| e.source == "bid").count();
    assert!(bids > 150, "Nexmark is mostly bids: {bids} of 200");
}

#[test]
fn every_knob_out_of_bounds_is_refused_by_name() {
    assert_eq!(GeneratorConfig::default().validate(), Ok(()));
    let at_bounds = GeneratorConfig {
        events_per_second: MAX_EVENTS_PER_SECOND,
        keys: MAX_KEYS,
        out_of_order_ms: MAX_SPREAD_MS,
        late_by_ms: MAX_SPREAD_MS,
        late_share: 1.0,
        duplicate_share: 1.0,
        bad_share: 1.0,
        speed: MAX_SPEED,
        ..GeneratorConfig::default()
    };
    assert_eq!(at_bounds.validate(), Ok(()));
    let d = GeneratorConfig::default;
    let cases: Vec<(GeneratorConfig, &str)> = vec![
        (GeneratorConfig { events_per_second: 1e308, ..d() }, "events per second must be a number from 0 to 100000, not 1e308"),
        (GeneratorConfig { events_per_second: f64::NAN, ..d() }, "events per second"),
        (GeneratorConfig { events_per_second: -1.0, ..d() }, "events per second"),
        (GeneratorConfig { keys: 0, ..d() }, "number of keys"),
        (GeneratorConfig { keys: MAX_KEYS + 1, ..d() }, "number of keys"),
        (GeneratorConfig { out_of_order_ms: -1, ..d() }, "out-of-order spread"),
        (GeneratorConfig { late_by_ms: i64::MAX, ..d() }, "lateness"),
        (GeneratorConfig { late_share: 1.5, ..d() }, "late share"),
        (GeneratorConfig { duplicate_share: f64::INFINITY, ..d() }, "duplicate share"),
        (GeneratorConfig { bad_share: -0.1, ..d() }, "bad record share"),
        (GeneratorConfig { speed: f64::INFINITY, ..d() }, "speed"),
    ];
    for (config, says) in cases {
        let err = config.validate().unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::InvalidInput);
        assert!(err.message.contains(says), "{config:?}: {err}");
    }
}

#[test]
fn knobs_no_one_checked_never_make_work_past_the_bounds() {
    // 1e308 events per second was a capacity-overflow panic; huge spreads and speeds wrapped.
    let wild = GeneratorConfig {
        events_per_second: 1e308,
        out_of_order_ms: i64::MAX,
        late_by_ms: i64::MAX,
        late_share: 0.5,
        speed: f64::INFINITY,
        ..config(GeneratorKind::Trucks)
    };
    let mut g = Generator::new(wild);
    for elapsed in [f64::INFINITY, f64::NAN, -5.0, 1e300] {
        let events = g.advance(elapsed);
        assert!(events.len() as u64 <= MAX_EVENTS_PER_ADVANCE + MAX_EVENTS_PER_ADVANCE / 2, "{} events", events.len());
    }
    g.set_config(GeneratorConfig { events_per_second: f64::NAN, ..g.config().clone() });
    assert!(g.advance(1000.0).len() <= 1, "at most the one event owed from before");
    let mut g = Generator::starting_at(GeneratorConfig { out_of_order_ms: i64::MAX, ..config(GeneratorKind::Trucks) }, i64::MIN + 1);
    assert_eq!(g.take(3, i64::MAX).len(), 3);
}

#[test]
fn clicks_owed_cost_a_log_not_a_scan() {
    // With the clock stopped no click comes due: the owed clicks pile up. Each event once
    // scanned them all (150,000 events: over 10^9 steps); now each costs a heap operation.
    let mut g = Generator::new(GeneratorConfig { out_of_order_ms: 0, ..config(GeneratorKind::Ads) });
    let events = g.take(150_000, 0);
    assert!(events.iter().all(|e| e.source == "impressions"));
    assert!(g.state.clicks_due.len() <= 100_000);
    // Once the clock moves on, every owed click comes, in time order.
    let later = g.take(1, 60_000);
    let clicks: Vec<&str> = later.iter().filter(|e| e.source == "ad_clicks").filter_map(|e| e.row[2].as_str()).collect();
    assert_eq!(clicks.len(), g.state.clicks_owed as usize);
    assert!(clicks.windows(2).all(|w| w[0] <= w[1]));
}
