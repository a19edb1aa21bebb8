"""Run one command on behalf of student code: inside bubblewrap where it works (read-only system,
a private writable directory, no network, own PID namespace, dies with us), else in a new session
with resource limits and a private working directory, said once. Output is captured and capped."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

#: how much of the student's stdout and stderr is kept (the rest is counted, not stored)
OUTPUT_CAP = 64 * 1024
#: how much of the result pipe is kept: the capstone's heap pictures are tens of kilobytes
RESULT_CAP = 4 * 2**20


@dataclass(frozen=True)
class Limits:
    """What one run may use. `memory` caps the address space (None under ASan, whose shadow
    memory reserves terabytes; it gets ASan's own RSS limit instead)."""

    cpu_seconds: int = 5
    memory: int | None = 2**30
    wall_seconds: float = 30
    file_bytes: int = 16 * 2**20
    open_files: int = 64
    processes: int | None = 64  # new processes and threads (fallback only)


@dataclass
class Outcome:
    """How a run ended: status (negative: killed by that signal), what it printed, and
    whether our wall-clock timer had to stop it."""

    status: int
    stdout: bytes
    stderr: bytes
    wall_killed: bool
    seconds: float
    received: bytes = b""  # what the child wrote to its result pipe

    @property
    def signal_name(self) -> str | None:
        if self.status < 0:
            try:
                return signal.Signals(-self.status).name
            except ValueError:
                return f"signal {-self.status}"
        return None


def _system_mounts() -> list[str]:
    """bwrap arguments for the read-only system: /usr and /etc, the top-level links into /usr
    (merged-/usr systems) or the directories themselves, and Python's own prefixes."""
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        path = Path(top)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), top]
        elif path.is_dir():
            args += ["--ro-bind", top, top]
    import mempools

    package_root = Path(mempools.__file__).resolve().parents[1]
    from mempools.resources import csrc_dir, traces_dir

    readable = {Path(sys.prefix), Path(sys.base_prefix), Path(sysconfig.get_paths()["include"]),
                package_root, csrc_dir(), traces_dir()}
    for path in sorted(p.resolve() for p in readable):
        if not str(path).startswith(("/usr/", "/etc/")) and path.exists():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _bwrap_command(workdir: Path) -> list[str]:
    return ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            *_system_mounts(), "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
            "--bind", str(workdir), str(workdir), "--chdir", str(workdir)]


