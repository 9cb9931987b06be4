"""``modelplane function serve``: refusing to start without credentials, and serving mTLS."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from modelplane_adapters.cli.main import build_parser, main
from modelplane_adapters.crossplane.function import run_function
from modelplane_adapters.crossplane.server import default_address
from modelplane_adapters.crossplane.translate import build_request
from modelplane_core import api
from tests.adapters.crossplane.support import free_port, reference_example
from tests.support import REPO_ROOT


def test_serving_without_credentials_or_insecure_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TLS_SERVER_CERTS_DIR", raising=False)
    monkeypatch.delenv("INSECURE", raising=False)
    assert main(["function", "serve", "--address", "127.0.0.1:0"]) == 2
    assert "--insecure" in capsys.readouterr().err


def test_serving_with_a_missing_certificate_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope"
    assert main(["function", "serve", "--tls-certs-dir", str(missing)]) == 2
    assert f"cannot load TLS certificates from {missing}" in capsys.readouterr().err


def test_a_busy_port_is_an_error_not_a_shared_port(function_address: str) -> None:
    command = [sys.executable, "-m", "modelplane_adapters.cli.main", "function", "serve"]
    result = subprocess.run(
        [*command, "--insecure", "--address", function_address],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert f"cannot listen on {function_address}" in result.stderr


def test_a_malformed_message_size_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_RECV_MESSAGE_SIZE", "lots")
    assert main(["function", "serve", "--insecure"]) == 2
    assert "MAX_RECV_MESSAGE_SIZE='lots'" in capsys.readouterr().err


def test_crossplane_configures_the_server_through_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TLS_SERVER_CERTS_DIR", "/tls/server")
    monkeypatch.setenv("DEBUG", "true")
    args = build_parser().parse_args(["function", "serve"])
    assert (args.tls_certs_dir, args.debug, args.insecure) == ("/tls/server", True, False)
    assert args.address is None  # mTLS: every interface, see below
    monkeypatch.setenv("ADDRESS", "0.0.0.0:9000")
    assert build_parser().parse_args(["function", "serve"]).address == "0.0.0.0:9000"


def test_plaintext_listens_on_loopback_unless_told_otherwise() -> None:
    # In a cluster Crossplane calls the function from another pod, authenticated by mTLS;
    # plaintext is for this machine only, so it never listens on every interface by default.
    assert default_address(insecure=False) == "0.0.0.0:9443"
    assert default_address(insecure=True) == "127.0.0.1:9443"


def test_insecure_and_a_certificate_directory_conflict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TLS_SERVER_CERTS_DIR", raising=False)
    argv = ["function", "serve", "--insecure", "--address", "127.0.0.1:0"]
    assert main([*argv, "--tls-certs-dir", str(tmp_path)]) == 2
    assert "--insecure asks for plaintext, but TLS certificates are configured" in (
        capsys.readouterr().err
    )
    monkeypatch.setenv("TLS_SERVER_CERTS_DIR", str(tmp_path))  # as Crossplane sets it
    assert main(argv) == 2
    assert str(tmp_path) in capsys.readouterr().err


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (as Crossplane has)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    root = tmp_path_factory.mktemp("tls")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
             "-subj", "/CN=test-ca", cwd=root)  # fmt: skip
    for name, san in (("tls", "IP:127.0.0.1,DNS:localhost"), ("client", "DNS:crossplane")):
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                 "-subj", f"/CN={name}", cwd=root)  # fmt: skip
        (root / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.crt", "-days", "1",
                 "-extfile", f"{name}.ext", cwd=root)  # fmt: skip
    return root


@pytest.fixture(scope="module")
def tls_address(certificates: Path) -> Iterator[str]:
    address = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT / "src"),
        "TLS_SERVER_CERTS_DIR": str(certificates),
    }
    command = [sys.executable, "-m", "modelplane_adapters.cli.main", "function", "serve"]
    process = subprocess.Popen(
        [*command, "--address", address],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield address
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_server_speaks_mutual_tls(certificates: Path, tls_address: str) -> None:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(certificates / "ca.crt").read_bytes(),
        private_key=(certificates / "client.key").read_bytes(),
        certificate_chain=(certificates / "client.crt").read_bytes(),
    )
    req = build_request(reference_example(api.ModelEndpoint))
    with grpc.secure_channel(tls_address, credentials) as channel:
        grpc.channel_ready_future(channel).result(timeout=20)
        rsp = grpcv1.FunctionRunnerServiceStub(channel).RunFunction(req, timeout=30)
    assert rsp == run_function(req)
    # Without a client certificate signed by the CA, the handshake fails.
    anonymous = grpc.ssl_channel_credentials(
        root_certificates=(certificates / "ca.crt").read_bytes()
    )
    with grpc.secure_channel(tls_address, anonymous) as channel:
        stub = grpcv1.FunctionRunnerServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            stub.RunFunction(req, timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
