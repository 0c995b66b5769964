// The /user API: the caller's profile, with optimistic concurrency. Every
// write carries the ETag it was based on (If-Match), so a change made
// elsewhere since then is refused (412) rather than overwritten.

import { keepNumberText } from "./attributes.js";
import { SessionExpired } from "./session.js";

export class ApiError extends Error {
  constructor(status, message, { code = null, fields = [], requestId = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.requestId = requestId;
  }
}

export class ConflictError extends ApiError {}

// The API names the offending field in its JSON error; errors may come one
// at a time or as a list. Each becomes {field, message}, field may be null.
export function parseApiError(status, data, requestId = null) {
  const body = data && typeof data === "object" ? data : {};
  const top = body.error && typeof body.error === "object" ? body.error : body;
  const list =
    [top.problems, top.errors, body.problems, body.errors].find((candidate) =>
      Array.isArray(candidate),
    ) || [];

  // Only what is text is shown: a body from a proxy or a newer API version
  // may hold anything, and must still become words, never a page fault.
  const fields = list
    .filter((item) => typeof item === "string" || (item && typeof item === "object"))
    .map((item) =>
      typeof item === "string"
        ? { field: null, code: null, message: sentence(item) }
        : {
            field: fieldName(item),
            code: textOf(item.code),
            message: sentence(
              textOf(item.message) || textOf(item.detail) || textOf(item.code) || "invalid",
            ),
          },
    );
  if (!list.length && fieldName(top)) {
    fields.push({
      field: fieldName(top),
      code: textOf(top.code),
      message: sentence(textOf(top.message) || textOf(top.detail) || "invalid"),
    });
  }

  const message =
    (typeof body.error === "string" && textOf(body.message)) ||
    textOf(top.message) ||
    textOf(body.message) ||
    (typeof body.error === "string" ? body.error : null) ||
    STATUS_TEXT[status] ||
    `The server answered ${status}.`;
  const code = textOf(top.code) || (typeof body.error === "string" ? body.error : null);
  const wording =
    CODE_TEXT[code] ||
    (STATUS_TEXT[status] && status >= 500 ? STATUS_TEXT[status] : sentence(message));
  if (status === 403 && message === "Missing Authentication Token") {
    // API Gateway's answer for a method or path it has no route for.
    return new ApiError(
      status,
      "The service does not offer this action right now. Try again later.",
      {
        code: "no_route",
      },
    );
  }
  return new (status === 412 ? ConflictError : ApiError)(status, wording, {
    code,
    fields,
    requestId: requestId || top.request_id || body.request_id || body.requestId || null,
  });
}

function textOf(value) {
  return typeof value === "string" && value.trim() ? value : null;
}

function sentence(text) {
  const trimmed = String(text).trim();
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function fieldName(item) {
  if (!item || typeof item !== "object") {
    return null;
  }
  const raw = item.field ?? item.attribute ?? item.pointer ?? item.path ?? null;
  if (typeof raw !== "string" || raw === "") {
    return null;
  }
  // The API names a field by its JSON Pointer ("/city", "/tags/0"); the
  // attribute is the first token, unescaped (RFC 6901).
  if (raw.startsWith("/")) {
    const token = raw.split("/")[1];
    return token ? token.replace(/~1/g, "/").replace(/~0/g, "~") : null;
  }
  return raw.split(/[./]/)[0] || null;
}

// The API's messages are written for developers; a person reads these.
// Problems with one attribute keep the API's own words, which name the rule.
const OUR_MISTAKE =
  "The site sent a request the service could not read. Reload the page and try again.";
const CODE_TEXT = {
  validation_failed: "Some attributes cannot be saved; see the message next to each.",
  profile_not_found: "No profile is saved yet.",
  profile_exists: "A profile was already created somewhere else.",
  precondition_failed:
    "Your profile was changed somewhere else since you loaded it. Nothing was saved.",
  concurrent_update:
    "Your profile was being changed somewhere else at the same moment. Nothing was saved.",
  body_too_large: "Your profile is too large to save. Remove or shorten some attributes.",
  profile_too_large: "Your profile is too large to save. Remove or shorten some attributes.",
  service_busy: "The service is busy. Try again in a moment.",
  internal_error: "Something went wrong on our side. Try again in a moment.",
  bad_request: OUR_MISTAKE,
  invalid_json: OUR_MISTAKE,
  body_required: OUR_MISTAKE,
  invalid_body_encoding: OUR_MISTAKE,
  invalid_if_match: OUR_MISTAKE,
  unsupported_media_type: OUR_MISTAKE,
};

const STATUS_TEXT = {
  400: "The request was not accepted.",
  401: "Your session has ended. Please sign in again.",
  403: "You are not allowed to do that.",
  404: "No profile exists yet.",
  409: "A profile already exists.",
  412: "The profile was changed elsewhere since you loaded it.",
  413: "The profile is too large to save.",
  415: "The request was sent in a form the server does not accept.",
  429: "Too many requests. Wait a moment and try again.",
  500: "Something went wrong on our side. Try again in a moment.",
  502: "The service is not answering. Try again in a moment.",
  503: "The service is not available. Try again in a moment.",
  504: "The service took too long to answer. Try again in a moment.",
};

export class UserApi {
  constructor(config, session, fetchImpl = globalThis.fetch.bind(globalThis)) {
    this.url = `${config.apiUrl}/user`;
    this.session = session;
    this.fetch = fetchImpl;
  }

  async request(method, { body = undefined, etag = null } = {}) {
    const used = await this.session.idToken();
    let response = await this.send(method, body, etag, used);
    if (response.status === 401) {
      // The token may have been revoked or expired in flight: one refresh,
      // one retry; after that the session is over. When another request
      // has refreshed meanwhile, its new token is used, not refreshed again.
      const current = this.session.currentIdToken();
      const fresh =
        current && current !== used ? current : (await this.session.refresh()).idToken;
      response = await this.send(method, body, etag, fresh);
      if (response.status === 401) {
        this.session.clear();
        throw new SessionExpired();
      }
    }

    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text, keepNumberText);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      throw parseApiError(
        response.status,
        data,
        response.headers.get("x-amzn-RequestId") || response.headers.get("x-request-id"),
      );
    }
    return { status: response.status, data, etag: response.headers.get("ETag") };
  }

  async send(method, body, etag, idToken) {
    // A REST API's Cognito user-pool authorizer reads the ID token itself
    // from the Authorization header, with no "Bearer" scheme.
    const headers = { Authorization: idToken };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
    }
    if (etag) {
      headers["If-Match"] = etag;
    }
    try {
      return await this.fetch(this.url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new ApiError(
        0,
        "The service could not be reached. Check your connection and try again.",
        {
          code: "NetworkError",
        },
      );
    }
  }

  // Returns {attributes, etag}, or null when the user has no profile yet.
  async get() {
    try {
      const { data, etag } = await this.request("GET");
      return { attributes: attributesOf(data) || {}, etag };
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        return null;
      }
      throw error;
    }
  }

  async create(attributes) {
    const { data, etag } = await this.request("POST", { body: attributes });
    return { attributes: attributesOf(data), etag };
  }

  // Merges changes into the profile; a null value removes that attribute.
  async patch(changes, etag) {
    const { data, etag: next } = await this.request("PATCH", { body: changes, etag });
    return { attributes: attributesOf(data), etag: next };
  }

  async remove(etag) {
    await this.request("DELETE", { etag });
  }
}

// The API answers with the profile itself: a flat object of attribute
// names to values. null when a write answered without it.
function attributesOf(data) {
  if (data && typeof data === "object" && !Array.isArray(data)) {
    return data;
  }
  return null;
}
