// The site's settings, read once from config.json. Deployment and the local
// system generate that file; the site never guesses a missing value.

const REQUIRED = ["apiUrl", "region", "userPoolId", "clientId"];

export class ConfigError extends Error {}

let cached = null;

function trimSlash(url) {
  return url.replace(/\/+$/, "");
}

function withScheme(domain) {
  return /^https?:\/\//.test(domain) ? domain : `https://${domain}`;
}

export function normalizeConfig(raw) {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError("config.json must hold a JSON object.");
  }
  const missing = REQUIRED.filter((key) => typeof raw[key] !== "string" || raw[key].trim() === "");
  if (missing.length) {
    throw new ConfigError(`config.json lacks ${missing.join(", ")}: regenerate it for this stage.`);
  }

  const hostedUiDomain = raw.hostedUiDomain ? trimSlash(withScheme(raw.hostedUiDomain)) : "";
  const redirectUri = raw.redirectUri || new URL("callback.html", location.href).href;
  if (hostedUiDomain && !raw.redirectUri) {
    throw new ConfigError("config.json sets hostedUiDomain but not redirectUri.");
  }

  return {
    apiUrl: trimSlash(raw.apiUrl),
    region: raw.region,
    userPoolId: raw.userPoolId,
    clientId: raw.clientId,
    cognitoEndpoint: raw.cognitoEndpoint
      ? `${trimSlash(raw.cognitoEndpoint)}/`
      : `https://cognito-idp.${raw.region}.amazonaws.com/`,
    hostedUiDomain,
    redirectUri,
  };
}

export async function loadConfig() {
  if (cached) {
    return cached;
  }
  let response;
  try {
    response = await fetch("config.json", { cache: "no-store" });
  } catch (error) {
    throw new ConfigError(`config.json could not be fetched: ${error.message}`);
  }
  if (!response.ok) {
    throw new ConfigError(
      `config.json could not be read (HTTP ${response.status}): the site is not configured.`,
    );
  }
  let raw;
  try {
    raw = await response.json();
  } catch {
    throw new ConfigError("config.json is not valid JSON.");
  }
  cached = normalizeConfig(raw);
  return cached;
}
