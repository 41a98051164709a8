"""The numpy array types the layers hand each other (floor 1: imports nothing of ours)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# A float32 [rows, features] matrix in the feature contract's column order: the model's input.
Matrix = npt.NDArray[np.float32]
Labels = npt.NDArray[np.int8]
Mask = npt.NDArray[np.bool_]
