"""The scope guard and the sensitive-data screen on adversarial text: linear, not quadratic.

For each input kind the guard (``policy.check_texts``) and the screen (``screen.find_sensitive``)
run at a small size n and at 8n, next to a linear baseline measured in the same run (splitting
the text into words with one regular expression). The growth column is (time at 8n / baseline
at 8n) / (time at n / baseline at n): about 1 when the work is linear, about 8 when it is
quadratic. Issue 12's case was 8,000 dashes taking 18 s in the guard.

    .venv/bin/python benchmarks/bench_scope.py
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from digestkit import policy, screen

KINDS: dict[str, Callable[[int], str]] = {
    "dashes": lambda n: "-" * n,
    "repeated words": lambda n: "word " * (n // 5),
    "fillers": lambda n: "please " * (n // 7) + "offer a credit",
    "quotes": lambda n: "'" * n,
    "spaced quotes": lambda n: "' " * (n // 2),
    "brackets": lambda n: "(" * n,
    "reported frames": lambda n: "the runbook says " * (n // 17),
    "modals": lambda n: "should " * (n // 7) + "refund",
    "address characters": lambda n: "a." * (n // 2),
}
SMALL, GROWTH = 8_000, 8
_WORDS = re.compile(r"\S+")


def best_of(fn: Callable[[], object], runs: int = 3) -> float:
    """The fastest of ``runs`` timings of ``fn``, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print(f"{'input':<20} {'what':<7} {'n':>7} {'time n':>9} {'time 8n':>9} {'growth':>7}")
    for kind, make in KINDS.items():
        small, large = make(SMALL), make(SMALL * GROWTH)
        base = [best_of(lambda t=t: _WORDS.findall(t)) for t in (small, large)]
        for what, fn in (
            ("guard", lambda t: policy.check_texts([("x", t)])),
            ("screen", lambda t: screen.find_sensitive(t)),
        ):
            # The screen takes well under a millisecond at n: best of five, against noise.
            runs = 1 if what == "guard" else 5
            took = [best_of(lambda t=t, fn=fn: fn(t), runs=runs) for t in (small, large)]
            growth = (took[1] / max(base[1], 1e-9)) / (took[0] / max(base[0], 1e-9))
            print(
                f"{kind:<20} {what:<7} {len(small):>7} {took[0]:>8.3f}s {took[1]:>8.3f}s "
                f"{growth:>7.2f}"
            )


if __name__ == "__main__":
    main()
