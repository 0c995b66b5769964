// The profile page: the caller's attributes from GET /user, edited in a
// form, saved as a PATCH of just the changes with If-Match. Unsaved edits are
// mirrored into a sessionStorage draft, so neither a reload nor a session
// that ends mid-edit loses them.

import { ApiError, ConflictError, UserApi } from "../api.js";
import { CognitoError } from "../cognito.js";
import { applyChanges, changesBetween, formatValue, parseValue, typeOf } from "../attributes.js";
import { boot, ready, showAccountLinks } from "../boot.js";
import { clearDraft, loadDraft, saveDraft } from "../drafts.js";
import { showStatus, whileBusy } from "../forms.js";
import { SessionExpired, signInUrl } from "../session.js";

const $ = (id) => document.getElementById(id);

const form = $("profile-form");
const list = $("attribute-list");
const template = $("attribute-row-template");
const status = $("profile-status");
const notice = $("profile-notice");
const conflictPanel = $("conflict-panel");

// Error codes of the API that are about an attribute's name, not its value.
const NAME_CODES = new Set(["invalid_attribute_name", "read_only_field"]);

const state = {
  // null while the user has no saved profile.
  baseline: null,
  etag: null,
  latest: null,
  clean: "[]",
  rowCount: 0,
  // False until the form shows the profile (and any draft): before that the
  // empty form says nothing about the edits, and must not replace a draft.
  loaded: false,
};

let api;
let session;
let sub;

async function main() {
  const booted = await boot();
  session = booted.session;
  if (!session.isSignedIn) {
    location.replace(signInUrl("profile.html", "signin"));
    return;
  }
  showAccountLinks(true);
  api = new UserApi(booted.config, session);
  const claims = session.claims || {};
  sub = claims.sub;
  $("profile-email").textContent = claims.email || claims["cognito:username"] || "";
  session.onExpired = sessionEnded;
  session.scheduleRefresh();
  wireEvents();

  let loaded;
  try {
    loaded = await api.get();
  } catch (error) {
    $("profile-loading").hidden = true;
    form.removeAttribute("aria-busy");
    handleError(error, "load");
    ready("error");
    return;
  }
  state.baseline = loaded ? loaded.attributes : null;
  state.etag = loaded ? loaded.etag : null;

  const draft = loadDraft(sub);
  if (draft && Array.isArray(draft.rows)) {
    render(draft.baseline || {});
    state.baseline = draft.baseline ?? null;
    state.etag = draft.etag ?? null;
    renderRows(draft.rows);
    const when = new Date(draft.savedAt).toLocaleTimeString([], {
      hour: "2-digit",
      minute: "2-digit",
    });
    showStatus(
      notice,
      `We brought back the edits you had not saved yet (from ${when}). ` +
        "Press “Save changes” to keep them, or “Discard changes”.",
      "warning",
    );
  } else {
    render(state.baseline || {});
  }
  $("profile-loading").hidden = true;
  form.removeAttribute("aria-busy");
  state.loaded = true;
  // The controls wait for the profile: an edit made before it arrived would
  // be thrown away by the first render.
  for (const id of ["add-attribute", "save-button", "discard-button", "delete-button"]) {
    $(id).disabled = false;
  }
  ready();
}

// Rows ---------------------------------------------------------------

function addRow({ name = "", type = "text", text = "" } = {}, focus = false) {
  state.rowCount += 1;
  const n = state.rowCount;
  const row = template.content.firstElementChild.cloneNode(true);
  const parts = {
    name: row.querySelector(".attr-name"),
    type: row.querySelector(".attr-type"),
    value: row.querySelector(".attr-value"),
    error: row.querySelector(".attr-error"),
  };
  parts.name.id = `attr-${n}-name`;
  parts.type.id = `attr-${n}-type`;
  parts.value.id = `attr-${n}-value`;
  parts.error.id = `attr-${n}-error`;
  row.querySelector(".label-name").htmlFor = parts.name.id;
  row.querySelector(".label-type").htmlFor = parts.type.id;
  row.querySelector(".label-value").htmlFor = parts.value.id;
  for (const input of [parts.name, parts.type, parts.value]) {
    input.setAttribute("aria-describedby", parts.error.id);
  }
  parts.name.value = name;
  parts.type.value = type;
  parts.value.value = text;
  row.querySelector(".attr-remove").addEventListener("click", () => {
    row.remove();
    renumber();
    rememberDraft();
    $("add-attribute").focus();
  });
  list.append(row);
  renumber();
  if (focus) {
    parts.name.focus();
  }
  return row;
}

