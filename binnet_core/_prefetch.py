"""Software prefetch for the numba kernels (``llvm.prefetch``).

A flip reads one row of the dense matrix: a few kilobytes at a random place. Asking for all
of its cache lines up front keeps many memory requests in flight instead of letting the
hardware prefetcher ramp up on every row.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_LINE_BYTES = 64


@intrinsic
def _prefetch(typingctx, matrix, row, column):
    """Hint the CPU to load ``matrix[row, column]`` into all cache levels; never faults."""

    def codegen(context, builder, signature, args):
        matrix_type = signature.args[0]
        data = context.make_array(matrix_type)(context, builder, args[0])
        pointer = cgutils.get_item_pointer(context, builder, matrix_type, data, args[1:])
        byte_pointer = ir.IntType(8).as_pointer()
        int32 = ir.IntType(32)
        function = builder.module.declare_intrinsic(
            "llvm.prefetch", [byte_pointer], ir.FunctionType(ir.VoidType(), [byte_pointer] + [int32] * 3))
        read, all_levels, data_cache = (ir.Constant(int32, v) for v in (0, 3, 1))
        builder.call(function, [builder.bitcast(pointer, byte_pointer), read, all_levels, data_cache])
        return context.get_dummy_value()

    return types.none(matrix, row, column), codegen


@njit(inline="always")
def prefetch_row(matrix, row):
    """Prefetch every cache line of row ``row`` of a C-contiguous 2-D array."""
    step = max(1, _LINE_BYTES // matrix.itemsize)
    for column in range(0, matrix.shape[1], step):
        _prefetch(matrix, row, column)
