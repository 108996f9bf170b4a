"""Regenerate the data bundled in ``skfusion/datasets/data/``.

The sources are the curated copies under ``shared/data`` (see the README in each
source folder). Running this script twice gives byte-identical output: gzip
members carry no timestamp or file name, zip members a fixed date, and every
listing is sorted.

Usage::

    python scripts/bundle_datasets.py [SOURCE_DIR]

``SOURCE_DIR`` defaults to ``../shared/data`` relative to the repository root.
"""

import argparse
import csv
import gzip
import hashlib
import io
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "skfusion" / "datasets" / "data"
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "data"

DRUGLIB_FILES = ("drugLibTrain_raw.tsv", "drugLibTest_raw.tsv")

# Recordings 0-9 of every (digit, speaker): 5 from FSDD's official test split
# (index 0-4) and 5 from its train split, 600 files in all.
FSDD_MAX_INDEX = 9
N_SPEAKERS, N_DIGITS = 6, 10

# md5 of the uncompressed canonical MNIST test files (from the source README).
MNIST_IMAGES_MD5 = "2646ac647ad5339dbf082846283269ea"
MNIST_LABELS_MD5 = "27ae3e4e09519cfbb04c329615203637"

# A fixed zip timestamp (the earliest zip can store) keeps the .npz reproducible.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

LICENSES = {
    "druglib.txt": """\
Drug Review Dataset (Druglib.com)
=================================

Licence: Creative Commons Attribution 4.0 International (CC BY 4.0)
Licence text: https://creativecommons.org/licenses/by/4.0/legalcode

Attribution:
  UCI Machine Learning Repository, "Drug Review Dataset (Druglib.com)",
  doi:10.24432/C55G6J.
  F. Graesser, S. Kallumadi, H. Malberg, S. Zaunseder. "Aspect-Based Sentiment
  Analysis of Drug Reviews Applying Cross-Domain and Cross-Data Learning."
  Proceedings of the 2018 International Conference on Digital Health (DH'18),
  121-125, 2018.
  The review texts are user-generated content from druglib.com.

Subset and changes:
  Both official splits in full: drugLibTrain_raw.tsv (3,107 reviews) and
  drugLibTest_raw.tsv (1,036 reviews), with the original UCI header line.
  The files are stored gzip-compressed; their decompressed bytes are identical
  to the source files. No rows or fields were removed or edited.
  At load time skfusion.datasets.load_druglib renames the columns, maps the
  effectiveness and side-effect levels to integers 1-5, normalises line ends
  inside the review texts to "\\n", turns empty texts into missing values and
  derives the 3-class rating target; the files themselves are unchanged.
""",
    "fsdd.txt": """\
Free Spoken Digit Dataset (FSDD)
================================

Licence: Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0)
Licence text: https://creativecommons.org/licenses/by-sa/4.0/legalcode

Attribution:
  Z. Jackson and contributors. "Free Spoken Digit Dataset (FSDD)."
  https://github.com/Jakobovski/free-spoken-digit-dataset, commit
  26eb9aaf76e81b692f806f9140c2d2777410d7a1 (v1.0.10-27-g26eb9aa).
  Versioned Zenodo record: https://zenodo.org/badge/latestdoi/61622039

Subset and changes:
  600 of the 3,000 recordings: for each of the 6 speakers and 10 digits, the
  recordings with index 0-9 ({digit}_{speaker}_{index}.wav). Index 0-4 belong to
  FSDD's official test split, 5-9 to its train split. The WAV files are copied
  byte for byte, unchanged. av_digits/pairs.csv lists the subset together with
  the MNIST test image paired with each recording.
  Under CC BY-SA 4.0, redistributed or adapted copies of these recordings must
  keep this licence.
""",
    "mnist.txt": """\
MNIST database of handwritten digits (test set)
===============================================

Licence: Creative Commons Attribution-ShareAlike 3.0 Unported (CC BY-SA 3.0),
as stated on the MNIST page.
Licence text: https://creativecommons.org/licenses/by-sa/3.0/legalcode

Attribution:
  Y. LeCun, C. Cortes, C. J. C. Burges. "The MNIST database of handwritten
  digits." http://yann.lecun.com/exdb/mnist/
  Copy used: https://github.com/kelas/mnist, commit
  283b387221ab46655e600cfcc25d843bb14292b9 (t10k-images-idx3-ubyte, md5
  2646ac647ad5339dbf082846283269ea after decompression).

Subset and changes:
  600 of the 10,000 test images, the ones given by the "mnist_index" column of
  the curated AV pairing table (one image of the same digit per FSDD recording,
  drawn without replacement with numpy default_rng(0); recordings in FSDD's test
  split drew from MNIST test rows 5000-9999, the others from rows 0-4999, so no
  image is shared between the two splits). The 28x28 uint8 pixel arrays are
  stored unchanged in av_digits/images.npz (array "images", in the row order of
  av_digits/pairs.csv; array "mnist_index" gives each image's MNIST test row).
  The pairing of image and recording is by label only, so the two modalities
  are conditionally independent given the digit.
""",
}