function renumber() {
  const rows = list.querySelectorAll(".attribute-row");
  rows.forEach((row, index) => {
    row.querySelector(".row-legend").textContent = `Attribute ${index + 1}`;
    row.querySelector(".attr-remove").setAttribute("aria-label", `Remove attribute ${index + 1}`);
  });
  $("empty-note").hidden = rows.length > 0;
}

function render(attributes) {
  renderRows(
    Object.keys(attributes)
      .sort()
      .map((name) => {
        const type = typeOf(attributes[name]);
        return { name, type, text: formatValue(attributes[name], type) };
      }),
  );
  state.clean = JSON.stringify(snapshot());
}

function renderRows(rows) {
  list.replaceChildren();
  for (const row of rows) {
    addRow(row);
  }
  renumber();
}

// The rows as typed, invalid input included: what a draft keeps.
function snapshot() {
  return Array.from(list.querySelectorAll(".attribute-row"), (row) => ({
    name: row.querySelector(".attr-name").value,
    type: row.querySelector(".attr-type").value,
    text: row.querySelector(".attr-value").value,
  }));
}

function isDirty() {
  return JSON.stringify(snapshot()) !== state.clean;
}

// Reads the form into attributes, or marks every row that cannot be read.
function readAttributes() {
  clearRowErrors();
  // A Map, so a name like "constructor" or "__proto__" is just a name.
  const attributes = new Map();
  let firstBad = null;
  for (const row of list.querySelectorAll(".attribute-row")) {
    const nameInput = row.querySelector(".attr-name");
    const valueInput = row.querySelector(".attr-value");
    const name = nameInput.value.trim();
    const type = row.querySelector(".attr-type").value;
    if (!name && !valueInput.value.trim()) {
      continue;
    }
    let problem = null;
    let input = nameInput;
    if (!name) {
      problem = "Give this attribute a name.";
    } else if (attributes.has(name)) {
      problem = `Another attribute is already called “${name}”. Names must be different.`;
    } else {
      const parsed = parseValue(valueInput.value, type);
      if (parsed.error) {
        problem = parsed.error;
        input = valueInput;
      } else if (parsed.value === null && removesOnSave(name)) {
        // A PATCH reads null as "remove this attribute": a null already
        // saved can stay, a new one cannot be set that way.
        problem = "null would remove this attribute when saved. Use “Remove” instead.";
        input = valueInput;
      } else {
        attributes.set(name, parsed.value);
      }
    }
    if (problem) {
      rowError(row, problem, input);
      firstBad = firstBad || input;
    }
  }
  if (firstBad) {
    firstBad.focus();
    showStatus(
      status,
      "Some attributes need fixing before they can be saved; see the messages next to them.",
      "error",
    );
    return null;
  }
  return Object.fromEntries(attributes);
}

function removesOnSave(name) {
  const base = state.baseline;
  return base !== null && !(Object.hasOwn(base, name) && base[name] === null);
}

function rowError(row, message, input) {
  const slot = row.querySelector(".attr-error");
  slot.textContent = message;
  slot.hidden = false;
  (input || row.querySelector(".attr-name")).setAttribute("aria-invalid", "true");
}

function clearRowErrors() {
  for (const slot of list.querySelectorAll(".attr-error")) {
    slot.textContent = "";
    slot.hidden = true;
  }
  for (const input of list.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
  }
}

function rowNamed(name) {
  return Array.from(list.querySelectorAll(".attribute-row")).find(
    (row) => row.querySelector(".attr-name").value.trim() === name,
  );
}

// Drafts and the session -------------------------------------------------

