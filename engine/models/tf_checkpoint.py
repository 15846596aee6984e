"""Read a TensorFlow 1 checkpoint (TensorBundle) in pure Python, without TensorFlow.

The ``musicnn`` wheel ships its weights as ``<prefix>.index`` plus ``<prefix>.data-00000-of-00001``.
The index is a LevelDB-format table mapping each tensor name to a ``BundleEntryProto`` (dtype, shape,
shard, byte offset and size in the data file); the data file holds the raw little-endian bytes.
Reading it directly keeps TensorFlow (hundreds of MB, pinned old NumPy) out of every environment:
it is needed only once, to make reference outputs.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import ModelError

# tensorflow/core/framework/types.proto
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64, 19: np.float16, 10: np.bool_}
_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_BYTES = 48
_BLOCK_TRAILER_BYTES = 5  # one compression-type byte and a CRC32C


class CheckpointError(ModelError, ValueError):
    """The checkpoint files are missing, damaged or use a feature this reader does not handle."""


@dataclass(frozen=True)
class TensorEntry:
    """Where one tensor lives in the data shard."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _proto_fields(buf: bytes):
    """Yield (field number, wire type, value) of a serialized protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise CheckpointError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def _parse_entry(name: str, buf: bytes) -> TensorEntry:
    dtype_code, shape, shard, offset, size = 0, [], 0, 0, 0
    for field, _, value in _proto_fields(buf):
        if field == 1:
            dtype_code = value
        elif field == 2:  # TensorShapeProto: repeated Dim dim = 2 { int64 size = 1 }
            for dim_field, _, dim in _proto_fields(value):
                if dim_field == 2:
                    shape.append(next(v for f, _, v in _proto_fields(dim) if f == 1))
        elif field == 3:
            shard = value
        elif field == 4:
            offset = value
        elif field == 5:
            size = value
        elif field == 7:
            raise CheckpointError(f"{name}: partitioned (sliced) tensors are not supported")
    if dtype_code not in _DTYPES:
        raise CheckpointError(f"{name}: unsupported dtype code {dtype_code}")
    return TensorEntry(name, np.dtype(_DTYPES[dtype_code]), tuple(shape), shard, offset, size)


def _read_block(table: bytes, offset: int, size: int) -> list[tuple[bytes, bytes]]:
    """Decode one LevelDB block: prefix-compressed keys, then a restart array we do not need."""
    if table[offset + size] != 0:
        raise CheckpointError("compressed checkpoint index blocks are not supported")
    block = table[offset : offset + size]
    n_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    end = len(block) - 4 * (n_restarts + 1)
    entries, pos, key = [], 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        entries.append((key, block[pos : pos + value_len]))
        pos += value_len
    return entries


def read_index(index_path: str | Path) -> dict[str, TensorEntry]:
    """Parse ``<prefix>.index`` into tensor entries, keyed by variable name."""
    table = Path(index_path).read_bytes()
    if len(table) < _FOOTER_BYTES:
        raise CheckpointError(f"{index_path}: too short to be a checkpoint index")
    footer = table[-_FOOTER_BYTES:]
    if struct.unpack_from("<Q", footer, 40)[0] != _TABLE_MAGIC:
        raise CheckpointError(f"{index_path}: not a TensorFlow checkpoint index")
    _meta_offset, pos = _varint(footer, 0)
    _meta_size, pos = _varint(footer, pos)
    index_offset, pos = _varint(footer, pos)
    index_size, _ = _varint(footer, pos)
    entries: dict[str, TensorEntry] = {}
    for _, handle in _read_block(table, index_offset, index_size):
        block_offset, pos = _varint(handle, 0)
        block_size, _ = _varint(handle, pos)
        for key, value in _read_block(table, block_offset, block_size):
            if key:  # the empty key holds the BundleHeaderProto
                name = key.decode()
                entries[name] = _parse_entry(name, value)
    return entries


def read_checkpoint(prefix: str | Path) -> dict[str, np.ndarray]:
    """Load every tensor of a single-shard checkpoint.

    Parameters
    ----------
    prefix : path
        The checkpoint prefix: ``prefix + ".index"`` and ``prefix + ".data-00000-of-00001"`` must exist.
        For the musicnn wheel the prefix is the model folder plus ``/`` (the files are hidden dot-files).

    Returns
    -------
    dict of name -> array, in the dtype and shape recorded in the index.
    """
    prefix = str(prefix)
    entries = read_index(prefix + ".index")
    data_path = Path(prefix + ".data-00000-of-00001")
    if not data_path.exists():
        raise CheckpointError(f"{data_path}: data shard missing")
    data = data_path.read_bytes()
    tensors = {}
    for name, e in entries.items():
        if e.shard != 0:
            raise CheckpointError(f"{name}: multi-shard checkpoints are not supported")
        count = int(np.prod(e.shape, dtype=np.int64))
        if e.size != count * e.dtype.itemsize or e.offset + e.size > len(data):
            raise CheckpointError(f"{name}: size in index does not match the data shard")
        tensors[name] = np.frombuffer(data, dtype=e.dtype.newbyteorder("<"), count=count, offset=e.offset).reshape(e.shape).copy()
    return tensors
