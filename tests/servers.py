"""Throw-away PostgreSQL and Redis servers on loopback, for the tests and the load benchmark.

PostgreSQL refuses to run as root, so when we are root the cluster belongs to the ``postgres`` system user
(created by Debian's package) or ``nobody``. Everything lives in one temporary directory removed on stop.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

#: Tries at starting a server: a port found free can be taken by another process (a parallel test worker) before
#: the server binds it; the server then exits and is started again on another port.
PORT_ATTEMPTS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen | None, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def postgresql_bindir() -> Path | None:
    """The newest PostgreSQL server installation (Debian keeps them in /usr/lib/postgresql/<version>/bin)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PostgresCluster:
    """A private PostgreSQL cluster: ``initdb`` into a temp directory, ``pg_ctl start`` on a free loopback port.

    ``durable=False`` turns off fsync (tests); the benchmark keeps PostgreSQL's durable defaults.
    """

    USER = "participate"

    def __init__(self, *, durable: bool = False, max_connections: int = 200):
        self.bindir = postgresql_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL is not installed (scripts/system-deps installs it)")
        self.durable = durable
        self.max_connections = max_connections
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="participate-pg-"))
        self.data = self.base / "data"
        self.owner = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self.owner = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            os.chown(self.base, self.owner.pw_uid, self.owner.pw_gid)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.owner is not None:
            command = ["runuser", "-u", self.owner.pw_name, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.base)

    def start(self) -> "PostgresCluster":
        self._run("initdb", "-D", str(self.data), "-U", self.USER, "--auth=trust", "-E", "UTF8", "--no-locale", "-N")
        for attempt in range(PORT_ATTEMPTS):
            options = [
                f"-p {self.port}",
                f"-k {self.base}",
                "-c listen_addresses=127.0.0.1",
                f"-c max_connections={self.max_connections}",
                "-c shared_buffers=256MB",
            ]
            if not self.durable:
                options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
            log = str(self.base / "server.log")
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "60", "-o", " ".join(options), "start")
                return self
            except subprocess.CalledProcessError:
                if attempt == PORT_ATTEMPTS - 1:
                    raise
                self.port = free_port()  # taken between free_port() and the bind (parallel test workers)
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.USER}@127.0.0.1:{self.port}/{database}"

    def admin(self):
        """An autocommit psycopg connection to the maintenance database (CREATE/DROP DATABASE)."""
        import psycopg

        return psycopg.connect(f"host=127.0.0.1 port={self.port} user={self.USER} dbname=postgres", autocommit=True)

    def stop(self) -> None:
        try:
            if self.data.exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


class RedisServer:
    """A private, non-persistent ``redis-server`` on a free loopback port."""

    def __init__(self):
        self.executable = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="participate-redis-"))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        if not Path(self.executable).exists():
            raise RuntimeError("redis-server is not installed (scripts/system-deps installs it)")
        for attempt in range(PORT_ATTEMPTS):
            self.process = subprocess.Popen(
                [
                    *(self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""),
                    *("--appendonly", "no", "--dir", str(self.base), "--logfile", str(self.base / "redis.log")),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                _wait_for_port(self.port, self.process, 20, "redis-server")
                return self
            except RuntimeError:
                if attempt == PORT_ATTEMPTS - 1 or self.process.poll() is None:
                    raise
                self.port = free_port()  # taken between free_port() and the bind (parallel test workers)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.base, ignore_errors=True)
