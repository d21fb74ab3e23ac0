// Loads the element from the origin in ?from= (only http(s) origins), as a page would from a CDN.
const from = new URLSearchParams(location.search).get("from");
const origin = from && /^https?:\/\/[A-Za-z0-9.:[\]-]+$/.test(from) ? from : location.origin;
await import(`${origin}/www/unbounded-embed.js`);