function rememberDraft() {
  if (!state.loaded) {
    return;
  }
  if (isDirty()) {
    saveDraft(sub, { rows: snapshot(), baseline: state.baseline, etag: state.etag });
  } else {
    clearDraft(sub);
  }
}

function goSignIn() {
  rememberDraft();
  location.assign(signInUrl("profile.html", "expired"));
}

// The refresh timer found the session over: say so, keep the edits, and let
// the person choose when to sign in again rather than pull the page away.
function sessionEnded() {
  rememberDraft();
  $("session-banner-text").textContent =
    "Your session has ended. Your unsaved edits are kept in this tab; sign in again to save them.";
  $("session-signin-link").href = signInUrl("profile.html", "expired");
  $("session-banner").hidden = false;
}

// Errors -------------------------------------------------------------

function handleError(error, action) {
  if (error instanceof SessionExpired) {
    goSignIn();
    return;
  }
  if (error instanceof ConflictError || (error instanceof ApiError && error.status === 409)) {
    showConflict(action);
    return;
  }
  if (error instanceof ApiError && error.fields.length) {
    let placed = 0;
    let first = null;
    for (const { field, code, message } of error.fields) {
      const row = field ? rowNamed(field) : null;
      if (row) {
        const aboutName = NAME_CODES.has(code) || (!code && /name/i.test(message));
        const input = row.querySelector(aboutName ? ".attr-name" : ".attr-value");
        rowError(row, message, input);
        first = first || input;
        placed += 1;
      }
    }
    if (first) {
      first.focus();
    }
    const unplaced = error.fields.filter(({ field }) => !field || !rowNamed(field));
    const text = unplaced.length
      ? unplaced.map(({ field, message }) => (field ? `${field}: ${message}` : message)).join(" ")
      : `Not saved: ${placed === 1 ? "one attribute needs" : "some attributes need"} fixing; ` +
        "see the message next to it.";
    showStatus(status, text, "error");
    return;
  }
  const target = action === "delete" ? $("delete-status") : status;
  if (!(error instanceof ApiError) && !(error instanceof CognitoError)) {
    // A fault in this page, not something the person can act on.
    console.error(error);
    showStatus(target, "Something went wrong in this page. Reload it and try again.", "error");
    return;
  }
  const suffix = error.requestId ? ` (reference ${error.requestId})` : "";
  showStatus(target, `${error.message}${suffix}`, "error");
}

async function showConflict(action) {
  let latest = null;
  try {
    latest = await api.get();
  } catch (error) {
    handleError(error, "load");
    return;
  }
  state.latest = latest;
  const summary = $("conflict-latest");
  summary.replaceChildren();
  if (!latest) {
    const note = document.createElement("p");
    note.textContent = "There is none: the profile was deleted elsewhere.";
    summary.append(note);
  } else {
    const names = Object.keys(latest.attributes).sort();
    for (const name of names) {
      const dt = document.createElement("dt");
      dt.textContent = name;
      const dd = document.createElement("dd");
      dd.textContent = formatValue(latest.attributes[name]);
      summary.append(dt, dd);
    }
    if (!names.length) {
      summary.append(Object.assign(document.createElement("p"), { textContent: "No attributes." }));
    }
  }
  $("conflict-text").textContent =
    action === "delete"
      ? "Since you opened this page, your profile was changed in another tab or on " +
        "another device, so it was not deleted. Look at the latest version below; " +
        "you can delete it after that if you still want to."
      : "Since you opened this page, your profile was changed in another tab or on " +
        "another device. Your edits were not saved, and nothing was overwritten.";
  conflictPanel.hidden = false;
  showStatus(
    status,
    action === "delete"
      ? ""
      : "Not saved: your profile was changed somewhere else. See the explanation above.",
    "error",
  );
  $("conflict-title").focus();
}

// Actions ------------------------------------------------------------

