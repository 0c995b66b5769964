// Profile attributes as the form shows them: each value has a type the
// person picks (text, number, yes/no, JSON), and the changes to save are the
// difference from the version the edits started from.

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

// Numbers travel as the digits typed: where the browser has JSON.rawJSON,
// 30.40 or a 30-digit number reach the API exactly, not rounded to a double.
const hasRawJson = typeof JSON.rawJSON === "function";

export function isExactNumber(value) {
  return hasRawJson && JSON.isRawJSON(value);
}

export function exactNumber(text) {
  if (hasRawJson) {
    return JSON.rawJSON(text);
  }
  return Number(text);
}

// A JSON.parse reviver that keeps each number's source text where it can.
export function keepNumberText(key, value, context) {
  if (hasRawJson && typeof value === "number" && context && context.source) {
    return JSON.rawJSON(context.source);
  }
  return value;
}
const YES = new Set(["true", "yes", "y"]);
const NO = new Set(["false", "no", "n"]);

export function typeOf(value) {
  if (typeof value === "number" || isExactNumber(value)) {
    return "number";
  }
  if (typeof value === "boolean") {
    return "boolean";
  }
  if (value !== null && typeof value === "object") {
    return "json";
  }
  return "text";
}

export function formatValue(value, type = typeOf(value)) {
  if (type === "json" || isExactNumber(value)) {
    return JSON.stringify(value);
  }
  if (type === "boolean") {
    return value ? "yes" : "no";
  }
  return value === null || value === undefined ? "" : String(value);
}

// Returns {value} or {error: words for the person}.
export function parseValue(text, type) {
  const trimmed = text.trim();
  if (type === "number") {
    if (!NUMBER.test(trimmed)) {
      return { error: "Enter a number, like 42 or 30.4." };
    }
    if (!Number.isFinite(Number(trimmed))) {
      return { error: "This number is too large." };
    }
    return { value: exactNumber(trimmed) };
  }
  if (type === "boolean") {
    const word = trimmed.toLowerCase();
    if (YES.has(word)) {
      return { value: true };
    }
    if (NO.has(word)) {
      return { value: false };
    }
    return { error: "Enter yes or no." };
  }
  if (type === "json") {
    try {
      const value = JSON.parse(trimmed, keepNumberText);
      if (value === null || typeof value !== "object") {
        return { error: 'Enter a list like ["a", "b"] or a map like {"key": "value"}.' };
      }
      return { value };
    } catch {
      return {
        error: 'This is not valid JSON. Lists look like ["a", "b"], maps like {"key": "value"}.',
      };
    }
  }
  return { value: text };
}

export function sameValue(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value) {
  if (isExactNumber(value)) {
    return Number(JSON.stringify(value));
  }
  if (Array.isArray(value)) {
    return value.map(canonical);
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical(value[key])]),
    );
  }
  return value;
}

// The PATCH body for going from `base` to `edited`: changed and new
// attributes with their value, removed ones as null.
export function changesBetween(base, edited) {
  const changes = {};
  for (const [name, value] of Object.entries(edited)) {
    if (!(name in base) || !sameValue(base[name], value)) {
      changes[name] = value;
    }
  }
  for (const name of Object.keys(base)) {
    if (!(name in edited)) {
      changes[name] = null;
    }
  }
  return changes;
}

// Puts the person's own changes (made from `base`) on top of `latest`, the
// version someone else saved meanwhile. Their changes win only for the
// attributes they touched.
export function applyChanges(latest, changes) {
  const result = { ...latest };
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) {
      delete result[name];
    } else {
      result[name] = value;
    }
  }
  return result;
}
