"""Which clouds.yaml entries authenticate with keystoneauth's v3 twin (no identity version
discovery request) and which keep the operator's own plugin. Read through openstacksdk's own
config loader, the way connect_from_config reads them."""
from __future__ import annotations

import pytest
import yaml

from wizard.cloud import versioned_auth_type

BASE = {"username": "admin", "password": "pw", "project_name": "admin",
        "user_domain_name": "Default", "project_domain_name": "Default"}


def region_config(tmp_path, monkeypatch, auth, **entry):
    import openstack.config

    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": {"c": {"auth": auth, "region_name": "RegionOne", **entry}}}))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    for var in ("OS_CLOUD", "OS_AUTH_URL", "OS_AUTH_TYPE", "OS_IDENTITY_API_VERSION"):
        monkeypatch.delenv(var, raising=False)
    return openstack.config.OpenStackConfig(config_files=[str(path)]).get_one(cloud="c").config


@pytest.mark.parametrize("auth_url,entry,expected", [
    ("http://192.0.2.1:5000/v3", {}, "v3password"),                        # openstacksdk's default auth_type
    ("http://192.0.2.1:5000/v3/", {"auth_type": "password"}, "v3password"),
    ("https://cloud.example/identity/v3", {}, "v3password"),                # a path prefix before /v3
    ("http://192.0.2.1:5000/v3", {"identity_api_version": 3}, "v3password"),
    ("http://192.0.2.1:5000", {}, None),                                    # Kolla's clouds.yaml: unversioned
    ("http://192.0.2.1:5000/", {}, None),
    ("http://192.0.2.1:5000/v2.0", {}, None),
    ("http://192.0.2.1:5000/v3", {"identity_api_version": "2"}, None),
    ("http://192.0.2.1:5000/v3", {"auth_type": "v3password"}, None),         # already a v3 plugin
])
def test_password_entries(tmp_path, monkeypatch, auth_url, entry, expected):
    config = region_config(tmp_path, monkeypatch, dict(BASE, auth_url=auth_url), **entry)
    assert versioned_auth_type(config) == expected


def test_token_entry_gets_v3token(tmp_path, monkeypatch):
    auth = {"auth_url": "http://192.0.2.1:5000/v3", "token": "t", "project_name": "admin",
            "project_domain_name": "Default"}
    assert versioned_auth_type(region_config(tmp_path, monkeypatch, auth, auth_type="token")) == "v3token"


def test_default_domain_options_keep_the_generic_plugin(tmp_path, monkeypatch):
    """default_domain_id/_name exist only on the generic plugins (they fill user and project domain)."""
    auth = {k: v for k, v in BASE.items() if "domain" not in k}
    config = region_config(tmp_path, monkeypatch, dict(auth, auth_url="http://192.0.2.1:5000/v3",
                                                       default_domain_id="default"))
    assert config["auth_type"] == "password" and versioned_auth_type(config) is None


@pytest.mark.parametrize("auth_type,auth", [
    ("v3applicationcredential", {"application_credential_id": "i", "application_credential_secret": "s"}),
    ("v3token", {"token": "t", "project_id": "p"}),
    ("v3oidcpassword", {"identity_provider": "idp", "protocol": "openid", "username": "u", "password": "p",
                        "client_id": "c", "client_secret": "s", "discovery_endpoint": "https://idp.example/.well-known"}),
])
def test_other_auth_types_are_left_alone(tmp_path, monkeypatch, auth_type, auth):
    config = region_config(tmp_path, monkeypatch, dict(auth, auth_url="http://192.0.2.1:5000/v3"), auth_type=auth_type)
    assert versioned_auth_type(config) is None


def test_odd_shapes_keep_the_configured_plugin():
    assert versioned_auth_type({"auth_type": "password", "auth": None}) is None
    assert versioned_auth_type({"auth_type": "password", "auth": {"auth_url": "http://[::1"}}) is None
    assert versioned_auth_type({"auth_type": None, "auth": {"auth_url": "http://h/v3"}}) is None

