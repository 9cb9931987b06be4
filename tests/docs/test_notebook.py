"""``docs/fleet-simulation.ipynb`` runs clean from a fresh kernel and shows what it says.

The notebook is executed once per test session, in memory, by nbclient on the
``python3`` kernel with the repository root as its working directory; its
outputs are never saved, so the committed file stays output-free. The kernel
inherits ``MPLBACKEND=Agg``, so nothing can ever open a window; the
notebook's own ``%matplotlib inline`` (also non-interactive) is what turns
its figures into PNG outputs, as it does for a reader.

Running clean is not enough: each check below reads a cell's printed output
and verifies the claim the notebook makes in prose (the drained cluster is
emptied, its replicas moved elsewhere, the scaled deployment grew only inside
its region, every plot is an image), cross-checking cells against each other
rather than against numbers copied from a run.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from tests.support import REPO_ROOT

nbformat = pytest.importorskip(
    "nbformat", reason="executing the notebook needs nbformat: pip install -e '.[test]'"
)
nbclient = pytest.importorskip(
    "nbclient", reason="executing the notebook needs nbclient: pip install -e '.[test]'"
)
pytest.importorskip(
    "ipykernel", reason="executing the notebook needs ipykernel: pip install -e '.[test]'"
)
pytest.importorskip("matplotlib", reason="the notebook draws plots: pip install -e '.[plot]'")

pytestmark = pytest.mark.slow

NOTEBOOK = REPO_ROOT / "docs" / "fleet-simulation.ipynb"
CELL_TIMEOUT = 300  # seconds per cell; the whole notebook takes ~15 s on two cores
PNG = b"\x89PNG\r\n\x1a\n"
PLOTS = ("pool_utilisation", "replicas_per_cluster", "shortfall")


@pytest.fixture(scope="module")
def committed() -> bytes:
    return NOTEBOOK.read_bytes()


@pytest.fixture(scope="module")
def executed(committed: bytes) -> Any:
    notebook = nbformat.reads(committed.decode(), as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(REPO_ROOT)}},
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MPLBACKEND", "Agg")
        client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    return notebook


def tagged(notebook: Any, tag: str) -> list[Any]:
    cells = [c for c in notebook.cells if tag in c.get("metadata", {}).get("tags", ())]
    assert cells, f"no cell tagged {tag!r} in {NOTEBOOK.name}"
    return cells


def text(notebook: Any, tag: str) -> str:
    """Everything the cell tagged ``tag`` printed."""
    (cell,) = tagged(notebook, tag)
    return "".join(
        output.get("text", "") or output.get("data", {}).get("text/plain", "")
        for output in cell.outputs
    )


def test_is_committed_without_outputs(committed: bytes) -> None:
    notebook = nbformat.reads(committed.decode(), as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [], f"cell {cell.id} was committed with outputs"
        assert cell.execution_count is None, f"cell {cell.id} was committed executed"


def test_every_cell_runs_without_error(executed: Any) -> None:
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"cell {cell.id} did not run"
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"cell {cell.id} failed: {errors}"
        streams = [o.get("name") for o in cell.outputs if o.output_type == "stream"]
        assert "stderr" not in streams, f"cell {cell.id} wrote to stderr (a warning?)"


def test_executing_does_not_write_the_notebook(executed: Any, committed: bytes) -> None:
    assert NOTEBOOK.read_bytes() == committed


def test_fleet_has_fifty_clusters(executed: Any) -> None:
    assert "InferenceCluster × 50" in text(executed, "fleet")


def test_bring_up_converges_and_places_replicas(executed: Any) -> None:
    printed = text(executed, "bring-up")
    assert "converged: True" in printed
    found = re.search(r"replicas: (\d+) wanted, (\d+) placed, (\d+) ready", printed)
    assert found, printed
    wanted, placed, ready = map(int, found.groups())
    assert 0 < ready <= placed <= wanted


def test_drain_empties_the_cluster_and_moves_its_replicas_elsewhere(executed: Any) -> None:
    printed = text(executed, "drain")
    found = re.search(r"Draining (cluster-\d+) \((\d+) GPUs in use\)", printed)
    assert found, printed
    drained, gpus = found.group(1), int(found.group(2))
    assert gpus > 0
    moves = re.findall(r"^  (\S+): (.+) -> (.+)$", printed, flags=re.MULTILINE)
    assert moves, f"the drain cell lists no moved replica:\n{printed}"
    for deployment, sources, destinations in moves:
        assert set(sources.split(", ")) == {drained}, deployment
        assert drained not in destinations, deployment
    assert any(re.fullmatch(r"cluster-\d+(, cluster-\d+)*", d) for _, _, d in moves)
    assert f"replicas left on {drained}: 0" in printed

    # A replica that found no new home is a deployment the next cell says ran short.
    stranded = {deployment for deployment, _, to in moves if to == "nowhere (short)"}
    short = text(executed, "drain-short")
    found = re.search(r"(\d+) deployment\(s\) ran short because of the drain", short)
    assert found, short
    listed = set(re.findall(r"^(\S+/\S+) placed \d+/\d+: ", short, flags=re.MULTILINE))
    assert len(listed) == int(found.group(1))
    assert stranded <= listed


def test_drain_timeline_starts_with_the_taint(executed: Any) -> None:
    drained = re.search(r"Draining (cluster-\d+)", text(executed, "drain"))
    assert drained
    first = text(executed, "drain-timeline").splitlines()[0]
    assert f"taint cluster {drained.group(1)} maintenance=gpu-firmware:NoExecute" in first


def test_scale_up_lands_only_in_the_pinned_region(executed: Any) -> None:
    printed = text(executed, "scale")
    found = re.search(r"pinned to modelplane\.ai/region=(\S+): scaled from (\d+) to 10", printed)
    assert found, printed
    region, before = found.group(1), int(found.group(2))
    landed = re.findall(r"^  new replica on (cluster-\d+) \((\S+)\)", printed, flags=re.MULTILINE)
    assert landed, f"the scale cell lists no new replica:\n{printed}"
    assert {r for _, r in landed} == {region}
    placed = re.search(r": (\d+)/10 placed", printed)
    assert placed, printed
    assert before + len(landed) == int(placed.group(1))


def test_each_plot_is_shown_as_an_image(executed: Any) -> None:
    cells = tagged(executed, "plot")
    drawn = [name for cell in cells for name in PLOTS if f"plots.{name}(" in cell.source]
    assert sorted(drawn) == sorted(PLOTS)
    for cell in cells:
        images = [o.data["image/png"] for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == 1, f"cell {cell.id} shows {len(images)} images"
        assert base64.b64decode(images[0]).startswith(PNG)
