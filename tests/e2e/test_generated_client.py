"""A client generated from the served OpenAPI document by a maintained generator
(openapi-python-client) creates, changes and reads a case against a real `taskflow serve`:
the document is good enough for the code generators teams use."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.serving import clean_env, free_port, serving, stop, taskflow_command

PACKAGE = "generated_taskflow"


def generate(document: dict[str, Any], where: Path) -> str:
    """Generates the client into ``where``; answers what the generator printed."""
    (where / "openapi.json").write_text(json.dumps(document))
    (where / "config.yml").write_text(
        f"package_name_override: {PACKAGE}\nproject_name_override: generated-taskflow\n"
    )
    generator = Path(sys.executable).with_name("openapi-python-client")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    arguments = ["--path", "openapi.json", "--config", "config.yml", "--meta", "none"]
    done = subprocess.run(
        [str(generator), "generate", *arguments, "--output-path", PACKAGE],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_a_generated_client_creates_and_reads_a_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    command = [*taskflow_command(), "serve", "--port", str(port), "--workers", "1"]
    with serving(command, cwd=tmp_path, env=clean_env(), port=port) as server:
        with urllib.request.urlopen(server.url + "/openapi.json", timeout=10) as answer:
            document = json.load(answer)
        printed = generate(document, tmp_path)
        # Every operation and shape made it into the client: nothing left out with a warning.
        assert "warning" not in printed.lower(), printed

        monkeypatch.syspath_prepend(str(tmp_path))
        generated = importlib.import_module(PACKAGE)
        create_case = importlib.import_module(f"{PACKAGE}.api.cases.create_case")
        set_status = importlib.import_module(f"{PACKAGE}.api.cases.set_status")
        get_case = importlib.import_module(f"{PACKAGE}.api.cases.get_case")
        models = importlib.import_module(f"{PACKAGE}.models")

        with generated.Client(base_url=server.url) as client:
            body = models.CreateCaseBody.from_dict({"subject": "Dog licence"})
            created = create_case.sync(client=client, body=body, idempotency_key="gen-1")
            case = created.data
            assert case.status == "new"
            assert case.data.to_dict() == {"subject": "Dog licence"}

            change = models.SetStatusBody.from_dict({"status": "submitted"})
            changed = set_status.sync_detailed(case_id=case.id, client=client, body=change)
            assert changed.status_code == 200

            read = get_case.sync(case_id=case.id, client=client)
            assert read.data.status == "submitted"
            assert read.data.version == 2
            # Newest first, as the original answered.
            assert [entry.event_name for entry in read.data.activity_log] == [
                "status:new:submitted",
                "create",
            ]

            missing = get_case.sync_detailed(
                case_id="00000000-0000-4000-8000-000000000000", client=client
            )
            assert missing.status_code == 404
            assert isinstance(missing.parsed, models.Error)
        assert stop(server) == 0
