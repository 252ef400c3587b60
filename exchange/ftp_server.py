"""The FTP server the tills talk to: one account per till, each locked into its own folder.

The tills and the back office never call each other; they meet on this server. Each till
logs in with its own login (its till code) and sees only its home folder, which holds
`from_pos/` (the till uploads there) and `to_pos/` (the back office publishes there, the
till downloads and deletes). Everything else the server does serves that contract:

- accounts come from a `TillAccounts` object the caller injects, so this module never
  touches the database and the tests can run it with a dictionary;
- a session is rooted in the till's home: `/` is the home, `..` stops there, and every
  path is resolved to its real location and refused when it lands outside (a symlink
  planted in a home cannot lead anywhere else);
- failed logins are logged on the "iis.ftp" logger and answered ever more slowly per
  (address, login), so guessing passwords over the network is impractical;
- the commands the tills' clients use and aioftp lacks are added: NLST, SIZE, MDTM, FEAT,
  NOOP, OPTS, and explicit FTPS (AUTH TLS, PBSZ, PROT) when a certificate is configured;
- after STOR, RNTO and DELE an `on_file_event` callback tells the inbox and the outbox at
  once, instead of leaving them to notice on their next scan;
- `FtpServerThread` runs the server on its own thread and event loop, because aioftp
  does blocking file I/O and must never freeze the console's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import inspect
import logging
import os
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Protocol, runtime_checkable

import aioftp
from aioftp.common import END_OF_LINE, Connection, StreamIO
from aioftp.server import ConnectionConditions, PathConditions, PathPermissions, worker

from models.i18n import _

__all__ = [
    "FROM_POS",
    "TO_POS",
    "FileEvent",
    "FileEventCallback",
    "FtpServerOptions",
    "FtpServerThread",
    "TillAccounts",
    "TillFtpServer",
    "make_tls_context",
    "parse_port_range",
]

logger = logging.getLogger("iis.ftp")

FROM_POS = "from_pos"
TO_POS = "to_pos"

FileEvent = Literal["stored", "renamed", "deleted"]
FileEventCallback = Callable[[str, Path, FileEvent], object]

_ANONYMOUS_LOGINS = frozenset({"", "anonymous", "ftp"})
_FIXED_FOLDERS = frozenset(
    {PurePosixPath("/"), PurePosixPath(f"/{FROM_POS}"), PurePosixPath(f"/{TO_POS}")}
)
_IDLE = " idle"
_GONE = " gone"
_MAX_COMMAND_LINE = 4096
_BROKEN_TRANSFER = (TimeoutError, ConnectionError, ssl.SSLError)
_DataStream = aioftp.DataConnectionThrottleStreamIO


@runtime_checkable
class TillAccounts(Protocol):
    """Where the server learns who may log in and where each till lives.

    The real implementation reads the database; the server calls it from a worker thread,
    so it may block (hash a password, query) without stalling other sessions.
    """

    def authenticate(self, login: str, password: str) -> bool:
        """True when `login` is an enabled till account and `password` is its password."""
        ...

    def home(self, login: str) -> Path:
        """The till's own folder, which holds `from_pos/` and `to_pos/`."""
        ...


@dataclass(frozen=True, slots=True)
class FtpServerOptions:
    """The knobs an operator (or a test) may turn; the defaults suit a shop's LAN.

    `passive_ports` is the range a firewall opens for data connections (None: any free
    port); `passive_address` is the address announced in PASV replies when the server
    sits behind NAT. Timeouts are in seconds. A failed login waits `login_delay`, doubled
    on each further failure from the same address and login up to `login_delay_max`;
    failures older than `login_failure_memory` are forgotten. With `certfile` (and
    `keyfile` unless the key is in the same PEM file) clients may switch to TLS with
    AUTH TLS; `tls_required` then refuses logins and data connections that are not
    protected.
    """

    passive_ports: Sequence[int] | None = None
    passive_address: str | None = None
    max_connections: int | None = 64
    max_connections_per_login: int | None = 4
    idle_timeout: float = 300.0
    socket_timeout: float = 60.0
    data_connect_timeout: float = 10.0
    login_delay: float = 0.5
    login_delay_max: float = 8.0
    login_failure_memory: float = 900.0
    certfile: Path | None = None
    keyfile: Path | None = None
    tls_required: bool = False


