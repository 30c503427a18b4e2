"""Nothing leaves the computer: a real analysis and a real session open no network connection.

Every ``connect`` (and every send that names an address) of the coach and its
child processes is traced with strace; only local sockets (AF_UNIX, and the
kernel's own AF_NETLINK) may appear. MediaPipe's usage logger would resolve
play.googleapis.com when the model closes, so a run that loads the model and
closes it is enough to see it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from session_helpers import unattended

pytestmark = [pytest.mark.slow, pytest.mark.realdata, pytest.mark.realmodel]

LOCAL_FAMILIES = {"AF_UNIX", "AF_LOCAL", "AF_NETLINK"}
FAMILY = re.compile(r"sa_family=(AF_\w+)")
TRACED = "connect,sendto,sendmsg,sendmmsg"
TIMEOUT_S = 300.0


def strace_args(log: Path) -> list[str]:
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace not installed (Debian: apt-get install strace)")
    args = [strace, "-f", "-qq", "-e", f"trace={TRACED}", "-e", "signal=none", "-o", str(log)]
    probe = subprocess.run([strace, "--seccomp-bpf", "-o", os.devnull, "true"], check=False)
    if probe.returncode == 0:
        args.insert(1, "--seccomp-bpf")  # stops only at the traced calls: far faster
    return args


def traced_coach(log: Path, *args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["HOME"] = str(tmp / "home")  # no user routines or data from this machine
    return subprocess.run(
        [*strace_args(log), sys.executable, "-m", "coach.app.cli", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def network_calls(log: Path) -> list[str]:
    """Traced calls that name an address other than a local socket."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    calls = [line for line in lines if re.search(rf"\b({TRACED.replace(',', '|')})\(", line)]
    return [
        line
        for line in calls
        if any(family not in LOCAL_FAMILIES for family in FAMILY.findall(line))
    ]


def test_the_tracer_sees_a_lookup(tmp_path: Path) -> None:
    """The check itself: a name lookup in a traced child is caught."""
    log = tmp_path / "trace.txt"
    code = (
        "import socket\n"
        "try:\n    socket.getaddrinfo('example.invalid', 443)\n"
        "except OSError:\n    pass\n"
    )
    subprocess.run([*strace_args(log), sys.executable, "-c", code], check=True, timeout=60)
    found = network_calls(log)
    if not found and "nameserver" not in Path("/etc/resolv.conf").read_text(errors="replace"):
        pytest.skip("no name server configured: a lookup opens no socket here")
    assert found, log.read_text()


def test_an_analysis_opens_no_network_connection(real_videos: Path, tmp_path: Path) -> None:
    log = tmp_path / "trace.txt"
    video = real_videos / "v06_bridge_tj.mp4"
    result = traced_coach(log, "analyze", str(video), "--exercise", "hip_lift", tmp=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"reps"' in result.stdout or "rep" in result.stdout.lower()
    assert network_calls(log) == []


def test_an_unattended_session_opens_no_network_connection(
    real_videos: Path, tmp_path: Path
) -> None:
    log = tmp_path / "trace.txt"
    out, voice = tmp_path / "records", tmp_path / "voice"
    old_umask = os.umask(0)  # the record must be owner-only whatever the umask
    try:
        result = traced_coach(
            log,
            "run",
            *unattended(real_videos / "v03_child_tj.mp4", out, voice),
            tmp=tmp_path,
        )
    finally:
        os.umask(old_umask)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert list(voice.glob("*.wav")), "the session spoke nothing"
    assert "pose model loaded, voice to files" in " ".join(result.stdout.split())
    assert network_calls(log) == []
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    assert folder.stat().st_mode & 0o077 == 0, oct(folder.stat().st_mode)
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"safety.json", "events.jsonl", "summary.json"}
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, (path.name, oct(path.stat().st_mode))
