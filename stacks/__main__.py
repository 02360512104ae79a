"""Pulumi's entry point (Pulumi.yaml: ``main: stacks/``).

Pulumi runs this file from stacks/, so the repository root goes on sys.path first: the program
imports the ``stacks`` package like everything else does.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stacks.program import main

main()
