// Unsaved profile edits, kept in sessionStorage so that a session that ends
// mid-edit sends the user to sign in without losing them. A draft belongs to
// one user (the token's sub) and is offered back only to that user.

import { keepNumberText } from "./attributes.js";

const PREFIX = "switchyard.draft.";

export function saveDraft(sub, draft, storage = sessionStorage) {
  if (!sub) {
    return;
  }
  storage.setItem(PREFIX + sub, JSON.stringify({ ...draft, savedAt: Date.now() }));
}

export function loadDraft(sub, storage = sessionStorage) {
  if (!sub) {
    return null;
  }
  const text = storage.getItem(PREFIX + sub);
  if (!text) {
    return null;
  }
  try {
    // The baseline keeps its numbers exact, like the API's answer did; the
    // draft's own fields (savedAt) stay plain numbers.
    const draft = JSON.parse(text);
    draft.baseline = JSON.parse(text, keepNumberText).baseline;
    return draft;
  } catch {
    storage.removeItem(PREFIX + sub);
    return null;
  }
}

export function clearDraft(sub, storage = sessionStorage) {
  if (sub) {
    storage.removeItem(PREFIX + sub);
  }
}
