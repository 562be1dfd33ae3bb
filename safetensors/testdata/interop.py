"""Writes and reads safetensors files with nothing but struct, json and numpy,
following the format description, to check the Go package against an
independent implementation.

  interop.py write PATH   writes the fixture described in EXPECTED below
  interop.py read PATH    parses PATH and prints {name: {dtype, shape, values}}
                          as JSON (values as float or int lists, flattened)
"""
import json
import struct
import sys

import numpy as np

NUMPY = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "U8": "u1", "BOOL": "?"}


def fixture():
    """Tensors as (dtype, shape, raw bytes); BF16 is float32 with the low half dropped."""
    out = {
        "weights": ("F32", [2, 3], np.array([[0.5, -1.25, 3.0], [1e-3, 65504.0, -0.0]], "<f4").tobytes()),
        "double": ("F64", [2], np.array([1.0 / 3.0, -2.5], "<f8").tobytes()),
        "half": ("F16", [4], np.array([1.0, -2.0, 65504.0, 2.0**-24], "<f2").tobytes()),
        "brain": ("BF16", [2], (np.array([1.0, -3.5], "<f4").view("<u4") >> 16).astype("<u2").tobytes()),
        "steps": ("I64", [], np.array(42, "<i8").tobytes()),
        "labels": ("I32", [3], np.array([-7, 0, 2**31 - 1], "<i4").tobytes()),
        "pixels": ("U8", [2, 2], np.array([[0, 1], [254, 255]], "u1").tobytes()),
        "mask": ("BOOL", [3], np.array([True, False, True], "?").tobytes()),
        "empty": ("F32", [0, 4], b""),
    }
    return out


def write(path):
    tensors = fixture()
    header = {"__metadata__": {"format": "pt", "writer": "interop.py"}}
    data = b""
    # Insert in reverse name order so the Go reader cannot rely on header order.
    for name in sorted(tensors, reverse=True):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def read(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    body = blob[8 + n :]
    out = {"__metadata__": header.pop("__metadata__", {})}
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, stop = info["data_offsets"]
        assert begin == end, f"{name}: gap or overlap at {begin}"
        end = stop
        raw = body[begin:stop]
        if info["dtype"] == "BF16":
            values = (np.frombuffer(raw, "<u2").astype("<u4") << 16).view("<f4")
        else:
            values = np.frombuffer(raw, NUMPY[info["dtype"]])
        assert values.size == int(np.prod(info["shape"])), name
        out[name] = {"dtype": info["dtype"], "shape": info["shape"], "values": values.tolist(), "begin": begin}
    assert end == len(body), "trailing bytes"
    assert n % 8 == 0, "header not padded to 8"
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    {"write": write, "read": read}[sys.argv[1]](sys.argv[2])
