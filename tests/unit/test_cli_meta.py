"""Meta-tests that keep the command line honest."""

from __future__ import annotations

import pytest
import typer.core
import typer.main

from functions.entry.cli import app

_COMMAND = typer.main.get_command(app)
assert isinstance(_COMMAND, typer.core.TyperGroup)  # the app has subcommands
COMMANDS: typer.core.TyperGroup = _COMMAND


@pytest.mark.parametrize("name", sorted(COMMANDS.commands))
def test_every_command_has_help_with_an_example(name: str) -> None:
    command = COMMANDS.commands[name]
    assert command.help, f"{name} is missing its help"
    assert "Example:" in command.help, f"{name} help has no example"


def test_the_tool_itself_has_help_with_an_example() -> None:
    assert COMMANDS.help
    assert "Example:" in COMMANDS.help


def test_the_commands_the_readme_promises_exist() -> None:
    assert {"init", "tick", "run", "demo"} <= set(COMMANDS.commands)