def parse_port_range(text: str) -> range:
    """Read the `--passive-ports A-B` option into the range of ports it names.

    The operator types it, so a mistake is explained in words they can act on.
    """
    first, sep, last = text.strip().partition("-")
    try:
        low, high = int(first), int(last if sep else first)
    except ValueError:
        raise ValueError(
            _("Passive ports must look like 50000-50100, not {text!r}.").format(text=text)
        ) from None
    if not 1 <= low <= high <= 65535:
        raise ValueError(
            _("Passive ports must be between 1 and 65535, lowest first: {text!r}.").format(
                text=text
            )
        )
    return range(low, high + 1)


def make_tls_context(certfile: Path, keyfile: Path | None = None) -> ssl.SSLContext:
    """A server-side TLS context for AUTH TLS: TLS 1.2 or newer, the given certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(certfile), str(keyfile) if keyfile is not None else None)
    return context


def _strip_list_options(rest: str | PurePosixPath) -> str:
    """Drop `-la` style options many clients put before the LIST/NLST path."""
    words = [word for word in str(rest).split() if not word.startswith("-")]
    return " ".join(words)


class _TillUser(aioftp.User):
    """One session's user: its home is known only once the password is checked.

    Until then `base_path` points at nothing, so a path command cannot touch the disk;
    aioftp refuses such commands before login anyway.
    """

    def __init__(self, login: str) -> None:
        super().__init__(
            login,
            None,
            base_path=Path(os.devnull),
            permissions=[
                aioftp.Permission("/", readable=True, writable=False),
                aioftp.Permission(f"/{FROM_POS}", readable=True, writable=True),
                aioftp.Permission(f"/{TO_POS}", readable=True, writable=True),
            ],
        )
        self.counted = False


class _TillUserManager(aioftp.AbstractUserManager):
    """Bridges aioftp's user manager to the injected `TillAccounts`.

    Every named login is asked for a password, known or not, so the replies do not tell
    an outsider which till codes exist; the password check itself happens in
    `TillFtpServer.pass_`, where failures can be slowed down.
    """

    def __init__(self, server: TillFtpServer) -> None:
        super().__init__()
        self._server = server

    async def get_user(
        self, login: str
    ) -> tuple[aioftp.AbstractUserManager.GetUserResponse, aioftp.User | None, str]:
        if login.strip().lower() in _ANONYMOUS_LOGINS:
            logger.info("refused anonymous FTP login")
            return self.GetUserResponse.ERROR, None, "anonymous login is not allowed"
        return self.GetUserResponse.PASSWORD_REQUIRED, _TillUser(login), "password required"

    async def authenticate(self, user: aioftp.User, password: str) -> bool:
        login = user.login or ""
        return await asyncio.to_thread(self._server.accounts.authenticate, login, password)

    async def notify_logout(self, user: aioftp.User) -> None:
        self._server._release(user)


class _TillPathIO(aioftp.PathIO):
    """File access that refuses, by real path, anything outside the session's home.

    aioftp already keeps `..` from climbing above `/`, but it follows symlinks blindly;
    here every path is resolved first, so a link inside a home pointing elsewhere
    behaves as if it did not exist. Existence checks answer False (the client sees
    "550 path does not exist"); any other operation raises, which aioftp answers 451.
    """

    def _root(self) -> Path | None:
        connection = self.connection
        if connection is None or not connection.future.logged.done():
            return None
        return connection.user.base_path

    def _inside(self, path: Path) -> bool:
        root = self._root()
        if root is None:
            return False
        try:
            real = Path(os.path.realpath(path))
        except (OSError, ValueError):
            return False
        return real == root or real.is_relative_to(root)

    def _require_inside(self, path: Path) -> None:
        if not self._inside(path):
            login = self.connection.user.login if self.connection is not None else "?"
            logger.warning("refused FTP access by %s to a path outside its home", login)
            raise aioftp.PathIOError(reason=None)

    async def exists(self, path: Path) -> bool:
        return self._inside(path) and await super().exists(path)

    async def is_dir(self, path: Path) -> bool:
        return self._inside(path) and await super().is_dir(path)

    async def is_file(self, path: Path) -> bool:
        return self._inside(path) and await super().is_file(path)

    async def mkdir(self, path: Path, *, parents: bool = False, exist_ok: bool = False) -> None:
        self._require_inside(path)
        await super().mkdir(path, parents=parents, exist_ok=exist_ok)

    async def rmdir(self, path: Path) -> None:
        self._require_inside(path)
        await super().rmdir(path)

    async def unlink(self, path: Path) -> None:
        self._require_inside(path)
        await super().unlink(path)

    async def stat(self, path: Path) -> os.stat_result:
        self._require_inside(path)
        return await super().stat(path)

    async def _open(self, path: Path, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self._require_inside(path)
        return await super()._open(path, *args, **kwargs)

    async def rename(self, source: Path, destination: Path) -> Path:
        self._require_inside(source)
        self._require_inside(destination)
        return await super().rename(source, destination)

    def list(self, path: Path) -> AsyncIterator[Path]:  # type: ignore[override]
        return self._list_inside(path)

    async def _list_inside(self, path: Path) -> AsyncIterator[Path]:
        if not self._inside(path):
            return
        async for entry in super().list(path):
            if self._inside(entry):
                yield entry


@dataclass
class _Session:
    """What this module adds to aioftp's per-connection state."""

    tls: bool = False
    protect_data: bool = False


