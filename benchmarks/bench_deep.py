"""Deep fusion: ``DeepFusionClassifier`` against hand-written torch loops.

Two comparisons, on the CPU (or CUDA with ``--device cuda``), same data,
epochs, batch size and seed on both sides:

- ``identical``: a hand loop training the *identical* ``FusionNet`` (the one
  the estimator's defaults build, AdamW with its defaults) against the
  estimator with ``early_stopping=False``. This isolates what the estimator
  and skorch cost per batch.

  (a) MLP-sized: two blocks of 20 and 30 features, 8,192 rows, 5 epochs.
  (b) CNN-sized: an image block of 1×28×28 (CNN2d encoder) plus 10 tabular
      features, 2,048 rows, 2 epochs.

- ``minimal``: the default ``DeepFusionClassifier(fusion="concat",
  batch_size=128)`` against the ~20-line loop one writes first: one
  ``Linear(width, 32) + ReLU`` per block (widths 20 and 30), a 64-wide
  hidden head, Adam, cross-entropy; 2,500 rows, 20 epochs. The estimator
  runs twice: with ``early_stopping=False`` (both sides train every row for
  20 epochs) and with its default validation on (10% of the rows held out
  and scored after every epoch, with a patience of 20 so that it too runs
  20 epochs); the second ratio prices the validation.

Every timed run starts from the DataFrame: standardisation and tensors are
part of the training time; prediction standardises the DataFrame with the
training statistics, runs the network without gradient and returns NumPy
probabilities, and its time is the median of ``PREDICT_CALLS`` consecutive
calls after training (a single call of a few milliseconds varies by half
from run to run on a shared machine). The variants alternate in one
process; each time is the median of ``--repeats`` runs after a warm-up.
Peak memory: each identical-network variant once in a fresh child process,
so that its peak resident memory is its own.

Reported per comparison: training throughput (samples/s: rows × epochs over
the training time), the train ratio (hand time / skfusion time; targets
≥ 0.95 for ``identical``, ≥ 0.85 for ``minimal``) and the predict_proba time
ratio (skfusion time / hand time; target ≤ 1.1).
"""

import argparse
import multiprocessing
import resource
import time

import numpy as np

BATCH_SIZE = 128
PREDICT_CALLS = 7
HIDDEN = 64
LR = 1e-3
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
MINIMAL = {"n_samples": 2500, "modality_sizes": (20, 30), "epochs": 20}


def _data(case):
    from skfusion.datasets import make_multimodal_classification

    X, y = make_multimodal_classification(
        case["n_samples"],
        modality_sizes=case["modality_sizes"],
        informativeness=2.0,
        random_state=0,
    )
    return X, y.to_numpy()


def _standardize(X, mean=None, std=None):
    values = X.to_numpy()
    if mean is None:
        mean, std = values.mean(0), values.std(0)
    return (values - mean) / std, mean, std


def _default_network(case, torch):
    """The FusionNet that ``DeepFusionClassifier``'s defaults build."""
    from skfusion.deep import DeepFusionClassifier, FusionNet

    defaults = DeepFusionClassifier().get_params()
    torch.manual_seed(0)
    return FusionNet(
        [("m0", case["modality_sizes"][0]), ("m1", case["modality_sizes"][1])],
        encoders=case["encoders"],
        fusion="concat",
        embed_dim=defaults["embed_dim"],
        hidden_dim=HIDDEN,
        dropout=defaults["dropout"],
        n_outputs=2,
    )


