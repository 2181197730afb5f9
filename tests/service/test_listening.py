"""Where the server listens: daphne's endpoint from settings, the TLS files, the dashboard's addresses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twisted.internet.endpoints import _parseServer

from endrpi_project.doctor import host
from endrpi_project.doctor.listening import (
    Listening,
    TlsError,
    listening_endpoint,
    listening_from_settings,
    listening_urls,
    tls_files_check,
)
from endrpi_project.testing.live import ROOT
from tests.service.conftest import make_tls_files


def test_it_listens_where_the_settings_say(settings):
    settings.ENDRPI_HOST = "127.0.0.1"
    settings.ENDRPI_PORT = 8123
    assert listening_endpoint(listening_from_settings()) == "tcp:port=8123:interface=127.0.0.1"


def test_an_unset_host_means_every_ipv4_address(settings):
    settings.ENDRPI_HOST = ""
    listening = listening_from_settings()
    assert (listening.host, listening.port, listening.scheme) == ("0.0.0.0", 5000, "http")


def test_tls_settings_make_a_twisted_ssl_endpoint_with_both_files(settings, tls_files):
    settings.ENDRPI_TLS_CERT, settings.ENDRPI_TLS_KEY = tls_files.cert, tls_files.key
    listening = listening_from_settings()
    assert listening.scheme == "https"
    endpoint = listening_endpoint(listening)
    assert endpoint.startswith("ssl:port=5000:")
    # Parsed by the same Twisted parser daphne hands it to: the files load as one certificate and key.
    _, args, kwargs = _parseServer(endpoint, None)
    assert args[0] == 5000
    assert kwargs["interface"] == "0.0.0.0"


def test_colons_in_paths_and_ipv6_hosts_are_escaped_for_twisted(tmp_path):
    files = make_tls_files(tmp_path / "a:b=c")
    endpoint = listening_endpoint(Listening(host="::", port=5443, tls_cert=files.cert, tls_key=files.key))
    assert "interface=\\:\\:" in endpoint
    _, args, kwargs = _parseServer(endpoint, None)  # loads both files: the escaped paths were found
    assert (args[0], kwargs["interface"]) == (5443, "::")


def test_a_wildcard_bind_is_spelled_out_as_each_address_loopback_first():
    listening = Listening(host="0.0.0.0", port=5000)
    urls = listening_urls(
        listening, bound=[("0.0.0.0", 5000)], addresses=["192.168.1.5", "127.0.0.1", "fd00::2", "::1"]
    )
    assert urls == ["http://127.0.0.1:5000/", "http://192.168.1.5:5000/"]


def test_an_ipv6_wildcard_lists_ipv6_addresses_in_brackets(tls_files):
    listening = Listening(host="::", port=5443, tls_cert=tls_files.cert, tls_key=tls_files.key)
    urls = listening_urls(listening, bound=[("::", 5443)], addresses=["192.168.1.5", "::1", "fd00::2"])
    assert urls == ["https://[::1]:5443/", "https://192.168.1.5:5443/", "https://[fd00::2]:5443/"]


def test_a_specific_bind_is_the_one_address():
    urls = listening_urls(Listening(host="192.168.1.5", port=80), bound=[("192.168.1.5", 80)], addresses=["x"])
    assert urls == ["http://192.168.1.5:80/"]


def test_this_machine_has_a_loopback_address():
    assert "127.0.0.1" in host.interface_addresses()


def test_good_tls_files_are_described(tls_files):
    certificate = tls_files_check(cert=tls_files.cert, key=tls_files.key)
    assert certificate.subject == "CN=endrpi-test"
    assert certificate.names == ["localhost", "127.0.0.1"]
    assert not certificate.expired


def test_an_expired_certificate_says_so(tmp_path):
    files = make_tls_files(tmp_path, days=-1)
    assert tls_files_check(cert=files.cert, key=files.key).expired


def test_a_missing_certificate_names_its_setting(tmp_path, tls_files):
    with pytest.raises(TlsError, match=r"^ENDRPI_TLS_CERT \(.*nope.pem\) cannot be read: No such file"):
        tls_files_check(cert=tmp_path / "nope.pem", key=tls_files.key)


def test_a_key_that_is_not_pem_names_its_setting(tmp_path, tls_files):
    (tmp_path / "bad.key").write_text("not a key")
    with pytest.raises(TlsError, match=r"^ENDRPI_TLS_KEY .* holds no PEM private key"):
        tls_files_check(cert=tls_files.cert, key=tmp_path / "bad.key")


def test_a_certificate_file_holding_a_key_names_its_setting(tls_files):
    with pytest.raises(TlsError, match=r"^ENDRPI_TLS_CERT .* holds no PEM certificate"):
        tls_files_check(cert=tls_files.key, key=tls_files.key)


def test_the_key_of_another_certificate_is_refused(tmp_path, tls_files):
    other = make_tls_files(tmp_path / "other")
    with pytest.raises(TlsError, match="is not the private key of the certificate in ENDRPI_TLS_CERT"):
        tls_files_check(cert=tls_files.cert, key=other.key)


def test_an_encrypted_key_is_refused_with_the_reason(tmp_path, tls_files):
    key = serialization.load_pem_private_key(tls_files.key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    (tmp_path / "encrypted.key").write_bytes(encrypted)
    with pytest.raises(TlsError, match="encrypted; the server needs it without a passphrase"):
        tls_files_check(cert=tls_files.cert, key=tmp_path / "encrypted.key")


def serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "ENDRPI_DATA_DIR": str(tmp_path / "data"), "ENDRPI_GPIO": "mock", **env}
    return subprocess.run(
        [sys.executable, "manage.py", "endrpi_serve"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("given", "missing"), [("ENDRPI_TLS_CERT", "ENDRPI_TLS_KEY"), ("ENDRPI_TLS_KEY", "ENDRPI_TLS_CERT")]
)
def test_one_tls_setting_without_the_other_stops_start_up_naming_both(tmp_path, tls_files, given, missing):
    result = serve(tmp_path, **{given: str(tls_files.cert)})
    assert result.returncode != 0
    assert result.stderr.strip() == (
        f"{given} is set but {missing} is not: HTTPS needs both (a PEM certificate and its private key), "
        "plain HTTP neither"
    )


def test_bad_tls_files_stop_start_up_before_listening(tmp_path, tls_files):
    result = serve(tmp_path, ENDRPI_TLS_CERT=str(tls_files.cert), ENDRPI_TLS_KEY=str(tmp_path / "missing.key"))
    assert result.returncode == 1
    assert "ENDRPI_TLS_KEY" in result.stderr
    assert "cannot be read" in result.stderr
    assert "Listening" not in result.stderr + result.stdout
