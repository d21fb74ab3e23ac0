// The browser APIs the page needs for sharing, in a few lines of JavaScript that wasm-bindgen
// ships beside the module: compression (the platform's CompressionStream, so no codec in the
// wasm bundle), the clipboard, downloads and reading a chosen file.

function toBase64Url(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const s = atob(b64 + "===".slice((b64.length + 3) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

async function pipe(bytes, stream) {
  const out = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

export async function compressText(text) {
  return toBase64Url(await pipe(new TextEncoder().encode(text), new CompressionStream("deflate-raw")));
}

// The text, or null when it unpacks to more than maxBytes: the stream is read chunk by chunk and
// dropped as soon as it passes the limit, so a small link cannot make the tab hold gigabytes.
export async function decompressText(encoded, maxBytes) {
  const out = new Blob([fromBase64Url(encoded)]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  const reader = out.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder("utf-8", { fatal: true }).decode(all);
}

export async function copyText(text) {
  await navigator.clipboard.writeText(text);
}

export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// The chosen file's text; a number (its size) instead when it is larger than maxBytes, unread.
export async function readFile(input, maxBytes) {
  const file = input.files && input.files[0];
  if (!file) return null;
  if (file.size > maxBytes) return file.size;
  return await file.text();
}
