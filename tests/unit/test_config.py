"""Configuration comes from SALON_* variables; the secret key is never a fixed fallback."""
from salon import config


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SALON_SECRET_KEY", raising=False)
    first = config.from_environment(str(tmp_path))["SECRET_KEY"]
    second = config.from_environment(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    other = tmp_path / "elsewhere"
    assert config.from_environment(str(other))["SECRET_KEY"] != first


def test_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SALON_SECRET_KEY", "from-env")
    monkeypatch.setenv("SALON_DATABASE_URL", "postgres://u:p@db/salon")
    settings = config.from_environment(str(tmp_path))
    assert settings["SECRET_KEY"] == "from-env"
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/salon"
    assert not (tmp_path / "secret_key").exists()


def test_sqlite_in_the_instance_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("SALON_DATABASE_URL", raising=False)
    assert config.from_environment(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == \
        f"sqlite:///{tmp_path}/salon.sqlite"
