//! Session namespaces: each saved session has its own IndexedDB database (see
//! [`crate::protocol::database`]), the page's local storage names the one a reload opens, and a
//! Web Lock per namespace lets one tab at a time write it. A registry in local storage lists the
//! sessions kept in this browser, so none becomes unreachable when another is kept.

use serde::Serialize;
use serde_json::Value as Json;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::protocol::{database, valid_session_id, DATABASE, FIRST_SESSION};

#[wasm_bindgen(module = "/js/session.js")]
extern "C" {
    #[wasm_bindgen(js_name = holdLock)]
    async fn hold_lock(name: &str) -> JsValue;
    #[wasm_bindgen(js_name = releaseLock)]
    fn release_lock(name: &str);
    #[wasm_bindgen(js_name = newSessionId)]
    fn new_session_id() -> String;
    #[wasm_bindgen(js_name = databaseNames)]
    async fn database_names() -> JsValue;
    #[wasm_bindgen(js_name = locksHeldElsewhere)]
    async fn locks_held_elsewhere() -> JsValue;
    #[wasm_bindgen(js_name = deleteSessionDatabase, catch)]
    async fn delete_session_database(lock: &str, database: &str) -> Result<JsValue, JsValue>;
}

/// Where the page remembers the session namespace a reload opens.
const CURRENT: &str = "unbounded.session";
/// Where the page lists the sessions kept in this browser.
const REGISTRY: &str = "unbounded.sessions";
/// The most sessions the list holds: a person keeps a few, and the registry is read on every
/// snapshot of a saved session.
pub const MAX_SAVED: usize = 50;
/// Anything on the origin may have written the registry: longer text is not even parsed.
const MAX_REGISTRY_BYTES: usize = 64 * 1024;
const MAX_NAME_CHARS: usize = 120;
/// A session's saved time is rewritten at most this often while its name stays the same.
const TOUCH_EVERY_MS: f64 = 5_000.0;
/// Times past this (the year 2500, in ms since the epoch) are not times a page wrote.
const MAX_TIME_MS: f64 = 16_725_225_600_000.0;

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn lock_name(id: &str) -> String {
    format!("unbounded.session.{id}")
}

/// The namespace a reload opens: the last one kept, else the first.
pub fn current() -> String {
    local_storage()
        .and_then(|s| s.get_item(CURRENT).ok().flatten())
        .filter(|id| valid_session_id(id))
        .unwrap_or_else(|| FIRST_SESSION.to_string())
}

pub fn set_current(id: &str) {
    if let Some(s) = local_storage() {
        let _ = s.set_item(CURRENT, id);
    }
}

/// Takes the namespace's lock if no other tab holds it, for as long as this page lives (or
/// until [`release`]); says whether this tab holds it now.
pub async fn hold(id: &str) -> bool {
    hold_lock(&lock_name(id)).await.as_bool().unwrap_or(true)
}

pub fn release(id: &str) {
    if !id.is_empty() {
        release_lock(&lock_name(id));
    }
}

pub fn new_id() -> String {
    new_session_id()
}

/// One session kept in this browser, as the registry lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedSession {
    pub id: String,
    /// The scenario's title when the session was last saved (empty: not known).
    pub name: String,
    /// Events in its sources then.
    pub events: u64,
    /// When it was last saved, in ms since the epoch (0: not known, a session found only by
    /// its database).
    pub saved_ms: f64,
}

fn clean_name(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect::<String>().trim().to_string()
}

fn newest_first(entries: &mut [SavedSession]) {
    entries.sort_by(|a, b| b.saved_ms.total_cmp(&a.saved_ms));
}

