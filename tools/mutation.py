"""Mutation testing of ufm with mutmut (not run by CI: it takes minutes to hours).

Usage::

    pip install -e ".[test,mutation]"
    python tools/mutation.py ufm/geometry.py --tests tests/test_geometry.py
    python tools/mutation.py ufm/metrics.py ufm/objectives.py --tests tests/test_metrics.py \
        tests/test_objectives.py tests/test_properties.py
    python tools/mutation.py ufm/minimizers.py --tests tests/test_minimizers.py \
        --mutants 'ufm.minimizers.x_max_margin_value__mutmut_*'   # some functions only

The run happens in a temporary clone of the current commit (kept with ``--keep DIR``; mutmut
writes a ``mutants/`` tree and a cache beside the sources), with ``[tool.mutmut]`` of
``pyproject.toml`` narrowed to the named modules (``only_mutate``) and tests
(``pytest_add_cli_args_test_selection``). It prints mutmut's summary and the score: killed /
(killed + survived), timeouts counted as killed, mutants that no selected test runs counted as
survived, equivalent mutants (listed by id with a reason in
``tools/equivalent_mutants.txt``) left out.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT = ROOT / "tools" / "equivalent_mutants.txt"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="+", help="source files to mutate, e.g. ufm/geometry.py")
    parser.add_argument("--tests", nargs="+", required=True, help="test files that may kill them")
    parser.add_argument("--max-children", type=int, default=1, help="parallel mutmut workers")
    parser.add_argument(
        "--mutants",
        nargs="+",
        default=[],
        help="only these mutant names or globs, e.g. 'ufm.minimizers.x_max_margin_value__mutmut_*' "
        "(the score is then theirs)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="run in this new directory and keep it (for `mutmut show ID` on the survivors there)",
    )
    args = parser.parse_args()
    if args.keep is not None and args.keep.exists():
        parser.error(f"--keep {args.keep} exists; name a new directory")
    with tempfile.TemporaryDirectory(prefix="ufm-mutation-") as tmp:
        clone = (args.keep if args.keep is not None else Path(tmp)).resolve() / "ufm"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        config = clone / "pyproject.toml"
        text = config.read_text()
        # JSON strings are TOML basic strings: test ids may hold quotes and backslashes
        only = ", ".join(json.dumps(m) for m in args.modules)
        tests = ", ".join(json.dumps(t) for t in args.tests)
        text = re.sub(r"only_mutate = \[.*?\]", lambda _: f"only_mutate = [{only}]", text)
        text = re.sub(
            r"pytest_add_cli_args_test_selection = \[.*?\]",
            lambda _: f"pytest_add_cli_args_test_selection = [{tests}]",
            text,
        )
        config.write_text(text)
        subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(args.max_children)]
            + args.mutants,
            cwd=clone,
            check=False,
        )
        results = subprocess.run(
            [sys.executable, "-m", "mutmut", "results", "--all", "true"],
            cwd=clone,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    status = dict(re.findall(r"^\s*(\S+): (\w[\w ]*)$", results, flags=re.M))
    if args.mutants:
        status = {k: v for k, v in status.items() if any(fnmatch(k, m) for m in args.mutants)}
    equivalent = set()
    if EQUIVALENT.is_file():
        equivalent = {line.split()[0] for line in EQUIVALENT.read_text().splitlines()
                      if line.strip() and not line.startswith("#")}  # fmt: skip
    counted = {k: v for k, v in status.items() if k not in equivalent}
    killed = sum(v in ("killed", "timeout") for v in counted.values())
    # a mutant no selected test executes ("no tests") is not killed: it counts as a survivor
    survived = sorted(k for k, v in counted.items() if v in ("survived", "no tests"))
    total = killed + len(survived)
    print(f"mutants: {len(status)} ({len(status) - len(counted)} equivalent, left out)")
    print(f"killed: {killed} of {total}" + (f" = {killed / total:.1%}" if total else ""))
    for name in survived:
        print(f"{'not covered' if counted[name] == 'no tests' else 'survived'}: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
