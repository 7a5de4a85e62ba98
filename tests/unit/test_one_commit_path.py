"""The request owns the transaction: no view, API or service module commits on its own."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
# The one commit path, and the batch commands that commit per batch (DESIGN §4 commands).
ALLOWED = {
    "transactions.py",
    "cli.py",
    "alerts/engine.py",  # sweep(): a batch command's loop
}


def commits(path: Path) -> list[int]:
    """Return the lines of `path` that call `<something>.commit()`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
    ]


def test_only_the_commit_path_and_batch_commands_commit():
    found = {
        str(path.relative_to(APP)): lines
        for path in sorted(APP.rglob("*.py"))
        if (lines := commits(path)) and str(path.relative_to(APP)) not in ALLOWED
    }
    assert found == {}, f"commit() outside the one commit path: {found}"


def test_the_check_finds_a_commit_where_there_is_one(tmp_path):
    sample = tmp_path / "view.py"
    sample.write_text("def view():\n    db.session.commit()\n")
    assert commits(sample) == [2]
