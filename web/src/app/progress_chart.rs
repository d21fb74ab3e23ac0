//! Query progress over time, as Spark reports it: input against processing rate on one chart
//! with axes (the lesson is where one falls behind the other), then batch duration, state
//! rows and, for Kafka sources, the offsets behind latest, over the recent micro-batches.

use yew::prelude::*;

use crate::protocol::BatchInfo;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub batches: Vec<BatchInfo>,
}

const SHOWN: usize = 60;

/// A number for an axis or a caption: no decimals from 100 up.
fn short(v: f64) -> String {
    if v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The polyline of `values` over a `w` x `h` plot whose top is `max`.
fn points(values: &[f64], max: f64, w: f64, h: f64, left: f64, top: f64) -> String {
    let step = if values.len() > 1 { w / (values.len() - 1) as f64 } else { 0.0 };
    values
        .iter()
        .enumerate()
        .map(|(k, v)| format!("{:.1},{:.1}", left + k as f64 * step, top + h - v / max * h))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lines sharing one y scale, with the scale's top and zero, and the first and last batch ids.
fn chart(id: &str, label: &str, lines: &[(&'static str, &str, Vec<f64>)], first: u64, last: u64) -> Html {
    let (w, h, left, top, bottom) = (170.0, 60.0, 30.0, 6.0, 14.0);
    let max = lines.iter().flat_map(|(_, _, v)| v.iter().copied()).fold(0.0_f64, f64::max).max(1e-9);
    html! {
        <figure class="chart" id={id.to_string()}>
            <svg viewBox={format!("0 0 {} {}", left + w + 4.0, top + h + bottom)} role="img" aria-label={label.to_string()}>
                <line class="axis-line" x1={left.to_string()} x2={left.to_string()} y1={top.to_string()} y2={(top + h).to_string()} />
                <line class="axis-line" x1={left.to_string()} x2={(left + w).to_string()} y1={(top + h).to_string()} y2={(top + h).to_string()} />
                <text class="axis" x={(left - 3.0).to_string()} y={(top + 7.0).to_string()} text-anchor="end">{ short(max) }</text>
                <text class="axis" x={(left - 3.0).to_string()} y={(top + h).to_string()} text-anchor="end">{"0"}</text>
                <text class="axis" x={left.to_string()} y={(top + h + 11.0).to_string()}>{ format!("batch {first}") }</text>
                <text class="axis" x={(left + w).to_string()} y={(top + h + 11.0).to_string()} text-anchor="end">{ format!("batch {last}") }</text>
                { for lines.iter().map(|(class, _, values)| html! { <polyline class={*class} points={points(values, max, w, h, left, top)} /> }) }
            </svg>
            <figcaption>
                { for lines.iter().map(|(class, name, values)| html! {
                    <span class="series"><span class={classes!("swatch", *class)} />{ format!("{name}: {}", short(values.last().copied().unwrap_or(0.0))) }</span>
                }) }
            </figcaption>
        </figure>
    }
}

#[function_component(ProgressChart)]
pub fn progress_chart(props: &Props) -> Html {
    let b = &props.batches[props.batches.len().saturating_sub(SHOWN)..];
    let (Some(first), Some(last)) = (b.first(), b.last()) else { return Html::default() };
    if b.len() < 2 {
        return Html::default();
    }
    let series = |f: fn(&BatchInfo) -> f64| b.iter().map(f).collect::<Vec<f64>>();
    let (first, last) = (first.batch_id, last.batch_id);
    html! {
        <div class="charts">
            { chart("chart-rates", "input and processing rate, rows per second", &[
                ("input", "input rows/s", series(|x| x.input_rows_per_second)),
                ("processed", "processed rows/s", series(|x| x.processed_rows_per_second)),
            ], first, last) }
            { chart("chart-duration", "batch duration, ms", &[("duration", "batch ms", series(|x| x.duration_ms))], first, last) }
            { chart("chart-state", "rows in state", &[("state", "state rows", series(|x| x.state_rows as f64))], first, last) }
            if b.iter().any(|x| x.offsets_behind.is_some()) {
                { chart("chart-behind", "Kafka offsets behind latest after each batch", &[
                    ("behind", "offsets behind latest", series(|x| x.offsets_behind.unwrap_or(0) as f64)),
                ], first, last) }
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::points;

    #[test]
    fn lines_share_one_scale_from_zero_to_the_top() {
        // Two series on one chart: the larger reaches the top, the same value the same height.
        assert_eq!(points(&[0.0, 10.0], 10.0, 100.0, 50.0, 0.0, 0.0), "0.0,50.0 100.0,0.0");
        assert_eq!(points(&[5.0, 5.0], 10.0, 100.0, 50.0, 0.0, 0.0), "0.0,25.0 100.0,25.0");
    }
}
