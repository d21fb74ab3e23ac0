//! Sharing a session: a link with the whole session compressed into its fragment, the scenario
//! file to download or import, and the same logic as a PySpark program.

use wasm_bindgen::prelude::*;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::protocol::{Request, Snapshot};

#[wasm_bindgen(module = "/js/share.js")]
extern "C" {
    #[wasm_bindgen(js_name = compressText, catch)]
    async fn compress_text(text: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = decompressText, catch)]
    async fn decompress_text(encoded: &str, max_bytes: f64) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = copyText, catch)]
    async fn copy_text(text: &str) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = download)]
    fn download(name: &str, text: &str, mime: &str);
    #[wasm_bindgen(js_name = readFile, catch)]
    async fn read_file(input: &HtmlInputElement, max_bytes: f64) -> Result<JsValue, JsValue>;
}

/// The version of the link format, first in the fragment: `#s=1.<payload>`.
pub const LINK_VERSION: &str = "1";

/// The longest link payload this page makes or opens, in characters: links this long already
/// break in chat programs and mail, and a longer one is a session to send as a file.
pub const MAX_LINK_CHARS: usize = 64 * 1024;

use crate::session::MAX_SCENARIO_BYTES;

fn kib(bytes: f64) -> String {
    format!("{} KiB", (bytes / 1024.0).ceil())
}

/// Why a link's payload is refused before it is unpacked, if it is.
pub fn link_too_long(payload: &str) -> Option<String> {
    (payload.len() > MAX_LINK_CHARS).then(|| {
        format!(
            "the link holds {} of data, more than the {} a link may hold: ask for the scenario file instead (Download scenario, then Import scenario)",
            kib(payload.len() as f64),
            kib(MAX_LINK_CHARS as f64)
        )
    })
}

/// What a shared link in the address holds: a scenario to open, or why it cannot be opened.
pub async fn scenario_from_link(fragment: &str) -> Option<Result<String, String>> {
    let link = fragment.strip_prefix("#s=")?;
    let Some((version, payload)) = link.split_once('.') else {
        return Some(Err("the link is cut short: it has no version".into()));
    };
    if version != LINK_VERSION {
        return Some(Err(format!(
            "the link was made by another version of Unbounded (link format {version}; this page reads format {LINK_VERSION}). Export the scenario file where the link was made and import it here."
        )));
    }
    if let Some(e) = link_too_long(payload) {
        return Some(Err(e));
    }
    Some(match decompress_text(payload, MAX_SCENARIO_BYTES as f64).await {
        Ok(text) if text.is_null() => Err(format!(
            "the link unpacks to more than the {} a session opens: ask for the scenario file instead",
            kib(MAX_SCENARIO_BYTES as f64)
        )),
        Ok(text) => text.as_string().ok_or_else(|| "the link does not hold text".to_string()),
        Err(_) => Err("the link is damaged (it does not decompress): was it copied whole?".into()),
    })
}

/// What the person asked the worker's export for.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    Nothing,
    Link,
    Download,
    PySpark,
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub snapshot: std::rc::Rc<Snapshot>,
    pub send: Callback<Request>,
}

