// Direct calls to the Cognito user-pool API, for pools without a hosted UI
// (the local system). These operations are public: they take the app client
// id, not an AWS signature, so the browser can call them with fetch.

const SERVICE = "AWSCognitoIdentityProviderService";

export class CognitoError extends Error {
  // status: the HTTP status of the answer, 0 when there was none.
  constructor(code, message, field = null, status = 0) {
    super(message);
    this.code = code;
    this.field = field;
    this.status = status;
  }

  // Throttling, a fault of the service or no answer at all: worth trying
  // again later, and no sign that the credentials are bad.
  get transient() {
    return (
      this.code === "NetworkError" ||
      TRANSIENT_CODES.has(this.code) ||
      this.status === 429 ||
      this.status >= 500
    );
  }
}

const TRANSIENT_CODES = new Set([
  "TooManyRequestsException",
  "LimitExceededException",
  "InternalErrorException",
  "ServiceUnavailable",
  "ThrottlingException",
  "temporarily_unavailable",
  "server_error",
]);

// What each Cognito error means to the person at the keyboard, and which
// form field caused it. Cognito's own messages are kept for the rest.
const EXPLAINED = {
  UsernameExistsException: ["email", "An account with this email already exists. Sign in instead."],
  InvalidPasswordException: ["password", null],
  NotAuthorizedException: ["password", "The email or password is wrong."],
  UserNotFoundException: ["email", "The email or password is wrong."],
  UserNotConfirmedException: [
    "email",
    "This account is not confirmed yet. Enter the code we sent you.",
  ],
  CodeMismatchException: ["code", "That code is not right. Check the email and try again."],
  ExpiredCodeException: ["code", "That code has expired. Ask for a new one."],
  LimitExceededException: [null, "Too many attempts. Wait a few minutes and try again."],
  TooManyRequestsException: [null, "Too many attempts. Wait a little and try again."],
  TooManyFailedAttemptsException: [
    null,
    "Too many failed attempts. Wait a few minutes and try again.",
  ],
  InvalidParameterException: [null, null],
};

function explain(type, message, status) {
  const code = (type || "UnknownError").split("#").pop();
  const [field, text] = EXPLAINED[code] || [null, null];
  return new CognitoError(
    code,
    text || message || `Sign-in service error (${code}).`,
    field,
    status,
  );
}

export class CognitoClient {
  constructor(config, fetchImpl = globalThis.fetch.bind(globalThis)) {
    this.endpoint = config.cognitoEndpoint;
    this.clientId = config.clientId;
    this.fetch = fetchImpl;
  }

  async call(operation, body) {
    let response;
    try {
      response = await this.fetch(this.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `${SERVICE}.${operation}`,
        },
        body: JSON.stringify(body),
      });
    } catch {
      throw new CognitoError(
        "NetworkError",
        "The sign-in service could not be reached. Check your connection and try again.",
      );
    }

    const text = await response.text();
    let data = {};
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = {};
      }
    }
    if (!response.ok) {
      const type = data.__type || response.headers.get("x-amzn-ErrorType");
      throw explain(type, data.message || data.Message, response.status);
    }
    return data;
  }

  signUp(email, password) {
    return this.call("SignUp", {
      ClientId: this.clientId,
      Username: email,
      Password: password,
      UserAttributes: [{ Name: "email", Value: email }],
    });
  }

  confirmSignUp(email, code) {
    return this.call("ConfirmSignUp", {
      ClientId: this.clientId,
      Username: email,
      ConfirmationCode: code,
    });
  }

  resendConfirmationCode(email) {
    return this.call("ResendConfirmationCode", { ClientId: this.clientId, Username: email });
  }

  async signIn(email, password) {
    const data = await this.call("InitiateAuth", {
      ClientId: this.clientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: email, PASSWORD: password },
    });
    if (!data.AuthenticationResult) {
      // A challenge (new password required, MFA) needs a flow this site does
      // not offer; say so rather than fail silently.
      throw new CognitoError(
        data.ChallengeName || "ChallengeRequired",
        `This account needs an extra sign-in step (${data.ChallengeName}) ` +
          "that this site does not support yet.",
        "password",
      );
    }
    return toTokens(data.AuthenticationResult);
  }

  async refresh(refreshToken) {
    const data = await this.call("InitiateAuth", {
      ClientId: this.clientId,
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
    // A refresh returns no new refresh token: the old one stays valid.
    return toTokens(data.AuthenticationResult, refreshToken);
  }

  forgotPassword(email) {
    return this.call("ForgotPassword", { ClientId: this.clientId, Username: email });
  }

  confirmForgotPassword(email, code, password) {
    return this.call("ConfirmForgotPassword", {
      ClientId: this.clientId,
      Username: email,
      ConfirmationCode: code,
      Password: password,
    });
  }

  globalSignOut(accessToken) {
    return this.call("GlobalSignOut", { AccessToken: accessToken });
  }
}

export function toTokens(result, refreshToken = null) {
  return {
    idToken: result.IdToken,
    accessToken: result.AccessToken,
    refreshToken: result.RefreshToken || refreshToken,
  };
}
