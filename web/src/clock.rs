//! Processing time in the browser: wall-clock milliseconds since the epoch, as Spark's progress
//! reports them, from `performance.timeOrigin + performance.now()` (sub-millisecond and never
//! going back, so batch durations and rates are real), or `Date.now()` where there is no
//! `performance`, as in some workers.

use unbounded_engine::runtime::Clock;

pub struct BrowserClock;

impl Clock for BrowserClock {
    fn now_ms(&self) -> f64 {
        let performance = js_sys::Reflect::get(&js_sys::global(), &"performance".into()).ok().filter(|p| !p.is_undefined());
        match performance.and_then(|p| js_sys::Reflect::get(&p, &"now".into()).ok().map(|f| (p, f))) {
            Some((p, now)) if now.is_function() => {
                let origin = js_sys::Reflect::get(&p, &"timeOrigin".into()).ok().and_then(|v| v.as_f64());
                let since_origin = js_sys::Function::from(now).call0(&p).ok().and_then(|v| v.as_f64());
                match (origin, since_origin) {
                    (Some(origin), Some(since)) => origin + since,
                    _ => js_sys::Date::now(),
                }
            }
            _ => js_sys::Date::now(),
        }
    }
}

/// The clock a query in this environment should use.
pub fn clock() -> Box<dyn Clock> {
    #[cfg(target_arch = "wasm32")]
    {
        Box::new(BrowserClock)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Box::new(unbounded_engine::runtime::SystemClock::default())
    }
}
