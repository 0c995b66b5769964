import { boot, param, ready, showAccountLinks } from "../boot.js";
import { clearErrors, fieldError, showError, showStatus, whileBusy } from "../forms.js";
import { hostedUiUrl } from "../hosted.js";
import { safeNext } from "../session.js";

const { config, session } = await boot();
const next = safeNext(param("next"));
const notice = document.getElementById("signin-notice");
showAccountLinks(false);

if (param("reason") === "expired") {
  showStatus(
    notice,
    "Your session ended. Sign in again to carry on: the edits you had not saved are kept.",
    "warning",
  );
} else if (param("reason") === "signin") {
  showStatus(notice, "Please sign in to see your profile.", "info");
} else if (param("confirmed")) {
  showStatus(notice, "Your account is confirmed. You can sign in now.", "success");
} else if (param("reset")) {
  showStatus(notice, "Your password was changed. Sign in with the new one.", "success");
}

if (config.hostedUiDomain) {
  const section = document.getElementById("hosted-signin");
  const button = document.getElementById("hosted-signin-button");
  section.hidden = false;
  button.addEventListener("click", async () => {
    try {
      location.assign(await hostedUiUrl(config, "oauth2/authorize", next));
    } catch (error) {
      showStatus(document.getElementById("hosted-signin-status"), error.message, "error");
    }
  });
  button.focus();
} else {
  const form = document.getElementById("signin-form");
  const status = document.getElementById("signin-status");
  const button = document.getElementById("signin-button");
  form.hidden = false;
  form.elements.email.focus();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    showStatus(status, "");
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    let missing = false;
    if (!email) {
      fieldError(form.elements.email, "Enter your email.");
      missing = true;
    }
    if (!password) {
      fieldError(form.elements.password, "Enter your password.");
      missing = true;
    }
    if (missing) {
      form.querySelector("[aria-invalid]").focus();
      return;
    }

    await whileBusy(button, async () => {
      try {
        session.save(await session.cognito.signIn(email, password));
        location.assign(next);
      } catch (error) {
        if (error.code === "UserNotConfirmedException") {
          sessionStorage.setItem("switchyard.confirm.email", email);
          location.assign("signup.html?confirm=1");
          return;
        }
        showError(form, status, error);
      }
    });
  });
}
ready();
