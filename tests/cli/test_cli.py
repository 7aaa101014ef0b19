"""The `taskspool` command: tokens, tasks from the command line, and one-line errors."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

import jwt
import pytest

from entrypoints import cli
from entrypoints.cli import main
from entrypoints.container import Container
from entrypoints.secret import load_or_create_secret
from entrypoints.settings import Settings

TASKSPOOL = Path(sys.executable).parent / "taskspool"
Env = dict[str, str]
DEEP_PAYLOAD = '{"a":' + "[" * 1500 + "]" * 1500 + "}"


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return {"TASKSPOOL_DATA_DIR": str(tmp_path / "data")}


def run(capsys: pytest.CaptureFixture[str], env: Env, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), environ=env)
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_token_prints_a_jwt_signed_with_the_data_directory_secret(
    capsys: pytest.CaptureFixture[str], env: Env, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, env, "token", "--user", "ada", "--ttl", "600")

    assert code == 0
    secret = load_or_create_secret(tmp_path / "data" / "secret")
    claims = jwt.decode(out.strip(), secret, algorithms=["HS256"])
    assert claims["sub"] == "ada"
    assert claims["exp"] - claims["iat"] == 600
    assert "role" not in claims


def test_an_admin_token_carries_the_admin_role(
    capsys: pytest.CaptureFixture[str], env: Env
) -> None:
    env["TASKSPOOL_SECRET"] = "z" * 40

    code, out, _ = run(capsys, env, "token", "--user", "root", "--admin")

    assert code == 0
    assert jwt.decode(out.strip(), "z" * 40, algorithms=["HS256"])["role"] == "admin"


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        ((), ("required",)),
        (("launch",), ("invalid choice", "'launch'")),
        (("token",), ("--user",)),
        (("token", "--user", "ada", "--ttl", "0"), ("--ttl", "at least 1")),
        (("token", "--user", ""), ("--user", "user name")),
        (("serve", "--port", "70000"), ("--port", "65535")),
        (("enqueue", "csv_generation", "--user", "ada", "--payload", "{"), ("--payload", "JSON")),
        (("enqueue", "csv_generation", "--user", "ada", "--payload", "[1]"), ("JSON object",)),
        (("tasks", "show", "nope"), ("not a task id",)),
        (("tasks", "list", "--status", "bogus"), ("--status", "pending")),
        (("tasks", "list", "--limit", "1000"), ("--limit", "at most 100")),
        (("tasks", "list", "--page", "99999999999999999999"), ("--page", "at most 1000000000")),
        (("token", "--user", "ada", "--ttl", "99999999999999999999"), ("--ttl", "at most")),
        (
            ("enqueue", "csv_generation", "--user", "ada", "--payload", DEEP_PAYLOAD),
            ("--payload", "nested too deeply"),
        ),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], env: Env, argv: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, env, *argv)

    assert code == 2
    assert out == ""
    assert_one_line_error(err, *fragments)


def test_a_bad_setting_gives_one_line_naming_the_variable(
    capsys: pytest.CaptureFixture[str], env: Env
) -> None:
    env["WORKER_CONCURRENCY"] = "lots"

    code, _, err = run(capsys, env, "token", "--user", "ada")

    assert code == 2
    assert_one_line_error(err, "WORKER_CONCURRENCY", "'lots'")


def test_a_separate_worker_refuses_in_memory_storage(
    capsys: pytest.CaptureFixture[str], env: Env
) -> None:
    env["DATABASE_URL"] = "memory://"

    code, _, err = run(capsys, env, "worker")

    assert code == 1
    assert_one_line_error(err, "memory://", "serve")


def test_the_console_script_reports_errors_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(TASKSPOOL), "tasks", "show", "42"],
        env={"TASKSPOOL_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert_one_line_error(result.stderr, "taskspool tasks show", "not a task id")


def test_an_unforeseen_error_is_one_line_with_the_traceback_only_in_the_debug_log(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    env: Env,
) -> None:
    def broken(settings: Settings) -> Container:
        raise RuntimeError("something nobody foresaw\nwith a second line")

    monkeypatch.setattr(cli, "build_container", broken)
    caplog.set_level(logging.DEBUG, logger=cli.__name__)

    code, out, err = run(capsys, env, "tasks", "list")

    assert (code, out) == (1, "")
    assert_one_line_error(err, "RuntimeError", "something nobody foresaw")
    logged = [r for r in caplog.records if r.levelno == logging.DEBUG and r.exc_info]
    assert logged
    assert logged[0].exc_info is not None
    assert isinstance(logged[0].exc_info[1], RuntimeError)


def test_enqueue_prints_the_id_that_tasks_show_describes(
    capsys: pytest.CaptureFixture[str], env: Env
) -> None:
    payload = '{"columns": ["a"], "rows": [["1"]]}'
    code, out, _ = run(
        capsys, env, "enqueue", "csv_generation", "--user", "ada", "--payload", payload
    )
    assert code == 0
    task_id = out.strip()

    code, out, _ = run(capsys, env, "tasks", "show", task_id)

    assert code == 0
    shown = json.loads(out)
    assert (shown["taskId"], shown["status"], shown["owner"]) == (task_id, "pending", "ada")
    assert shown["payload"] == json.loads(payload)


def test_tasks_list_filters_by_user_status_and_type(
    capsys: pytest.CaptureFixture[str], env: Env
) -> None:
    ids = {}
    for user, task_type in [("ada", "csv_generation"), ("ada", "other"), ("bob", "csv_generation")]:
        _, out, _ = run(capsys, env, "enqueue", task_type, "--user", user)
        ids[user, task_type] = out.strip()

    code, out, _ = run(
        capsys,
        env,
        "tasks",
        "list",
        "--user",
        "ada",
        "--type",
        "csv_generation",
        "--status",
        "pending",
    )

    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"{ids['ada', 'csv_generation']}  pending")
    assert lines[1:] == ["page 1 of 1; 1 tasks in all"]


def test_enqueue_notes_a_type_no_handler_serves(
    capsys: pytest.CaptureFixture[str], env: Env
) -> None:
    code, _, err = run(capsys, env, "enqueue", "mystery", "--user", "ada")

    assert code == 0
    assert "no handler is registered for 'mystery'" in err


def test_an_invalid_task_type_is_one_line(capsys: pytest.CaptureFixture[str], env: Env) -> None:
    code, _, err = run(capsys, env, "enqueue", "no spaces!", "--user", "ada")

    assert code == 1
    assert_one_line_error(err, "task type")


@pytest.mark.parametrize(
    ("option", "field"), [("--priority", "priority"), ("--max-attempts", "maxAttempts")]
)
def test_an_out_of_range_number_for_the_task_is_one_line(
    capsys: pytest.CaptureFixture[str], env: Env, option: str, field: str
) -> None:
    code, _, err = run(
        capsys, env, "enqueue", "csv_generation", "--user", "ada", option, "99999999999999999999"
    )

    assert code == 1
    assert_one_line_error(err, field, "between")


def test_showing_an_unknown_task_is_one_line(capsys: pytest.CaptureFixture[str], env: Env) -> None:
    code, _, err = run(capsys, env, "tasks", "show", str(uuid4()))

    assert code == 1
    assert_one_line_error(err, "not found")


def test_worker_stops_on_an_out_of_date_schema_when_auto_migrate_is_off(
    capsys: pytest.CaptureFixture[str], env: Env
) -> None:
    env["TASKSPOOL_AUTO_MIGRATE"] = "off"

    code, _, err = run(capsys, env, "worker")

    assert code == 1
    assert_one_line_error(err, "run `taskspool migrate`")


def test_migrate_brings_the_schema_up_to_date(capsys: pytest.CaptureFixture[str], env: Env) -> None:
    env["TASKSPOOL_AUTO_MIGRATE"] = "off"

    code, out, _ = run(capsys, env, "migrate")
    assert (code, out) == (0, "database schema is up to date\n")

    code, out, _ = run(capsys, env, "tasks", "list")
    assert (code, out) == (0, "page 1 of 1; 0 tasks in all\n")


def test_an_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str], env: Env) -> None:
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/nothing"
    env["TASKSPOOL_AUTO_MIGRATE"] = "on"

    code, _, err = run(capsys, env, "tasks", "list")

    assert code == 1
    assert_one_line_error(err, "database error")


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    """A plain file, so that a directory inside it cannot be created."""
    path = tmp_path / "plain-file"
    path.write_text("not a directory")
    return path


@pytest.mark.parametrize("command", [("tasks", "list"), ("token", "--user", "ada"), ("worker",)])
def test_a_data_directory_that_cannot_be_created_is_named_in_one_line(
    capsys: pytest.CaptureFixture[str], env: Env, a_file: Path, command: tuple[str, ...]
) -> None:
    env["TASKSPOOL_DATA_DIR"] = str(a_file / "x")

    code, _, err = run(capsys, env, *command)

    assert code == 1
    assert_one_line_error(err, "TASKSPOOL_DATA_DIR", str(a_file / "x"), "Not a directory")


def test_a_sqlite_file_whose_directory_cannot_be_created_names_database_url(
    capsys: pytest.CaptureFixture[str], env: Env, a_file: Path
) -> None:
    env["DATABASE_URL"] = f"sqlite:///{a_file}/x/tasks.db"

    code, _, err = run(capsys, env, "tasks", "list")

    assert code == 1
    assert_one_line_error(err, "DATABASE_URL", str(a_file / "x"), "Not a directory")


def test_a_sqlite_database_path_that_is_a_directory_names_database_url(
    capsys: pytest.CaptureFixture[str], env: Env, tmp_path: Path
) -> None:
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}"

    code, _, err = run(capsys, env, "tasks", "list")

    assert code == 1
    assert_one_line_error(err, "DATABASE_URL", str(tmp_path), "not a file")


@pytest.mark.parametrize("variable", ["CSV_OUTPUT_DIR", "MAIL_OUTBOX_DIR"])
def test_the_worker_refuses_to_start_when_an_output_directory_cannot_be_created(
    capsys: pytest.CaptureFixture[str], env: Env, a_file: Path, variable: str
) -> None:
    env[variable] = str(a_file / "out")

    code, out, err = run(capsys, env, "worker")

    assert (code, out) == (1, "")
    assert_one_line_error(err, variable, str(a_file / "out"), "Not a directory")
    assert not (Path(env["TASKSPOOL_DATA_DIR"]) / "taskspool.db").exists()
