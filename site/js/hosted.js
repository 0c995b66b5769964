// Cognito's hosted UI: the authorization-code flow with PKCE (S256). Used
// when config.json names a hosted-UI domain, so federated providers (Google,
// Facebook) work without the site ever seeing a password.

import { CognitoError } from "./cognito.js";

const PENDING_KEY = "switchyard.oauth.pending";
const SCOPES = "openid email profile";

function base64url(bytes) {
  let binary = "";
  for (const byte of bytes) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(byteCount) {
  return base64url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

export async function codeChallenge(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

// Builds the URL of a hosted-UI page (/oauth2/authorize, /signup,
// /forgotPassword) and remembers the state and verifier for the callback.
export async function hostedUiUrl(config, page = "oauth2/authorize", next = "profile.html") {
  // 32 random bytes give a 43-character verifier, the shortest RFC 7636
  // allows, with 256 bits of entropy.
  const verifier = randomString(32);
  const state = randomString(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, verifier, next }));

  const params = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: SCOPES,
    state,
    code_challenge: await codeChallenge(verifier),
    code_challenge_method: "S256",
  });
  return `${config.hostedUiDomain}/${page}?${params}`;
}

// Checks the callback's state against the one sent, once, and exchanges the
// code for tokens. Returns {tokens, next}.
export async function completeSignIn(config, search) {
  const params = new URLSearchParams(search);
  const pendingText = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);

  const pending = pendingText ? JSON.parse(pendingText) : null;
  if (!pending || !params.get("state") || params.get("state") !== pending.state) {
    // A state we did not send means this callback was not started by this tab
    // (or is replayed): never exchange its code, and never show its words
    // (an error_description in a forged link could say anything).
    throw new CognitoError(
      "StateMismatch",
      "This sign-in link was not started from this browser tab. Please sign in again.",
    );
  }
  if (params.get("error")) {
    throw new CognitoError(
      params.get("error"),
      `Sign-in was not completed: ${params.get("error_description") || params.get("error")}.`,
    );
  }
  if (!params.get("code")) {
    throw new CognitoError(
      "MissingCode",
      "The sign-in response had no code. Please sign in again.",
    );
  }

  const tokens = await tokenRequest(config, {
    grant_type: "authorization_code",
    client_id: config.clientId,
    code: params.get("code"),
    redirect_uri: config.redirectUri,
    code_verifier: pending.verifier,
  });
  return { tokens, next: pending.next || "profile.html" };
}

export async function refreshHosted(config, refreshToken) {
  const tokens = await tokenRequest(config, {
    grant_type: "refresh_token",
    client_id: config.clientId,
    refresh_token: refreshToken,
  });
  return { ...tokens, refreshToken: tokens.refreshToken || refreshToken };
}

export async function revokeHosted(config, refreshToken) {
  await fetch(`${config.hostedUiDomain}/oauth2/revoke`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: refreshToken, client_id: config.clientId }),
  });
}

export function logoutUrl(config) {
  const params = new URLSearchParams({
    client_id: config.clientId,
    logout_uri: new URL("index.html", config.redirectUri).href,
  });
  return `${config.hostedUiDomain}/logout?${params}`;
}

async function tokenRequest(config, form) {
  let response;
  try {
    response = await fetch(`${config.hostedUiDomain}/oauth2/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form),
    });
  } catch {
    throw new CognitoError("NetworkError", "The sign-in service could not be reached.");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const busy = response.status === 429 || response.status >= 500;
    throw new CognitoError(
      data.error || "TokenError",
      busy
        ? "The sign-in service is busy. Try again in a moment."
        : `Sign-in could not be completed (${data.error || response.status}). ` +
            "Please sign in again.",
      null,
      response.status,
    );
  }
  return {
    idToken: data.id_token,
    accessToken: data.access_token,
    refreshToken: data.refresh_token || null,
  };
}
