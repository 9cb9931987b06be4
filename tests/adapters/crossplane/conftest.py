"""The real function server, started once per test session on a random loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from crossplane.function.proto.v1 import run_function_pb2_grpc as grpcv1

from tests.adapters.crossplane.support import free_port
from tests.support import REPO_ROOT


@pytest.fixture(scope="session")
def function_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``127.0.0.1:<port>`` of ``modelplane function serve --insecure`` in a subprocess."""
    log = Path(tmp_path_factory.mktemp("function")) / "server.log"
    address = f"127.0.0.1:{free_port()}"
    command = [
        sys.executable,
        "-m",
        "modelplane_adapters.cli.main",
        "function",
        "serve",
        "--insecure",
        "--address",
        address,
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        with grpc.insecure_channel(address) as channel:
            try:
                grpc.channel_ready_future(channel).result(timeout=20)
            except grpc.FutureTimeoutError:
                process.kill()
                pytest.fail(f"the function server did not start:\n{log.read_text()}")
        yield address
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # The server must survive everything the tests threw at it, and stop cleanly.
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()


@pytest.fixture
def stub(function_address: str) -> Iterator[grpcv1.FunctionRunnerServiceStub]:
    with grpc.insecure_channel(function_address) as channel:
        yield grpcv1.FunctionRunnerServiceStub(channel)