#[function_component(SharePanel)]
pub fn share_panel(props: &Props) -> Html {
    let s = &props.snapshot;
    let want = use_state(|| Want::Nothing);
    let link = use_state(|| None::<String>);
    let pyspark = use_state(|| None::<String>);
    let message = use_state(|| None::<String>);
    {
        let (want, link, pyspark, message) = (want.clone(), link.clone(), pyspark.clone(), message.clone());
        let exported = (s.exported.clone(), s.exported_pyspark.clone(), s.scenario_name.clone());
        use_effect_with(exported, move |(scenario, program, name)| {
            let (Some(scenario), Some(program)) = (scenario.clone(), program.clone()) else { return };
            match *want {
                Want::Link => wasm_bindgen_futures::spawn_local(async move {
                    match compress_text(&scenario).await.ok().and_then(|v| v.as_string()) {
                        Some(payload) if payload.len() > MAX_LINK_CHARS => {
                            link.set(None);
                            message.set(Some(format!(
                                "This session is too large for a link ({} compressed; a link holds at most {}): download the scenario file instead.",
                                kib(payload.len() as f64),
                                kib(MAX_LINK_CHARS as f64)
                            )));
                        }
                        Some(payload) => {
                            let location = web_sys::window().map(|w| w.location());
                            let base = location
                                .map(|l| format!("{}{}", l.origin().unwrap_or_default(), l.pathname().unwrap_or_default()))
                                .unwrap_or_default();
                            let url = format!("{base}#s={LINK_VERSION}.{payload}");
                            let copied = copy_text(&url).await.is_ok();
                            message.set(Some(if copied { "Link copied." } else { "Copy the link below." }.into()));
                            link.set(Some(url));
                        }
                        None => message.set(Some(
                            "This browser cannot compress the link (no CompressionStream): download the scenario file instead.".into(),
                        )),
                    }
                }),
                Want::Download => download(&format!("{name}.json"), &scenario, "application/json"),
                Want::PySpark => {
                    let text = program.clone();
                    let message = message.clone();
                    wasm_bindgen_futures::spawn_local(async move {
                        let copied = copy_text(&text).await.is_ok();
                        message.set(Some(if copied { "PySpark copied." } else { "Copy the program below." }.into()));
                    });
                    pyspark.set(Some(program));
                }
                Want::Nothing => {}
            }
            want.set(Want::Nothing);
        });
    }
    let ask = |what: Want| {
        let (want, send) = (want.clone(), props.send.clone());
        Callback::from(move |_: MouseEvent| {
            want.set(what);
            send.emit(Request::Export);
        })
    };
    let on_import = {
        let (send, message) = (props.send.clone(), message.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let (send, message) = (send.clone(), message.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let read = read_file(&input, MAX_SCENARIO_BYTES as f64).await;
                input.set_value("");
                let text = match read.map(|v| (v.as_f64(), v)) {
                    Ok((Some(size), _)) => {
                        message.set(Some(format!(
                            "The file is {}, more than the {} a session opens: the session is unchanged.",
                            kib(size),
                            kib(MAX_SCENARIO_BYTES as f64)
                        )));
                        return;
                    }
                    Ok((None, v)) => v.as_string(),
                    Err(_) => {
                        message.set(Some("The file could not be read (is it text?): the session is unchanged.".into()));
                        return;
                    }
                };
                let Some(text) = text else { return };
                // Checked here first, so a bad file is named at once and the session is untouched.
                match unbounded_engine::scenario::Scenario::parse(&text) {
                    Ok(_) => {
                        message.set(None);
                        send.emit(Request::LoadScenario { text });
                    }
                    Err(e) => message.set(Some(format!("The file is not a scenario this page can open: {e}"))),
                }
            });
        })
    };
    html! {
        <div id="share">
            <h3>{"Share"}</h3>
            <div class="row">
                <button id="share-link" onclick={ask(Want::Link)} title="A link with the whole session in it">{"Copy link"}</button>
                <button id="download" onclick={ask(Want::Download)} title="The session as a scenario file (FORMAT.md)">{"Download scenario"}</button>
                <label class="button" for="import">{"Import scenario"}</label>
                <input id="import" class="visually-hidden" type="file" accept=".json,application/json" onchange={on_import} />
                <button id="copy-pyspark" onclick={ask(Want::PySpark)} title="The same query and sources as a PySpark Structured Streaming program">{"Copy as PySpark"}</button>
            </div>
            if let Some(m) = &*message { <p id="share-message" class="muted" role="status">{ m }</p> }
            if let Some(url) = &*link { <input id="link" readonly=true aria-label="Link to this session" value={url.clone()} /> }
            if let Some(program) = &*pyspark { <pre id="pyspark">{ program }</pre> }
        </div>
    }
}
