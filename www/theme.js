// The theme before the first paint: ?theme= in the address, else the last choice, else the
// system's. A classic script (not a module) so it runs before the page is drawn; a file of its
// own so the page needs no inline script under a Content-Security-Policy.
(function () {
  try {
    var t = new URLSearchParams(location.search).get("theme") || localStorage.getItem("unbounded.theme");
    if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
  } catch (e) { /* no storage (a sandboxed frame): the system's theme */ }
})();