def _minimal_network(case, torch):
    """One Linear+ReLU per block, concatenated, a 64-wide hidden head."""
    nn = torch.nn
    torch.manual_seed(0)
    widths = case["modality_sizes"]

    class Minimal(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(
                nn.Sequential(nn.Linear(w, 32), nn.ReLU()) for w in widths
            )
            self.head = nn.Sequential(
                nn.Linear(32 * len(widths), HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 2)
            )

        def forward(self, x):
            parts = torch.split(x, widths, dim=1)
            return self.head(
                torch.cat([b(p) for b, p in zip(self.blocks, parts, strict=True)], 1)
            )

    return Minimal()


def _hand_loop(case, device, network, optimizer):
    """What one writes by hand: standardise, slice tensors, train, predict."""
    import torch

    X, y = _data(case)
    start = time.perf_counter()
    standardized, mean, std = _standardize(X)
    x = torch.as_tensor(standardized, dtype=torch.float32, device=device)
    targets = torch.as_tensor(np.array(y), dtype=torch.long, device=device)
    net = network(case, torch).to(device)
    optimizer = optimizer(net.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(0)
    net.train()
    for _ in range(case["epochs"]):
        order = torch.randperm(len(x), generator=generator).to(device)
        for begin in range(0, len(x), BATCH_SIZE):
            rows = order[begin : begin + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_fn(net(x[rows]), targets[rows])
            loss.backward()
            optimizer.step()
    train_time = time.perf_counter() - start

    def predict():
        net.eval()
        with torch.no_grad():
            new = torch.as_tensor(
                _standardize(X, mean, std)[0], dtype=torch.float32, device=device
            )
            return torch.softmax(net(new), 1).cpu().numpy()

    return len(x), train_time, _predict_time(predict)


def _predict_time(predict):
    """Median time of ``PREDICT_CALLS`` consecutive calls (after training)."""
    times = []
    for _ in range(PREDICT_CALLS):
        start = time.perf_counter()
        predict()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _hand_identical(case, device):
    import functools

    import torch

    # The optimizer as the estimator builds it: fused where torch can.
    adamw = functools.partial(torch.optim.AdamW, fused=True)
    return _hand_loop(case, device, _default_network, adamw)


def _hand_minimal(case, device):
    import torch

    return _hand_loop(case, device, _minimal_network, torch.optim.Adam)


def _skfusion(case, device, **params):
    from skfusion.deep import DeepFusionClassifier

    X, y = _data(case)
    model = DeepFusionClassifier(
        fusion="concat",
        batch_size=BATCH_SIZE,
        max_epochs=case["epochs"],
        device=device,
        random_state=0,
        **params,
    )
    start = time.perf_counter()
    model.fit(X, y)
    train_time = time.perf_counter() - start
    return len(X), train_time, _predict_time(lambda: model.predict_proba(X))


def _skfusion_identical(case, device):
    return _skfusion(
        case,
        device,
        encoders=case["encoders"],
        hidden_dim=HIDDEN,
        lr=LR,
        early_stopping=False,
    )


def _skfusion_default(case, device):
    return _skfusion(case, device, early_stopping=False)


def _skfusion_default_validated(case, device):
    # Patience = epochs: the validation runs every epoch, nothing stops early.
    return _skfusion(case, device, n_iter_no_change=case["epochs"])


IDENTICAL = {"hand": _hand_identical, "skfusion": _skfusion_identical}


def _peak_memory(args):
    """Peak RSS (MB) of a fresh process that trains and predicts once."""
    runner, case_name, device = args
    IDENTICAL[runner](CASES[case_name], device)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _medians(runners, case, device, repeats):
    """Median (train, predict) time of each runner; runners alternate."""
    for function in runners.values():
        function(case, device)  # warm-up (allocator, kernels, imports)
    times = {name: [] for name in runners}
    for _ in range(repeats):
        for name, function in runners.items():
            n, train_time, predict_time = function(case, device)
            times[name].append((train_time, predict_time))
    return n, {name: np.median(values, axis=0) for name, values in times.items()}


def _row(comparison, case_name, device, n, epochs, hand, skfusion):
    return {
        "comparison": comparison,
        "case": case_name,
        "device": device,
        "hand_train_samples_per_s": n * epochs / hand[0],
        "skfusion_train_samples_per_s": n * epochs / skfusion[0],
        "train_ratio": hand[0] / skfusion[0],
        "hand_predict_ms": hand[1] * 1e3,
        "skfusion_predict_ms": skfusion[1] * 1e3,
        "predict_time_ratio": skfusion[1] / hand[1],
    }


def run(device="cpu", repeats=5, memory=True):
    """Both comparisons; medians of ``repeats`` alternating runs.

    Peak memory (``memory=True``): each identical-network variant once in
    its own fresh process.
    """
    context = multiprocessing.get_context("spawn")
    rows = []
    for case_name, case in CASES.items():
        n, median = _medians(IDENTICAL, case, device, repeats)
        row = _row("identical", case_name, device, n, case["epochs"], *median.values())
        if memory:
            for name in IDENTICAL:
                with context.Pool(1) as pool:
                    row[f"{name}_peak_rss_mb"] = pool.map(
                        _peak_memory, [(name, case_name, device)]
                    )[0]
        rows.append(row)
    runners = {
        "hand": _hand_minimal,
        "default": _skfusion_default,
        "validated": _skfusion_default_validated,
    }
    n, median = _medians(runners, MINIMAL, device, repeats)
    epochs = MINIMAL["epochs"]
    rows.append(
        _row(
            "minimal",
            "2500x(20+30)",
            device,
            n,
            epochs,
            median["hand"],
            median["default"],
        )
    )
    rows.append(
        _row(
            "minimal+validation",
            "2500x(20+30)",
            device,
            n,
            epochs,
            median["hand"],
            median["validated"],
        )
    )
    return rows


def main(argv=None):
    import pandas as pd

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory children"
    )
    args = parser.parse_args(argv or [])
    results = pd.DataFrame(run(args.device, args.repeats, not args.no_memory))
    with pd.option_context("display.width", 200):
        print(results.round(2).T.to_string())
    return results


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
