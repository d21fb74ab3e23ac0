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
