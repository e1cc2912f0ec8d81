"""A compact container for what the browser draws: a JSON header and typed arrays.

Layout (little-endian)::

    b"GMMX" | uint32 header length | header (UTF-8 JSON) | padding | array bytes ...

The header holds ``meta`` (any JSON) and, for every array, its dtype, shape and byte
offset, each offset a multiple of 8 so the browser can view the bytes as a typed array
without copying. ``pack(..., compress=True)`` deflates the container behind the magic
``b"GMMZ"``: frame after frame of point colours repeats itself, and the browser inflates
it with the standard ``DecompressionStream``. ``dashboard/static/explorer.js`` reads the
same format; ``unpack`` is its Python twin, for tests and tools.
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np

MAGIC = b"GMMX"
COMPRESSED_MAGIC = b"GMMZ"
ALIGNMENT = 8
# The dtypes JavaScript has typed arrays for (no int64: JSON numbers and Float64 do).
DTYPES = {"f4": np.float32, "f8": np.float64, "u1": np.uint8, "u2": np.uint16,
          "i4": np.int32, "u4": np.uint32}
_COMPRESSION_LEVEL = 6


def _padding(length: int) -> bytes:
    return b"\0" * (-length % ALIGNMENT)


def pack(meta: dict, arrays: dict[str, np.ndarray], compress: bool = True) -> bytes:
    """``meta`` and ``arrays`` (each in one of ``DTYPES``) as one container."""
    specs, chunks, offset = {}, [], 0
    for name, array in arrays.items():
        array = np.asarray(array)
        dtype = array.dtype.newbyteorder("<").str[1:]
        if dtype not in DTYPES:
            raise ValueError(f"array {name!r} has dtype {array.dtype}; use one of "
                             f"{', '.join(DTYPES)}")
        raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
        specs[name] = {"dtype": dtype, "shape": list(array.shape), "offset": offset}
        chunks += [raw, _padding(len(raw))]
        offset += len(raw) + len(chunks[-1])
    header = json.dumps({"meta": meta, "arrays": specs}, separators=(",", ":"),
                        allow_nan=False).encode("utf-8")
    prefix = MAGIC + struct.pack("<I", len(header)) + header
    container = b"".join([prefix, _padding(len(prefix)), *chunks])
    if compress:
        return COMPRESSED_MAGIC + zlib.compress(container, _COMPRESSION_LEVEL)
    return container


def unpack(payload: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """``(meta, arrays)`` from ``pack``'s output."""
    payload = bytes(payload)
    if payload[:4] == COMPRESSED_MAGIC:
        payload = zlib.decompress(payload[4:])
    if payload[:4] != MAGIC:
        raise ValueError("not a GMM Explorer payload")
    (length,) = struct.unpack("<I", payload[4:8])
    header = json.loads(payload[8:8 + length])
    start = 8 + length
    start += -start % ALIGNMENT
    arrays = {}
    for name, spec in header["arrays"].items():
        dtype = np.dtype(DTYPES[spec["dtype"]]).newbyteorder("<")
        count = int(np.prod(spec["shape"], dtype=np.int64))
        arrays[name] = np.frombuffer(payload, dtype=dtype, count=count,
                                     offset=start + spec["offset"]).reshape(spec["shape"])
    return header["meta"], arrays
