"""Connectivity layouts, their memory estimates, and their generation.

Weights are kept pre-major (the targets of one neuron are contiguous) because a flip of
neuron ``j`` reads exactly the targets of ``j``. Two weight modes, each stored in one of the
layouts of :mod:`binnet_core.layouts`:

``dense``   an ``N x N`` pre-major matrix. With *shared weights* (every population block
            built from synapse objects of a single weight ``j``) it stores contact counts and
            the weight comes from the ``scale[pre_pop, post_pop]`` table: 4-bit counts, two
            per byte (half a byte per pair; ``packed_start`` gives each segment's byte
            offset: ``PackedCounts``), or ``uint8`` counts when some pair has more than 15
            contacts. Otherwise it stores float weights (both ``DenseMatrix``).
``sparse``  the targets of every (pre neuron, post population) run as indices relative to
            the population start (``uint16`` when every population has <= 65,536 neurons,
            else ``int32``), one entry per contact; float values per contact only when
            weights are not shared (``SparseTargets``, ``SparseWeights``). A single copy (no
            COO/CSR/CSC triplet).

General weight matrices (``initialize(weights=W)``) use one segment and ``scale = 1``.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time

import numpy as np
import scipy.sparse as sp

from binnet_core import _build_kernels as bk
from binnet_core import layouts
from binnet_core._rng import seed_words
from binnet_core.synapses import IndegreeSpec, PairSpec

log = logging.getLogger("binnet_core")

LAYOUTS = ("auto", "dense", "sparse")
#: ``auto`` prefers dense while its bytes are at most this many times the sparse bytes. A
#: dense flip streams N/2 bytes vectorised (~0.09 ns per pair), a sparse flip scatters one
#: add per contact (~0.6 ns): dense is faster above ~0.15 contacts per pair, where 4-bit
#: dense rows are ~1.6 times the bytes of 16-bit sparse indices.
DENSE_PREFERENCE = 1.6
#: Fraction of ``ram_budget_gb`` the connectivity may use.
BUDGET_FRACTION = 0.6
_U8_MAX = 255
_NIBBLE_MAX = 15


@dataclasses.dataclass
class Connectivity:
    """Connectivity in kernel form (one layout of :mod:`binnet_core.layouts`) plus its cost
    figures; ``layout`` is the ``weight_mode`` it resolved to."""

    layout: str
    shared_weights: bool
    arrays: layouts.Layout
    synapse_count: int
    build_seconds: float

    def __post_init__(self):
        if type(self.arrays) not in layouts.REGISTRY:
            raise TypeError(f"arrays must be one of {[c.__name__ for c in layouts.REGISTRY]}, "
                            f"got {type(self.arrays).__name__}")

    @property
    def nbytes(self) -> int:
        """Bytes held by the connectivity arrays."""
        return layouts.nbytes(self.arrays)

    def connected_pairs(self) -> int:
        """Number of ordered (post, pre) pairs with at least one contact."""
        return self.arrays.connected_pairs()

    def with_byte_counts(self) -> Connectivity:
        """The same connectivity with 4-bit counts unpacked to one byte per pair."""
        a = self.arrays
        if not isinstance(a, layouts.PackedCounts):
            raise ValueError(f"only 4-bit counts can be unpacked, not {type(a).__name__}")
        dense = layouts.DenseMatrix(a.group, a.seg_start, a.scale, a.byte_counts())
        return dataclasses.replace(self, arrays=dense)

    def to_scipy(self) -> sp.csr_matrix:
        """The weight matrix ``W[post, pre]`` as a ``scipy.sparse.csr_matrix`` (float64)."""
        n = self.arrays.group.size
        pre, post, values = layouts.entries(self.arrays)
        return sp.csr_matrix((values, (post, pre)), shape=(n, n))


def _block_keys(seed_sequence, count):
    """One counter-based stream key per synapse: ``mix64(root + i * GAMMA)``."""
    root = seed_words(seed_sequence)[0]
    return list(bk.stream_keys(root, count))  # a cached kernel: no compilation per process


def _shared_weights(blocks) -> bool:
    weights = {}
    for pre, post, synapse, _ in blocks:
        weights.setdefault((pre, post), set()).add(synapse.j)
    return all(len(js) == 1 for js in weights.values())


def _packed_offsets(views):
    """Byte offset of every segment in a row of 4-bit counts (``ceil(size / 2)`` each)."""
    return np.cumsum([0] + [(b - a + 1) // 2 for a, b in views], dtype=np.int64)


def estimate_bytes(n, n_seg, contacts, max_segment, shared, itemsize):
    """``(dense_bytes, sparse_bytes)`` of a network with ``contacts`` expected contacts."""
    dense = n * (n + n_seg) // 2 if shared else n * n * itemsize
    index_bytes = 2 if max_segment <= 65536 else 4
    per_contact = index_bytes + (0 if shared else itemsize)
    sparse = int(contacts * per_contact) + n * (n_seg + 1) * 8
    return dense, sparse


def choose_layout(requested, dense_bytes, sparse_bytes, ram_budget_gb):
    """Resolve ``weight_mode`` against the RAM budget; log the choice and the reason."""
    budget = BUDGET_FRACTION * ram_budget_gb * 2**30
    if requested == "auto":
        if dense_bytes <= budget and dense_bytes <= DENSE_PREFERENCE * sparse_bytes:
            layout = "dense"
        else:
            layout = "sparse"
    else:
        layout = requested
    needed = dense_bytes if layout == "dense" else sparse_bytes
    if needed > budget:
        raise ValueError(
            f"ram_budget_gb={ram_budget_gb:g} is too small: the {layout} connectivity needs about "
            f"{needed / 2**30:.3g} GiB, more than {BUDGET_FRACTION:g} x the budget "
            f"(dense {dense_bytes / 2**30:.3g} GiB, sparse {sparse_bytes / 2**30:.3g} GiB)"
        )
    log.info(
        "weight_mode=%s -> %s (dense %.3g GiB, sparse %.3g GiB, budget %.3g GiB)",
        requested, layout, dense_bytes / 2**30, sparse_bytes / 2**30, budget / 2**30,
    )
    return layout


def _pair_groups(blocks, keys, views, autapse, value_of, dtype):
    """Pair blocks grouped by pre population, as the arrays the row kernels take."""
    groups = {}
    most = np.iinfo(bk.COUNT_DTYPE).max
    for (pre, post, synapse, spec), key in zip(blocks, keys):
        if isinstance(spec, PairSpec):
            thresholds = spec.thresholds
            if len(thresholds) > most:  # the largest count a block can draw
                raise ValueError(f"synapse {synapse.name!r} can put up to {len(thresholds)} "
                                 f"contacts on one pair; at most {most} are supported")
            groups.setdefault(pre, []).append((post, thresholds, key, value_of(synapse)))
    for pre, members in groups.items():
        width = max(len(thr) for _, thr, _, _ in members)
        thr = np.full((len(members), width), np.iinfo(np.uint64).max, dtype=np.uint64)
        lengths = np.array([len(t) for _, t, _, _ in members], dtype=np.int64)
        for b, (_, t, _, _) in enumerate(members):
            thr[b, : len(t)] = t
        table = np.array([[views[post][0], views[post][1] - views[post][0],
                           int(post == pre and not autapse), post] for post, _, _, _ in members],
                         dtype=np.int64)
        keys_b = np.array([k for _, _, k, _ in members], dtype=np.uint64)
        values = np.array([v for _, _, _, v in members], dtype=dtype)
        a0, a1 = views[pre]
        yield (a0, a1 - a0, table, keys_b, thr, lengths, values)


def _indegree_blocks(blocks, keys, views, autapse):
    """``(synapse, pre start, post population, partners)`` of each fixed in-degree block."""
    for (pre, post, synapse, spec), key in zip(blocks, keys):
        if isinstance(spec, IndegreeSpec):
            (a0, a1), (b0, b1) = views[pre], views[post]
            partners = bk.indegree_partners(a1 - a0, b1 - b0, spec.indegree, spec.multapses,
                                            pre == post and not autapse, key)
            yield synapse, a0, post, partners


class _TooManyContacts(ValueError):
    """Some pair gets more contacts than the dense counts can hold."""


def _generate_dense(blocks, keys, views, shared, dtype, autapse, group, seg_start, scale, packed):
    """``(arrays, contacts)``: :class:`~binnet_core.layouts.PackedCounts` when ``packed``, else
    a :class:`~binnet_core.layouts.DenseMatrix`.

    Raises :class:`_TooManyContacts` (naming the synapses) when a count exceeds 15 (packed)
    or 255 (``uint8``).
    """
    n = group.size
    packed_start = _packed_offsets(views)
    out_dtype = np.dtype(np.uint8) if shared else np.dtype(dtype)
    out = np.zeros((n, int(packed_start[-1]) if packed else n), dtype=out_dtype)
    cap = _NIBBLE_MAX if packed else _U8_MAX if shared else np.inf

    def value_of(synapse):
        return 1 if shared else synapse.j

    def too_many(what):
        return _TooManyContacts(f"{what}: more than {cap} contacts on one pair do not fit the "
                                "dense layout; use weight_mode='sparse'")

    per_block = {}
    for pre, post, _, _ in blocks:
        per_block[(pre, post)] = per_block.get((pre, post), 0) + 1
    single = all(n == 1 for n in per_block.values())
    total = 0
    for args in _pair_groups(blocks, keys, views, autapse, value_of, out_dtype):
        unchecked = single and int(args[5].max()) <= cap  # the largest count a block can draw
        count = bk.pairs_dense(out, *args, cap, not unchecked, packed, packed_start)
        if count < 0:
            raise too_many(f"pair synapses from neurons {args[0]}..{args[0] + args[1] - 1}")
        total += count
    for synapse, a0, post, partners in _indegree_blocks(blocks, keys, views, autapse):
        count = bk.indegree_dense(out, a0, views[post][0], partners,
                                  out_dtype.type(value_of(synapse)), cap,
                                  packed, packed_start[post])
        if count < 0:
            raise too_many(f"synapse {synapse.name!r}")
        total += count
    if packed:
        return layouts.PackedCounts(group, seg_start, scale, out, packed_start), total
    return layouts.DenseMatrix(group, seg_start, scale, out), total


def _generate_sparse(blocks, keys, views, shared, dtype, autapse, n):
    n_seg = len(views)
    counts = np.zeros((n, n_seg), dtype=np.int64)
    max_segment = int(max(b - a for a, b in views))
    index_dtype = np.uint16 if max_segment <= 65536 else np.int32

    def value_of(synapse):
        return 1.0 if shared else synapse.j

    def run(fill, cursor, idx, vals):
        total = 0
        for args in _pair_groups(blocks, keys, views, autapse, value_of, dtype):
            total += bk.pairs_sparse(fill, counts, cursor, idx, vals, *args)
        for synapse, a0, post, partners in _indegree_blocks(blocks, keys, views, autapse):
            total += bk.indegree_sparse(fill, counts, cursor, idx, vals, a0, post, 0, partners,
                                        value_of(synapse))
        return total

    no_cursor = np.zeros((0, 0), dtype=np.int64)
    total = run(False, no_cursor, np.zeros(0, dtype=index_dtype), np.zeros(0, dtype=dtype))
    ptr = np.zeros((n, n_seg + 1), dtype=np.int64)
    ends = np.cumsum(counts.ravel()).reshape(n, n_seg)
    ptr[:, 1:] = ends
    ptr[1:, 0] = ends[:-1, -1]
    idx = np.empty(total, dtype=index_dtype)
    vals = np.zeros(0 if shared else total, dtype=dtype)
    run(True, ptr[:, :-1].copy(), idx, vals)
    return idx, ptr, vals, total


def from_synapses(populations, views, synapses, *, requested, ram_budget_gb, dtype, seed_sequence,
                  autapse):
    """Generate the contacts of ``synapses`` between ``populations``.

    Parameters
    ----------
    populations : list of Population
        They define the segments and the weight groups.
    views : list of (start, end)
        The slice of each population.
    synapses : list of Synapse
    requested : {"auto", "dense", "sparse"}
    ram_budget_gb : float
    dtype : numpy dtype of the weights (float32 or float64)
    seed_sequence : numpy.random.SeedSequence
        Synapse ``i`` draws from the counter-based stream ``i`` of this sequence.
    autapse : bool
        Keep self-contacts.
    """
    started = time.perf_counter()
    index_of = {id(pop): k for k, pop in enumerate(populations)}
    for synapse in synapses:
        for end in (synapse.pre, synapse.post):
            if id(end) not in index_of:
                raise ValueError(f"synapse {synapse.name!r} uses a population not added to the network")
        if hasattr(synapse, "check"):
            synapse.check(skip_self=synapse.pre is synapse.post and not autapse)
    blocks, keys = [], []
    for synapse, key in zip(synapses, _block_keys(seed_sequence, len(synapses))):
        spec = synapse.generator()
        if spec is not None:
            blocks.append((index_of[id(synapse.pre)], index_of[id(synapse.post)], synapse, spec))
            keys.append(key)
    n = views[-1][1]
    n_seg = len(views)
    shared = _shared_weights(blocks)
    contacts = sum(s.expected_contacts() for _, _, s, _ in blocks)
    dense_bytes, sparse_bytes = estimate_bytes(
        n, n_seg, contacts, max(b - a for a, b in views), shared, np.dtype(dtype).itemsize
    )
    layout = choose_layout(requested, dense_bytes, sparse_bytes, ram_budget_gb)

    scale = np.zeros((n_seg, n_seg), dtype=dtype)
    for pre, post, synapse, _ in blocks:
        scale[pre, post] = synapse.j if shared else 1.0
    group = np.repeat(np.arange(n_seg, dtype=np.int32), [b - a for a, b in views])
    seg_start = np.array([a for a, _ in views] + [n], dtype=np.int64)
    if layout == "dense":
        generate = functools.partial(_generate_dense, blocks, keys, views, shared, dtype, autapse,
                                     group, seg_start, scale)
        try:
            arrays, total = generate(packed=shared)
        except _TooManyContacts:  # only 4-bit counts (shared weights) get here and retry
            # a pair with more than 15 contacts: the same network with one byte per pair
            log.info("more than %d contacts on one pair: storing 8-bit counts", _NIBBLE_MAX)
            choose_layout("dense", n * n, sparse_bytes, ram_budget_gb)
            arrays, total = generate(packed=False)
    else:
        idx, ptr, vals, total = _generate_sparse(blocks, keys, views, shared, dtype, autapse, n)
        if shared:
            arrays = layouts.SparseTargets(group, seg_start, scale, idx, ptr)
        else:
            arrays = layouts.SparseWeights(group, seg_start, scale, idx, ptr, vals)
    return Connectivity(layout, shared, arrays, int(total), time.perf_counter() - started)


def check_matrix(weights, n):
    """Validate an explicit weight matrix; return it unchanged."""
    shape = getattr(weights, "shape", None)
    if not (sp.issparse(weights) or isinstance(weights, np.ndarray)):
        raise ValueError(f"weights must be a numpy array or scipy.sparse matrix, got {type(weights).__name__}")
    if shape != (n, n):
        raise ValueError(f"weights must have shape ({n}, {n}) (W[post, pre]), got {shape}")
    if weights.dtype.kind not in "biuf":
        raise ValueError(f"weights must have a real numeric dtype, got {weights.dtype}")
    data = weights.data if sp.issparse(weights) else weights
    if not np.all(np.isfinite(data)):
        raise ValueError("weights must be finite (found NaN or inf)")
    return weights
