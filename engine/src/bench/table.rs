//! The one table the benchmark prints, the machine it ran on, and the process's peak memory.

use super::{Measurement, Secs, WasmResults};

/// Resets the process's peak resident set (Linux: writing 5 to /proc/self/clear_refs), so the
/// next reading is one workload's peak; false where that is not possible.
pub fn reset_peak_rss() -> bool {
    #[cfg(target_os = "linux")]
    {
        std::fs::write("/proc/self/clear_refs", "5").is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// The process's peak resident set in bytes (VmHWM), on Linux; None elsewhere.
pub fn peak_rss() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: u64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// `nproc` and the CPU model, as far as the platform tells them.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or("?".to_string(), |n| n.to_string());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, m)| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {model}, {} {}", std::env::consts::OS, std::env::consts::ARCH)
}

fn rate(events: u64, secs: Secs) -> Option<f64> {
    secs.filter(|s| *s > 0.0).map(|s| events as f64 / s)
}

/// `1234567.0` as `1.23 M`, `4321.0` as `4.32 k`.
pub fn si(x: f64) -> String {
    match x {
        x if x >= 1e9 => format!("{:.2} G", x / 1e9),
        x if x >= 1e6 => format!("{:.2} M", x / 1e6),
        x if x >= 1e3 => format!("{:.2} k", x / 1e3),
        x => format!("{x:.0}"),
    }
}

fn or_dash(s: Option<String>) -> String {
    s.unwrap_or_else(|| "—".into())
}

/// One line per measurement: the cells of the table, in its column order.
pub fn cells(m: &Measurement) -> Vec<String> {
    let engine = rate(m.events, m.secs);
    let hand = m.hand_secs.and_then(|s| rate(m.events, s));
    vec![
        m.workload.name().to_string(),
        m.events.to_string(),
        or_dash(engine.map(si)),
        or_dash(m.secs.filter(|_| m.events > 0).map(|s| format!("{:.0}", s * 1e9 / m.events as f64))),
        or_dash(hand.map(si)),
        or_dash(engine.zip(hand).map(|(e, h)| format!("{:.1}x", h / e))),
        match m.agrees {
            Some(true) => "yes".into(),
            Some(false) => "NO".into(),
            None => "—".into(),
        },
        or_dash(m.state.filter(|s| s.rows > 0).map(|s| format!("{:.0}", s.bytes as f64 / s.rows as f64))),
        or_dash(m.peak_rss.map(|b| format!("{:.0} MB", b as f64 / 1e6))),
        m.note.clone(),
    ]
}

pub const HEADER: [&str; 10] = [
    "workload",
    "events",
    "events/s",
    "ns/event",
    "hand-loop events/s",
    "engine/hand time",
    "same answer",
    "state B/key",
    "peak RSS",
    "notes",
];

/// The cells a wasm host adds to `m`'s row: its events/s (flagged when its answer differed),
/// its events/s over native's, its linear memory.
pub fn wasm_cells(m: &Measurement, host: &WasmResults) -> [String; 3] {
    let Some(w) = host.run(m.workload) else { return ["—".into(), "—".into(), "—".into()] };
    let wasm = rate(w.events, w.secs);
    let flag = if w.agrees == Some(false) { " (answer differs!)" } else { "" };
    [
        or_dash(wasm.map(|r| format!("{}{flag}", si(r)))),
        or_dash(wasm.zip(rate(m.events, m.secs)).map(|(w, n)| format!("{:.2}x", w / n))),
        or_dash(w.peak_rss.map(|b| format!("{:.0} MB", b as f64 / 1e6))),
    ]
}

/// A note up to its first parenthesis or semicolon: its numbers, without their explanation.
fn head(note: &str) -> &str {
    let end = [note.find(" ("), note.find("; ")].into_iter().flatten().min().unwrap_or(note.len());
    &note[..end]
}

/// `m`'s note, followed by the head of each wasm host's where it says something else (W7's
/// time per trigger), or the whole note of a variant of the run (W8 over IndexedDB).
fn notes(m: &Measurement, wasm: &[WasmResults]) -> String {
    let mut out = m.note.clone();
    for host in wasm {
        for line in host.lines.iter().filter(|l| l.m.workload == m.workload) {
            let (label, note) = match &line.variant {
                Some(v) => (format!("{} {v}", host.label), format!("{}{}", line.m.note, answer(line.m.agrees))),
                None if head(&line.m.note) != head(&m.note) => (host.label.clone(), head(&line.m.note).to_string()),
                None => continue,
            };
            out.push_str(&format!("; {label}: {note}"));
        }
    }
    out
}

fn answer(agrees: Option<bool>) -> &'static str {
    match agrees {
        Some(true) => ", same answer",
        Some(false) => ", ANSWER DIFFERS",
        None => "",
    }
}

/// The table as Markdown (what README carries), with the machine and what the columns mean.
pub fn render(measurements: &[Measurement]) -> String {
    render_with(measurements, &[])
}

