"""Running the AsyncAPI project's parser (tools/asyncapi/validate.js) on documents, as the tools that read them will."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools" / "asyncapi"
VALIDATOR = TOOLS / "validate.js"
PARSER_PACKAGE = TOOLS / "node_modules" / "@asyncapi" / "parser"


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    output: str

    def errors_in(self, document: Path) -> list[str]:
        """The parser's error lines about one document; fails when the parser said nothing about it at all."""
        prefix = f"{document}: "
        lines = [line.removeprefix(prefix) for line in self.output.splitlines() if line.startswith(prefix)]
        assert lines, f"the parser did not report on {document}:\n{self.output}"
        return [line for line in lines if line.startswith("error ")]


def validate(documents: Sequence[Path]) -> Verdict:
    """What the parser finds in the documents, in one node process: starting one costs about two CPU seconds."""
    node = shutil.which("node")
    if node is None or not PARSER_PACKAGE.is_dir():
        missing = (
            "node is not on the PATH (install Node.js 18 or later)"
            if node is None
            else f"{PARSER_PACKAGE} is missing (`make asyncapi-tools` installs it from the lock)"
        )
        reason = f"the AsyncAPI parser cannot run: {missing}"
        # Under `make test` and CI a validation that did not run must not pass as a skip.
        if os.environ.get("LHL_REQUIRE_INTEGRATION") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    done = subprocess.run(
        [node, str(VALIDATOR), *map(str, documents)], capture_output=True, text=True, timeout=120, check=False
    )
    return Verdict(done.returncode, done.stdout + done.stderr)
