//! An Auto Loader landing folder (Databricks): its files in the order they landed, the batch
//! that read each, the schema kept at the schema location and how it evolves; and a form that
//! lands a file, typed or dropped from the desktop.

use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::protocol::{FolderInfo, Request};

/// The largest file the form lands (the session bounds all files together too).
pub const MAX_FILE_BYTES: usize = 256 * 1024;

#[derive(Properties, PartialEq)]
pub struct Props {
    pub folders: Vec<FolderInfo>,
}

#[function_component(FoldersPanel)]
pub fn folders_panel(props: &Props) -> Html {
    html! {
        <>
        { for props.folders.iter().map(|f| html! {
            <div class="folder" id={format!("folder-{}", f.name)}>
                <h3>{ format!("Landing folder {} ({}, Databricks Auto Loader)", f.name, f.format) }</h3>
                <p class="schema-location">
                    { match f.schema_version {
                        Some(v) => format!("Schema location: version {v}: {}", f.schema.iter().map(|c| format!("{} {}", c.name, c.data_type)).collect::<Vec<_>>().join(", ")),
                        None => "Schema location: empty until the stream first starts (it infers the schema from the files there then).".to_string(),
                    } }
                </p>
                <p class="muted">{ format!("cloudFiles.schemaEvolutionMode = {}{}", f.evolution_mode,
                    f.rescued_column.as_ref().map(|c| format!("; values that do not fit go to {c}")).unwrap_or_default()) }</p>
                if f.files.is_empty() {
                    <p class="muted">{"No file has landed yet."}</p>
                } else {
                    <div class="scroll-box">
                    <table class="files">
                        <thead><tr><th>{"file"}</th><th>{"bytes"}</th><th>{"landed"}</th><th>{"read by"}</th><th>{"first line"}</th></tr></thead>
                        <tbody>
                        { for f.files.iter().map(|file| html! {
                            <tr class={classes!(file.batch_id.is_none().then_some("unread"))}>
                                <td>{ &file.name }</td><td>{ file.bytes }</td><td>{ &file.modified }</td>
                                <td>{ file.batch_id.map(|b| format!("batch {b}")).unwrap_or_else(|| "not yet".into()) }</td>
                                <td class="value">{ &file.preview }</td>
                            </tr>
                        }) }
                        </tbody>
                    </table>
                    </div>
                }
            </div>
        }) }
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct LandProps {
    pub folders: Vec<FolderInfo>,
    pub send: Callback<Request>,
}

/// The next free `file-N.json` name of a folder.
pub fn next_name(f: &FolderInfo) -> String {
    (f.files.len() + 1..).map(|n| format!("file-{n}.{}", f.format)).find(|n| !f.files.iter().any(|x| &x.name == n)).unwrap_or_default()
}

#[function_component(LandFile)]
pub fn land_file(props: &LandProps) -> Html {
    let selected = use_state(|| 0usize);
    let name = use_state(String::new);
    let text = use_state(|| "{\"id\": 9, \"name\": \"new\"}".to_string());
    let note = use_state(|| None::<String>);
    let Some(folder) = props.folders.get(*selected).cloned() else { return html! {} };
    let shown_name = if name.is_empty() { next_name(&folder) } else { (*name).clone() };
    let on_folder = {
        let selected = selected.clone();
        Callback::from(move |e: Event| selected.set(e.target_unchecked_into::<HtmlSelectElement>().selected_index().max(0) as usize))
    };
    let on_name = {
        let name = name.clone();
        Callback::from(move |e: InputEvent| name.set(e.target_unchecked_into::<HtmlInputElement>().value()))
    };
    let on_text = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| text.set(e.target_unchecked_into::<HtmlTextAreaElement>().value()))
    };
    // A file dropped from the desktop: its name and its text, read as UTF-8, never run.
    let on_drop = {
        let (name, text, note) = (name.clone(), text.clone(), note.clone());
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            let Some(file) = e.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) else { return };
            if file.size() > MAX_FILE_BYTES as f64 {
                note.set(Some(format!("{} is {} bytes; a landed file may have at most {MAX_FILE_BYTES}", file.name(), file.size())));
                return;
            }
            name.set(file.name());
            let (text, note) = (text.clone(), note.clone());
            let promise = file.text();
            wasm_bindgen_futures::spawn_local(async move {
                match wasm_bindgen_futures::JsFuture::from(promise).await.ok().and_then(|v| v.as_string()) {
                    Some(t) => {
                        text.set(t);
                        note.set(None);
                    }
                    None => note.set(Some("the file could not be read as text".into())),
                }
            });
        })
    };
    let on_dragover = Callback::from(|e: DragEvent| e.prevent_default());
    let land = {
        let (send, text, name, source, file, note) =
            (props.send.clone(), text.clone(), name.clone(), folder.name.clone(), shown_name.clone(), note.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if text.len() > MAX_FILE_BYTES {
                note.set(Some(format!("the file has {} bytes; a landed file may have at most {MAX_FILE_BYTES}", text.len())));
                return;
            }
            send.emit(Request::Land { source: source.clone(), file: file.clone(), text: (*text).clone() });
            name.set(String::new());
        })
    };
    html! {
        <form id="land-file" class="producer" onsubmit={land} ondrop={on_drop} ondragover={on_dragover}>
            <h3>{"Land a file"}</h3>
            <div class="row">
                <label for="land-folder">{"Folder "}</label>
                <select id="land-folder" onchange={on_folder}>
                    { for props.folders.iter().enumerate().map(|(i, f)| html! { <option value={f.name.clone()} selected={i == *selected}>{ &f.name }</option> }) }
                </select>
            </div>
            <label class="field"><span>{"name"}</span><input id="land-name" value={shown_name} oninput={on_name} /></label>
            <textarea id="land-text" rows="4" aria-label="The file's content" value={(*text).clone()} oninput={on_text}
                placeholder={if folder.format == "csv" { "id,name\n9,new" } else { "one JSON object per line" }} />
            <p class="muted">{ match text.lines().count() { 1 => "1 line; or drop a file here.".to_string(), n => format!("{n} lines; or drop a file here.") } }</p>
            if let Some(n) = (*note).clone() { <p class="error" role="alert">{ n }</p> }
            <button id="land" type="submit">{"Land the file"}</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::LandedFileInfo;

    #[test]
    fn the_next_name_is_free() {
        let file = |n: &str| LandedFileInfo { name: n.into(), bytes: 0, modified: String::new(), batch_id: None, preview: String::new() };
        let f = FolderInfo { format: "json".into(), files: vec![file("file-2.json"), file("a.json")], ..FolderInfo::default() };
        assert_eq!(next_name(&f), "file-3.json");
        let f = FolderInfo { format: "csv".into(), files: vec![file("file-1.csv")], ..FolderInfo::default() };
        assert_eq!(next_name(&f), "file-2.csv");
    }
}
