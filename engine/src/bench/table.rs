//! The one table the benchmark prints, the machine it ran on, and the process's peak memory.

use super::{Measurement, Secs};

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

/// The table as Markdown (what README carries), with the machine and what the columns mean.
pub fn render(measurements: &[Measurement]) -> String {
    let mut out = String::new();
    out.push_str(&format!("| {} |\n", HEADER.join(" | ")));
    out.push_str(&format!("|{}\n", "---|".repeat(HEADER.len())));
    for m in measurements {
        out.push_str(&format!("| {} |\n", cells(m).join(" | ")));
    }
    out.push_str(&format!(
        "\nnative, {} build, on {}.\n\
         engine/hand time: the engine's time over that of the hand-written loop in engine/src/bench/hand.rs computing \
         the same answer from the same Arrow batches (checked row for row: `same answer`). state B/key: the state's encoded bytes (keys and values, as the \
         checkpoint writes them; progress's memoryUsedBytes) over its rows, at the batch holding the most rows. \
         peak RSS: VmHWM of this process after the engine's run (before the hand loop's), reset before each \
         workload, its input included (Linux only); memory an earlier workload freed may stay resident, so name one \
         workload per command for its own peak. \
         Wasm (Node, Chromium) is not measured by this command yet.\n",
        if cfg!(debug_assertions) { "debug (unoptimised: run with --release or cargo bench)" } else { "optimised" },
        machine()
    ));
    out
}