/// The registry as local storage holds it. Whatever does not read as a list of sessions with
/// valid ids is left out: a stranger's page on the same origin may have written anything there.
pub fn parse_registry(text: &str) -> Vec<SavedSession> {
    if text.len() > MAX_REGISTRY_BYTES {
        return Vec::new();
    }
    let Ok(Json::Array(items)) = serde_json::from_str::<Json>(text) else { return Vec::new() };
    let mut entries: Vec<SavedSession> = Vec::new();
    for item in &items {
        let Some(id) = item.get("id").and_then(Json::as_str).filter(|id| valid_session_id(id)) else { continue };
        if entries.iter().any(|e| e.id == id) {
            continue;
        }
        let name = item.get("name").and_then(Json::as_str).map(clean_name).unwrap_or_default();
        let events = item.get("events").and_then(Json::as_u64).unwrap_or(0);
        let saved_ms = item.get("saved_ms").and_then(Json::as_f64).filter(|t| (0.0..=MAX_TIME_MS).contains(t)).unwrap_or(0.0);
        entries.push(SavedSession { id: id.to_string(), name, events, saved_ms });
    }
    newest_first(&mut entries);
    entries.truncate(MAX_SAVED);
    entries
}

/// The registry with session `id` saved at `now_ms`, first; None when there is nothing worth
/// writing (same name and events, saved moments ago).
pub fn touched(entries: &[SavedSession], id: &str, name: &str, events: u64, now_ms: f64) -> Option<Vec<SavedSession>> {
    if !valid_session_id(id) {
        return None;
    }
    let name = clean_name(name);
    let fresh = |e: &SavedSession| e.name == name && e.events == events && (0.0..TOUCH_EVERY_MS).contains(&(now_ms - e.saved_ms));
    if entries.iter().any(|e| e.id == id && fresh(e)) {
        return None;
    }
    let mut next = vec![SavedSession { id: id.to_string(), name, events, saved_ms: now_ms.clamp(0.0, MAX_TIME_MS) }];
    next.extend(entries.iter().filter(|e| e.id != id).take(MAX_SAVED - 1).cloned());
    Some(next)
}

/// The namespace whose database is `name`, if it is one of the playground's.
pub fn session_of_database(name: &str) -> Option<String> {
    if name == DATABASE {
        return Some(FIRST_SESSION.to_string());
    }
    let id = name.strip_prefix(DATABASE)?.strip_prefix('.')?;
    // `main` has the bare name: a database named after it is nobody's.
    (valid_session_id(id) && id != FIRST_SESSION).then(|| id.to_string())
}

/// The registry against the databases this browser has: sessions whose database is gone leave
/// it (except `keep`, whose database may not be written yet), and databases it does not list
/// (kept before the registry existed, or pushed out of it) join it, unnamed.
pub fn reconciled(entries: Vec<SavedSession>, databases: &[String], keep: &str) -> Vec<SavedSession> {
    let ids: Vec<String> = databases.iter().filter_map(|n| session_of_database(n)).collect();
    let mut out: Vec<SavedSession> = entries.into_iter().filter(|e| e.id == keep || ids.contains(&e.id)).collect();
    for id in ids {
        if out.len() >= MAX_SAVED {
            break;
        }
        if !out.iter().any(|e| e.id == id) {
            out.push(SavedSession { id, name: String::new(), events: 0, saved_ms: 0.0 });
        }
    }
    newest_first(&mut out);
    out.truncate(MAX_SAVED);
    out
}

pub fn registry() -> Vec<SavedSession> {
    local_storage().and_then(|s| s.get_item(REGISTRY).ok().flatten()).map(|t| parse_registry(&t)).unwrap_or_default()
}

fn store(entries: &[SavedSession]) {
    if let (Some(s), Ok(text)) = (local_storage(), serde_json::to_string(entries)) {
        let _ = s.set_item(REGISTRY, &text);
    }
}

/// Notes that session `id` was just saved, under the scenario's title.
pub fn record(id: &str, name: &str, events: u64) {
    if let Some(next) = touched(&registry(), id, name, events, js_sys::Date::now()) {
        store(&next);
    }
}

/// The registry, cleaned against the browser's databases when it can list them.
pub async fn listed(keep: &str) -> Vec<SavedSession> {
    let entries = registry();
    let names: Option<Vec<String>> = serde_wasm_bindgen::from_value(database_names().await).ok().flatten();
    match names {
        Some(names) => {
            let next = reconciled(entries.clone(), &names, keep);
            if next != entries {
                store(&next);
            }
            next
        }
        None => entries,
    }
}

