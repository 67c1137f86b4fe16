"""The VS Code extension's settings schema (extension/package.json) against what the engine and the server
accept: a setting the schema offers must work, and every pipeline knob must be offered."""

from __future__ import annotations

import json
import re
import struct
from dataclasses import fields
from pathlib import Path

from perforch.orchestration.config import PipelineSettings
from perforch.orchestration.languages import LANGUAGES
from perforch.server.settings import _KEYS as SERVER_KEYS

EXTENSION = Path(__file__).resolve().parents[1] / "extension"
MANIFEST = json.loads((EXTENSION / "package.json").read_text())
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


def test_the_manifest_activates_on_exactly_the_server_s_languages() -> None:
    # VS Code reads activation events before the extension runs, so this list is static; everything else in
    # the extension follows the languages the server names in `initialize` (server/app.py).
    prefix = "onLanguage:"
    activation = [event.removeprefix(prefix) for event in MANIFEST["activationEvents"] if event.startswith(prefix)]
    assert activation == list(LANGUAGES)
    menus = MANIFEST["contributes"]["menus"]["editor/context"]
    # ... and only where they apply: the server says whether the cursor is in a stub or a finished function
    assert {menu["when"] for menu in menus} == {
        "editorLangId in perforch.languages && perforch.cursorFunction == 'stub'",
        "editorLangId in perforch.languages && perforch.cursorFunction == 'finished'",
    }


def test_the_icon_is_a_png_of_at_least_128_pixels() -> None:
    # The marketplace and the extensions view take a PNG (not an SVG) of 128 x 128 or more.
    png = (EXTENSION / MANIFEST["icon"]).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width == height >= 128


def test_the_walkthrough_s_steps_have_their_media_and_run_commands_that_exist() -> None:
    (walkthrough,) = MANIFEST["contributes"]["walkthroughs"]
    commands = {command["command"] for command in MANIFEST["contributes"]["commands"]}
    for step in walkthrough["steps"]:
        assert (EXTENSION / step["media"]["markdown"]).is_file(), step["id"]
        linked = re.findall(r"\(command:([\w.]+)", step["description"])
        ours = [command for command in linked if command.startswith("perforch.")]
        assert ours and set(ours) <= commands, (step["id"], ours)
        events = {event.removeprefix("onCommand:") for event in step["completionEvents"] if "onCommand:" in event}
        assert events <= commands, step["id"]
