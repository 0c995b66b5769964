// The signed-in session: Cognito tokens in sessionStorage, refreshed before
// they expire. sessionStorage (not localStorage, not cookies) is a deliberate
// choice; the README's "Tokens" section gives the reasons.

import { CognitoClient } from "./cognito.js";
import { logoutUrl, refreshHosted, revokeHosted } from "./hosted.js";

const TOKENS_KEY = "switchyard.tokens";

// Refresh this long before expiry, so a request never leaves with a token
// that dies on the way.
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
const MIN_FRESH_MS = 60 * 1000;

export class SessionExpired extends Error {
  constructor(message = "Your session has ended. Please sign in again.") {
    super(message);
  }
}

export function decodeClaims(jwt) {
  try {
    const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = payload + "=".repeat((4 - (payload.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

// Only a page name of this site may follow sign-in: never a URL from the
// query string, which would make sign-in an open redirect.
export function safeNext(next, fallback = "profile.html") {
  return typeof next === "string" && /^[a-z][a-z0-9-]*\.html$/.test(next) ? next : fallback;
}

export function signInUrl(next = "profile.html", reason = "") {
  const params = new URLSearchParams({ next: safeNext(next) });
  if (reason) {
    params.set("reason", reason);
  }
  return `signin.html?${params}`;
}

export class Session {
  constructor(config, { storage = sessionStorage, now = () => Date.now() } = {}) {
    this.config = config;
    this.storage = storage;
    this.now = now;
    this.cognito = new CognitoClient(config);
    this.refreshing = null;
    this.timer = null;
    this.onExpired = null;
  }

  get tokens() {
    const text = this.storage.getItem(TOKENS_KEY);
    if (!text) {
      return null;
    }
    try {
      return JSON.parse(text);
    } catch {
      this.storage.removeItem(TOKENS_KEY);
      return null;
    }
  }

  // Expiry is measured on this machine's clock: the token's lifetime
  // (exp - iat) counted from when it arrived, so a skewed clock does not
  // make a fresh token look expired.
  save(tokens) {
    const claims = decodeClaims(tokens.idToken) || {};
    const lifetimeMs = claims.exp && claims.iat ? (claims.exp - claims.iat) * 1000 : 3600 * 1000;
    this.storage.setItem(
      TOKENS_KEY,
      JSON.stringify({ ...tokens, expiresAt: this.now() + lifetimeMs }),
    );
    this.scheduleRefresh();
  }

  clear() {
    this.storage.removeItem(TOKENS_KEY);
    clearTimeout(this.timer);
  }

  get claims() {
    const tokens = this.tokens;
    return tokens ? decodeClaims(tokens.idToken) : null;
  }

  get isSignedIn() {
    const tokens = this.tokens;
    return Boolean(tokens && (tokens.expiresAt > this.now() || tokens.refreshToken));
  }

  async refresh() {
    // Several callers may find the token stale at once: one refresh serves all.
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  async doRefresh() {
    const tokens = this.tokens;
    if (!tokens || !tokens.refreshToken) {
      throw new SessionExpired();
    }
    try {
      const fresh = this.config.hostedUiDomain
        ? await refreshHosted(this.config, tokens.refreshToken)
        : await this.cognito.refresh(tokens.refreshToken);
      this.save(fresh);
      return fresh;
    } catch (error) {
      if (error.code === "NetworkError" || error.transient) {
        // Unreachable, throttled or failing: the session may well be fine.
        throw error;
      }
      // The refresh token was revoked or has expired: the session is over.
      this.storage.removeItem(TOKENS_KEY);
      throw new SessionExpired();
    }
  }

  // The ID token if it is still valid now, without refreshing: for code
  // that cannot wait, such as sending events as the page goes away.
  currentIdToken() {
    const tokens = this.tokens;
    return tokens && tokens.expiresAt > this.now() ? tokens.idToken : null;
  }

  async idToken() {
    const tokens = this.tokens;
    if (!tokens) {
      throw new SessionExpired("You are not signed in.");
    }
    if (tokens.expiresAt - this.now() > MIN_FRESH_MS) {
      return tokens.idToken;
    }
    return (await this.refresh()).idToken;
  }

  scheduleRefresh() {
    clearTimeout(this.timer);
    const tokens = this.tokens;
    if (!tokens || !tokens.refreshToken) {
      return;
    }
    const lifetime = tokens.expiresAt - this.now();
    const wait = Math.max(Math.min(lifetime - REFRESH_MARGIN_MS, lifetime / 2), 0);
    this.timer = setTimeout(() => {
      this.refresh().catch((error) => {
        if (error instanceof SessionExpired && this.onExpired) {
          this.onExpired(error);
        } else {
          // A network hiccup: try again in a minute while time remains.
          this.timer = setTimeout(() => this.scheduleRefresh(), MIN_FRESH_MS);
        }
      });
    }, wait);
  }

  // Ends the session everywhere Cognito can: GlobalSignOut revokes every
  // refresh token of the user (direct mode); the hosted UI revokes this one
  // and clears its own cookie. Local tokens go whatever happens.
  async signOut() {
    const tokens = this.tokens;
    this.clear();
    if (!tokens) {
      return "index.html";
    }
    try {
      if (this.config.hostedUiDomain) {
        if (tokens.refreshToken) {
          await revokeHosted(this.config, tokens.refreshToken);
        }
        return logoutUrl(this.config);
      }
      await this.cognito.globalSignOut(tokens.accessToken);
    } catch {
      // Best effort: the local tokens are already gone.
    }
    return "index.html?signedout=1";
  }
}
