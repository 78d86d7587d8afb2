"""Settings: defaults, validation, secret files, and the generated reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gifdist.config import Settings, settings_reference

ROOT = Path(__file__).resolve().parent.parent


def test_configuration_doc_is_generated_from_settings() -> None:
    assert (ROOT / "docs" / "configuration.md").read_text() == settings_reference()


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name


def test_defaults_use_sqlite_and_files_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'gifdist.db'}"
    assert settings.resolved_storage_url == f"file://{tmp_path / 'blobs'}"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIFDIST_BASE_URL", "https://gifs.example.com/")
    monkeypatch.setenv("GIFDIST_MAX_UPLOAD_BYTES", "1234")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.base_url == "https://gifs.example.com"
    assert settings.max_upload_bytes == 1234


def test_secret_may_come_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "admin"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("GIFDIST_ADMIN_KEY_FILE", str(secret))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.admin_key is not None
    assert settings.admin_key.get_secret_value() == "from-a-file"


@pytest.mark.parametrize(
    ("name", "value"),
    [("base_url", "gifdist.io"), ("max_upload_bytes", 0), ("moderation", "maybe"), ("port", 70000)],
)
def test_invalid_values_are_refused(name: str, value: object) -> None:
    with pytest.raises(ValidationError):
        Settings(_env_file=None, **{name: value})  # type: ignore[arg-type]
