// What every page does first: read the configuration, start the event
// sender, and say plainly when the site is not configured.

import { loadConfig } from "./config.js";
import { EventSender } from "./events.js";
import { Session } from "./session.js";

export async function boot() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    const slot = document.getElementById("page-error");
    if (slot) {
      slot.textContent = error.message;
      slot.hidden = false;
    }
    throw error;
  }
  const session = new Session(config);
  const events = new EventSender(config.apiUrl, session).install();
  return { config, session, events };
}

export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

// Marks the page as ready for input; the browser test waits for it.
export function ready(state = "true") {
  document.body.dataset.ready = state;
}

// Shows the navigation that fits: sign-in links or the profile link.
export function showAccountLinks(signedIn) {
  for (const element of document.querySelectorAll(".signed-in-only")) {
    element.hidden = !signedIn;
  }
  for (const element of document.querySelectorAll(".signed-out-only")) {
    element.hidden = signedIn;
  }
}
