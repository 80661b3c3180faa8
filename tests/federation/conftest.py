"""When a federation test fails, its report carries every node's sync status and process
logs: in CI they are the only view into the nodes."""

from __future__ import annotations

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    nodes = getattr(item, "funcargs", {}).get("nodes")
    if report.when == "call" and report.failed and nodes:
        for node in nodes.values():
            try:
                status = node.manage("sync", "status")
            except Exception as error:  # the node may be what failed
                status = f"(sync status failed: {error})"
            report.sections.append((f"node {node.node_id}", f"{status}\n{node.logs()}"))