/// The sessions another tab holds the lock of (writes) now.
pub async fn open_elsewhere() -> Vec<String> {
    let names: Vec<String> = serde_wasm_bindgen::from_value(locks_held_elsewhere().await).unwrap_or_default();
    names.iter().filter_map(|n| n.strip_prefix("unbounded.session.")).filter(|id| valid_session_id(id)).map(str::to_string).collect()
}

/// What came of deleting a session.
#[derive(Debug, Clone, PartialEq)]
pub enum Deletion {
    Deleted,
    /// A page still has the database open: it goes once that page closes it.
    Blocked,
    /// A tab writes it: it stays.
    OpenElsewhere,
    /// This tab holds it.
    OpenHere,
}

/// Deletes session `id`'s database, if no tab writes it (holding its lock meanwhile, so none
/// starts to), and takes it off the registry.
pub async fn delete(id: &str) -> Result<Deletion, String> {
    if !valid_session_id(id) {
        return Err(format!("`{id}` is not a session's name"));
    }
    let outcome = delete_session_database(&lock_name(id), &database(id)).await.map_err(|e| {
        e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| format!("IndexedDB could not delete it: {e:?}"))
    })?;
    let outcome = match outcome.as_string().as_deref() {
        Some("deleted") => Deletion::Deleted,
        Some("blocked") => Deletion::Blocked,
        Some("open-here") => Deletion::OpenHere,
        _ => Deletion::OpenElsewhere,
    };
    if matches!(outcome, Deletion::Deleted | Deletion::Blocked) {
        let rest: Vec<SavedSession> = registry().into_iter().filter(|e| e.id != id).collect();
        store(&rest);
    }
    Ok(outcome)
}

