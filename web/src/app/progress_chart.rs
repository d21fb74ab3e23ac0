//! Query progress over time, as Spark reports it: input against processing rate, batch
//! duration and state rows, one small line each over the recent micro-batches.

use yew::prelude::*;

use crate::protocol::BatchInfo;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub batches: Vec<BatchInfo>,
}

const SHOWN: usize = 60;

fn sparkline(id: &str, label: &str, values: &[f64], unit: &str) -> Html {
    let (w, h) = (150.0, 34.0);
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1e-9);
    let step = if values.len() > 1 { w / (values.len() - 1) as f64 } else { 0.0 };
    let points: Vec<String> =
        values.iter().enumerate().map(|(k, v)| format!("{:.1},{:.1}", k as f64 * step, h - 2.0 - v / max * (h - 4.0))).collect();
    let last = values.last().copied().unwrap_or(0.0);
    html! {
        <figure class="spark" id={id.to_string()}>
            <svg viewBox={format!("0 0 {w} {h}")} role="img" aria-label={label.to_string()}><polyline points={points.join(" ")} /></svg>
            <figcaption>{ format!("{label}: {} {unit}", if last >= 100.0 || last.fract() == 0.0 { format!("{last:.0}") } else { format!("{last:.1}") }) }</figcaption>
        </figure>
    }
}

#[function_component(ProgressChart)]
pub fn progress_chart(props: &Props) -> Html {
    let b = &props.batches[props.batches.len().saturating_sub(SHOWN)..];
    if b.len() < 2 {
        return Html::default();
    }
    let series = |f: fn(&BatchInfo) -> f64| b.iter().map(f).collect::<Vec<f64>>();
    html! {
        <div class="sparks">
            { sparkline("spark-input-rate", "input rows/s", &series(|x| x.input_rows_per_second), "") }
            { sparkline("spark-processed-rate", "processed rows/s", &series(|x| x.processed_rows_per_second), "") }
            { sparkline("spark-duration", "batch duration", &series(|x| x.duration_ms), "ms") }
            { sparkline("spark-state", "state rows", &series(|x| x.state_rows as f64), "") }
        </div>
    }
}
