"""Settings and wiring of the job feed and the mailer."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.feed_file import FileJobSource
from adapters.feed_http import HttpJobSource
from adapters.outbox import OutboxSender
from adapters.smtp import SmtpSender
from entrypoints.container import build_container
from entrypoints.settings import Settings, SettingsError


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"TASKSPOOL_DATA_DIR": str(tmp_path), **env})


def test_without_settings_the_sample_feed_and_the_outbox_are_used(tmp_path: Path) -> None:
    container = build_container(settings(tmp_path, DATABASE_URL="memory://"))
    assert isinstance(container.job_source(), FileJobSource)
    assert container.job_source().names() == ["sample"]
    assert isinstance(container.mailer(), OutboxSender)
    assert container.settings().outbox_dir == tmp_path / "outbox"
    assert container.settings().mail_from == "taskspool@localhost.localdomain"


def test_feed_urls_and_an_smtp_url_select_the_real_adapters(tmp_path: Path) -> None:
    container = build_container(
        settings(
            tmp_path,
            DATABASE_URL="memory://",
            JOB_FEED_URL="https://jobs.example.com/feed.json",
            JOB_FEED_SOURCES="acme=https://acme.example.com/jobs, beta=http://beta.example.com/j",
            SMTP_URL="smtp+starttls://mailer:hunter2@mail.example.com",
            MAIL_FROM="jobs@example.com",
        )
    )
    source = container.job_source()
    assert isinstance(source, HttpJobSource)
    assert source.names() == ["default", "acme", "beta"]
    assert isinstance(container.mailer(), SmtpSender)
    assert "hunter2" not in repr(container.settings())


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"JOB_FEED_URL": "ftp://example.com/feed"}, "JOB_FEED_URL"),
        ({"JOB_FEED_SOURCES": "acme"}, "JOB_FEED_SOURCES"),
        ({"JOB_FEED_SOURCES": "a b=https://x.example.com"}, "JOB_FEED_SOURCES"),
        (
            {"JOB_FEED_SOURCES": "a=https://x.example.com,a=https://y.example.com"},
            "JOB_FEED_SOURCES",
        ),
        ({"JOB_FEED_SOURCES": "a=file:///etc/passwd"}, "JOB_FEED_SOURCES"),
        ({"JOB_FEED_TIMEOUT_SECONDS": "0"}, "JOB_FEED_TIMEOUT_SECONDS"),
        ({"SMTP_URL": "http://user:hunter2@mail.example.com"}, "SMTP_URL"),
        ({"MAIL_FROM": "nobody"}, "MAIL_FROM"),
        ({"SMTP_CA_FILE": "/no/such/ca.pem"}, "SMTP_CA_FILE"),
    ],
)
def test_a_bad_setting_is_refused_naming_its_variable(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named) as caught:
        settings(tmp_path, **env)
    assert "hunter2" not in str(caught.value)
