"""The shared CLI guard: package errors in one line, tracebacks only in the log, quiet pipes."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cliguard import EXIT_BROKEN_PIPE, guard_main
from tests.conftest import REPO_ROOT


class ToyError(Exception):
    """Stands for a package's error family."""


def guarded(log: Path, body):  # type: ignore[no-untyped-def]
    return guard_main(prog="toy", errors=(ToyError,), log_file=lambda: log, error_exit=2)(body)


def test_package_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def main() -> int:
        raise ToyError("The file is not there; check the name.")

    assert guarded(tmp_path / "logs" / "app.log", main)() == 2
    assert capsys.readouterr().err == "error: The file is not there; check the name.\n"
    assert not (tmp_path / "logs").exists()  # nothing unexpected, no log written


def test_unexpected_error_goes_to_the_log_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "logs" / "app.log"

    def main() -> int:
        return {"a": 1}["b"]  # a genuine bug: KeyError

    assert guarded(log, main)() == 1
    err = capsys.readouterr().err
    assert err == f"error: unexpected error (KeyError); details in {log}\n"
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "KeyError: 'b'" in text


def test_a_broken_socket_is_not_mistaken_for_a_closed_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def main() -> int:
        left, right = socket.socketpair()
        right.close()
        with left:
            for _ in range(100):  # the first send may still succeed
                left.send(b"x" * 65536)
        return 0

    assert guarded(tmp_path / "app.log", main)() == 1
    assert "unexpected error (BrokenPipeError)" in capsys.readouterr().err


def test_usage_errors_pass_through(tmp_path: Path) -> None:
    def main() -> int:
        raise SystemExit(2)  # what argparse does after printing the usage

    with pytest.raises(SystemExit):
        guarded(tmp_path / "app.log", main)()


def test_closed_stdout_exits_quietly(tmp_path: Path) -> None:
    script = tmp_path / "many_lines.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(REPO_ROOT)!r})
            from pathlib import Path
            from cliguard import guard_main

            @guard_main(prog="toy", errors=(), log_file=lambda: Path({str(tmp_path)!r}) / "l")
            def main() -> int:
                for i in range(200_000):
                    print(f"line {{i}}")
                return 0

            sys.exit(main())
            """
        )
    )
    writer = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert writer.stdout is not None
    head = subprocess.run(["head", "-1"], stdin=writer.stdout, capture_output=True, timeout=60)
    writer.stdout.close()  # only head holds the reading end: it is gone once head exits
    _, err = writer.communicate(timeout=60)
    assert head.stdout == b"line 0\n"
    assert writer.returncode == EXIT_BROKEN_PIPE
    assert err == b""  # no BrokenPipeError, no "Exception ignored"
