import pytest

from user_api.config import DYNAMODB_MAX_ITEM_BYTES, Settings, service_name
from user_api.errors import ConfigurationError

pytestmark = pytest.mark.unit


def test_settings_come_from_the_environment_with_defaults() -> None:
    settings = Settings.from_env(
        {"USERS_TABLE": "t", "CORS_ALLOWED_ORIGINS": " https://a.example/ ,,https://b"}
    )

    assert settings.users_table == "t"
    assert settings.cors_allowed_origins == ("https://a.example", "https://b")
    assert settings.max_item_bytes == DYNAMODB_MAX_ITEM_BYTES


def test_a_missing_table_name_says_which_variable_to_set() -> None:
    with pytest.raises(ConfigurationError, match="USERS_TABLE"):
        Settings.from_env({})


@pytest.mark.parametrize("raw", ["0", "-1", "abc", str(DYNAMODB_MAX_ITEM_BYTES + 1)])
def test_an_item_limit_outside_dynamodbs_is_refused(raw: str) -> None:
    with pytest.raises(ConfigurationError, match="MAX_ITEM_BYTES"):
        Settings.from_env({"USERS_TABLE": "t", "MAX_ITEM_BYTES": raw})


def test_the_service_name_defaults_to_user_api() -> None:
    assert service_name({}) == "user-api"
    assert service_name({"POWERTOOLS_SERVICE_NAME": "x"}) == "x"
