// Page-view and click events for the pipeline's front-end ingestion path,
// POST {apiUrl}/events. Best effort by design: events wait in memory and
// leave together every few seconds (and when the page is hidden), each with
// fetch keepalive, which outlives the page like sendBeacon but may carry a
// JSON content type across origins. A failure is retried once, then
// dropped. Nothing here is awaited by the page.
//
// The /events integration puts each request body on the stream as one
// record (PutRecord), so each event is its own small request: batching here
// is in time, not in one body. Limitation: a PutRecords mapping on the API
// would let one request carry a whole batch.
//
// The API takes /events only from signed-in callers (the Cognito
// authorizer, with the ID token in the Authorization header, as /user).
// Events of a visitor who is not signed in yet (the sign-up and sign-in
// pages) wait in sessionStorage, at most MAX_PARKED of them, and leave with
// the first flush that has a token; a visitor who never signs in sends none.
//
// An event names what happened and where, never who or what was typed: no
// tokens, no email, no attribute names or values.

const FLUSH_DELAY_MS = 2000;
const MAX_BATCH = 20;
// A page that goes wild (a stuck key) must not flood the API: events past
// this many in one queue are dropped.
const MAX_QUEUE = 100;
const MAX_PARKED = 50;
const TAB_KEY = "switchyard.tab";
const PARKED_KEY = "switchyard.events.parked";

export function newId() {
  if (crypto.randomUUID) {
    return crypto.randomUUID();
  }
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  const groups = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20)];
  return [...groups, hex.slice(20)].join("-");
}

// A random id for this browser tab, so events of one visit can be grouped
// without identifying the person.
function tabId() {
  try {
    let id = sessionStorage.getItem(TAB_KEY);
    if (!id) {
      id = newId();
      sessionStorage.setItem(TAB_KEY, id);
    }
    return id;
  } catch {
    // Storage refused (full, or blocked): an id for this page only.
    return newId();
  }
}

export class EventSender {
  constructor(apiUrl, session, { fetchImpl = globalThis.fetch.bind(globalThis) } = {}) {
    this.url = `${apiUrl}/events`;
    this.session = session;
    this.fetch = fetchImpl;
    this.queue = [];
    this.timer = null;
    this.tab = tabId();
    // The token /events last answered 401 to: events wait for another one
    // rather than being sent again and again with it.
    this.refusedToken = null;
  }

  record(type, details = {}) {
    if (this.queue.length >= MAX_QUEUE) {
      return;
    }
    this.queue.push({
      id: newId(),
      type,
      source: "switchyard.site",
      occurred_at: new Date().toISOString(),
      page: location.pathname,
      tab_id: this.tab,
      viewport_width: window.innerWidth,
      ...details,
    });
    if (this.queue.length >= MAX_BATCH) {
      this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), FLUSH_DELAY_MS);
    }
  }

  flush() {
    clearTimeout(this.timer);
    this.timer = null;
    const batch = this.queue.splice(0, this.queue.length);
    // Read synchronously: flush also runs in pagehide, where an awaited
    // refresh would be too late.
    const token = this.session.currentIdToken();
    if (!token || token === this.refusedToken) {
      this.park(batch);
      return;
    }
    const sentAt = new Date().toISOString();
    for (const event of [...this.unpark(), ...batch]) {
      this.send({ ...event, sent_at: sentAt }, token, 1);
    }
  }

  park(events) {
    if (!events.length) {
      return;
    }
    const parked = [...this.unpark(), ...events].slice(-MAX_PARKED);
    try {
      sessionStorage.setItem(PARKED_KEY, JSON.stringify(parked));
    } catch {
      // Storage is full or blocked: these events are dropped (best effort).
    }
  }

  unpark() {
    try {
      const text = sessionStorage.getItem(PARKED_KEY);
      sessionStorage.removeItem(PARKED_KEY);
      const parked = JSON.parse(text || "[]");
      return Array.isArray(parked) ? parked : [];
    } catch {
      return [];
    }
  }

  send(event, token, retriesLeft) {
    const retry = () => {
      if (retriesLeft > 0) {
        setTimeout(() => this.send(event, token, retriesLeft - 1), FLUSH_DELAY_MS);
      }
    };
    let sending;
    try {
      // Called synchronously: in pagehide a later start would be too late.
      sending = this.fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: token },
        body: JSON.stringify(event),
        // keepalive bodies share 64 KiB per page; one event is a few hundred
        // bytes.
        keepalive: true,
        credentials: "omit",
      });
    } catch {
      retry();
      return;
    }
    Promise.resolve(sending)
      .then((response) => {
        if (response.status === 401) {
          // The token ended in flight: keep the event for the next session.
          this.refusedToken = token;
          const { sent_at: _sentAt, ...unsent } = event;
          this.park([unsent]);
        } else if (response.status >= 500 || response.status === 429) {
          retry();
        }
      })
      .catch(retry);
  }

  // Page views on load; clicks on links, buttons and anything marked with
  // data-track. The event names the control by its data-track or id, never
  // by its text, which could hold a user's data.
  install() {
    this.record("site.page_view", { referrer_page: referrerPath(), title: document.title });
    document.addEventListener(
      "click",
      (event) => {
        const target = event.target.closest("[data-track], button, a");
        if (!target) {
          return;
        }
        this.record("site.click", {
          control: target.dataset.track || target.id || target.tagName.toLowerCase(),
        });
      },
      { capture: true, passive: true },
    );
    // The last chance to send what is queued: keepalive lets it finish after
    // the page is gone.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") {
        this.flush();
      }
    });
    window.addEventListener("pagehide", () => this.flush());
    return this;
  }
}

function referrerPath() {
  try {
    const ref = new URL(document.referrer);
    return ref.origin === location.origin ? ref.pathname : "";
  } catch {
    return "";
  }
}
