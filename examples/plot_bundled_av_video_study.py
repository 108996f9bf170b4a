"""
A video study: what is seen and what is heard
=============================================

A video file holds two modalities: its frames and its audio track. This
example writes the bundled audio-visual digits as MP4 videos with
:func:`~skfusion.datasets.make_av_digit_videos`: each video shows a
handwritten digit (MNIST, CC BY-SA 3.0) drifting slightly, and plays a
spoken recording of the same digit (FSDD, CC BY-SA 4.0) as its sound.

One column of paths gives both modalities: the frames through
:class:`~skfusion.extractors.VideoFeatures` (frames sampled uniformly in
time, described one by one, pooled over time, with motion, duration and frame
rate) and the sound through :class:`~skfusion.extractors.VideoAudioFeatures`
(the audio track through :class:`~skfusion.extractors.AudioFeatures`). A
:class:`~skfusion.study.FusionStudy` compares each stream alone with their
fusion. From the command line, the same study is::

    skfusion study videos.csv --target digit \\
        --modality frames=video:video --modality sound=video-audio:video

The frames go through scikit-image descriptors here, to run in seconds; the
study's default for images and video frames is the pretrained
EfficientNet-Lite0 embedder (``skfusion[pretrained]``).
"""

import tempfile

import av
import matplotlib.pyplot as plt
import numpy as np

from skfusion.datasets import make_av_digit_videos
from skfusion.extractors import (
    AudioFeatures,
    ImageFeatures,
    VideoAudioFeatures,
    VideoFeatures,
)
from skfusion.study import FusionStudy

folder = tempfile.mkdtemp(prefix="skfusion-av-videos-")
videos = make_av_digit_videos(folder, subset="test", n_per_digit=8)
table = videos.frame
print(f"{len(table)} videos in {folder}")
print(table.head(3).to_string())

# %%
# The frames of one video: the digit drifts by a few pixels, so that
# successive frames differ (VideoFeatures measures that as motion).
with av.open(table["video"].iloc[0]) as container:
    frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
print(f"{len(frames)} frames of {frames[0].shape[1]}x{frames[0].shape[0]} pixels")

# %%
# Frames and sound of the same column, compared alone and fused, on the same
# folds (4 folds, stratified by digit).
frames_extractor = VideoFeatures(
    ImageFeatures(size=(32, 32), features=("intensity", "hog")), n_frames=4
)
study = FusionStudy(
    [
        ("frames", frames_extractor, "video"),
        ("sound", VideoAudioFeatures(AudioFeatures()), "video"),
    ],
    strategies=["unimodal:frames", "unimodal:sound", "early:linear", "late:mean"],
    cv=4,
    contributions=None,
    random_state=0,
).fit(table, table["digit"])
scores = study.summary_[["balanced_accuracy_mean", "balanced_accuracy_std"]]
print(scores.round(3).to_string())

# %%
# The sampled frames of the first video, and the balanced accuracy of each
# strategy (mean and standard deviation over the folds).
figure, (strip, bars) = plt.subplots(
    2, 1, figsize=(7, 5), gridspec_kw={"height_ratios": [1, 2]}
)
shown = np.unique(np.linspace(0, len(frames) - 1, 6).round().astype(int))
strip.imshow(np.hstack([frames[i] for i in shown]))
strip.set_axis_off()
strip.set_title(f"digit {table['digit'].iloc[0]}: frames {shown.tolist()}")
bars.barh(
    scores.index,
    scores["balanced_accuracy_mean"],
    xerr=scores["balanced_accuracy_std"],
    color=["tab:blue", "tab:orange", "tab:green", "tab:green"],
)
bars.set_xlim(0, 1)
bars.set_xlabel("balanced accuracy (4 folds)")
bars.invert_yaxis()
plt.tight_layout()
plt.show()
