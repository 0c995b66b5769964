// Showing errors in words next to their cause. Each field has an element
// "<field id>-error" that its aria-describedby already names; the form has a
// status region (role=status or alert) for what belongs to no one field.

export function fieldError(input, message) {
  const slot = document.getElementById(`${input.id}-error`);
  if (slot) {
    slot.textContent = message;
    slot.hidden = !message;
  }
  if (message) {
    input.setAttribute("aria-invalid", "true");
  } else {
    input.removeAttribute("aria-invalid");
  }
}

export function clearErrors(form) {
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    fieldError(input, "");
  }
  for (const slot of form.querySelectorAll(".field-error")) {
    slot.textContent = "";
    slot.hidden = true;
  }
}

export function showStatus(element, message, kind = "info") {
  element.textContent = message;
  element.dataset.kind = kind;
  element.hidden = !message;
}

// Puts an error next to the field it names (by the form control's name),
// or in the status region when no field of the form matches; focuses the
// field so keyboard and screen-reader users land on it.
export function showError(form, status, error) {
  const input = error.field ? form.elements.namedItem(error.field) : null;
  if (input && input.id) {
    fieldError(input, error.message);
    input.focus();
    showStatus(status, "", "info");
  } else {
    showStatus(status, error.message, "error");
  }
}

export async function whileBusy(button, work) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (button.dataset.busyLabel) {
    button.textContent = button.dataset.busyLabel;
  }
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}
