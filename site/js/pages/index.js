import { boot, param, ready, showAccountLinks } from "../boot.js";
import { showStatus } from "../forms.js";

const { session } = await boot();
showAccountLinks(session.isSignedIn);
if (param("signedout")) {
  showStatus(document.getElementById("index-status"), "You have signed out.", "success");
}
ready();
