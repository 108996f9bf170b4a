"""
Reading DICOM and NIfTI images
==============================

:class:`~skfusion.extractors.ImageLoader` reads PNG, JPEG, TIFF and BMP
with Pillow, DICOM with pydicom (rescale slope and intercept, the file's own
VOI window, MONOCHROME1 inverted) and NIfTI with nibabel (a volume becomes
one image: its middle slice, its maximum or mean projection, or it stays a
volume for 3-D encoders). A missing path gives an all-NaN row: a missing
modality, not an error.

This example writes a small CT-like DICOM slice and a NIfTI volume (a
bright sphere) to a temporary folder, then reads them as one image column.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import nibabel as nib
import numpy as np
import pandas as pd
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    SecondaryCaptureImageStorage,
    generate_uid,
)

from skfusion.extractors import ImageLoader

folder = Path(tempfile.mkdtemp())

# %%
# A 64 x 64 DICOM slice: a disc of 1,200 stored units on 200, rescaled to
# Hounsfield-like values (slope 1, intercept -1,024) and windowed at 40 / 400.
rows, cols = np.ogrid[:64, :64]
stored = np.where((rows - 32) ** 2 + (cols - 32) ** 2 < 20**2, 1200, 200)
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
meta.MediaStorageSOPInstanceUID = generate_uid()
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.SOPClassUID = meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
ds.Modality = "CT"
ds.Rows, ds.Columns = stored.shape
ds.SamplesPerPixel = 1
ds.PhotometricInterpretation = "MONOCHROME2"
ds.BitsAllocated = ds.BitsStored = 16
ds.HighBit = 15
ds.PixelRepresentation = 0
ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
ds.WindowCenter, ds.WindowWidth = 40, 400
ds.PixelData = stored.astype("<u2").tobytes()
ds.save_as(folder / "slice.dcm", enforce_file_format=True)

# %%
# A 32 x 32 x 32 NIfTI volume holding a bright sphere.
grid = np.indices((32, 32, 32)) - 16
volume = (np.sqrt((grid**2).sum(0)) < 10).astype(np.float32)
nib.Nifti1Image(volume, np.eye(4)).to_filename(folder / "sphere.nii.gz")

# %%
# One column: the DICOM, the NIfTI (its middle slice) and a subject without
# an image.
column = pd.Series([str(folder / "slice.dcm"), str(folder / "sphere.nii.gz"), None])
loader = ImageLoader(size=(32, 32))
block = loader.fit_transform(column)
print(block.shape, "NaN row for the missing image:", np.isnan(block[2]).all())

fig, axes = plt.subplots(1, 2, figsize=(5, 2.6))
titles = ("DICOM, windowed", "NIfTI, middle slice")
for ax, row, title in zip(axes, block[:2], titles, strict=True):
    ax.imshow(row.reshape(loader.image_shape_), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
plt.tight_layout()
plt.show()
