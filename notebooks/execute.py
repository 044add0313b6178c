"""Runs each notebook given on the command line top to bottom with nbclient (the way .ci/run
checks them); exits non-zero, naming the notebook and cell, if any cell raises.

    python3 notebooks/execute.py notebooks/run.ipynb notebooks/sweep.ipynb

With SCALESIM_NOTEBOOK_OUT=DIR, the executed notebooks (with their figures) are written there.
"""
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

failed = False
for path in map(Path, sys.argv[1:]):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
        print(f"ok    {path}")
        out = os.environ.get("SCALESIM_NOTEBOOK_OUT")
        if out:
            Path(out).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, Path(out) / path.name)
    except CellExecutionError as e:
        failed = True
        print(f"FAIL  {path}:\n{e}", file=sys.stderr)
sys.exit(1 if failed else 0)
