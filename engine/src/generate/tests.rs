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
