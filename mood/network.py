"""Bounded network checks: nothing here can keep a caller waiting past its deadline."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Sequence
from typing import Any

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def proxy_configured(proxy: str | None = None) -> bool:
    """True when requests go through a proxy: then a direct DNS/TCP probe proves nothing."""
    return bool(proxy) or any(os.environ.get(name) for name in PROXY_VARIABLES)


def run_bounded(fn: Callable[[], Any], timeout: float) -> tuple[bool, Any]:
    """Run ``fn`` in a daemon thread; (finished, result_or_exception).

    A daemon thread: when ``fn`` hangs (a firewall that drops packets), the caller goes on and
    the thread can neither block it nor keep the process alive at exit.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed back to the caller, never lost
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="mood-bounded")
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return False, None
    return True, box.get("error", box.get("result"))


def probe_host(host: str, port: int = 443, timeout: float = 3.0) -> str | None:
    """None when ``host`` resolves and accepts a TCP connection, else the reason."""

    def connect() -> None:
        with socket.create_connection((host, port), timeout=timeout):
            pass

    finished, outcome = run_bounded(connect, timeout + 0.5)
    if not finished:
        return f"no answer from {host} within {timeout:g} s"
    if isinstance(outcome, socket.gaierror):
        return f"{host} cannot be resolved (no network or DNS)"
    if isinstance(outcome, OSError):
        return f"{host} cannot be reached ({outcome.strerror or outcome})"
    return None


def probe_any(hosts: Sequence[str], timeout: float = 3.0) -> list[str] | None:
    """None when at least one host answers; else every host's reason. Probes run in parallel."""
    reasons: list[str | None] = [None] * len(hosts)

    def probe(i: int) -> None:
        reasons[i] = probe_host(hosts[i], timeout=timeout)

    threads = [threading.Thread(target=probe, args=(i,), daemon=True) for i in range(len(hosts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 1.0)  # probe_host itself gives up after timeout + 0.5 s
    if any(thread.is_alive() for thread in threads):
        reasons = [r or f"no answer within {timeout:g} s" for r in reasons]
    if not all(reasons):
        return None
    return [str(r) for r in reasons]