def _write_gzip(src, dst):
    # mtime=0 and no embedded file name make the output reproducible.
    dst.write_bytes(gzip.compress(src.read_bytes(), compresslevel=9, mtime=0))


def _md5(data):
    return hashlib.md5(data).hexdigest()


def _read_idx(path, expected_md5, offset):
    raw = gzip.decompress(path.read_bytes())
    if _md5(raw) != expected_md5:
        raise RuntimeError(f"{path} does not have the expected md5 {expected_md5}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset)


def _write_npz(path, arrays):
    """Write arrays to an .npz with fixed zip metadata (np.savez stamps the time)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(arrays[name]))
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buffer.getvalue(), compresslevel=9)


def bundle_druglib(source, out):
    out.mkdir(parents=True)
    for name in DRUGLIB_FILES:
        _write_gzip(source / name, out / f"{name}.gz")


def bundle_av_digits(source, out):
    with open(source / "pairs.csv", newline="") as f:
        rows = [row for row in csv.DictReader(f) if int(row["index"]) <= FSDD_MAX_INDEX]
    rows.sort(key=lambda r: (int(r["digit"]), r["speaker"], int(r["index"])))
    if len(rows) != N_SPEAKERS * N_DIGITS * (FSDD_MAX_INDEX + 1):
        raise RuntimeError(f"unexpected number of selected recordings: {len(rows)}")

    images = _read_idx(
        source / "mnist" / "t10k-images-idx3-ubyte.gz", MNIST_IMAGES_MD5, offset=16
    ).reshape(-1, 28, 28)
    labels = _read_idx(
        source / "mnist" / "t10k-labels-idx1-ubyte.gz", MNIST_LABELS_MD5, offset=8
    )
    mnist_index = np.array([int(r["mnist_index"]) for r in rows], dtype=np.int64)
    digits = np.array([int(r["digit"]) for r in rows])
    if not np.array_equal(labels[mnist_index], digits):
        raise RuntimeError("pairs.csv pairs a recording with an image of another digit")

    recordings = out / "recordings"
    recordings.mkdir(parents=True)
    for row in rows:
        shutil.copyfile(
            source / "fsdd" / "recordings" / row["wav"], recordings / row["wav"]
        )

    fields = ["wav", "digit", "speaker", "index", "split", "mnist_index"]
    with open(out / "pairs.csv", "w", newline="") as f:
        writer = csv.DictWriter(
            f, fieldnames=fields, extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)

    _write_npz(
        out / "images.npz", {"images": images[mnist_index], "mnist_index": mnist_index}
    )


def bundle_licenses(out):
    out.mkdir(parents=True)
    for name, text in sorted(LICENSES.items()):
        (out / name).write_text(text, newline="\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        default=DEFAULT_SOURCE,
        help="folder holding druglib_reviews/ and fsdd_mnist_av/ "
        "(default: %(default)s)",
    )
    args = parser.parse_args(argv)
    source = args.source.resolve()
    if not source.is_dir():
        parser.error(f"source folder not found: {source}")

    # Only the folders this script owns are replaced; anything else is kept.
    for name in ("druglib", "av_digits", "LICENSES"):
        shutil.rmtree(DATA_DIR / name, ignore_errors=True)
    bundle_druglib(source / "druglib_reviews", DATA_DIR / "druglib")
    bundle_av_digits(source / "fsdd_mnist_av", DATA_DIR / "av_digits")
    bundle_licenses(DATA_DIR / "LICENSES")

    total = sum(p.stat().st_size for p in DATA_DIR.rglob("*") if p.is_file())
    print(f"wrote {DATA_DIR} ({total / 2**20:.2f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
