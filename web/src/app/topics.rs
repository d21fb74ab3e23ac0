//! A Kafka topic as Spark's source meets it: partitions with their earliest and latest offsets,
//! how far the query has read each (the lag), the newest messages; and a producer that sends
//! one, with a retry knob that shows where duplicates in a topic come from.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::protocol::{Request, TopicInfo};

#[derive(Properties, PartialEq)]
pub struct Props {
    pub topics: Vec<TopicInfo>,
}

#[function_component(TopicsPanel)]
pub fn topics_panel(props: &Props) -> Html {
    html! {
        <>
        { for props.topics.iter().map(|t| {
            let widest = t.partitions.iter().map(|p| p.latest).max().unwrap_or(0).max(1) as f64;
            html! {
            <div class="topic" id={format!("topic-{}", t.name)}>
                <h3>{ format!("Kafka topic {} ({} partition{})", t.name, t.partitions.len(), if t.partitions.len() == 1 { "" } else { "s" }) }</h3>
                if !t.options.is_empty() {
                    <p class="muted topic-options">{ t.options.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ") }</p>
                }
                <p class="topic-lag" role="status">{ format!("{} message{} behind latest (marked below): the next batch reads them{}.",
                    t.lag(), if t.lag() == 1 { "" } else { "s" },
                    t.options.iter().find(|(k, _)| k.eq_ignore_ascii_case("maxOffsetsPerTrigger")).map(|(_, v)| format!(", at most {v} per batch")).unwrap_or_default()) }</p>
                <div class="scroll-box">
                <table class="partitions">
                    <thead><tr><th>{"partition"}</th><th>{"earliest"}</th><th>{"latest"}</th><th title="Where the query's next batch starts: offsets below it are read">{"read to"}</th><th>{"lag"}</th><th class="bar-cell"></th></tr></thead>
                    <tbody>
                    { for t.partitions.iter().map(|p| {
                        let read = p.next.clamp(p.earliest, p.latest);
                        let w = |o: i64| format!("{:.2}", o as f64 / widest * 100.0);
                        let span = |a: i64, b: i64| format!("{:.2}", (b - a) as f64 / widest * 100.0);
                        html! {
                        <tr>
                            <td>{ p.partition }</td><td>{ p.earliest }</td><td>{ p.latest }</td><td>{ p.next }</td><td>{ p.latest - read }</td>
                            <td class="bar-cell">
                                <svg class="partition-bar" viewBox="0 0 100 8" preserveAspectRatio="none" role="img"
                                    aria-label={format!("partition {}: offsets {} to {}, read to {}", p.partition, p.earliest, p.latest, p.next)}>
                                    <rect class="deleted" x="0" y="0" width={w(p.earliest)} height="8" />
                                    <rect class="read" x={w(p.earliest)} y="0" width={span(p.earliest, read)} height="8" />
                                    <rect class="unread" x={w(read)} y="0" width={span(read, p.latest)} height="8" />
                                </svg>
                            </td>
                        </tr>
                    }}) }
                    </tbody>
                </table>
                </div>
                <div class="scroll-box">
                <table class="messages">
                    <thead><tr><th>{"partition"}</th><th>{"offset"}</th><th>{"key"}</th><th>{"value"}</th><th>{"timestamp"}</th></tr></thead>
                    <tbody>
                    { for t.messages.iter().rev().map(|m| html! {
                        <tr class={classes!((!m.read).then_some("unread"))} title={if m.read { "read by a batch" } else { "not read yet" }}>
                            <td>{ m.partition }</td><td>{ m.offset }</td>
                            <td>{ m.key.clone().unwrap_or_else(|| "null".into()) }</td>
                            <td class="value">{ m.value.clone().unwrap_or_else(|| "null".into()) }</td>
                            <td>{ &m.timestamp }</td>
                        </tr>
                    }) }
                    </tbody>
                </table>
                </div>
                if t.total_messages > t.messages.len() as u64 {
                    <p class="muted">{ format!("The newest {} of {} messages.", t.messages.len(), t.total_messages) }</p>
                }
            </div>
        }}) }
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct ProducerProps {
    pub topics: Vec<TopicInfo>,
    pub send: Callback<Request>,
}

/// The most times the producer form resends a message (its retries knob).
pub const MAX_RETRIES: u32 = 5;

/// The messages a send with `retries` makes: a producer without idempotence whose
/// acknowledgement was lost sends the same record again, and the topic keeps every copy at a
/// new offset. The engine duplicates nothing; this is where a silver layer's duplicates come from.
pub fn sent(key: &str, value: &str, timestamp: &str, retries: u32) -> Vec<serde_json::Value> {
    let key = if key.trim().is_empty() { serde_json::Value::Null } else { serde_json::Value::String(key.to_string()) };
    let mut m = serde_json::json!({"key": key, "value": value});
    if !timestamp.trim().is_empty() {
        m["timestamp"] = serde_json::Value::String(timestamp.trim().to_string());
    }
    vec![m; 1 + retries.min(MAX_RETRIES) as usize]
}

/// Retention keeping the newest `keep` messages of each partition: the first offset kept, by partition.
pub fn retention_cut(t: &TopicInfo, keep: i64) -> serde_json::Map<String, serde_json::Value> {
    t.partitions.iter().map(|p| (p.partition.to_string(), serde_json::Value::from((p.latest - keep).max(p.earliest)))).collect()
}

#[function_component(Producer)]
pub fn producer(props: &ProducerProps) -> Html {
    let selected = use_state(|| 0usize);
    let key = use_state(String::new);
    let value = use_state(|| r#"{"device": "d1", "temp": 21.5, "ts": "2026-01-01 00:00:05"}"#.to_string());
    let timestamp = use_state(String::new);
    let partition = use_state(String::new);
    let retries = use_state(|| 0u32);
    let keep = use_state(|| 2i64);
    let Some(topic) = props.topics.get(*selected).cloned() else { return html! {} };
    let text = |h: &UseStateHandle<String>| {
        let h = h.clone();
        Callback::from(move |e: InputEvent| h.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_topic = {
        let selected = selected.clone();
        Callback::from(move |e: Event| selected.set(e.target_unchecked_into::<HtmlSelectElement>().selected_index().max(0) as usize))
    };
    let on_partition = {
        let partition = partition.clone();
        Callback::from(move |e: Event| partition.set(e.target_unchecked_into::<HtmlSelectElement>().value()))
    };
    let on_retries = {
        let retries = retries.clone();
        Callback::from(move |e: InputEvent| {
            retries.set(e.target_unchecked_into::<HtmlInputElement>().value().parse::<u32>().unwrap_or(0).min(MAX_RETRIES))
        })
    };
    let send = {
        let (send, key, value, timestamp, partition, retries, name) =
            (props.send.clone(), key.clone(), value.clone(), timestamp.clone(), partition.clone(), retries.clone(), topic.name.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            send.emit(Request::Produce {
                source: name.clone(),
                messages: sent(&key, &value, &timestamp, *retries),
                partition: partition.parse::<u32>().ok(),
            });
        })
    };
    let on_keep = {
        let keep = keep.clone();
        Callback::from(move |e: InputEvent| {
            keep.set(e.target_unchecked_into::<HtmlInputElement>().value().parse::<i64>().unwrap_or(0).max(0))
        })
    };
    let retain = {
        let (send, keep, t) = (props.send.clone(), keep.clone(), topic.clone());
        Callback::from(move |_: MouseEvent| send.emit(Request::Retain { source: t.name.clone(), from_offsets: retention_cut(&t, *keep) }))
    };
    html! {
        <form id="producer" class="producer" onsubmit={send}>
            <h3>{"Kafka producer"}</h3>
            <div class="row">
                <label for="producer-topic">{"Topic "}</label>
                <select id="producer-topic" onchange={on_topic}>
                    { for props.topics.iter().enumerate().map(|(i, t)| html! { <option value={t.name.clone()} selected={i == *selected}>{ &t.name }</option> }) }
                </select>
                <label for="producer-partition">{"Partition "}</label>
                <select id="producer-partition" onchange={on_partition} title="By key (murmur2, as Kafka's default partitioner), round robin without a key, or one partition">
                    <option value="" selected={partition.is_empty()}>{"by key"}</option>
                    { for topic.partitions.iter().map(|p| html! { <option value={p.partition.to_string()} selected={*partition == p.partition.to_string()}>{ p.partition }</option> }) }
                </select>
            </div>
            <div class="fields">
                <label class="field"><span>{"key"}</span><input id="producer-key" value={(*key).clone()} oninput={text(&key)} placeholder="null" /></label>
                <label class="field"><span>{"value"}</span><input id="producer-value" value={(*value).clone()} oninput={text(&value)} /></label>
                <label class="field"><span>{"timestamp"}</span><input id="producer-timestamp" value={(*timestamp).clone()} oninput={text(&timestamp)} placeholder="now (the step's time)" /></label>
                <label class="field" title="A producer without idempotence whose acknowledgement was lost sends the message again: the topic keeps each copy at a new offset">
                    <span>{"retries"}</span>
                    <input id="producer-retries" type="number" min="0" max={MAX_RETRIES.to_string()} value={retries.to_string()} oninput={on_retries} />
                </label>
            </div>
            <button id="produce" type="submit">{ if *retries == 0 { "Send message".to_string() } else { format!("Send message ({} copies: the producer retries)", *retries + 1) } }</button>
            <div class="row retention">
                <label for="retention-keep" title="Kafka's retention deletes a partition's oldest messages, read or not">{"Retention: keep the newest (per partition) "}</label>
                <input id="retention-keep" type="number" min="0" value={keep.to_string()} oninput={on_keep} />
                <button id="retain" type="button" onclick={retain}
                    title="A batch that needs a deleted offset fails with Spark's advice, or with failOnDataLoss false reads what is left">{"Apply retention"}</button>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::PartitionInfo;
    use serde_json::json;

    #[test]
    fn a_retry_sends_the_same_message_again() {
        assert_eq!(sent("", "v", "", 0), vec![json!({"key": null, "value": "v"})]);
        let twice = sent("k1", "v", "2026-01-01 00:00:05", 1);
        assert_eq!(twice.len(), 2);
        assert_eq!(twice[0], twice[1]);
        assert_eq!(twice[0]["timestamp"], "2026-01-01 00:00:05");
        assert_eq!(sent("k", "v", "", 99).len(), 1 + MAX_RETRIES as usize, "bounded");
    }

    #[test]
    fn retention_keeps_the_newest_of_each_partition() {
        let p = |partition, earliest, latest| PartitionInfo { partition, earliest, latest, next: 0 };
        let t = TopicInfo { partitions: vec![p(0, 0, 5), p(1, 3, 4)], ..TopicInfo::default() };
        assert_eq!(serde_json::Value::Object(retention_cut(&t, 2)), json!({"0": 3, "1": 3}));
    }

    #[test]
    fn the_lag_counts_what_is_left_to_read_above_retention() {
        let p = |partition, earliest, latest, next| PartitionInfo { partition, earliest, latest, next };
        let t = TopicInfo { partitions: vec![p(0, 0, 5, 3), p(1, 4, 6, 1)], ..TopicInfo::default() };
        // Partition 1 lost offsets 1 to 3 to retention: only 4 and 5 are left to read.
        assert_eq!(t.lag(), 2 + 2);
    }
}
