"""The CLI refuses bad input before it touches the database, and says which option was wrong."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from services.notifications.cli import app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add-contact-point", "hdir", "hdir epost", "--email", "a@b.no"], "contact_point_id: 'hdir epost'"),
        (["add-contact-point", "hdir", "hdir-2", "--email", "ikke-en-adresse"], "--email: not an e-mail address"),
        (["add-contact-point", "hdir", "hdir-2"], "give exactly one of --email and --webhook-url"),
        (["add-contact-point", "hdir", "hdir-3", "--webhook-url", "https://h.example/x"], "--signing-secret-env"),
        (
            [
                "add-contact-point",
                "hdir",
                "h-4",
                "--webhook-url",
                "https://h.example/x",
                "--signing-secret-env",
                "s3cr3t!",
            ],
            "--signing-secret-env: expected an environment variable name in upper case, got 's3cr3t!'",
        ),
        (["add-recipient", "x", "--name", "X", "--kind", "robot"], "--kind: expected organisation or system"),
        (["add-recipient", "x", "--name", "X", "--organisation", "nobody"], "unknown organisation 'nobody'"),
        (["add-filter", "hod", "f1", "--event-types", "no.levehelelivet.nothing.v1"], "--event-types: unknown"),
        (["remove", "everything", "x"], "what: expected recipient, contact-point or filter"),
    ],
)
def test_bad_input_is_refused_with_the_option_named(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
