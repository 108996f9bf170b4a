"""Deep fusion: skorch-wrapped training against a hand-written torch loop.

Both train the identical ``FusionNet`` (same seed, same data, same batch size,
epochs, optimiser and learning rate) on the CPU, or on CUDA with
``--device cuda``. Throughput: the two alternate in one process, best of
``--repeats``; the timed work includes everything from the DataFrame to the
trained network (standardisation, tensors, training). Peak memory: each once
in a fresh child process, so that its peak resident memory is its own.

(a) MLP-sized: two blocks of 20 and 30 features, hidden 64, batch 128.
(b) CNN-sized: an image block of 1×28×28 (CNN2d encoder) plus 10 tabular
    features, batch 128.

Reported: training throughput (samples/s) of both and their ratio
(skfusion / hand loop; targets: ≥ 0.85 for (a), ≥ 0.95 for (b)),
``predict_proba`` throughput, and peak RSS of each child process.
"""

import argparse
import multiprocessing
import resource
import time

import numpy as np

CASES = {
    "a_mlp": {
        "n_samples": 8192,
        "modality_sizes": (20, 30),
        "encoders": None,
        "epochs": 5,
    },
    "b_cnn": {
        "n_samples": 2048,
        "modality_sizes": (784, 10),
        "encoders": {"m0": ("cnn2d", {"shape": (1, 28, 28)})},
        "epochs": 2,
    },
}
BATCH_SIZE = 128
HIDDEN = 64
LR = 1e-3


def _data(case):
    from skfusion.datasets import make_multimodal_classification

    X, y = make_multimodal_classification(
        case["n_samples"],
        modality_sizes=case["modality_sizes"],
        informativeness=2.0,
        random_state=0,
    )
    return X, y.to_numpy()


def _network(case, torch):
    from skfusion.deep import FusionNet

    torch.manual_seed(0)
    return FusionNet(
        [("m0", case["modality_sizes"][0]), ("m1", case["modality_sizes"][1])],
        encoders=case["encoders"],
        fusion="concat",
        hidden_dim=HIDDEN,
        n_outputs=2,
    )


def _hand_loop(case, device):
    """What one writes by hand: standardise, slice tensors, train, predict."""
    import torch

    X, y = _data(case)
    start = time.perf_counter()
    values = X.to_numpy()
    standardized = (values - values.mean(0)) / values.std(0)
    x = torch.as_tensor(standardized, dtype=torch.float32, device=device)
    mask = torch.ones((len(x), 2), dtype=torch.bool, device=device)
    targets = torch.as_tensor(np.array(y), dtype=torch.long, device=device)
    net = _network(case, torch).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    net.train()
    for _ in range(case["epochs"]):
        order = torch.randperm(len(x), generator=generator).to(device)
        for begin in range(0, len(x), BATCH_SIZE):
            rows = order[begin : begin + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_fn(net(x[rows], mask[rows]), targets[rows])
            loss.backward()
            optimizer.step()
    train_time = time.perf_counter() - start

    start = time.perf_counter()
    net.eval()
    with torch.no_grad():
        outputs = [
            torch.softmax(net(x[b : b + BATCH_SIZE], mask[b : b + BATCH_SIZE]), 1)
            for b in range(0, len(x), BATCH_SIZE)
        ]
    np.concatenate([o.cpu().numpy() for o in outputs])
    predict_time = time.perf_counter() - start
    return len(x), train_time, predict_time


def _skfusion(case, device):
    from skfusion.deep import DeepFusionClassifier

    X, y = _data(case)
    model = DeepFusionClassifier(
        fusion="concat",
        encoders=case["encoders"],
        hidden_dim=HIDDEN,
        lr=LR,
        max_epochs=case["epochs"],
        batch_size=BATCH_SIZE,
        early_stopping=False,
        device=device,
        random_state=0,
    )
    start = time.perf_counter()
    model.fit(X, y)
    train_time = time.perf_counter() - start
    start = time.perf_counter()
    model.predict_proba(X)
    predict_time = time.perf_counter() - start
    return len(X), train_time, predict_time


def _peak_memory(args):
    """Peak RSS (MB) of a fresh process that trains and predicts once."""
    runner, case_name, device = args
    function = {"hand": _hand_loop, "skfusion": _skfusion}[runner]
    function(CASES[case_name], device)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(device="cpu", repeats=5):
    """Throughput: both variants alternate in this process, best of ``repeats``.

    Peak memory: each variant once in its own fresh process.
    """
    context = multiprocessing.get_context("spawn")
    rows = []
    for case_name, case in CASES.items():
        runners = {"hand": _hand_loop, "skfusion": _skfusion}
        for function in runners.values():
            function(case, device)  # warm-up (allocator, kernels, imports)
        best = dict.fromkeys(runners, (np.inf, np.inf))
        for _ in range(repeats):
            for name, function in runners.items():
                n, train_time, predict_time = function(case, device)
                best[name] = (
                    min(best[name][0], train_time),
                    min(best[name][1], predict_time),
                )
        peak = {}
        for name in runners:
            with context.Pool(1) as pool:
                peak[name] = pool.map(_peak_memory, [(name, case_name, device)])[0]
        samples = n * case["epochs"]
        rows.append(
            {
                "case": case_name,
                "device": device,
                "hand_train_samples_per_s": samples / best["hand"][0],
                "skfusion_train_samples_per_s": samples / best["skfusion"][0],
                "train_ratio": best["hand"][0] / best["skfusion"][0],
                "hand_predict_samples_per_s": n / best["hand"][1],
                "skfusion_predict_samples_per_s": n / best["skfusion"][1],
                "hand_peak_rss_mb": peak["hand"],
                "skfusion_peak_rss_mb": peak["skfusion"],
            }
        )
    return rows


def main(argv=None):
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv or [])
    results = pd.DataFrame(run(args.device, args.repeats))
    with pd.option_context("display.width", 200):
        print(results.round(2).T.to_string())
    return results


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
