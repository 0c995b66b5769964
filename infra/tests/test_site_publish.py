"""The site's files and config.json, as the deploy uploads them."""

import json
from pathlib import Path

import pytest

from switchyard_infra import site_publish
from switchyard_infra.paths import SITE_DIR

pytestmark = pytest.mark.unit


def test_config_has_the_keys_the_site_reads():
    example = json.loads((SITE_DIR / "config.example.json").read_text())

    config = site_publish.site_config(
        "eu-west-1",
        {"UserPoolId": "pool", "UserPoolClientId": "shared-client"},
        {"ApiUrl": "https://api.example/dev"},
        {
            "SiteUrl": "https://d1.cloudfront.net",
            "HostedUiClientId": "site-client",
            "HostedUiUrl": "https://x.auth.eu-west-1.amazoncognito.com",
        },
    )

    assert set(config) == set(example)
    assert config["clientId"] == "site-client"
    assert config["redirectUri"] == "https://d1.cloudfront.net/callback.html"
    assert config["apiUrl"] == "https://api.example/dev"


def test_config_falls_back_to_the_shared_client_without_a_hosted_ui():
    config = site_publish.site_config("r", {"UserPoolClientId": "shared"}, {}, {})

    assert config["clientId"] == "shared"
    assert config["hostedUiDomain"] == ""


def test_site_files_skip_config_and_hidden_files_and_type_each_file(tmp_path: Path):
    (tmp_path / "js").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "js" / "app.js").write_text("export {};")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "config.example.json").write_text("{}")
    (tmp_path / ".DS_Store").write_text("x")

    files = {f.key: f for f in site_publish.site_files(tmp_path)}

    assert set(files) == {"index.html", "js/app.js"}
    assert files["index.html"].content_type == "text/html; charset=utf-8"
    assert files["index.html"].cache_control == "no-cache"
    assert files["js/app.js"].content_type == "text/javascript; charset=utf-8"
    assert files["js/app.js"].cache_control == site_publish.SHORT_CACHE


class FakeS3:
    def __init__(self) -> None:
        self.objects: dict[str, dict] = {}

    def head_object(self, Bucket: str, Key: str) -> dict:
        from botocore.exceptions import ClientError

        if Key not in self.objects:
            raise ClientError({"Error": {"Code": "404"}}, "HeadObject")
        return self.objects[Key]

    def put_object(self, **args) -> None:
        import hashlib

        self.objects[args["Key"]] = {
            "ETag": '"' + hashlib.md5(args["Body"]).hexdigest() + '"',
            "ContentType": args["ContentType"],
        }


def test_upload_sends_only_changed_files():
    s3 = FakeS3()
    files = [site_publish.config_file({"apiUrl": "a"})]

    first = site_publish.upload(s3, "b", files, lambda _: None)
    again = site_publish.upload(s3, "b", files, lambda _: None)
    changed = site_publish.upload(
        s3, "b", [site_publish.config_file({"apiUrl": "b"})], lambda _: None
    )

    assert (first, again, changed) == (["config.json"], [], ["config.json"])