/// [`render`] with a column group per wasm host after the native columns.
pub fn render_with(measurements: &[Measurement], wasm: &[WasmResults]) -> String {
    let mut header: Vec<String> = HEADER[..HEADER.len() - 1].iter().map(|h| h.to_string()).collect();
    for host in wasm {
        let l = &host.label;
        header.extend([format!("{l} events/s"), format!("{l}/native"), format!("{l} memory")]);
    }
    header.push(HEADER[HEADER.len() - 1].to_string());
    let mut out = String::new();
    out.push_str(&format!("| {} |\n", header.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
    for m in measurements {
        let mut row = cells(m);
        row.pop();
        for host in wasm {
            row.extend(wasm_cells(m, host));
        }
        row.push(notes(m, wasm));
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    let wasm_text = if wasm.is_empty() {
        "Wasm (Node, headless Chromium) and the wasm/native ratio: scripts/bench.sh.".to_string()
    } else {
        let labels: Vec<&str> = wasm.iter().map(|h| h.label.as_str()).collect();
        format!(
            "{0} events/s: the same workload, the same events, built for wasm32-unknown-unknown (release, opt-level 3, \
             engine/wasm-bench) and run in {1}, one fresh wasm instance per workload, timed by the host's performance.now(); \
             {0}/native: its events/s over the native column's; {0} memory: the wasm linear memory's size after the run \
             (memory.size x 64 KiB), a stand-in for its peak: it only grows, so it is the Rust heap's high-water mark, \
             input included, not the JS engine's own memory. Wasm notes follow the native note where they differ.",
            labels.join("/"),
            labels.join(" and ")
        )
    };
    out.push_str(&format!(
        "\nnative, {} build, on {}.\n\
         engine/hand time: the engine's time over that of the hand-written loop in engine/src/bench/hand.rs computing \
         the same answer from the same Arrow batches (checked row for row: `same answer`). state B/key: the state's encoded bytes (keys and values, as the \
         checkpoint writes them; progress's memoryUsedBytes) over its rows, at the batch holding the most rows. \
         peak RSS: VmHWM of this process after the engine's run (before the hand loop's), reset before each \
         workload, its input included (Linux only); memory an earlier workload freed may stay resident, so name one \
         workload per command for its own peak. \
         {wasm_text}\n",
        if cfg!(debug_assertions) { "debug (unoptimised: run with --release or cargo bench)" } else { "optimised" },
        machine()
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::workloads::StateSize;
    use crate::bench::{WasmLine, Workload};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn m(workload: Workload, events: u64, secs: f64, note: &str) -> Measurement {
        Measurement {
            workload,
            events,
            secs: Some(secs),
            hand_secs: Some(Some(secs / 10.0)),
            agrees: Some(true),
            state: Some(StateSize { rows: 10, bytes: 500 }),
            peak_rss: Some(3_000_000),
            note: note.into(),
        }
    }

    #[test]
    fn a_measurement_goes_through_json_unchanged() {
        let a = m(Workload::W3, 1_000, 0.25, "1 row \"out\"");
        let line = WasmLine::parse(&a.to_json(Some("IndexedDB"))).unwrap();
        assert_eq!(line.variant.as_deref(), Some("IndexedDB"));
        let b = line.m;
        assert_eq!((b.workload, b.events, b.secs, b.hand_secs, b.agrees), (a.workload, a.events, a.secs, a.hand_secs, a.agrees));
        assert_eq!((b.state, b.peak_rss, b.note), (a.state, a.peak_rss, a.note));
        let none = Measurement { secs: None, hand_secs: None, agrees: None, state: None, peak_rss: None, ..m(Workload::W8, 5, 1.0, "") };
        let back = WasmLine::parse(&none.to_json(None)).unwrap();
        assert_eq!((back.variant, back.m.secs, back.m.hand_secs, back.m.agrees, back.m.state), (None, None, None, None, None));
        assert!(WasmResults::parse("Node", "{\"workload\":\"W9\",\"events\":1}").unwrap_err().contains("line 1"));
    }

    #[test]
    fn wasm_hosts_add_their_columns_and_ratios() {
        let native = [m(Workload::W1, 1_000, 0.001, "750 rows out"), m(Workload::W7, 1_000, 0.01, "10.0 us per trigger (100 triggers)")];
        let node = WasmResults::parse(
            "Node",
            &[m(Workload::W1, 1_000, 0.004, "750 rows out"), m(Workload::W7, 1_000, 0.02, "20.0 us per trigger (100 triggers)")]
                .map(|x| x.to_json(None))
                .join("\n"),
        )
        .unwrap();
        let mut wrong = m(Workload::W1, 1_000, 0.002, "750 rows out");
        wrong.agrees = Some(false);
        let mut idb = m(Workload::W1, 1_000, 0.5, "flush 9 ms");
        idb.agrees = Some(true);
        let chromium = WasmResults {
            label: "Chromium".into(),
            lines: vec![WasmLine { variant: None, m: wrong }, WasmLine { variant: Some("IndexedDB".into()), m: idb }],
        };
        let table = render_with(&native, &[node, chromium]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0]
            .contains("| Node events/s | Node/native | Node memory | Chromium events/s | Chromium/native | Chromium memory | notes |"));
        assert_eq!(lines[1].matches("---|").count(), HEADER.len() + 6);
        // W1: native 1 M/s, Node 250 k/s (0.25x), Chromium 500 k/s with a wrong answer.
        assert!(lines[2].contains("| 250.00 k | 0.25x | 3 MB | 500.00 k (answer differs!) | 0.50x | 3 MB |"), "{}", lines[2]);
        assert!(lines[2].ends_with("| 750 rows out; Chromium IndexedDB: flush 9 ms, same answer |"), "{}", lines[2]);
        // W7: Chromium ran nothing; Node's own time per trigger follows native's.
        assert!(lines[3].contains("| 50.00 k | 0.50x | 3 MB | — | — | — |"), "{}", lines[3]);
        assert!(lines[3].ends_with("| 10.0 us per trigger (100 triggers); Node: 20.0 us per trigger |"), "{}", lines[3]);
        assert!(table.contains("run in Node and Chromium"));
        assert!(!render(&native).contains("Node events/s"));
    }
}