/// How long ago `saved_ms` was, in words.
pub fn age(now_ms: f64, saved_ms: f64) -> String {
    if saved_ms <= 0.0 {
        return "saved before this list began".into();
    }
    let minutes = ((now_ms - saved_ms).max(0.0) / 60_000.0) as u64;
    let (n, unit) = match minutes {
        0 => return "saved just now".into(),
        m if m < 60 => (m, "minute"),
        m if m < 60 * 24 => (m / 60, "hour"),
        m => (m / (60 * 24), "day"),
    };
    format!("saved {n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, saved_ms: f64) -> SavedSession {
        SavedSession { id: id.into(), name: format!("name of {id}"), events: 3, saved_ms }
    }

    #[test]
    fn the_registry_reads_back_what_it_wrote() {
        let entries = vec![entry("s-02", 2000.0), entry("main", 1000.0)];
        assert_eq!(parse_registry(&serde_json::to_string(&entries).unwrap()), entries);
    }

    #[test]
    fn whatever_is_not_a_list_of_sessions_reads_as_an_empty_registry() {
        for text in ["", "null", "{}", "\"main\"", "[1, 2]", "[{\"name\": \"no id\"}]", "{\"id\": \"main\"}", "[[[[", "\u{0}"] {
            assert_eq!(parse_registry(text), vec![], "{text:?}");
        }
        // Deeply nested arrays stop at serde_json's recursion limit rather than the stack.
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(parse_registry(&deep), vec![]);
    }

    #[test]
    fn bad_entries_are_dropped_and_bad_fields_defaulted() {
        let text = r#"[
            {"id": "../../etc", "name": "a path", "saved_ms": 5},
            {"id": "UPPER", "saved_ms": 5},
            {"id": "", "saved_ms": 5},
            {"id": 7},
            {"id": "s-ok", "name": "line\nbreak\u0007", "events": -4, "saved_ms": -1},
            {"id": "s-ok", "name": "a duplicate", "saved_ms": 99},
            {"id": "s-late", "name": 12, "events": 1.5, "saved_ms": 1e300}
        ]"#;
        let entries = parse_registry(text);
        assert_eq!(entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["s-ok", "s-late"]);
        assert_eq!((entries[0].name.as_str(), entries[0].events, entries[0].saved_ms), ("linebreak", 0, 0.0));
        assert_eq!((entries[1].name.as_str(), entries[1].events, entries[1].saved_ms), ("", 0, 0.0));
    }

    #[test]
    fn the_registry_is_bounded_in_size_entries_and_names() {
        let many: Vec<SavedSession> = (0..500).map(|k| entry(&format!("s-{k}"), k as f64)).collect();
        let entries = parse_registry(&serde_json::to_string(&many).unwrap());
        assert_eq!(entries.len(), MAX_SAVED);
        assert_eq!(entries[0].id, "s-499", "the newest are kept");
        let huge = format!(r#"[{{"id": "main", "name": "{}"}}]"#, "x".repeat(MAX_REGISTRY_BYTES));
        assert_eq!(parse_registry(&huge), vec![], "text past the bound is not parsed");
        let long = format!(r#"[{{"id": "main", "name": "{}"}}]"#, "é".repeat(1000));
        assert_eq!(parse_registry(&long)[0].name.chars().count(), MAX_NAME_CHARS);
    }

    #[test]
    fn saving_puts_the_session_first_and_rewrites_it_only_when_something_changed() {
        let entries = vec![entry("s-01", 1000.0), entry("main", 500.0)];
        let next = touched(&entries, "main", "name of main", 3, 9000.0).unwrap();
        assert_eq!(next.iter().map(|e| (e.id.as_str(), e.saved_ms)).collect::<Vec<_>>(), [("main", 9000.0), ("s-01", 1000.0)]);
        assert_eq!(touched(&next, "main", "name of main", 3, 9100.0), None, "moments later, nothing changed");
        assert!(touched(&next, "main", "name of main", 4, 9100.0).is_some(), "an event added");
        assert!(touched(&next, "main", "another", 3, 9100.0).is_some(), "another scenario");
        assert!(touched(&next, "main", "name of main", 3, 9000.0 + TOUCH_EVERY_MS).is_some(), "a while later");
        assert!(touched(&next, "main", "name of main", 3, 8000.0).is_some(), "a clock that went back");
        assert_eq!(touched(&next, "Not/An/Id", "x", 0, 0.0), None);
        let full: Vec<SavedSession> = (0..MAX_SAVED).map(|k| entry(&format!("s-{k}"), k as f64)).collect();
        let next = touched(&full, "s-new", "new", 0, 1e9).unwrap();
        assert_eq!((next.len(), next[0].id.as_str()), (MAX_SAVED, "s-new"));
    }

    #[test]
    fn a_database_name_gives_back_its_session() {
        for id in ["main", "s-0123456789abcdef", "x"] {
            assert_eq!(session_of_database(&database(id)), Some(id.to_string()), "{id}");
        }
        for name in ["unbounded-playground.main", "unbounded-playground.", "unbounded-playground.Bad", "unbounded-playgroundx", "other", ""]
        {
            assert_eq!(session_of_database(name), None, "{name}");
        }
    }

    #[test]
    fn reconciling_drops_deleted_sessions_and_finds_unlisted_ones() {
        let entries = vec![entry("s-gone", 3000.0), entry("s-kept", 2000.0), entry("s-new", 4000.0)];
        let dbs = ["unbounded-playground", "unbounded-playground.s-kept", "someone-else", "unbounded-playground.s-old"].map(String::from);
        let out = reconciled(entries, &dbs, "s-new");
        assert_eq!(out.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["s-new", "s-kept", "main", "s-old"]);
        assert_eq!(out[2].name, "", "found by its database only");
        // A browser with very many databases: the list stays bounded, and reconciling is not quadratic in them.
        let dbs: Vec<String> = (0..200_000).map(|k| format!("unbounded-playground.s-{k}")).collect();
        assert_eq!(reconciled(Vec::new(), &dbs, "").len(), MAX_SAVED);
    }

    #[test]
    fn ages_are_said_in_words() {
        let now = 1_000_000_000.0;
        assert_eq!(age(now, 0.0), "saved before this list began");
        assert_eq!(age(now, now - 30_000.0), "saved just now");
        assert_eq!(age(now, now + 90_000.0), "saved just now", "a clock ahead");
        assert_eq!(age(now, now - 60_000.0), "saved 1 minute ago");
        assert_eq!(age(now, now - 5.0 * 3_600_000.0), "saved 5 hours ago");
        assert_eq!(age(now, now - 49.0 * 3_600_000.0), "saved 2 days ago");
    }
}