@cache
def bwrap_problem() -> str | None:
    """None when bubblewrap works here; else why not (checked once per process by running it).
    MEMPOOLS_NO_BWRAP=1 turns it off (for trying the fallback)."""
    if os.environ.get("MEMPOOLS_NO_BWRAP"):
        return "MEMPOOLS_NO_BWRAP is set"
    if not shutil.which("bwrap"):
        return "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    probe = Path(os.environ.get("TMPDIR", "/tmp"))
    try:
        done = subprocess.run([*_bwrap_command(probe), "true"], capture_output=True, text=True,
                              timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap did not start: {error}"
    if done.returncode:
        return f"bwrap was refused here: {done.stderr.strip()[:200]}"
    return None


_announced = threading.Event()
_announcing = threading.Lock()


def announce_fallback() -> None:
    """Say once per process, on stderr, that the stronger sandbox is off and why."""
    problem = bwrap_problem()
    with _announcing:
        if not problem or _announced.is_set():
            return
        _announced.set()
        print(f"mempools: the bubblewrap sandbox is OFF ({problem}). Student code now runs with "
              "CPU, memory, file and process limits in its own session and directory only: it "
              "can read and write what this user can.", file=sys.stderr)


def sandboxed() -> bool:
    """Whether student code runs inside bubblewrap here."""
    return bwrap_problem() is None


def _user_tasks() -> int:
    """Processes and threads this user runs now: RLIMIT_NPROC counts them all, so the limit
    for a run is this many plus what the run may start."""
    uid = str(os.getuid())
    count = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if fields.get("Uid", "").split()[:1] == [uid]:
            count += int(fields.get("Threads", "1"))
    return count


def _set_limits(limits: Limits, fallback: bool, tasks: int) -> None:
    """Runs in the child before exec (and so applies to everything it starts)."""
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    if limits.memory is not None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if fallback:  # inside bwrap the PID namespace bounds processes; bwrap itself needs fds
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
        if limits.processes is not None:
            allowed = tasks + limits.processes
            resource.setrlimit(resource.RLIMIT_NPROC, (allowed, allowed))


def _drain(fd: int, sink: bytearray, cap: int = OUTPUT_CAP) -> None:
    """Read `fd` to its end, keeping at most `cap` bytes (the result pipe too, with its own
    cap: a flood of fake lines must not exhaust our memory)."""
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while chunk := pipe.read(65536):
            if len(sink) < cap:
                sink += chunk[: cap - len(sink)]


def run(cmd: list[str], workdir: Path, limits: Limits, env: dict[str, str] | None = None,
        send: bytes | None = None, receive: bool = False) -> Outcome:
    """Run `cmd` confined to `workdir`. With `send`, the child can read those bytes from a pipe
    whose number replaces "{send_fd}" wherever it appears in `cmd`; with `receive`, what the
    child writes to the pipe numbered "{receive_fd}" comes back in
    Outcome.received. Nothing the command starts outlives this call (PID namespace, or the
    whole session killed)."""
    fallback = not sandboxed()
    announce_fallback()
    tasks = _user_tasks() if fallback and limits.processes is not None else 0
    base_env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "LANG": "C.UTF-8",
                "TMPDIR": str(workdir) if fallback else "/tmp"}
    child_fds: list[int] = []
    numbers: dict[str, str] = {}
    received = bytearray()
    receive_end = send_end = None
    if receive:
        receive_end, write_end = os.pipe()
        child_fds.append(write_end)
        numbers["{receive_fd}"] = str(write_end)
    if send is not None:
        read_end, send_end = os.pipe()
        child_fds.append(read_end)
        numbers["{send_fd}"] = str(read_end)
    argv = list(cmd)
    for placeholder, number in numbers.items():
        argv = [word.replace(placeholder, number) for word in argv]
    out, err = bytearray(), bytearray()
    start = time.monotonic()
    try:
        # inside bwrap the extra variables (LD_PRELOAD of ASan) reach the command, not bwrap
        setenv = [a for k, v in (env or {}).items() for a in ("--setenv", k, v)]
        proc = subprocess.Popen(argv if fallback else [*_bwrap_command(workdir), *setenv, *argv],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, cwd=workdir,
                                env={**base_env, **(env or {})} if fallback else base_env,
                                pass_fds=child_fds,
                                start_new_session=True,
                                preexec_fn=lambda: _set_limits(limits, fallback, tasks))
    finally:
        for fd in child_fds:
            os.close(fd)
    if send_end is not None:
        try:
            os.write(send_end, send or b"")
        except BrokenPipeError:
            pass
        finally:
            os.close(send_end)
    pipes = [(os.dup(proc.stdout.fileno()), out), (os.dup(proc.stderr.fileno()), err)]
    proc.stdout.close()
    proc.stderr.close()
    if receive_end is not None:
        pipes.append((receive_end, received, RESULT_CAP))
    readers = [threading.Thread(target=_drain, args=pipe, daemon=True) for pipe in pipes]
    for reader in readers:
        reader.start()
    killed = threading.Event()

    def stop() -> None:
        killed.set()
        _kill_session(proc.pid)

    timer = threading.Timer(limits.wall_seconds, stop)
    timer.start()
    try:
        status = proc.wait()
    finally:
        timer.cancel()
        _kill_session(proc.pid)  # whatever the command left behind in its session
    for reader in readers:
        reader.join(timeout=2)
    if status > 128 and not fallback:  # bwrap reports a signalled child as 128 + signal
        status = -(status - 128)
    return Outcome(status, bytes(out), bytes(err), killed.is_set(), time.monotonic() - start,
                   bytes(received))


def _kill_session(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
