//! What each generator emits: its sources' schemas and one step of its stream.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use super::{Event, Generator};
use crate::time::format_timestamp;
use crate::types::{Column, DataType, Schema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GeneratorKind {
    /// `truck_readings`: cargo temperature and speed of delivery trucks.
    #[default]
    Trucks,
    /// `clicks`: users browsing in bursts, for session windows.
    Clickstream,
    /// `payments`: card payments, retried by flaky clients, for deduplication.
    Payments,
    /// `impressions` and `ad_clicks`: clicks follow some impressions, for stream-stream joins.
    Ads,
    /// Nexmark's `person`, `auction` and `bid`, in its 1:3:46 proportion.
    Nexmark,
}

impl GeneratorKind {
    pub const ALL: [GeneratorKind; 5] =
        [GeneratorKind::Trucks, GeneratorKind::Clickstream, GeneratorKind::Payments, GeneratorKind::Ads, GeneratorKind::Nexmark];

    pub fn label(self) -> &'static str {
        match self {
            GeneratorKind::Trucks => "IoT sensors on delivery trucks",
            GeneratorKind::Clickstream => "clickstream sessions",
            GeneratorKind::Payments => "payments (with retries)",
            GeneratorKind::Ads => "ad impressions and clicks",
            GeneratorKind::Nexmark => "Nexmark bids, auctions and persons",
        }
    }

    /// The sources the generator writes, with their schemas.
    pub fn sources(self) -> Vec<(&'static str, Schema)> {
        let s = |cols: &[(&str, DataType)]| {
            Schema::new(cols.iter().map(|(n, t)| Column { name: n.to_string(), data_type: t.clone() }).collect())
        };
        use DataType::*;
        match self {
            GeneratorKind::Trucks => {
                vec![("truck_readings", s(&[("truck_id", String), ("temp_c", Double), ("speed_kmh", Int), ("ts", Timestamp)]))]
            }
            GeneratorKind::Clickstream => vec![("clicks", s(&[("user", String), ("url", String), ("ms", Int), ("ts", Timestamp)]))],
            GeneratorKind::Payments => vec![(
                "payments",
                s(&[("payment_id", String), ("account", String), ("amount", Double), ("currency", String), ("ts", Timestamp)]),
            )],
            GeneratorKind::Ads => vec![
                ("impressions", s(&[("imp_id", String), ("ad", String), ("imp_ts", Timestamp)])),
                ("ad_clicks", s(&[("ad", String), ("imp_ref", String), ("click_ts", Timestamp)])),
            ],
            GeneratorKind::Nexmark => vec![
                ("person", s(&[("id", BigInt), ("name", String), ("city", String), ("state", String), ("ts", Timestamp)])),
                (
                    "auction",
                    s(&[
                        ("id", BigInt),
                        ("seller", BigInt),
                        ("category", Int),
                        ("initial_bid", BigInt),
                        ("expires", Timestamp),
                        ("ts", Timestamp),
                    ]),
                ),
                ("bid", s(&[("auction", BigInt), ("bidder", BigInt), ("price", BigInt), ("channel", String), ("ts", Timestamp)])),
            ],
        }
    }
}

/// Per-kind memory between events.
#[derive(Debug, Clone, Default)]
pub(crate) struct KindState {
    /// Clicks owed to earlier impressions, soonest first: (event time, sequence, ad, impression
    /// id). A heap, so each event costs a log of what is owed, not a scan of it.
    pub(super) clicks_due: BinaryHeap<Reverse<(i64, u64, String, String)>>,
    pub(super) clicks_owed: u64,
    persons: u64,
    auctions: u64,
}

/// Clicks owed at most: with the clock stopped (speed 0) none come due, and impressions keep
/// owing more.
const MAX_CLICKS_DUE: usize = 100_000;

const URLS: [&str; 6] = ["/", "/search", "/product/42", "/product/7", "/cart", "/checkout"];
const CITIES: [(&str, &str); 5] = [("Portland", "OR"), ("Boise", "ID"), ("Seattle", "WA"), ("Kent", "WA"), ("Bend", "OR")];

fn ev(source: &'static str, row: Vec<Json>) -> Event {
    Event { source, row }
}

