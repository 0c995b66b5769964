import { boot, ready, showAccountLinks } from "../boot.js";
import { clearErrors, fieldError, showError, showStatus, whileBusy } from "../forms.js";
import { hostedUiUrl } from "../hosted.js";

const { config, session } = await boot();
showAccountLinks(false);

if (config.hostedUiDomain) {
  document.getElementById("hosted-forgot").hidden = false;
  document.getElementById("hosted-forgot-button").addEventListener("click", async () => {
    location.assign(await hostedUiUrl(config, "forgotPassword"));
  });
} else {
  const forgotForm = document.getElementById("forgot-form");
  const resetForm = document.getElementById("reset-form");
  const forgotStatus = document.getElementById("forgot-status");
  const resetStatus = document.getElementById("reset-status");
  let address = "";
  forgotForm.hidden = false;
  forgotForm.elements.email.focus();

  forgotForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(forgotForm);
    showStatus(forgotStatus, "");
    address = forgotForm.elements.email.value.trim();
    if (!address) {
      fieldError(forgotForm.elements.email, "Enter your email.");
      forgotForm.elements.email.focus();
      return;
    }
    await whileBusy(document.getElementById("forgot-button"), async () => {
      try {
        await session.cognito.forgotPassword(address);
      } catch (error) {
        // The pool hides whether an account exists; only a limit or a
        // network error is worth showing.
        if (!["UserNotFoundException", "NotAuthorizedException"].includes(error.code)) {
          showError(forgotForm, forgotStatus, error);
          return;
        }
      }
      document.getElementById("reset-address").textContent = address;
      forgotForm.hidden = true;
      resetForm.hidden = false;
      resetForm.elements.code.focus();
    });
  });

  resetForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(resetForm);
    showStatus(resetStatus, "");
    const { code, password } = resetForm.elements;
    if (!code.value.trim()) {
      fieldError(code, "Enter the code from the email.");
    }
    if (password.value.length < 8) {
      fieldError(password, "Use at least 8 characters.");
    }
    const invalid = resetForm.querySelector("[aria-invalid]");
    if (invalid) {
      invalid.focus();
      return;
    }
    await whileBusy(document.getElementById("reset-button"), async () => {
      try {
        await session.cognito.confirmForgotPassword(address, code.value.trim(), password.value);
        location.assign("signin.html?reset=1");
      } catch (error) {
        showError(resetForm, resetStatus, error);
      }
    });
  });
}
ready();
