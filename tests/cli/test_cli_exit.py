"""The console command ends the process without tearing the interpreter down
(`pipeline.cli._exit`): its exit codes and its output must be those of a normal exit."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner

from testpaths import ROOT
from pipeline.cli import cli


def console(*args: str) -> subprocess.CompletedProcess:
    """`attack-pipeline ARGS` as a user runs it, its output read through pipes."""
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True, env=env, cwd=ROOT)


def test_a_command_s_whole_output_arrives_through_a_pipe():
    """10 kB on a pipe are buffered, not written, until the streams are flushed: the
    output must be the same as the command's own, to the last byte."""
    done = console("sources")
    assert done.returncode == 0, done.stderr
    expected = CliRunner().invoke(cli, ["sources"], catch_exceptions=False).stdout
    assert len(expected) > 8192
    assert done.stdout == expected


def test_bad_input_exits_1_with_its_one_line(tmp_path):
    bad = tmp_path / "sources.toml"
    bad.write_text("x = [\n", encoding="utf-8")
    done = console("sources", "--sources", str(bad))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [f"error: {bad}: not valid TOML: Invalid value (at end of document)"]


def test_a_usage_error_exits_2():
    done = console("--no-such-option")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == "Error: No such option '--no-such-option'."


def test_an_exit_with_a_message_prints_it_and_exits_1():
    """`sys.exit("…")` prints its message and exits 1; the output written before it
    still arrives."""
    probe = "from pipeline.cli import _exit\nprint('so far', end='')\n_exit('stopped: why')\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert (done.returncode, done.stdout, done.stderr) == (1, "so far", "stopped: why\n")
