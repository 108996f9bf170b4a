"""Run every ``bench_*.py`` module of this folder and print its table."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(names=None):
    folder = Path(__file__).resolve().parent
    modules = sorted(
        info.name
        for info in pkgutil.iter_modules([str(folder)])
        if info.name.startswith("bench_")
    )
    for name in modules:
        if names and name not in names:
            continue
        print(f"== {name}")
        importlib.import_module(f"benchmarks.{name}").main()
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
