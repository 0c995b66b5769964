import { boot, param, ready, showAccountLinks } from "../boot.js";
import { clearErrors, fieldError, showError, showStatus, whileBusy } from "../forms.js";
import { hostedUiUrl } from "../hosted.js";

const CONFIRM_EMAIL_KEY = "switchyard.confirm.email";

const { config, session } = await boot();
showAccountLinks(false);

if (config.hostedUiDomain) {
  document.getElementById("hosted-signup").hidden = false;
  document.getElementById("hosted-signup-button").addEventListener("click", async () => {
    location.assign(await hostedUiUrl(config, "signup"));
  });
} else {
  const signupForm = document.getElementById("signup-form");
  const confirmForm = document.getElementById("confirm-form");
  const signupStatus = document.getElementById("signup-status");
  const confirmStatus = document.getElementById("confirm-status");
  // Held in memory only, to sign in right after confirmation; a reload
  // forgets it and the person signs in by hand.
  let heldPassword = null;

  const showConfirm = (email) => {
    sessionStorage.setItem(CONFIRM_EMAIL_KEY, email);
    document.getElementById("confirm-address").textContent = email;
    signupForm.hidden = true;
    confirmForm.hidden = false;
    confirmForm.elements.code.focus();
  };

  const pending = sessionStorage.getItem(CONFIRM_EMAIL_KEY);
  if (param("confirm") && pending) {
    showConfirm(pending);
  } else {
    signupForm.hidden = false;
    signupForm.elements.email.focus();
  }

  signupForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(signupForm);
    showStatus(signupStatus, "");
    const { email, password, password2 } = signupForm.elements;
    const address = email.value.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) {
      fieldError(email, "Enter an email address, like name@example.com.");
    }
    if (password.value.length < 8) {
      fieldError(password, "Use at least 8 characters.");
    }
    if (password2.value !== password.value) {
      fieldError(password2, "The two passwords are not the same.");
    }
    const invalid = signupForm.querySelector("[aria-invalid]");
    if (invalid) {
      invalid.focus();
      return;
    }

    await whileBusy(document.getElementById("signup-button"), async () => {
      try {
        const result = await session.cognito.signUp(address, password.value);
        heldPassword = password.value;
        if (result.UserConfirmed) {
          await signInAndGo(address);
        } else {
          showConfirm(address);
        }
      } catch (error) {
        showError(signupForm, signupStatus, error);
      }
    });
  });

  confirmForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(confirmForm);
    showStatus(confirmStatus, "");
    const code = confirmForm.elements.code;
    if (!code.value.trim()) {
      fieldError(code, "Enter the code from the email.");
      code.focus();
      return;
    }
    const address = sessionStorage.getItem(CONFIRM_EMAIL_KEY);
    await whileBusy(document.getElementById("confirm-button"), async () => {
      try {
        await session.cognito.confirmSignUp(address, code.value.trim());
        sessionStorage.removeItem(CONFIRM_EMAIL_KEY);
        if (heldPassword) {
          await signInAndGo(address);
        } else {
          location.assign("signin.html?confirmed=1");
        }
      } catch (error) {
        showError(confirmForm, confirmStatus, error);
      }
    });
  });

  document.getElementById("resend-button").addEventListener("click", async () => {
    const address = sessionStorage.getItem(CONFIRM_EMAIL_KEY);
    try {
      await session.cognito.resendConfirmationCode(address);
      showStatus(confirmStatus, `We sent a new code to ${address}.`, "success");
    } catch (error) {
      showStatus(confirmStatus, error.message, "error");
    }
  });

  async function signInAndGo(address) {
    try {
      session.save(await session.cognito.signIn(address, heldPassword));
      location.assign("profile.html");
    } catch {
      location.assign("signin.html?confirmed=1");
    } finally {
      heldPassword = null;
    }
  }
}
ready();
