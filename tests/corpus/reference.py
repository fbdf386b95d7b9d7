"""Reference values from pydicom (with pylibjpeg) for the test corpus.

reference CORPUS   writes CORPUS/reference/manifest.json and one .npy of
                   stored values per decodable file (pydicom's pixel_array,
                   colour as RGB), plus modality LUT output where it is not
                   the identity.
eight-bit SRC DST  writes an 8-bit MONOCHROME2 copy of SRC (for JPEG baseline).
fragment SRC DST SIZE
                   rewrites SRC's encapsulated frames as fragments of at most
                   SIZE bytes with an empty Basic Offset Table (as the WG-04
                   compression test set stores its files), for any codec.
cut SRC DST       a copy of single-frame J2K SRC, as a new study, whose codestream
                   lost its last half (valid DICOM framing around it): what a
                   PACS retrieval must refuse. Kept in damaged/, outside the
                   reference set.
htj2k SRC DST {lossless|lossy}
                   transcodes SRC's grayscale frame to High-Throughput JPEG
                   2000 with OpenJPH's ojph_compress (Debian's openjph-tools):
                   lossless (1.2.840.10008.1.2.4.201) or lossy (.203).
"""
import hashlib
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut

warnings.simplefilter("ignore")

LOSSY = {
    "1.2.840.10008.1.2.4.50",
    "1.2.840.10008.1.2.4.51",
    "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.203",
}


def reference(corpus: Path) -> None:
    out = corpus / "reference"
    out.mkdir(exist_ok=True)
    entries = []
    for path in sorted(corpus.rglob("*")):
        if not path.is_file() or out in path.parents or path.name.startswith("."):
            continue
        if (corpus / "damaged") in path.parents:
            continue
        rel = path.relative_to(corpus).as_posix()
        try:
            ds = pydicom.dcmread(path)
        except Exception:
            continue
        if "PixelData" not in ds:
            continue
        try:
            arr = ds.pixel_array
        except Exception as e:  # pydicom cannot decode it either
            entries.append({"path": rel, "pydicom_error": (str(e).splitlines() or [type(e).__name__])[0][:200]})
            continue
        frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
        name = hashlib.sha256(rel.encode()).hexdigest()[:16]
        np.save(out / f"{name}.npy", np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"))))
        ts = str(ds.file_meta.TransferSyntaxUID)
        entry = {
            "path": rel,
            "npy": f"{name}.npy",
            "transfer_syntax": ts,
            "lossy": ts in LOSSY,
            "frames": frames,
            "shape": list(arr.shape),
            "bits_stored": int(ds.BitsStored),
            "photometric": str(ds.PhotometricInterpretation),
        }
        mono = str(ds.PhotometricInterpretation).startswith("MONOCHROME")
        has_mlut = "ModalityLUTSequence" in ds or (
            "RescaleSlope" in ds and (float(ds.RescaleSlope) != 1 or float(ds.get("RescaleIntercept", 0)) != 0)
        )
        if mono and has_mlut and arr.size <= 4_000_000:
            first = arr[0] if frames > 1 else arr
            mod = apply_modality_lut(first, ds).astype(np.float64)
            np.save(out / f"{name}.modality.npy", mod)
            entry["modality_npy"] = f"{name}.modality.npy"
        entries.append(entry)
    (out / "manifest.json").write_text(json.dumps(entries, indent=1))
    print(f"reference: {sum('npy' in e for e in entries)} decoded, "
          f"{sum('pydicom_error' in e for e in entries)} not decodable by pydicom")


def eight_bit(src: Path, dst: Path) -> None:
    ds = pydicom.dcmread(src)
    arr = ds.pixel_array.astype(np.float64)
    lo, hi = np.percentile(arr, [0.5, 99.5])
    arr = np.clip((arr - lo) / (hi - lo) * 255.0, 0, 255)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        arr = 255 - arr
    ds.PixelData = arr.astype(np.uint8).tobytes()
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.WindowCenter = 128
    ds.WindowWidth = 256
    ds.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=["overread-rg1-8bit"])
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(dst, enforce_file_format=True)


def fragment(src: Path, dst: Path, size: int) -> None:
    from pydicom.encaps import generate_frames, encapsulate

    ds = pydicom.dcmread(src)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    codestreams = list(generate_frames(ds.PixelData, number_of_frames=frames))
    pieces = []
    for stream in codestreams:
        stream = stream + b"\0" * (len(stream) % 2)
        pieces.extend(stream[i:i + size] for i in range(0, len(stream), size))
    # One "frame" per fragment: encapsulate() writes each as its own item.
    ds.PixelData = encapsulate(pieces, has_bot=False)
    ds.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[f"overread-fragmented-{src.name}-{size}"])
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(dst, enforce_file_format=True)


def cut(src: Path, dst: Path) -> None:
    from pydicom.encaps import encapsulate, generate_frames

    ds = pydicom.dcmread(src)
    stream = next(generate_frames(ds.PixelData, number_of_frames=1))
    half = stream[: len(stream) // 2 // 2 * 2]
    ds.PixelData = encapsulate([half])
    for attr in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        setattr(ds, attr, pydicom.uid.generate_uid(entropy_srcs=[f"overread-cut-{src.name}-{attr}"]))
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(dst, enforce_file_format=True)


def htj2k(src: Path, dst: Path, kind: str) -> None:
    from pydicom.encaps import encapsulate

    ds = pydicom.dcmread(src)
    arr = ds.pixel_array
    assert arr.ndim == 2 and ds.PixelRepresentation == 0, "grayscale, unsigned only"
    bits = int(ds.BitsStored)
    with tempfile.TemporaryDirectory() as tmp:
        pgm, j2c = Path(tmp) / "in.pgm", Path(tmp) / "out.j2c"
        # Netpbm: maxval sets the bit depth; samples are big-endian words.
        header = f"P5\n{arr.shape[1]} {arr.shape[0]}\n{(1 << bits) - 1}\n".encode()
        pgm.write_bytes(header + arr.astype(">u2").tobytes())
        args = ["ojph_compress", "-i", str(pgm), "-o", str(j2c), "-prog_order", "RPCL"]
        args += ["-reversible", "true"] if kind == "lossless" else ["-qstep", "0.002"]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        stream = j2c.read_bytes()
    ds.PixelData = encapsulate([stream + b"\0" * (len(stream) % 2)])
    ds["PixelData"].VR = "OB"
    ts = "1.2.840.10008.1.2.4.201" if kind == "lossless" else "1.2.840.10008.1.2.4.203"
    ds.file_meta.TransferSyntaxUID = ts
    if kind == "lossy":
        ds.LossyImageCompression = "01"
        ds.LossyImageCompressionMethod = "ISO_15444_15"
    # A study of its own, so that a PACS holds it beside RG1's other syntaxes.
    for attr in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        setattr(ds, attr, pydicom.uid.generate_uid(entropy_srcs=[f"overread-htj2k-{src.name}-{kind}-{attr}"]))
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(dst, enforce_file_format=True)


if __name__ == "__main__":
    if sys.argv[1] == "reference":
        reference(Path(sys.argv[2]))
    elif sys.argv[1] == "eight-bit":
        eight_bit(Path(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1] == "fragment":
        fragment(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "cut":
        cut(Path(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1] == "htj2k":
        htj2k(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
    else:
        sys.exit(f"unknown command {sys.argv[1]}")
