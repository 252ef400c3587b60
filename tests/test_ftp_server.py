"""The tills' FTP server, driven by real clients (ftplib, curl) over the loopback.

Each test starts its own server on 127.0.0.1, port 0, with two tills (T01, T02) whose
homes live in a temporary folder, so nothing is shared between tests.
"""

from __future__ import annotations

import ftplib
import io
import logging
import os
import shutil
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from exchange.ftp_server import (
    FtpServerOptions,
    FtpServerThread,
    TillAccounts,
    parse_port_range,
)

HOST = "127.0.0.1"
PASSWORDS = {"T01": "secret", "T02": "other"}
FAST = {"login_delay": 0.05, "login_delay_max": 0.1}


class MemoryAccounts:
    """Till accounts kept in a dictionary, as the database-backed ones will answer."""

    def __init__(self, root: Path, passwords: dict[str, str]) -> None:
        self.root = root
        self.passwords = passwords

    def authenticate(self, login: str, password: str) -> bool:
        return login in self.passwords and self.passwords[login] == password

    def home(self, login: str) -> Path:
        return self.root / login


@dataclass
class Site:
    """A running server, the tills' homes and the file events it reported."""

    server: FtpServerThread
    root: Path
    events: list[tuple[str, Path, str]] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    def home(self, login: str) -> Path:
        return self.root / login

    def connect(self, tls_context: ssl.SSLContext | None = None) -> ftplib.FTP:
        if tls_context is not None:
            ftp: ftplib.FTP = ftplib.FTP_TLS(context=tls_context, timeout=5)
        else:
            ftp = ftplib.FTP(timeout=5)
        ftp.connect(HOST, self.port)
        ftp.set_pasv(True)
        return ftp

    def login(self, login: str = "T01") -> ftplib.FTP:
        ftp = self.connect()
        ftp.login(login, PASSWORDS[login])
        return ftp

    def wait_for_event(self, expected: tuple[str, Path, str], timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        while expected not in self.events:
            if time.monotonic() > deadline:
                raise AssertionError(f"{expected} not among {self.events}")
            time.sleep(0.01)


@pytest.fixture
def make_site(tmp_path: Path) -> Iterator[Callable[..., Site]]:
    """Start a server with the given options; every one started is stopped afterwards."""
    started: list[FtpServerThread] = []

    def make(
        on_file_event: Callable[[str, Path, str], object] | None = None, **options: object
    ) -> Site:
        root = tmp_path / "tills"
        for login in PASSWORDS:
            for folder in ("from_pos", "to_pos"):
                (root / login / folder).mkdir(parents=True, exist_ok=True)
        site_events: list[tuple[str, Path, str]] = []
        lock = threading.Lock()

        def record(login: str, path: Path, event: str) -> None:
            with lock:
                site_events.append((login, path, event))
            if on_file_event is not None:
                on_file_event(login, path, event)

        accounts = MemoryAccounts(root, PASSWORDS)
        assert isinstance(accounts, TillAccounts)
        settings = {**FAST, **options}
        server = FtpServerThread(
            accounts,
            host=HOST,
            port=0,
            options=FtpServerOptions(**settings),  # type: ignore[arg-type]
            on_file_event=record,
        )
        server.start()
        started.append(server)
        return Site(server=server, root=root.resolve(), events=site_events)

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    return make_site()


def _upload(ftp: ftplib.FTP, name: str, data: bytes) -> None:
    ftp.storbinary(f"STOR {name}", io.BytesIO(data))


def _download(ftp: ftplib.FTP, name: str, rest: int | None = None) -> bytes:
    chunks: list[bytes] = []
    ftp.retrbinary(f"RETR {name}", chunks.append, rest=rest)
    return b"".join(chunks)


# -- logging in --------------------------------------------------------------------------


def test_a_till_logs_in_to_its_own_home(site: Site) -> None:
    ftp = site.login("T01")
    assert ftp.pwd() == "/"
    assert ftp.nlst() == ["from_pos", "to_pos"]
    ftp.quit()


def test_a_wrong_password_is_refused_logged_and_slowed_down(
    make_site: Callable[..., Site], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="iis.ftp")
    site = make_site(login_delay=0.2, login_delay_max=0.3)
    ftp = site.connect()
    timings = []
    for _attempt in range(3):
        started = time.monotonic()
        with pytest.raises(ftplib.error_perm, match="530"):
            ftp.login("T01", "guess")
        timings.append(time.monotonic() - started)
    assert timings[0] >= 0.2
    assert timings[1] >= 0.3 and timings[2] >= 0.3
    assert max(timings) < 1.5, "the delay is capped"
    failures = [
        r for r in caplog.records if r.name == "iis.ftp" and "failed FTP login" in r.message
    ]
    assert len(failures) == 3 and "'T01'" in failures[0].message

    started = time.monotonic()
    ftp.login("T01", "secret")
    assert time.monotonic() - started < 0.2, "the right password is not delayed"
    ftp.quit()


def test_unknown_and_anonymous_users_are_refused(site: Site) -> None:
    ftp = site.connect()
    with pytest.raises(ftplib.error_perm, match="530"):
        ftp.login("T99", "secret")
    with pytest.raises(ftplib.error_perm, match="530"):
        ftp.login()
    with pytest.raises(ftplib.error_perm, match="530"):
        ftp.login("ftp", "me@example.com")
    with pytest.raises(ftplib.error_perm, match="530"):
        ftp.login("T02", PASSWORDS["T01"])
    with pytest.raises(ftplib.error_perm, match="not logged in"):
        ftp.nlst()
    ftp.close()


def test_connection_limits_total_and_per_login(make_site: Callable[..., Site]) -> None:
    site = make_site(max_connections=3, max_connections_per_login=1)
    first = site.login("T01")
    second = site.connect()
    with pytest.raises(ftplib.error_temp, match="421"):
        second.login("T01", "secret")
    second.close()
    other = site.login("T02")
    third = site.connect()
    fourth = ftplib.FTP(timeout=5)
    with pytest.raises(ftplib.error_temp, match="421"):
        fourth.connect(HOST, site.port)
    fourth.close()
    third.close()
    other.quit()
    first.quit()
    deadline = time.monotonic() + 2
    while True:
        try:
            again = site.login("T01")
            break
        except (ftplib.error_temp, EOFError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    again.quit()


def test_an_idle_session_is_closed(make_site: Callable[..., Site]) -> None:
    site = make_site(idle_timeout=0.3)
    ftp = site.login("T01")
    time.sleep(0.7)
    with pytest.raises((ftplib.error_temp, EOFError, OSError)):
        ftp.voidcmd("NOOP")
    ftp.close()


# -- confinement -------------------------------------------------------------------------


def test_a_till_cannot_reach_outside_its_home(site: Site) -> None:
    (site.home("T02") / "from_pos" / "secret.jsonl").write_text("T02's own\n")
    (site.home("T01") / "etc").symlink_to("/etc")
    (site.home("T01") / "from_pos" / "peek").symlink_to(site.home("T02"))
    ftp = site.login("T01")

    ftp.cwd("..")
    assert ftp.pwd() == "/"
    ftp.cwd("/")
    assert ftp.pwd() == "/"
    ftp.cwd("../../..")
    assert ftp.pwd() == "/"
    assert ftp.nlst() == ["from_pos", "to_pos"], "the planted link is not even listed"
    assert ftp.nlst("..") == ["from_pos", "to_pos"]
    assert ftp.nlst("from_pos") == []
    listing: list[str] = []
    ftp.retrlines("LIST", listing.append)
    assert not any(line.endswith((" etc", " peek")) for line in listing)

    refused = [
        lambda: ftp.cwd("/T02"),
        lambda: ftp.cwd("../T02"),
        lambda: ftp.cwd("etc"),
        lambda: ftp.cwd("from_pos/peek"),
        lambda: _download(ftp, "../../etc/passwd"),
        lambda: _download(ftp, "/etc/passwd"),
        lambda: _download(ftp, "etc/passwd"),
        lambda: _download(ftp, "../T02/from_pos/secret.jsonl"),
        lambda: _download(ftp, "from_pos/peek/from_pos/secret.jsonl"),
        lambda: ftp.size("etc/passwd"),
        lambda: ftp.nlst("etc"),
        lambda: ftp.nlst("from_pos/peek/from_pos"),
        lambda: ftp.delete("from_pos/peek/from_pos/secret.jsonl"),
        lambda: ftp.rename("from_pos/peek/from_pos/secret.jsonl", "from_pos/mine.jsonl"),
        lambda: _upload(ftp, "etc/iis-was-here", b"x"),
        lambda: _upload(ftp, "from_pos/peek/from_pos/planted.jsonl", b"x"),
    ]
    for attempt in refused:
        with pytest.raises(ftplib.error_perm, match="550"):
            attempt()
    ftp.quit()
    assert (site.home("T02") / "from_pos" / "secret.jsonl").read_text() == "T02's own\n"
    assert not (site.home("T02") / "from_pos" / "planted.jsonl").exists()
    assert not Path("/etc/iis-was-here").exists()


def test_only_the_exchange_folders_are_writable(site: Site) -> None:
    ftp = site.login("T01")
    with pytest.raises(ftplib.error_perm, match="550"):
        _upload(ftp, "stray.jsonl", b"x")
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.mkd("extra")
    for attempt in (
        lambda: ftp.rmd("from_pos"),
        lambda: ftp.rmd("/to_pos/"),
        lambda: ftp.rmd("/"),
        lambda: ftp.rename("from_pos", "from_pos/inner"),
        lambda: ftp.rename("to_pos", "elsewhere"),
    ):
        with pytest.raises(ftplib.error_perm, match="550"):
            attempt()
    ftp.mkd("from_pos/scratch")
    ftp.rmd("from_pos/scratch")
    ftp.quit()
    assert sorted(os.listdir(site.home("T01"))) == ["from_pos", "to_pos"]


# -- the exchange ------------------------------------------------------------------------


def test_upload_as_part_then_rename_delivers_the_whole_file(site: Site) -> None:
    data = b"".join(b'{"type":"line","n":%d}\n' % n for n in range(20000))
    ftp = site.login("T01")
    _upload(ftp, "from_pos/x.part", data)
    ftp.rename("from_pos/x.part", "from_pos/x.jsonl")
    ftp.quit()

    inbox = site.home("T01") / "from_pos"
    assert (inbox / "x.jsonl").read_bytes() == data
    assert not (inbox / "x.part").exists()
    site.wait_for_event(("T01", inbox / "x.part", "stored"))
    site.wait_for_event(("T01", inbox / "x.jsonl", "renamed"))


def test_rename_never_overwrites_a_file_waiting_in_the_inbox(site: Site) -> None:
    inbox = site.home("T01") / "from_pos"
    (inbox / "x.jsonl").write_bytes(b"first\n")
    ftp = site.login("T01")
    _upload(ftp, "from_pos/x.part", b"second\n")
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.rename("from_pos/x.part", "from_pos/x.jsonl")
    ftp.quit()
    assert (inbox / "x.jsonl").read_bytes() == b"first\n"


def test_listings_sizes_and_times(site: Site) -> None:
    outbox = site.home("T01") / "to_pos"
    (outbox / "catalog_00000001.jsonl").write_bytes(b"a" * 1234)
    (outbox / "prices_00000002.jsonl").write_bytes(b"b" * 10)
    stamp = 1_790_000_000
    os.utime(outbox / "catalog_00000001.jsonl", (stamp, stamp))
    ftp = site.login("T01")

    names = ["catalog_00000001.jsonl", "prices_00000002.jsonl"]
    assert ftp.nlst("to_pos") == names
    assert ftp.nlst("/to_pos/") == names
    assert ftp.nlst("to_pos/catalog_00000001.jsonl") == ["catalog_00000001.jsonl"]
    ftp.cwd("to_pos")
    assert ftp.nlst() == names
    assert ftp.nlst("-a") == names
    raw: list[str] = []
    ftp.retrlines("NLST", raw.append)
    assert raw == names

    listing: list[str] = []
    ftp.retrlines("LIST", listing.append)
    assert sorted(line.split()[-1] for line in listing) == names
    assert any(" 1234 " in line for line in listing)
    listing_la: list[str] = []
    ftp.retrlines("LIST -la", listing_la.append)
    assert sorted(line.split()[-1] for line in listing_la) == names

    facts = dict(ftp.mlsd())
    assert facts["catalog_00000001.jsonl"]["type"] == "file"
    assert facts["catalog_00000001.jsonl"]["size"] == "1234"
    assert facts["catalog_00000001.jsonl"]["modify"] == time.strftime(
        "%Y%m%d%H%M%S", time.gmtime(stamp)
    )

    assert ftp.size("catalog_00000001.jsonl") == 1234
    assert ftp.size("/to_pos/prices_00000002.jsonl") == 10
    assert ftp.sendcmd("MDTM catalog_00000001.jsonl") == "213 " + time.strftime(
        "%Y%m%d%H%M%S", time.gmtime(stamp)
    )
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.size("missing.jsonl")
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.sendcmd("MDTM /from_pos")
    features = ftp.sendcmd("FEAT")
    assert "SIZE" in features and "MDTM" in features and "REST STREAM" in features
    assert ftp.sendcmd("NOOP").startswith("200")
    ftp.quit()


def test_delete_in_to_pos_is_reported_as_the_tills_acknowledgement(site: Site) -> None:
    outbox = site.home("T01") / "to_pos"
    (outbox / "catalog_00000001.jsonl").write_bytes(b"{}\n")
    ftp = site.login("T01")
    ftp.delete("to_pos/catalog_00000001.jsonl")
    with pytest.raises(ftplib.error_perm, match="550"):
        ftp.delete("to_pos/catalog_00000001.jsonl")
    ftp.quit()
    assert not (outbox / "catalog_00000001.jsonl").exists()
    site.wait_for_event(("T01", outbox / "catalog_00000001.jsonl", "deleted"))


def test_rest_resumes_a_download_and_an_upload(site: Site) -> None:
    data = bytes(range(256)) * 100
    (site.home("T01") / "to_pos" / "big.jsonl").write_bytes(data)
    ftp = site.login("T01")
    assert _download(ftp, "to_pos/big.jsonl", rest=4000) == data[4000:]
    assert _download(ftp, "to_pos/big.jsonl") == data, "REST applies to one transfer"

    _upload(ftp, "from_pos/y.part", data[:5000])
    ftp.storbinary("STOR from_pos/y.part", io.BytesIO(data[5000:]), rest=5000)
    ftp.quit()
    assert (site.home("T01") / "from_pos" / "y.part").read_bytes() == data


def test_a_failing_callback_never_breaks_the_session(
    make_site: Callable[..., Site], caplog: pytest.LogCaptureFixture
) -> None:
    def explode(login: str, path: Path, event: str) -> None:
        raise RuntimeError("the inbox is on fire")

    caplog.set_level(logging.INFO, logger="iis.ftp")
    site = make_site(on_file_event=explode)
    ftp = site.login("T01")
    _upload(ftp, "from_pos/x.part", b"data\n")
    ftp.rename("from_pos/x.part", "from_pos/x.jsonl")
    assert ftp.nlst("from_pos") == ["x.jsonl"]
    ftp.quit()
    assert (site.home("T01") / "from_pos" / "x.jsonl").read_bytes() == b"data\n"
    assert any("file event handler failed" in r.message for r in caplog.records)


def test_a_broken_upload_is_not_reported_and_the_session_goes_on(site: Site) -> None:
    ftp = site.login("T01")
    ftp.voidcmd("TYPE I")
    conn = ftp.transfercmd("STOR from_pos/broken.part")
    conn.sendall(b"half a file\n" * 100)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    with pytest.raises(ftplib.error_temp, match="426"):
        ftp.voidresp()
    assert ftp.nlst("from_pos") == ["broken.part"]
    ftp.quit()
    inbox = site.home("T01") / "from_pos"
    assert not any(event == "stored" for _login, _path, event in site.events)
    assert (inbox / "broken.part").exists()


def test_passive_ports_come_from_the_configured_range(make_site: Callable[..., Site]) -> None:
    port = _free_port()
    site = make_site(passive_ports=[port])
    first = site.login("T01")
    assert first.nlst() == ["from_pos", "to_pos"]
    _host, used = first.makepasv()
    assert used == port
    second = site.login("T02")
    with pytest.raises(ftplib.error_temp, match="425"):
        second.nlst()
    assert second.pwd() == "/", "the session survives a busy moment"
    first.quit()
    deadline = time.monotonic() + 2
    while True:
        try:
            assert second.nlst() == ["from_pos", "to_pos"], "the port went back to the pool"
            break
        except ftplib.error_temp:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    second.quit()


def test_stop_closes_the_listener(site: Site) -> None:
    ftp = site.login("T01")
    port = site.port
    site.server.stop()
    with pytest.raises((EOFError, OSError)):
        ftp.voidcmd("NOOP")
    ftp.close()
    with pytest.raises(OSError):
        socket.create_connection((HOST, port), timeout=1).close()


def test_parse_port_range() -> None:
    assert parse_port_range("50000-50010") == range(50000, 50011)
    assert parse_port_range(" 2121 ") == range(2121, 2122)
    for bad in ("", "a-b", "50010-50000", "0-10", "60000-70000"):
        with pytest.raises(ValueError):
            parse_port_range(bad)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# -- curl, as many tills' scripts use it ---------------------------------------------------

CURL = shutil.which("curl") or ("/usr/bin/curl" if Path("/usr/bin/curl").exists() else None)


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
@pytest.mark.parametrize(
    ("method", "source", "target"),
    [
        ("nocwd", "from_pos/x.part", "from_pos/x.jsonl"),
        ("multicwd", "/from_pos/x.part", "/from_pos/x.jsonl"),
    ],
)
def test_curl_uploads_then_renames(
    site: Site, tmp_path: Path, method: str, source: str, target: str
) -> None:
    assert CURL is not None
    upload = tmp_path / "sales.jsonl"
    upload.write_bytes(b'{"type":"header"}\n' * 500)
    result = subprocess.run(
        [
            CURL,
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "--ftp-method",
            method,
            "-T",
            str(upload),
            f"ftp://{HOST}:{site.port}/from_pos/x.part",
            "-u",
            "T01:secret",
            "-Q",
            f"-RNFR {source}",
            "-Q",
            f"-RNTO {target}",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    inbox = site.home("T01") / "from_pos"
    assert (inbox / "x.jsonl").read_bytes() == upload.read_bytes()
    assert not (inbox / "x.part").exists()
    site.wait_for_event(("T01", inbox / "x.jsonl", "renamed"))


# -- explicit FTPS -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=IP:{HOST}",
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def _client_context(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


def test_ftps_with_auth_tls(make_site: Callable[..., Site], certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    site = make_site(certfile=cert, keyfile=key)
    ftp = site.connect(_client_context(cert))
    assert isinstance(ftp, ftplib.FTP_TLS)
    ftp.auth()
    ftp.login("T01", "secret")
    ftp.prot_p()
    data = b"line\n" * 50000
    _upload(ftp, "from_pos/x.part", data)
    ftp.rename("from_pos/x.part", "from_pos/x.jsonl")
    assert ftp.nlst("from_pos") == ["x.jsonl"]
    assert _download(ftp, "from_pos/x.jsonl") == data
    assert "AUTH TLS" in ftp.sendcmd("FEAT")
    ftp.prot_c()
    assert ftp.nlst("from_pos") == ["x.jsonl"], "clear data is allowed unless TLS is required"
    ftp.quit()
    site.wait_for_event(("T01", site.home("T01") / "from_pos" / "x.jsonl", "renamed"))


def test_required_tls_refuses_plain_sessions(
    make_site: Callable[..., Site], certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    site = make_site(certfile=cert, keyfile=key, tls_required=True)
    plain = site.connect()
    with pytest.raises(ftplib.error_perm, match="530"):
        plain.login("T01", "secret")
    plain.close()

    ftp = site.connect(_client_context(cert))
    assert isinstance(ftp, ftplib.FTP_TLS)
    ftp.login("T01", "secret")
    with pytest.raises(ftplib.error_perm, match="52"):
        ftp.nlst()
    ftp.prot_p()
    assert ftp.nlst() == ["from_pos", "to_pos"]
    ftp.quit()


def test_auth_tls_is_refused_without_a_certificate(site: Site) -> None:
    ftp = site.connect(ssl.create_default_context())
    with pytest.raises(ftplib.error_perm, match="502"):
        assert isinstance(ftp, ftplib.FTP_TLS)
        ftp.auth()
    ftp.close()


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_curl_uploads_over_ftps(
    make_site: Callable[..., Site], certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    assert CURL is not None
    cert, key = certificate
    site = make_site(certfile=cert, keyfile=key, tls_required=True)
    upload = tmp_path / "sales.jsonl"
    upload.write_bytes(b"{}\n" * 1000)
    result = subprocess.run(
        [
            CURL,
            "--silent",
            "--show-error",
            "--max-time",
            "10",
            "--ssl-reqd",
            "--cacert",
            str(cert),
            "--ftp-method",
            "nocwd",
            "-T",
            str(upload),
            f"ftp://{HOST}:{site.port}/from_pos/x.part",
            "-u",
            "T01:secret",
            "-Q",
            "-RNFR from_pos/x.part",
            "-Q",
            "-RNTO from_pos/x.jsonl",
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (site.home("T01") / "from_pos" / "x.jsonl").read_bytes() == upload.read_bytes()
