"""The VS Code extension's settings schema (extension/package.json) against what the engine and the server
accept: a setting the schema offers must work, and every pipeline knob must be offered."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from perforch.orchestration.config import PipelineSettings
from perforch.server.settings import _KEYS as SERVER_KEYS

MANIFEST = json.loads((Path(__file__).resolve().parents[1] / "extension" / "package.json").read_text())
PROPERTIES = MANIFEST["contributes"]["configuration"]["properties"]
CLIENT_ONLY = {"pythonPath"}  # read by the extension itself, never sent to the server


def test_pipeline_schema_offers_exactly_the_engine_knobs() -> None:
    offered = set(PROPERTIES["perforch.pipeline"]["properties"])
    assert offered == {f.name for f in fields(PipelineSettings)}


def test_every_setting_is_the_server_s_or_the_client_s() -> None:
    names = {key.removeprefix("perforch.") for key in PROPERTIES}
    assert names - CLIENT_ONLY <= set(SERVER_KEYS)


def test_model_tables_refuse_a_literal_key() -> None:
    model = PROPERTIES["perforch.models"]["additionalProperties"]
    assert model["required"] == ["model"] and model["not"] == {"required": ["api_key"]}