pub(crate) fn next(g: &mut Generator) -> Vec<Event> {
    match g.config.kind {
        GeneratorKind::Trucks => {
            let truck = g.key("t-");
            let temp = 2.0 + (g.rng.below(60) as f64) / 10.0;
            let speed = g.rng.below(110) as i64;
            vec![ev("truck_readings", vec![truck, json!(temp), json!(speed), g.timestamp()])]
        }
        GeneratorKind::Clickstream => {
            let user = g.key("u");
            let url = URLS[g.rng.below(URLS.len() as u64) as usize];
            let ms = 20 + g.rng.below(400) as i64;
            vec![ev("clicks", vec![user, json!(url), json!(ms), g.timestamp()])]
        }
        GeneratorKind::Payments => {
            let id = format!("p-{:05}", g.id());
            let account = g.key("acct-");
            let amount = (g.rng.below(50_000) as f64) / 100.0;
            let currency = ["EUR", "USD", "GBP"][g.rng.below(3) as usize];
            vec![ev("payments", vec![json!(id), account, json!(amount), json!(currency), g.timestamp()])]
        }
        GeneratorKind::Ads => {
            let mut out = Vec::new();
            // Clicks whose time has come, in time order (then in the order they were owed).
            let now = g.clock;
            while g.state.clicks_due.peek().is_some_and(|Reverse((t, ..))| *t <= now) {
                let Some(Reverse((t, _, ad, imp))) = g.state.clicks_due.pop() else { break };
                out.push(ev("ad_clicks", vec![json!(ad), json!(imp), json!(format_timestamp(t))]));
            }
            let imp_id = format!("i-{:05}", g.id());
            let ad = g.key("ad-");
            let t = g.event_time();
            if g.rng.chance(0.3) && g.state.clicks_due.len() < MAX_CLICKS_DUE {
                let delay = (1 + g.rng.below(15) as i64) * 1_000_000;
                g.state.clicks_owed += 1;
                let owed = (t.saturating_add(delay), g.state.clicks_owed, ad.as_str().unwrap_or_default().to_string(), imp_id.clone());
                g.state.clicks_due.push(Reverse(owed));
            }
            out.push(ev("impressions", vec![json!(imp_id), ad, json!(format_timestamp(t))]));
            out
        }
        GeneratorKind::Nexmark => {
            // Nexmark's proportions: of every 50 events, 1 person, 3 auctions, 46 bids.
            let slot = g.id() % 50;
            if slot == 0 || g.state.persons == 0 {
                g.state.persons += 1;
                let (city, state) = CITIES[g.rng.below(CITIES.len() as u64) as usize];
                let name = format!("person {}", g.state.persons);
                vec![ev("person", vec![json!(g.state.persons), json!(name), json!(city), json!(state), g.timestamp()])]
            } else if slot <= 3 || g.state.auctions == 0 {
                g.state.auctions += 1;
                let seller = 1 + g.rng.below(g.state.persons);
                let category = 10 + g.rng.below(5) as i64;
                let initial = 100 + g.rng.below(900) as i64;
                let t = g.event_time();
                let expires = format_timestamp(t.saturating_add((10 + g.rng.below(50) as i64) * 1_000_000));
                vec![ev(
                    "auction",
                    vec![
                        json!(g.state.auctions),
                        json!(seller),
                        json!(category),
                        json!(initial),
                        json!(expires),
                        json!(format_timestamp(t)),
                    ],
                )]
            } else {
                // Bids go to recent auctions, by any person.
                let recent = g.state.auctions.min(10);
                let auction = g.state.auctions - g.rng.below(recent);
                let bidder = 1 + g.rng.below(g.state.persons);
                let price = 100 + g.rng.below(10_000) as i64;
                let channel = ["web", "app", "partner"][g.rng.below(3) as usize];
                vec![ev("bid", vec![json!(auction), json!(bidder), json!(price), json!(channel), g.timestamp()])]
            }
        }
    }
}

/// Makes an event bad: a value that does not fit its column, as a broken client sends.
pub(crate) fn spoil(kind: GeneratorKind, e: &mut Event) {
    let column = match (kind, e.source) {
        (GeneratorKind::Trucks, _) => 1,
        (GeneratorKind::Clickstream, _) => 2,
        (GeneratorKind::Payments, _) => 2,
        (GeneratorKind::Ads, _) => 2,
        (GeneratorKind::Nexmark, "bid") => 2,
        (GeneratorKind::Nexmark, _) => 0,
    };
    if let Some(v) = e.row.get_mut(column) {
        *v = json!(if v.is_string() { "not-a-time" } else { "n/a" });
    }
}
