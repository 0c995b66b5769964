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
  // null is shown as JSON ("null"), so it stays null and does not become "";
  // text with line breaks too ("a\nb"): a one-line text field drops them.
  if (value === null || typeof value === "object" || /[\r\n]/.test(value)) {
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
      if (typeof value === "number" || typeof value === "boolean") {
        return { error: "For a number or yes/no, pick that type instead of JSON." };
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
  return canonical(a) === canonical(b);
}

// One text per value, equal exactly when the values are: keys sorted, each
// number written from its digits (never through a double, which would make
// two 23-digit numbers that differ in the last digit look the same).
function canonical(value) {
  if (isExactNumber(value)) {
    return numberKey(JSON.stringify(value));
  }
  if (typeof value === "number") {
    return numberKey(String(value));
  }
  if (Array.isArray(value)) {
    return `[${value.map(canonical).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value === undefined ? null : value);
}

// A number's text as sign, significant digits and the position of the
// decimal point: 30.40, 30.4 and 3.04e1 all give "0.304e2".
export function numberKey(text) {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) {
    return text;
  }
  const [, sign, whole, fraction = "", exponent = "0"] = match;
  const all = whole + fraction;
  const leading = all.length - all.replace(/^0+/, "").length;
  const digits = all.slice(leading).replace(/0+$/, "");
  if (!digits) {
    return "0";
  }
  const point = whole.length + Number(exponent) - leading;
  return `${sign}0.${digits}e${point}`;
}

// The PATCH body for going from `base` to `edited`: changed and new
// attributes with their value, removed ones as null. Built through a Map and
// Object.fromEntries, so names such as "constructor" or "__proto__" are
// plain attributes, never an object's inherited properties.
export function changesBetween(base, edited) {
  const changes = new Map();
  for (const [name, value] of Object.entries(edited)) {
    if (!Object.hasOwn(base, name) || !sameValue(base[name], value)) {
      changes.set(name, value);
    }
  }
  for (const name of Object.keys(base)) {
    if (!Object.hasOwn(edited, name)) {
      changes.set(name, null);
    }
  }
  return Object.fromEntries(changes);
}

// Puts the person's own changes (made from `base`) on top of `latest`, the
// version someone else saved meanwhile. Their changes win only for the
// attributes they touched.
export function applyChanges(latest, changes) {
  const result = new Map(Object.entries(latest));
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) {
      result.delete(name);
    } else {
      result.set(name, value);
    }
  }
  return Object.fromEntries(result);
}
