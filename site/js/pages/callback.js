import { boot, ready } from "../boot.js";
import { showStatus } from "../forms.js";
import { completeSignIn } from "../hosted.js";
import { safeNext } from "../session.js";

const { config, session } = await boot();
// The code and state must not stay in the address bar or in history.
const search = location.search;
history.replaceState(null, "", location.pathname);

try {
  const { tokens, next } = await completeSignIn(config, search);
  session.save(tokens);
  location.replace(safeNext(next));
} catch (error) {
  showStatus(document.getElementById("callback-status"), error.message, "error");
  document.getElementById("callback-retry").hidden = false;
  ready();
}
