#!/usr/bin/env python3
"""A stand-in for a training script, metered by joulebench measure.

It trains a one-feature logistic regression by plain gradient descent on
made-up data, with no third-party imports, and reports its work the way
joulebench measure reads it: one JSON line per epoch appended to the file
named by $JOULEBENCH_WORK_FILE, with the examples it processed ("items"),
the floating-point operations it did ("flops", counted by hand below) and
its accuracy so far ("accuracy", a fraction from 0 to 1).

    joulebench measure --meter estimate -- python3 examples/measure/train.py
"""

import json
import math
import os
import random
import signal
import sys

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
N = 100000
# Per example and epoch: w*x+b (2), the sigmoid (about 4), the error (1)
# and the two gradient terms (3): a hand count, not a measurement.
FLOPS_PER_EXAMPLE = 10

stop = False


def on_signal(signum, frame):
    # joulebench forwards Ctrl-C to the script's process group; finishing
    # the epoch and reporting it is metered too.
    global stop
    stop = True


signal.signal(signal.SIGINT, on_signal)
signal.signal(signal.SIGTERM, on_signal)

rng = random.Random(42)
data = []
for _ in range(N):
    x = rng.gauss(0, 1)
    data.append((x, 1 if x + rng.gauss(0, 0.5) > 0 else 0))

work_file = os.environ.get("JOULEBENCH_WORK_FILE")
w, b, lr = 0.0, 0.0, 0.5
for epoch in range(EPOCHS):
    gw = gb = 0.0
    correct = 0
    for x, y in data:
        p = 1 / (1 + math.exp(-(w * x + b)))
        gw += (p - y) * x
        gb += p - y
        correct += (p >= 0.5) == (y == 1)
    w -= lr * gw / N
    b -= lr * gb / N
    acc = correct / N
    print(f"epoch {epoch + 1}: accuracy {acc:.4f}", flush=True)
    if work_file:
        with open(work_file, "a") as f:
            f.write(json.dumps({"items": N, "flops": N * FLOPS_PER_EXAMPLE, "accuracy": acc}) + "\n")
    if stop:
        print("interrupted: stopping after this epoch", file=sys.stderr)
        sys.exit(130)