@dataclass
class _Failures:
    """Recent failed logins for one (address, login), and the lock that serialises them."""

    count: int = 0
    last: float = 0.0
    users: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class TillFtpServer(aioftp.Server):
    """aioftp's server, confined per till, with the commands and checks the tills need.

    `accounts` answers who may log in and where each till's home is. `on_file_event`,
    if given, is called on the server's event loop as `on_file_event(login, path, event)`
    with the file's real path on disk and one of "stored" (a STOR or APPE finished),
    "renamed" (an RNTO finished; `path` is the new name) or "deleted" (a DELE). It must
    return quickly (hand the work to another thread or queue); it may also return an
    awaitable, which is run as a task. Its exceptions are logged and never reach the
    till's session.
    """

    def __init__(
        self,
        accounts: TillAccounts,
        *,
        options: FtpServerOptions | None = None,
        on_file_event: FileEventCallback | None = None,
    ) -> None:
        self.accounts = accounts
        self.options = options or FtpServerOptions()
        self.on_file_event = on_file_event
        self._tls_context: ssl.SSLContext | None = None
        if self.options.certfile is not None:
            self._tls_context = make_tls_context(self.options.certfile, self.options.keyfile)
        elif self.options.tls_required:
            raise ValueError(_("FTPS is required but no certificate is configured."))
        super().__init__(
            _TillUserManager(self),
            socket_timeout=self.options.socket_timeout,
            idle_timeout=self.options.idle_timeout,
            wait_future_timeout=self.options.data_connect_timeout,
            path_io_factory=_TillPathIO,
            maximum_connections=self.options.max_connections,
            ipv4_pasv_forced_response_address=self.options.passive_address,
            data_ports=self.options.passive_ports,
            welcome_message="ready",
        )
        self._closing = False
        self._sessions_per_login: dict[str, int] = {}
        self._failures: dict[tuple[str, str], _Failures] = {}
        self._failures_pruned = time.monotonic()
        self._response_queues: dict[StreamIO, asyncio.Queue[Any]] = {}
        self._callback_tasks: set[asyncio.Future[Any]] = set()
        self.commands_mapping.update(
            {
                "auth": self.auth,
                "feat": self.feat,
                "mdtm": self.mdtm,
                "mode": self.mode,
                "nlst": self.nlst,
                "noop": self.noop,
                "opts": self.opts,
                "size": self.size,
                "stru": self.stru,
                _IDLE: self._close_idle,
                _GONE: self._close_gone,
            }
        )

    @property
    def tls_enabled(self) -> bool:
        """True when a certificate is configured, so AUTH TLS is offered."""
        return self._tls_context is not None

    @property
    def port(self) -> int:
        """The port the control connection listens on (the real one when started on 0)."""
        return self.server_port

    # -- plumbing ------------------------------------------------------------------------

    async def dispatcher(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One session; ended quietly when the server closes.

        `close()` cancels every session, and Python 3.11 logs each cancelled connection
        handler as an unhandled error; a session ended by shutdown is not an error.
        """
        try:
            await super().dispatcher(reader, writer)
        except asyncio.CancelledError:
            if not self._closing:
                raise

    async def close(self) -> None:
        """Stop listening and end every session."""
        self._closing = True
        await super().close()

    @staticmethod
    def _session(connection: Connection) -> _Session:
        if "iis_session" not in connection:
            connection.iis_session = _Session()
        return connection.iis_session

    async def response_writer(self, stream: StreamIO, response_queue: asyncio.Queue[Any]) -> None:
        """Remember each session's reply queue: AUTH TLS must wait until its 234 is sent."""
        self._response_queues[stream] = response_queue
        try:
            await super().response_writer(stream, response_queue)
        finally:
            self._response_queues.pop(stream, None)

    async def parse_command(
        self, stream: StreamIO, censor_commands: tuple[str] = ("pass",)
    ) -> tuple[str, str]:
        """Read one command; turn silence, hang-ups and garbage into a quiet close.

        aioftp lets the idle timeout kill a session even while a long transfer runs on its
        data connection, and logs a traceback for every client that hangs up without QUIT.
        Here an idle session is only closed when nothing is being transferred, with a 421,
        and a vanished client just ends its session. Undecodable bytes are replaced rather
        than fatal, so a till's odd file name gets a 550 instead of a dropped session.
        """
        while True:
            try:
                line = await stream.readline()
            except TimeoutError:
                connection = self.connections.get(stream)
                if connection is not None and connection.extra_workers:
                    continue
                return _IDLE, ""
            except (OSError, ValueError):
                return _GONE, ""
            if not line:
                return _GONE, ""
            if len(line) > _MAX_COMMAND_LINE:
                return _GONE, ""
            text = line.decode(self.encoding, errors="replace").rstrip("\r\n")
            cmd, _sep, rest = text.partition(" ")
            if cmd.lower() in censor_commands:
                logger.debug("%s ***", cmd)
            else:
                logger.debug("%s %s", cmd, rest)
            return cmd.lower(), rest

    async def _close_idle(self, connection: Connection, rest: str) -> bool:
        logger.info("closing idle FTP session from %s", connection.client_host)
        connection.response("421", "idle timeout, closing control connection")
        return False

    async def _close_gone(self, connection: Connection, rest: str) -> bool:
        return False

    def _emit(self, connection: Connection, path: Path, event: FileEvent) -> None:
        """Tell the caller a file changed; its failures are logged, never the till's."""
        callback = self.on_file_event
        if callback is None:
            return
        login = connection.user.login
        try:
            result = callback(login, path, event)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._callback_tasks.add(task)
                task.add_done_callback(self._callback_done)
        except Exception:
            logger.exception("FTP file event handler failed: %s %s %s", login, event, path)

    def _callback_done(self, task: asyncio.Future[Any]) -> None:
        self._callback_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("FTP file event handler failed", exc_info=task.exception())

    def _release(self, user: aioftp.User) -> None:
        """Forget a session's user: free its per-login slot and its throttle entry."""
        self.throttle_per_user.pop(user, None)
        if isinstance(user, _TillUser) and user.counted and user.login is not None:
            user.counted = False
            left = self._sessions_per_login.get(user.login, 1) - 1
            if left > 0:
                self._sessions_per_login[user.login] = left
            else:
                self._sessions_per_login.pop(user.login, None)

    def _prepare_home(self, login: str) -> Path:
        """The till's real home, with its two folders, as the session's root."""
        home = Path(self.accounts.home(login))
        for folder in (FROM_POS, TO_POS):
            (home / folder).mkdir(parents=True, exist_ok=True)
        return Path(os.path.realpath(home))

    # -- logging in ----------------------------------------------------------------------

    def _failure_entry(self, key: tuple[str, str]) -> _Failures:
        now = time.monotonic()
        if now - self._failures_pruned > 60:
            self._failures_pruned = now
            memory = self.options.login_failure_memory
            for old in [
                k for k, v in self._failures.items() if v.users == 0 and now - v.last > memory
            ]:
                del self._failures[old]
        entry = self._failures.get(key)
        if entry is None:
            entry = self._failures[key] = _Failures()
        return entry

    def _next_delay(self, entry: _Failures) -> float:
        now = time.monotonic()
        if now - entry.last > self.options.login_failure_memory:
            entry.count = 0
        entry.count += 1
        entry.last = now
        delay = self.options.login_delay * 2 ** min(entry.count - 1, 30)
        return min(delay, self.options.login_delay_max)

    async def user(self, connection: Connection, rest: str) -> bool:
        """USER, refused outright while TLS is required and not yet in place."""
        if self.options.tls_required and not self._session(connection).tls:
            connection.response("530", "TLS required (use AUTH TLS first)")
            return True
        return await super().user(connection, rest)

    @ConnectionConditions(ConnectionConditions.user_required)
    async def pass_(self, connection: Connection, rest: str) -> bool:
        """PASS: check the password off the loop, slow down and log every failure.

        Attempts for one (address, login) are serialised, so parallel connections cannot
        sidestep the delay; success forgets the failures.
        """
        if connection.future.logged.done():
            connection.response("503", "already logged in")
            return True
        user: _TillUser = connection.user
        login = user.login or ""
        host = connection.client_host
        key = (host, login)
        entry = self._failure_entry(key)
        entry.users += 1
        try:
            async with entry.lock:
                try:
                    accepted = await asyncio.to_thread(self.accounts.authenticate, login, rest)
                except Exception:
                    logger.exception("could not check the FTP password of %r", login)
                    connection.response("421", "login service unavailable, try later")
                    return False
                if not accepted:
                    delay = self._next_delay(entry)
                    logger.warning(
                        "failed FTP login as %r from %s (failure %d, answered after %.1f s)",
                        login,
                        host,
                        entry.count,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    connection.response("530", "login incorrect")
                    return True
                entry.count = 0
        finally:
            entry.users -= 1
            if entry.users == 0 and entry.count == 0:
                self._failures.pop(key, None)

        try:
            home = await asyncio.to_thread(self._prepare_home, login)
        except Exception:
            logger.exception("could not prepare the FTP home of %r", login)
            connection.response("421", "home folder unavailable, try later")
            return False
        limit = self.options.max_connections_per_login
        sessions = self._sessions_per_login.get(login, 0)
        if limit is not None and sessions >= limit:
            logger.warning(
                "refused FTP login as %r from %s: %d sessions open", login, host, sessions
            )
            connection.response("421", "too many connections for this login")
            return False
        self._sessions_per_login[login] = sessions + 1
        user.counted = True
        user.base_path = home
        connection.current_directory = PurePosixPath("/")
        connection.logged = True
        logger.info("till %s logged in over FTP from %s", login, host)
        connection.response("230", "login successful")
        return True

    # -- TLS -----------------------------------------------------------------------------

    async def auth(self, connection: Connection, rest: str) -> bool:
        """AUTH TLS (RFC 4217): upgrade the control connection in place.

        Reading is paused before the 234 goes out and the TLS layer is put on only once the
        reply has been written, so the client's first handshake bytes can never be read as
        a command.
        """
        mechanism = rest.strip().upper()
        session = self._session(connection)
        if self._tls_context is None:
            connection.response("502", "TLS is not configured on this server")
            return True
        if mechanism not in ("TLS", "TLS-C", "SSL"):
            connection.response("504", f"AUTH {mechanism} not supported")
            return True
        if session.tls:
            connection.response("503", "TLS already active")
            return True
        if connection.future.user.done():
            connection.response("503", "AUTH must come before USER")
            return True
        stream = connection.command_connection
        stream.writer.transport.pause_reading()
        connection.response("234", "AUTH TLS successful")
        queue = self._response_queues.get(stream)
        if queue is not None:
            await queue.join()
        try:
            await stream.start_tls(self._tls_context, None)
        except (OSError, TimeoutError) as exc:
            logger.warning("TLS handshake with %s failed: %s", connection.client_host, exc)
            return False
        session.tls = True
        return True

    async def pbsz(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """PBSZ: always 0 for TLS; allowed before login as clients send it either way."""
        if not self._session(connection).tls:
            connection.response("503", "PBSZ needs AUTH TLS first")
            return True
        connection.response("200", "PBSZ=0")
        return True

    async def prot(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """PROT C or P: whether the next data connections are encrypted."""
        session = self._session(connection)
        level = str(rest).strip().upper()
        if not session.tls:
            connection.response("503", "PROT needs AUTH TLS first")
            return True
        if level not in ("C", "P"):
            connection.response("536", f"PROT {level} not supported")
            return True
        if level == "C" and self.options.tls_required:
            connection.response("534", "data connections must be protected")
            return True
        protect = level == "P"
        if protect != session.protect_data:
            session.protect_data = protect
            self._drop_passive_server(connection)
        connection.response("200", f"PROT {level} accepted")
        return True

    def _drop_passive_server(self, connection: Connection) -> None:
        """Close a listening data socket made under the other PROT level."""
        if not connection.future.passive_server.done():
            return
        connection.passive_server.close()
        if self.available_data_ports is not None:
            self.available_data_ports.put_nowait((0, connection.passive_server_port))
        del connection.passive_server

    def _data_allowed(self, connection: Connection) -> bool:
        if self.options.tls_required and not self._session(connection).protect_data:
            connection.response("521", "data connections must be protected (use PROT P)")
            return False
        return True

    def _data_port_free(self, connection: Connection) -> bool:
        """Answer 425 while every passive port is taken, rather than aioftp's 421 and hang-up.

        A busy moment at closing time should make a till retry, not lose its session.
        """
        ports = self.available_data_ports
        if ports is not None and ports.empty() and not connection.future.passive_server.done():
            logger.warning("no free passive port for %s", connection.client_host)
            connection.response("425", "no free data port, try again later")
            return False
        return True

    async def pasv(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        if not self._data_allowed(connection) or not self._data_port_free(connection):
            return True
        return await super().pasv(connection, rest)

    async def epsv(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        if not self._data_allowed(connection) or not self._data_port_free(connection):
            return True
        return await super().epsv(connection, rest)

    async def _start_passive_server(
        self,
        connection: Connection,
        handler_callback: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    ) -> asyncio.Server:
        """Listen for one session's data connections: TLS per its PROT level, own peer only.

        A data connection from any address but the control connection's is closed, so a
        third party racing to the passive port cannot steal or inject a file. A port that
        is busy goes back to the pool instead of being lost from it.
        """

        async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            peer = writer.get_extra_info("peername")
            if not peer or peer[0] != connection.client_host:
                logger.warning(
                    "refused FTP data connection from %s for a session from %s",
                    peer[0] if peer else "?",
                    connection.client_host,
                )
                writer.close()
                return
            await handler_callback(reader, writer)

        context = self._tls_context if self._session(connection).protect_data else None

        def listen(port: int) -> Awaitable[asyncio.Server]:
            return asyncio.start_server(
                guarded,
                connection.server_host,
                port,
                ssl=context,
                **self._start_server_extra_arguments,
            )

        ports = self.available_data_ports
        if ports is None:
            return await listen(connection.passive_server_port)
        tried: set[int] = set()
        while True:
            try:
                priority, port = ports.get_nowait()
            except asyncio.QueueEmpty:
                raise aioftp.NoAvailablePort from None
            if port in tried:
                ports.put_nowait((priority, port))
                raise aioftp.NoAvailablePort
            tried.add(port)
            try:
                server = await listen(port)
            except OSError as err:
                ports.put_nowait((priority + 1, port))
                if err.errno != errno.EADDRINUSE:
                    raise
                continue
            connection.passive_server_port = port
            return server

    # -- small commands ------------------------------------------------------------------

    async def feat(self, connection: Connection, rest: str) -> bool:
        features = [
            "EPSV",
            "PASV",
            "MDTM",
            "SIZE",
            "REST STREAM",
            "MLST Type*;Size*;Modify*;",
            "UTF8",
        ]
        if self._tls_context is not None:
            features += ["AUTH TLS", "PBSZ", "PROT"]
        connection.response("211", ["Features:", *features, "End"], True)
        return True

    async def noop(self, connection: Connection, rest: str) -> bool:
        connection.response("200", "ok")
        return True

    async def opts(self, connection: Connection, rest: str) -> bool:
        if rest.strip().upper() in ("UTF8 ON", "UTF-8 ON"):
            connection.response("200", "UTF8 always on")
        else:
            connection.response("501", f"option {rest!r} not understood")
        return True

    async def mode(self, connection: Connection, rest: str) -> bool:
        ok = rest.strip().upper() == "S"
        connection.response("200" if ok else "504", "stream mode" if ok else "only MODE S")
        return True

    async def stru(self, connection: Connection, rest: str) -> bool:
        ok = rest.strip().upper() == "F"
        connection.response("200" if ok else "504", "file structure" if ok else "only STRU F")
        return True

    @ConnectionConditions(ConnectionConditions.login_required)
    @PathConditions(PathConditions.path_must_exists, PathConditions.path_must_be_file)
    @PathPermissions(PathPermissions.readable)
    async def size(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """SIZE: lets a client resume a transfer or check an upload landed whole."""
        real_path, _virtual = self.get_paths(connection, rest)
        stats = await connection.path_io.stat(real_path)
        connection.response("213", str(stats.st_size))
        return True

    @ConnectionConditions(ConnectionConditions.login_required)
    @PathConditions(PathConditions.path_must_exists, PathConditions.path_must_be_file)
    @PathPermissions(PathPermissions.readable)
    async def mdtm(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """MDTM: the file's modification time in UTC, as RFC 3659 asks."""
        real_path, _virtual = self.get_paths(connection, rest)
        stats = await connection.path_io.stat(real_path)
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(stats.st_mtime))
        connection.response("213", stamp)
        return True

    # -- data transfers ------------------------------------------------------------------

    def _start_transfer(
        self,
        connection: Connection,
        rest: str | PurePosixPath,
        transfer: Callable[[_DataStream], Awaitable[None]],
        started: str = "data transfer started",
    ) -> None:
        """Answer 150 and run `transfer` on the data connection once the client opens it.

        As in aioftp's own commands, the transfer runs as one of the session's workers,
        and a data connection that never comes is answered 425.
        """

        @ConnectionConditions(
            ConnectionConditions.data_connection_made,
            wait=True,
            fail_code="425",
            fail_info="Can't open data connection",
        )
        @worker
        async def transfer_worker(server: TillFtpServer, connection: Connection, rest: str) -> bool:
            stream = connection.data_connection
            del connection.data_connection
            await transfer(stream)
            return True

        task = asyncio.create_task(transfer_worker(self, connection, str(rest)))  # type: ignore[arg-type]
        connection.extra_workers.add(task)
        connection.response("150", started)

    # -- listings ------------------------------------------------------------------------

    async def list(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """LIST, tolerating the `-la` options many clients send."""
        return await super().list(connection, _strip_list_options(rest))

    async def nlst(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """NLST: bare names, one per line, of a folder (or of one file) over the data link."""
        return await self._nlst(connection, _strip_list_options(rest))

    @ConnectionConditions(
        ConnectionConditions.login_required,
        ConnectionConditions.passive_server_started,
    )
    @PathConditions(PathConditions.path_must_exists)
    @PathPermissions(PathPermissions.readable)
    async def _nlst(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        real_path, _virtual = self.get_paths(connection, rest)
        path_io = connection.path_io
        if await path_io.is_dir(real_path):
            names = sorted([entry.name async for entry in path_io.list(real_path)])
        else:
            names = [real_path.name]

        async def send_names(stream: _DataStream) -> None:
            async with stream:
                for name in names:
                    await stream.write((name + END_OF_LINE).encode(encoding=self.encoding))
            connection.response("226", "name list transfer done")

        self._start_transfer(connection, rest, send_names, "name list transfer started")
        return True

    # -- changes that the inbox and outbox hear about ------------------------------------

    @ConnectionConditions(
        ConnectionConditions.login_required,
        ConnectionConditions.passive_server_started,
    )
    @PathPermissions(PathPermissions.writable)
    async def stor(
        self, connection: Connection, rest: str | PurePosixPath, mode: str = "wb"
    ) -> bool:
        """STOR (and APPE): as aioftp's, then a "stored" event once the file is closed."""
        real_path, _virtual = self.get_paths(connection, rest)

        async def receive(stream: _DataStream) -> None:
            offset = connection.restart_offset
            file_mode = "r+b" if offset else mode
            file_out = connection.path_io.open(real_path, mode=file_mode)
            try:
                async with file_out, stream:
                    if offset:
                        await file_out.seek(offset)
                    async for data in stream.iter_by_block(connection.block_size):
                        await file_out.write(data)
            except _BROKEN_TRANSFER as exc:
                self._transfer_broke(connection, "upload", real_path, exc)
                return
            connection.response("226", "data transfer done")
            self._emit(connection, real_path, "stored")

        if await connection.path_io.is_dir(real_path.parent):
            self._start_transfer(connection, rest, receive)
        else:
            connection.response("550", "path unreachable")
        return True

    def _refuse_fixed_folder(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """Answer 550 when a command would remove or move the home or its two folders.

        Both folders are writable so files can come and go in them, but without them the
        exchange stops, so they themselves are never removed or renamed.
        """
        _real, virtual = self.get_paths(connection, rest)
        if virtual in _FIXED_FOLDERS:
            connection.response("550", "this folder cannot be removed or renamed")
            return True
        return False

    @ConnectionConditions(ConnectionConditions.login_required)
    async def rmd(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """RMD, except for the home and its exchange folders."""
        if self._refuse_fixed_folder(connection, rest):
            return True
        return await super().rmd(connection, rest)

    @ConnectionConditions(ConnectionConditions.login_required)
    async def rnfr(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """RNFR, except for the home and its exchange folders."""
        if self._refuse_fixed_folder(connection, rest):
            return True
        return await super().rnfr(connection, rest)

    def _transfer_broke(
        self, connection: Connection, what: str, path: Path, exc: BaseException
    ) -> None:
        """A data connection dropped or stalled: say so, and keep the session."""
        logger.warning(
            "FTP %s of %s by %s broke off: %s",
            what,
            path.name,
            connection.user.login,
            exc.__class__.__name__,
        )
        connection.response("426", "data connection closed, transfer aborted")

    @ConnectionConditions(
        ConnectionConditions.login_required,
        ConnectionConditions.passive_server_started,
    )
    @PathConditions(PathConditions.path_must_exists, PathConditions.path_must_be_file)
    @PathPermissions(PathPermissions.readable)
    async def retr(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """RETR, as aioftp's, but a till that drops the data connection keeps its session."""
        real_path, _virtual = self.get_paths(connection, rest)

        async def send(stream: _DataStream) -> None:
            offset = connection.restart_offset
            file_in = connection.path_io.open(real_path, mode="rb")
            try:
                async with file_in, stream:
                    if offset:
                        await file_in.seek(offset)
                    async for data in file_in.iter_by_block(connection.block_size):
                        await stream.write(data)
            except _BROKEN_TRANSFER as exc:
                self._transfer_broke(connection, "download", real_path, exc)
                return
            connection.response("226", "data transfer done")

        self._start_transfer(connection, rest, send)
        return True

    @ConnectionConditions(
        ConnectionConditions.login_required,
        ConnectionConditions.rename_from_required,
    )
    @PathConditions(PathConditions.path_must_not_exists)
    @PathPermissions(PathPermissions.writable)
    async def rnto(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """RNTO: rename, then a "renamed" event; an existing target is never overwritten."""
        real_path, _virtual = self.get_paths(connection, rest)
        rename_from = connection.rename_from
        del connection.rename_from
        await connection.path_io.rename(rename_from, real_path)
        connection.response("250", "rename successful")
        self._emit(connection, real_path, "renamed")
        return True

    @ConnectionConditions(ConnectionConditions.login_required)
    @PathConditions(PathConditions.path_must_exists, PathConditions.path_must_be_file)
    @PathPermissions(PathPermissions.writable)
    async def dele(self, connection: Connection, rest: str | PurePosixPath) -> bool:
        """DELE: delete, then a "deleted" event (in `to_pos` it is the till's receipt)."""
        real_path, _virtual = self.get_paths(connection, rest)
        await connection.path_io.unlink(real_path)
        connection.response("250", "file deleted")
        self._emit(connection, real_path, "deleted")
        return True


class FtpServerThread:
    """Runs a `TillFtpServer` on a thread of its own, with its own event loop.

    `start()` returns once the server listens (port 0 picks a free port; read `port`
    afterwards) and raises if it cannot. `stop()` closes every session and joins the
    thread. It is also a context manager. The callback runs on this thread, not the
    caller's.
    """

    def __init__(
        self,
        accounts: TillAccounts,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        options: FtpServerOptions | None = None,
        on_file_event: FileEventCallback | None = None,
    ) -> None:
        self.server = TillFtpServer(accounts, options=options, on_file_event=on_file_event)
        self.host = host
        self._requested_port = port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        """The port the server listens on; known once `start()` has returned."""
        if not self._ready.is_set() or self._error is not None:
            raise RuntimeError("the FTP server is not running")
        return self.server.port

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> None:
        """Start listening; return when connections are accepted."""
        if self._thread is not None:
            raise RuntimeError("the FTP server thread was already started")
        self._thread = threading.Thread(target=self._run, name="iis-ftp", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise TimeoutError("the FTP server did not start in time")
        if self._error is not None:
            self._thread.join(timeout)
            raise self._error

    def stop(self, timeout: float = 10.0) -> None:
        """Close the listener and every session, then join the thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            logger.error("the FTP server thread did not stop within %.0f s", timeout)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            if not self._ready.is_set():
                self._error = exc
                self._ready.set()
            else:
                logger.exception("the FTP server stopped on an error")

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            await self.server.start(self.host, self._requested_port)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        logger.info("FTP server listening on %s:%s", self.host, self.server.port)
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            await self.server.close()
            logger.info("FTP server stopped")

    def __enter__(self) -> FtpServerThread:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
