// Which tab writes a saved session: a Web Lock per session namespace, held as long as the page
// lives (or until it moves to another namespace). A second tab asks without waiting and, refused,
// works on a copy. Browsers without Web Locks (or frames that may not use them) act as the only tab.

const held = new Map();

export function holdLock(name) {
  if (held.has(name)) return Promise.resolve(true);
  if (!(navigator.locks && navigator.locks.request)) return Promise.resolve(true);
  return new Promise((resolve) => {
    navigator.locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(false);
          return undefined;
        }
        resolve(true);
        // Held until released: the promise the lock waits on resolves only then.
        return new Promise((release) => held.set(name, release));
      })
      .catch(() => resolve(true));
  });
}

export function releaseLock(name) {
  const release = held.get(name);
  held.delete(name);
  if (release) release();
}

// A new namespace: random, so two tabs never pick the same one.
export function newSessionId() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return "s-" + [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// The names of this origin's IndexedDB databases, or null where the browser cannot list them.
export async function databaseNames() {
  try {
    if (!(globalThis.indexedDB && indexedDB.databases)) return null;
    return (await indexedDB.databases()).map((d) => d.name).filter((n) => typeof n === "string");
  } catch {
    return null;
  }
}

// The locks another tab (or worker) of this origin holds now.
export async function locksHeldElsewhere() {
  try {
    if (!(navigator.locks && navigator.locks.query)) return [];
    const state = await navigator.locks.query();
    return (state.held || []).map((l) => l.name).filter((n) => typeof n === "string" && !held.has(n));
  } catch {
    return [];
  }
}

// Deletes a session's database unless a tab writes it: its lock is taken without waiting and
// held while the database goes, so no tab opens it meanwhile. "blocked": a page still has the
// database open; the deletion goes through when it closes it.
export function deleteSessionDatabase(lockName, databaseName) {
  if (held.has(lockName)) return Promise.resolve("open-here");
  const remove = () =>
    new Promise((resolve, reject) => {
      const request = indexedDB.deleteDatabase(databaseName);
      request.onsuccess = () => resolve("deleted");
      request.onerror = () => reject(new Error(`IndexedDB could not delete ${databaseName}: ${request.error ? request.error.message : "it refused"}`));
      request.onblocked = () => resolve("blocked");
    });
  if (!(navigator.locks && navigator.locks.request)) return remove();
  return navigator.locks.request(lockName, { ifAvailable: true }, (lock) => (lock ? remove() : "open-elsewhere"));
}