async function save() {
  showStatus(status, "");
  showStatus(notice, "");
  const attributes = readAttributes();
  if (!attributes) {
    return;
  }

  let result;
  try {
    if (state.baseline === null) {
      if (!Object.keys(attributes).length) {
        showStatus(status, "Add an attribute before saving.", "info");
        return;
      }
      result = await api.create(attributes);
    } else {
      const changes = changesBetween(state.baseline, attributes);
      if (!Object.keys(changes).length) {
        showStatus(status, "There are no changes to save.", "info");
        return;
      }
      result = await api.patch(changes, state.etag);
    }
  } catch (error) {
    rememberDraft();
    handleError(error, "save");
    return;
  }

  if (result.attributes === null || !result.etag) {
    // The write answered without the profile or its ETag; read it back so
    // the next write is based on what is really stored.
    result = (await api.get()) || { attributes: attributes, etag: null };
  }
  state.baseline = result.attributes;
  state.etag = result.etag;
  render(state.baseline);
  clearDraft(sub);
  conflictPanel.hidden = true;
  showStatus(status, "Your profile is saved.", "success");
}

async function deleteProfile() {
  showStatus($("delete-status"), "");
  if (state.baseline === null) {
    showStatus($("delete-status"), "There is no saved profile to delete.", "info");
    return;
  }
  try {
    await api.remove(state.etag);
  } catch (error) {
    handleError(error, "delete");
    return;
  }
  state.baseline = null;
  state.etag = null;
  render({});
  clearDraft(sub);
  conflictPanel.hidden = true;
  showStatus(status, "");
  showStatus($("delete-status"), "Your profile was deleted.", "success");
}

function wireEvents() {
  let draftTimer = null;
  form.addEventListener("input", () => {
    clearTimeout(draftTimer);
    draftTimer = setTimeout(rememberDraft, 250);
  });
  form.addEventListener("change", rememberDraft);

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    whileBusy($("save-button"), () => save().catch((error) => handleError(error, "save")));
  });

  $("add-attribute").addEventListener("click", () => {
    addRow({}, true);
    rememberDraft();
  });

  // Discarding shows what is saved now, read afresh: the draft may have
  // been based on an older version.
  $("discard-button").addEventListener("click", async () => {
    if (!isDirty() && !loadDraft(sub)) {
      showStatus(status, "There are no changes to discard.", "info");
      return;
    }
    clearDraft(sub);
    showStatus(notice, "");
    try {
      const loaded = await api.get();
      state.baseline = loaded ? loaded.attributes : null;
      state.etag = loaded ? loaded.etag : null;
    } catch (error) {
      handleError(error, "load");
      return;
    }
    render(state.baseline || {});
    clearRowErrors();
    conflictPanel.hidden = true;
    showStatus(status, "Your changes were discarded.", "info");
  });

  $("conflict-keep").addEventListener("click", () => {
    const edited = readAttributes();
    if (!edited) {
      return;
    }
    const changes = changesBetween(state.baseline || {}, edited);
    const latest = state.latest;
    state.baseline = latest ? latest.attributes : null;
    state.etag = latest ? latest.etag : null;
    render(state.baseline || {});
    renderRows(
      Object.entries(applyChanges(state.baseline || {}, changes))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, value]) => ({ name, type: typeOf(value), text: formatValue(value) })),
    );
    conflictPanel.hidden = true;
    rememberDraft();
    showStatus(
      status,
      "Your edits are now applied to the latest version. " +
        "Check them, then press “Save changes”.",
      "info",
    );
    $("save-button").focus();
  });

  $("conflict-discard").addEventListener("click", () => {
    const latest = state.latest;
    state.baseline = latest ? latest.attributes : null;
    state.etag = latest ? latest.etag : null;
    render(state.baseline || {});
    clearDraft(sub);
    conflictPanel.hidden = true;
    showStatus(status, "Showing the latest saved version. Your edits were discarded.", "info");
    $("add-attribute").focus();
  });

  const dialog = $("delete-dialog");
  $("delete-button").addEventListener("click", () => dialog.showModal());
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "confirm") {
      deleteProfile();
    } else {
      $("delete-button").focus();
    }
    dialog.returnValue = "";
  });

  $("signout-button").addEventListener("click", async (event) => {
    await whileBusy(event.currentTarget, async () => {
      clearDraft(sub);
      location.assign(await session.signOut());
    });
  });
}

main();
