"""What the ``image`` kind should give: the embedding, statistics, or both.

On every image dataset we have, each image is read once through
``PretrainedImageEmbedder(statistics=True)`` (EfficientNet-Lite0's 1,280
pooled features plus the colour and intensity statistics of the same decoded
image) and once through ``ImageFeatures()`` (the classical descriptors: HOG,
LBP, histograms, colour). Then, on the same folds, the default
``unimodal:image`` and ``early:linear`` strategies (fold-fitted reduction of
wide blocks, ``BlockScaler``, ``LogisticRegressionCV``) are scored on four
image blocks: the embedding alone, the statistics alone, both (the new
default), and the classical descriptors.

Datasets: the COVID-19 chest X-rays (binary, grey, grouped by patient, with
the clinical columns), the bundled audio-visual digits (MNIST images, grey,
with the spoken digit), and a synthetic colour set (450 generated 200 x 150
lesion-like images whose class is carried by the lesion's hue and texture,
with a weak clinical column).

Run as ``python -m benchmarks.bench_image_default`` (``--datasets`` to pick).
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skfusion.study import FusionStudy, default_modality_transformer

from . import bench_defaults

SHARED = bench_defaults.SHARED
CV = 3
SEED = 0


def covid():
    loaded = bench_defaults.covid()
    if loaded is None:
        return None
    table, y, groups, _ = loaded
    images = SHARED / "covid_chestxray" / "images"
    table["image"] = [
        str(images / name) if isinstance(name, str) else None for name in table["image"]
    ]
    clinical = ["age", "sex", "view"]
    other = ("clinical", default_modality_transformer("tabular", table, clinical))
    return table, y, groups, other, clinical


def av_digits():
    from skfusion.datasets import load_av_digits
    from skfusion.extractors import AudioFeatures

    bunch = load_av_digits()
    table = bunch.data[["audio", "image"]].copy()
    return table, bunch.target.to_numpy(), None, ("audio", AudioFeatures()), "audio"


def synthetic_colour(folder, n_rows=450):
    """Lesion-like colour images: the class shifts the hue and the texture."""
    from PIL import Image

    rng = np.random.default_rng(SEED)
    y = rng.choice(3, size=n_rows, p=[0.6, 0.25, 0.15])
    hue_shift = np.array([0.0, 0.06, 0.12])[y]
    paths = []
    yy, xx = np.mgrid[0:150, 0:200]
    for i in range(n_rows):
        centre = rng.uniform([60, 80], [90, 120])
        radii = rng.uniform([25, 30], [50, 65])
        inside = ((yy - centre[0]) / radii[0]) ** 2 + (
            (xx - centre[1]) / radii[1]
        ) ** 2 <= 1
        skin = np.array([0.85, 0.65, 0.55]) + rng.normal(0, 0.04, 3)
        lesion = np.array([0.45, 0.28, 0.2]) + rng.normal(0, 0.06, 3)
        lesion[0] -= hue_shift[i] * 2
        lesion[2] += hue_shift[i] * 2
        image = np.where(inside[..., None], lesion, skin)
        texture = rng.normal(0, 0.03 + 0.05 * y[i] / 2, image.shape[:2])
        image = np.clip(image + texture[..., None] * inside[..., None], 0, 1)
        path = folder / f"lesion_{i}.jpg"
        Image.fromarray((image * 255).astype(np.uint8)).save(path, quality=90)
        paths.append(str(path))
    table = pd.DataFrame({"image": paths, "age": np.round(rng.normal(50 + 3 * y, 15))})
    other = ("clinical", "passthrough")
    return table, y, None, other, ["age"]


def image_blocks(table):
    """The embedding + statistics block and the classical block, extracted once."""
    from skfusion.extractors import ImageFeatures, PretrainedImageEmbedder

    timings = {}
    start = time.perf_counter()
    both = PretrainedImageEmbedder(statistics=True, device="cpu")
    pretrained = both.fit(table["image"]).transform(table["image"])
    timings["pretrained + statistics"] = time.perf_counter() - start
    names = both.get_feature_names_out()
    pretrained = pd.DataFrame(pretrained, columns=names, index=table.index)
    start = time.perf_counter()
    classical = ImageFeatures()
    values = classical.fit(table["image"]).transform(table["image"])
    timings["classical"] = time.perf_counter() - start
    classical = pd.DataFrame(
        values,
        columns=[f"classical__{n}" for n in classical.get_feature_names_out()],
        index=table.index,
    )
    return pd.concat([pretrained, classical], axis=1), timings


def run(name, loader):
    with tempfile.TemporaryDirectory() as folder:
        loaded = loader(Path(folder)) if name == "synthetic_colour" else loader()
        if loaded is None:
            print(f"{name}: data not present, skipped")
            return None
        table, y, groups, (other_name, other), other_columns = loaded
        blocks, timings = image_blocks(table)
    table = pd.concat([table.drop(columns="image"), blocks], axis=1)
    variants = {
        "embedding": [c for c in blocks.columns if c.startswith("embedding__")],
        "statistics": [c for c in blocks.columns if c.startswith("statistics__")],
        "embedding + statistics": [
            c for c in blocks.columns if not c.startswith("classical__")
        ],
        "classical (ImageFeatures)": [
            c for c in blocks.columns if c.startswith("classical__")
        ],
    }
    rows = []
    for variant, columns in variants.items():
        study = FusionStudy(
            [(other_name, other, other_columns), ("image", "passthrough", columns)],
            strategies=["unimodal:image", "early:linear"],
            cv=CV,
            random_state=SEED,
            contributions=None,
        ).fit(table, y, groups=groups)
        metric = study.primary_metric_
        summary = study.summary_
        rows.append(
            {
                "dataset": name,
                "image block": variant,
                "columns": len(columns),
                "metric": metric,
                "unimodal:image": summary.loc["unimodal:image", f"{metric}_mean"],
                "unimodal std": summary.loc["unimodal:image", f"{metric}_std"],
                "early:linear": summary.loc["early:linear", f"{metric}_mean"],
                "early std": summary.loc["early:linear", f"{metric}_std"],
            }
        )
    result = pd.DataFrame(rows)
    print(f"{name}: {len(table)} rows; extraction seconds {timings}")
    print(result.round(3).to_string(index=False))
    return result


DATASETS = {
    "covid_chestxray": covid,
    "av_digits": av_digits,
    "synthetic_colour": synthetic_colour,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    args = parser.parse_args(argv if argv is not None else [])
    return [run(name, DATASETS[name]) for name in args.datasets]


if __name__ == "__main__":
    main(sys.argv[1:])
