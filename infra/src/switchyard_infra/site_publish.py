"""Publish the static site: upload its files, write config.json, invalidate.

Files are uploaded only when their content changed (S3's ETag of a single
PUT is the MD5 of the body), HTML and config.json with ``no-cache`` so a new
release shows at once, everything else cached briefly: the site has no build
step and so no content-hashed file names. Only when something changed is the
CloudFront cache invalidated.
"""

import hashlib
import json
import mimetypes
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from switchyard_infra.errors import DeployError

# Written by the deploy (config.json) or an example for developers.
SKIPPED_NAMES = {"config.json", "config.example.json"}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
NO_CACHE = "no-cache"
SHORT_CACHE = "public, max-age=300"


@dataclass(frozen=True)
class SiteFile:
    """One object of the published site."""

    key: str
    body: bytes
    content_type: str
    cache_control: str

    @property
    def md5(self) -> str:
        return hashlib.md5(self.body, usedforsecurity=False).hexdigest()


def _content_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path)
    return guessed or "application/octet-stream"


def _cache_control(key: str) -> str:
    return NO_CACHE if key.endswith(".html") or key == "config.json" else SHORT_CACHE


def site_files(site_dir: Path) -> list[SiteFile]:
    """The site's files to upload, sorted by key; hidden files are left out."""
    files = []
    for path in sorted(site_dir.rglob("*")):
        relative = path.relative_to(site_dir)
        if not path.is_file() or any(p.startswith(".") for p in relative.parts):
            continue
        if relative.as_posix() in SKIPPED_NAMES:
            continue
        key = relative.as_posix()
        files.append(
            SiteFile(key, path.read_bytes(), _content_type(key), _cache_control(key))
        )
    return files


def site_config(
    region: str,
    shared: Mapping[str, str],
    api: Mapping[str, str],
    site: Mapping[str, str],
) -> dict[str, str]:
    """config.json for the site (the keys of site/config.example.json)."""
    site_url = site.get("SiteUrl", "")
    return {
        "apiUrl": api.get("ApiUrl", ""),
        "region": region,
        "userPoolId": shared.get("UserPoolId", ""),
        # The hosted-UI client when the site stack made one, else the shared
        # web client (no hosted UI: the site's own sign-in forms).
        "clientId": site.get("HostedUiClientId") or shared.get("UserPoolClientId", ""),
        "cognitoEndpoint": "",
        "hostedUiDomain": site.get("HostedUiUrl", ""),
        "redirectUri": f"{site_url}/callback.html" if site_url else "",
    }


def upload(
    s3: Any, bucket: str, files: list[SiteFile], report: Callable[[str], None]
) -> list[str]:
    """Upload the files whose content changed; returns their keys."""
    changed = []
    for item in files:
        try:
            head = s3.head_object(Bucket=bucket, Key=item.key)
            unchanged = (
                head.get("ETag", "").strip('"') == item.md5
                and head.get("ContentType") == item.content_type
            )
        except ClientError:
            unchanged = False
        if unchanged:
            continue
        try:
            s3.put_object(
                Bucket=bucket,
                Key=item.key,
                Body=item.body,
                ContentType=item.content_type,
                CacheControl=item.cache_control,
            )
        except ClientError as exc:
            raise DeployError(
                f"PutObject s3://{bucket}/{item.key} failed: {exc}"
            ) from exc
        changed.append(item.key)
    report(f"site: {len(changed)} of {len(files)} file(s) uploaded to s3://{bucket}")
    return changed


def config_file(config: Mapping[str, str]) -> SiteFile:
    body = (json.dumps(dict(config), indent=2, sort_keys=True) + "\n").encode()
    return SiteFile("config.json", body, CONTENT_TYPES[".json"], NO_CACHE)


def invalidate(
    cloudfront: Any,
    distribution_id: str,
    changed: list[str],
    report: Callable[[str], None],
) -> str | None:
    """Invalidate the whole distribution when something changed; the id."""
    if not changed:
        report("site: nothing changed, no invalidation")
        return None
    # A reused CallerReference returns the old invalidation instead of
    # making one, so it must differ per release even for the same files.
    reference = f"switchyard-{time.time_ns()}"
    try:
        answer = cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": reference,
            },
        )
    except ClientError as exc:
        raise DeployError(
            f"CreateInvalidation on distribution {distribution_id} failed: {exc}"
        ) from exc
    invalidation_id = str(answer["Invalidation"]["Id"])
    report(f"site: CloudFront invalidation {invalidation_id} of /* started")
    return invalidation_id
