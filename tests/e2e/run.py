#!/usr/bin/env python3
"""Run the end-to-end tests (tests/e2e/t_*.py, functions test_*) against one
private mail stack.  Prints ok / not ok per test and "N passed, N failed"."""
import importlib.util
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    only = sys.argv[1:]
    tests = []
    for fn in sorted(os.listdir(here)):
        if not (fn.startswith("t_") and fn.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fn[:-3], os.path.join(here, fn))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name in dir(mod):
            if name.startswith("test_") and (not only or name in only or fn[:-3] in only):
                tests.append((fn[:-3], name, getattr(mod, name)))
    passed = failed = 0
    stack = harness.Stack()
    try:
        for modname, name, fn in tests:
            stack.reset()
            t0 = time.time()
            try:
                fn(stack)
                passed += 1
                print(f"ok - {modname}.{name} ({time.time() - t0:.1f}s)", flush=True)
            except Exception:
                failed += 1
                print(f"not ok - {modname}.{name}", flush=True)
                for line in traceback.format_exc().splitlines():
                    print("#   " + line)
    finally:
        stack.stop()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
