"""Numba kernels: plain array functions under the Python layer of :mod:`ufm.dynamics`.

Over 500 lines on purpose: STYLE.md keeps every ``@njit`` in this one module.

This is the only module of ufm that uses ``@njit``. Every kernel takes float64 C-contiguous arrays
and scalars, writes into preallocated outputs, allocates nothing inside its loops, validates and
raises nothing; randomness comes in as an explicit seed. ``fastmath=False`` keeps IEEE semantics, so
results are reproducible and match the numpy twins in the tests to rounding; ``cache=True`` compiles
once per machine (on first call, never at import).

Matrix products go to BLAS (scipy's, the one numba's ``np.dot`` uses) through ``numba_xxgemm`` and
``numba_xxgemv``, numba's own GIL-free wrappers of ``scipy.linalg.cython_blas``: unlike ``np.dot``
they take transposition flags and ``alpha``, ``beta``, so a product of a transpose needs no copy and
the weight decay of H is fused into its update (``beta``). Calling ``scipy.linalg.cython_blas``
through a ctypes pointer (``numba.extending.get_cython_function_address``) would do the same, but
numba refuses to cache a function holding a ctypes pointer (the address changes from process to
process); the named helper symbols are resolved at load time, so the kernels stay cached.

The data term enters as its link's integer code (``link``: 0 = softmax, 1 = square; see
:mod:`ufm.losses._links`) and the two numbers of its exchange-symmetric targets (``t_own``,
``t_other``: the target on the own class and on each other class), so that every registered loss
runs through the same compiled code: numba does not cache a kernel that takes a function object.

Length: the house style keeps every ``@njit`` function of ufm in this one module (under the
validating Python layer), so all compiled code is reviewed, cached and twin-tested in one place.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from ..losses._links import SquareLink
from ..metrics import RANK_RTOL

#: Integer code of the square link, as the kernels receive it (the other is the softmax link's).
SQUARE = SquareLink.code

#: Names of the NC metrics :func:`record_point` writes after the objective and the gradient norm, in
#: order. Definitions are those of :func:`ufm.metrics.nc_metrics` with default conventions (weighted
#: global mean, biased variance); an undefined value is written as NaN.
RECORDED_METRICS = (
    "nc1_trace_ratio",
    "etf_distance_classifiers",
    "of_distance_classifiers",
    "etf_distance_means",
    "nc3_zhu",
)

_KERNEL_OPTIONS = {"cache": True, "fastmath": False, "nogil": True}


_F64P = types.CPointer(types.float64)
_GEMM = types.ExternalFunction(
    "numba_xxgemm",
    types.intc(
        types.char, types.char, types.char, types.intp, types.intp, types.intp,
        _F64P, _F64P, types.intp, _F64P, types.intp, _F64P, _F64P, types.intp,
    ),
)  # fmt: skip
_GEMV = types.ExternalFunction(
    "numba_xxgemv",
    types.intc(
        types.char, types.char, types.intp, types.intp, _F64P, _F64P, types.intp, _F64P, _F64P,
        _F64P,
    ),
)  # fmt: skip
_DOUBLE, _NOTRANS, _TRANS = ord("d"), ord("N"), ord("T")


@intrinsic
def _address_of(typingctx, value):
    """Pointer to a stack copy of a float64 (BLAS takes alpha and beta by reference)."""

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once_value(builder, args[0])

    return _F64P(types.float64), codegen


@intrinsic
def _as_float64(typingctx, bits):
    """The float64 whose IEEE-754 bit pattern is the int64 ``bits`` (a reinterpretation)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@njit(**_KERNEL_OPTIONS)
def _gemm(alpha, A, transpose_A, B, transpose_B, beta, C):
    """C <- alpha op(A) op(B) + beta C for row-major (C-contiguous) A, B, C; op transposes on flag.

    BLAS is column-major and a row-major matrix is its transpose there, so the call computes
    C^T = op(B)^T op(A)^T with the operands swapped and the flags kept.
    """
    m, n = C.shape
    k = A.shape[0] if transpose_A else A.shape[1]
    _GEMM(
        _DOUBLE, _TRANS if transpose_B else _NOTRANS, _TRANS if transpose_A else _NOTRANS,
        n, m, k, _address_of(alpha), B.ctypes, B.shape[1], A.ctypes, A.shape[1],
        _address_of(beta), C.ctypes, n,
    )  # fmt: skip


@njit(**_KERNEL_OPTIONS)
def _row_sums(A, ones, out):
    """out = A 1 for a row-major A (K x N) through BLAS gemv; ``ones`` (N,) holds ones."""
    K, N = A.shape
    _GEMV(
        _DOUBLE, _TRANS, N, K, _address_of(1.0), A.ctypes, N, ones.ctypes, _address_of(0.0),
        out.ctypes,
    )  # fmt: skip


#: Cody-Waite split of log 2: _LN2_HI has 12 significant bits, so n * _LN2_HI is exact for |n| <=
#: 1022 and r = x - n log 2 loses nothing to cancellation.
_LOG2E = 1.4426950408889634
_LN2_HI = 0.693145751953125
_LN2_LO = 1.42860682030941723212e-6
#: Below this exp(x) < 3.4e-308 nears the subnormal range, where 2^n has no normal float: flushed
#: to 0 (an absolute error under 3.4e-308, invisible next to a softmax denominator >= 1).
_EXP_UNDERFLOW = -708.0
_TAYLOR = tuple(1.0 / math.factorial(j) for j in range(14))


@njit(**_KERNEL_OPTIONS)
def exp_nonpositive(x):
    r"""exp(x) for x <= 0 (shifted logits) in straight-line arithmetic that vectorizes.

    .. math:: e^x = 2^n e^r,\qquad n = \lfloor x \log_2 e + 1/2 \rfloor,\quad
              r = x - n\log 2 \in [-\tfrac{\log 2}{2}, \tfrac{\log 2}{2}],

    with :math:`e^r` its Taylor polynomial of degree 13 (remainder :math:`\le 0.347^{14}/14!\,
    e^{0.347} < 10^{-17}`, below one ulp) in Horner form, and :math:`2^n` assembled from its
    exponent bits. Accurate to about one ulp (the tests compare with ``numpy.exp``); results below
    :math:`e^{-708}` are flushed to 0, an absolute error under 3.4e-308; NaN propagates. Why:
    libm's ``exp`` is an opaque call that keeps the softmax loop scalar (about 9 ns per entry
    here); this one is inlined and vectorized (about 1 ns), which is most of the softmax cost.
    """
    if x < _EXP_UNDERFLOW:
        return 0.0
    n = math.floor(x * _LOG2E + 0.5)
    # NaN compares false: clamping it keeps the integer conversion below defined (the NaN still
    # propagates through r).
    if not n >= -1022.0:
        n = -1022.0
    r = (x - n * _LN2_HI) - n * _LN2_LO
    p = _TAYLOR[13]
    for j in range(12, -1, -1):
        p = p * r + _TAYLOR[j]
    return p * _as_float64((np.int64(n) + 1023) << 52)


@njit(**_KERNEL_OPTIONS)
def logit_gradient(Z, b, labels, link, t_own, t_other, want_value, colmax, colsum):
    r"""Turn the logits W H (in Z, K x N) into dData/dZ in place; return the data term if asked.

    With targets :math:`t_y = (t_\circ - t_\times)e_y + t_\times\mathbf 1` (the loss's, module
    docstring) and :math:`z_i` column i of Z + b 1^T:
    softmax link: :math:`Z \leftarrow (\operatorname{softmax}(Z + b 1^T) - T)/N`, value
    :math:`\frac1N\sum_i [\log\sum_k e^{z_{ki} - m_i} - \sum_k t_k (z_{ki} - m_i)]`
    (:math:`m_i = \max_k z_{ki}`; equal to LSE - t^T z since :math:`\mathbf 1^\top t = 1`);
    square link: :math:`Z \leftarrow (Z + b1^T - T)/N`, value :math:`\|Z + b1^T - T\|_F^2/(2N)`.
    Softmax and its gradient are fused: one pass adds the bias and takes the column maxima, one
    exponentiates in place and sums, one scales by 1/(N sum); every inner loop runs along a row of Z
    with a zero-based index, so LLVM vectorizes it (an index that may be negative brings numba's
    wraparound check, which stops the vectorizer). The off-target passes run only when
    :math:`t_\times \ne 0` (one-hot targets touch one entry per column). The value (a log per
    column) is computed only when ``want_value`` (record steps), else 0 is returned. colmax, colsum
    (N,) are scratch.
    """
    K, N = Z.shape
    inv_N = 1.0 / N
    gap = t_own - t_other
    data = 0.0
    if link == SQUARE:
        for k in range(K):
            for i in range(N):
                Z[k, i] += b[k] - t_other
        for i in range(N):
            Z[labels[i], i] -= gap
        for k in range(K):
            for i in range(N):
                r = Z[k, i]
                if want_value:
                    data += 0.5 * r * r
                Z[k, i] = r * inv_N
        return data * inv_N
    for i in range(N):
        Z[0, i] += b[0]
        colmax[i] = Z[0, i]
        colsum[i] = 0.0
    for k in range(1, K):
        for i in range(N):
            z = Z[k, i] + b[k]
            Z[k, i] = z
            if z > colmax[i]:
                colmax[i] = z
    if want_value:
        for i in range(N):
            data -= gap * (Z[labels[i], i] - colmax[i])
        if t_other != 0.0:
            for k in range(K):
                for i in range(N):
                    data -= t_other * (Z[k, i] - colmax[i])
    for k in range(K):
        for i in range(N):
            e = exp_nonpositive(Z[k, i] - colmax[i])
            Z[k, i] = e
            colsum[i] += e
    if want_value:
        for i in range(N):
            data += math.log(colsum[i])
    for i in range(N):
        colsum[i] = inv_N / colsum[i]
    for k in range(K):
        for i in range(N):
            Z[k, i] *= colsum[i]
    if t_other != 0.0:
        shift = t_other * inv_N
        for k in range(K):
            for i in range(N):
                Z[k, i] -= shift
    step = gap * inv_N
    for i in range(N):
        Z[labels[i], i] -= step
    return data * inv_N


@njit(**_KERNEL_OPTIONS)
def objective_gradient(
    W, H, b, labels, link, t_own, t_other, lambda_W, lambda_H, lambda_b, has_bias, Z, colmax,
    colsum, ones, gW, gH, gb,
):  # fmt: skip
    """Objective of the regularized UFM at (W, H, b); its gradient goes into gW, gH, gb.

    Z (K x N) receives dData/dZ; colmax, colsum (N,) are scratch, ones (N,) holds ones. ``lambda_b``
    is 0 unless the bias is regularized; with ``has_bias`` false, gb is set to zero.
    """
    K, N = Z.shape
    _gemm(1.0, W, False, H, False, 0.0, Z)
    data = logit_gradient(Z, b, labels, link, t_own, t_other, True, colmax, colsum)
    _gemm(1.0, Z, False, H, True, 0.0, gW)
    _gemm(1.0, W, True, Z, False, 0.0, gH)
    reg_W = 0.0
    for k in range(K):
        for j in range(W.shape[1]):
            w = W[k, j]
            reg_W += w * w
            gW[k, j] += lambda_W * w
    reg_H = 0.0
    for j in range(H.shape[0]):
        for i in range(N):
            h = H[j, i]
            reg_H += h * h
            gH[j, i] += lambda_H * h
    reg_b = 0.0
    if has_bias:
        _row_sums(Z, ones, gb)
        for k in range(K):
            gb[k] += lambda_b * b[k]
            reg_b += b[k] * b[k]
    else:
        gb[:] = 0.0
    return data + 0.5 * (lambda_W * reg_W + lambda_H * reg_H + lambda_b * reg_b)


@njit(**_KERNEL_OPTIONS)
def _gram_distance(G, etf, threshold):
    """||G/||G||_F - T||_F with T the unit simplex-ETF Gram (etf) or I/sqrt(K); NaN if ||G|| <=
    threshold."""
    K = G.shape[0]
    norm = 0.0
    for k in range(K):
        for j in range(K):
            norm += G[k, j] * G[k, j]
    norm = math.sqrt(norm)
    if norm <= threshold:
        return np.nan
    if etf:
        diag, off = (1.0 - 1.0 / K) / math.sqrt(K - 1.0), -1.0 / (K * math.sqrt(K - 1.0))
    else:
        diag, off = 1.0 / math.sqrt(K), 0.0
    dist = 0.0
    for k in range(K):
        for j in range(K):
            r = G[k, j] / norm - (diag if k == j else off)
            dist += r * r
    return math.sqrt(dist)


@njit(**_KERNEL_OPTIONS)
def nc_record(W, H, labels, counts, Mc, gram, out):
    """The :data:`RECORDED_METRICS` of (W, H) into out[0:5]; Mc (d x K) and gram (K x K) are
    scratch."""
    K, d = W.shape
    N = H.shape[1]
    for j in range(d):
        for k in range(K):
            Mc[j, k] = 0.0
    max_H = 0.0
    for j in range(d):
        for i in range(N):
            Mc[j, labels[i]] += H[j, i]
            a = abs(H[j, i])
            if a > max_H:
                max_H = a
    for j in range(d):
        for k in range(K):
            Mc[j, k] /= counts[k]
    scatter = 0.0
    for j in range(d):
        for i in range(N):
            r = H[j, i] - Mc[j, labels[i]]
            scatter += r * r
    between = 0.0
    for j in range(d):
        mu_G = 0.0
        for k in range(K):
            mu_G += counts[k] * Mc[j, k]
        mu_G /= N
        for k in range(K):
            Mc[j, k] -= mu_G
            between += Mc[j, k] * Mc[j, k]
    max_W = 0.0
    for k in range(K):
        for j in range(d):
            a = abs(W[k, j])
            if a > max_W:
                max_W = a
    zero_H = RANK_RTOL * max_H
    zero_W = RANK_RTOL * max_W
    between /= K
    out[0] = scatter / N / between if between > zero_H * zero_H else np.nan
    np.dot(W, W.T, gram)
    out[1] = _gram_distance(gram, True, zero_W * zero_W)
    out[2] = _gram_distance(gram, False, zero_W * zero_W)
    np.dot(Mc.T, Mc, gram)
    out[3] = _gram_distance(gram, True, zero_H * zero_H)
    np.dot(W, Mc, gram)
    out[4] = _gram_distance(gram, True, zero_W * zero_H)


@njit(**_KERNEL_OPTIONS)
def record_point(
    W, H, b, labels, counts, link, t_own, t_other, lambda_W, lambda_H, lambda_b, has_bias,
    Z, colmax, colsum, ones, gW, gH, gb, Mc, gram, out,
):  # fmt: skip
    """out = [objective, gradient norm, RECORDED_METRICS...] at (W, H, b); leaves the gradient in
    gW, gH, gb."""
    out[0] = objective_gradient(
        W, H, b, labels, link, t_own, t_other, lambda_W, lambda_H, lambda_b, has_bias, Z, colmax,
        colsum, ones, gW, gH, gb,
    )  # fmt: skip
    sq = 0.0
    for v in gW.ravel():
        sq += v * v
    for v in gH.ravel():
        sq += v * v
    for v in gb:
        sq += v * v
    out[1] = math.sqrt(sq)
    nc_record(W, H, labels, counts, Mc, gram, out[2:])


@njit(**_KERNEL_OPTIONS)
def _descent_step(
    W, H, b, labels, link, t_own, t_other, lambda_W, lambda_H, lambda_b, has_bias, lr, Z, colmax,
    colsum, ones, gW, gb,
):  # fmt: skip
    r"""One gradient step in place, without the objective: the path of the unrecorded steps.

    .. math:: G = \partial\,\mathrm{data}/\partial Z,\quad
              H \leftarrow (1 - \eta\lambda_H) H - \eta W^T G,\quad
              W \leftarrow (1 - \eta\lambda_W) W - \eta G H^T,\quad
              b \leftarrow (1 - \eta\lambda_b) b - \eta G 1,

    with G H^T taken before H moves and W^T G before W moves. The update of H is a single BLAS
    call (alpha = -lr, beta = 1 - lr lambda_H) writing into H itself: no gradient buffer for H and
    no extra pass over the largest array. Equal to :func:`objective_gradient` followed by
    X -= lr gX up to rounding.
    """
    _gemm(1.0, W, False, H, False, 0.0, Z)
    logit_gradient(Z, b, labels, link, t_own, t_other, False, colmax, colsum)
    _gemm(1.0, Z, False, H, True, 0.0, gW)
    _gemm(-lr, W, True, Z, False, 1.0 - lr * lambda_H, H)
    shrink_W = 1.0 - lr * lambda_W
    for k in range(W.shape[0]):
        for j in range(W.shape[1]):
            W[k, j] = shrink_W * W[k, j] - lr * gW[k, j]
    if has_bias:
        _row_sums(Z, ones, gb)
        shrink_b = 1.0 - lr * lambda_b
        for k in range(b.shape[0]):
            b[k] = shrink_b * b[k] - lr * gb[k]


@njit(**_KERNEL_OPTIONS)
def matrix_products(W, H, Z, gW, gH, steps):
    """The BLAS floor of a descent step: Z = W H, gW = Z H^T, gH = W^T Z, ``steps`` times.

    The three products :func:`_descent_step` needs, through the same BLAS calls (library, threads,
    transposition flags) and nothing else; ``benchmarks/bench_dynamics.py`` times it next to numpy's
    ``np.dot(..., out=)``, so that the floor is measured on the kernels' own BLAS too.
    """
    for _ in range(steps):
        _gemm(1.0, W, False, H, False, 0.0, Z)
        _gemm(1.0, Z, False, H, True, 0.0, gW)
        _gemm(1.0, W, True, Z, False, 0.0, gH)


@njit(**_KERNEL_OPTIONS)
def gradient_descent(
    W, H, b, labels, counts, link, t_own, t_other, lambda_W, lambda_H, lambda_b, has_bias, lr,
    start, stop, record_every, Z, colmax, colsum, ones, gW, gH, gb, Mc, gram, records,
):  # fmt: skip
    """Full-batch gradient steps t = start, ..., stop - 1 of X <- X - lr grad f(X), in place.

    Before step t (t a multiple of record_every) the row records[t // record_every] receives
    :func:`record_point`, and that step uses the gradient computed for the record; the other steps
    take :func:`_descent_step`, which skips the objective. The global step range lets the Python
    layer run the loop in chunks with the same result as one call.
    """
    for t in range(start, stop):
        if t % record_every != 0:
            _descent_step(
                W, H, b, labels, link, t_own, t_other, lambda_W, lambda_H, lambda_b, has_bias, lr,
                Z, colmax, colsum, ones, gW, gb,
            )  # fmt: skip
            continue
        record_point(
            W, H, b, labels, counts, link, t_own, t_other, lambda_W, lambda_H, lambda_b, has_bias,
            Z, colmax, colsum, ones, gW, gH, gb, Mc, gram, records[t // record_every],
        )  # fmt: skip
        for k in range(W.shape[0]):
            for j in range(W.shape[1]):
                W[k, j] -= lr * gW[k, j]
            b[k] -= lr * gb[k]
        for j in range(H.shape[0]):
            for i in range(H.shape[1]):
                H[j, i] -= lr * gH[j, i]


@njit(**_KERNEL_OPTIONS)
def lesde_euler_maruyama(
    X, W0, labels, alpha, beta, dt, sigma, seed, linear, start, stop, record_every, Z, V, D,
    snapshots,
):  # fmt: skip
    """Euler-Maruyama for the locally elastic SDE of :mod:`ufm.dynamics._lesde`, all paths at once.

    X (P x d x N) is advanced in place by steps s = start, ..., stop - 1 (of len(alpha)) of size dt;
    the random stream is seeded at start = 0 and continues across calls (chunks of one run give
    the same numbers as one call, in one thread); alpha[s], beta[s] are the
    impacts at t_s = s dt (left endpoint, as the Ito integral requires). The drift of sample i is
    W0^T sum_k' E_{y_i k'} g_k' / N with g_k' the sum over class k' of e_y - softmax(W0 x_j)
    (``linear``: its linearization (e_y - 1/K) - (I - 11^T/K) W0 x_j / K). snapshots[r] receives X
    before step r * record_every, and the last row X after the last step. Z (K x N), V (K x K), D (d
    x K) are scratch.
    """
    if start == 0:
        np.random.seed(seed)
    P, d, N = X.shape
    K = W0.shape[0]
    steps = alpha.shape[0]
    root_dt = math.sqrt(dt)
    inv_K = 1.0 / K
    for s in range(start, stop):
        if s % record_every == 0:
            snapshots[s // record_every] = X
        a = alpha[s]
        c = beta[s]
        for p in range(P):
            np.dot(W0, X[p], Z)
            if linear:
                for i in range(N):
                    mean = 0.0
                    for k in range(K):
                        mean += Z[k, i]
                    mean *= inv_K
                    for k in range(K):
                        Z[k, i] = -inv_K - (Z[k, i] - mean) * inv_K
                    Z[labels[i], i] += 1.0
            else:
                for i in range(N):
                    m = Z[0, i]
                    for k in range(1, K):
                        if Z[k, i] > m:
                            m = Z[k, i]
                    total = 0.0
                    for k in range(K):
                        e = math.exp(Z[k, i] - m)
                        Z[k, i] = e
                        total += e
                    for k in range(K):
                        Z[k, i] = -Z[k, i] / total
                    Z[labels[i], i] += 1.0
            for k in range(K):
                for j in range(K):
                    V[k, j] = 0.0
            for i in range(N):
                for k in range(K):
                    V[k, labels[i]] += Z[k, i]
            # E = (a - c) I + c 11^T acting on the class sums (columns of V), divided by N.
            for k in range(K):
                row = 0.0
                for j in range(K):
                    row += V[k, j]
                for j in range(K):
                    V[k, j] = ((a - c) * V[k, j] + c * row) / N
            np.dot(W0.T, V, D)
            Xp = X[p]
            for j in range(d):
                for i in range(N):
                    Xp[j, i] += dt * D[j, labels[i]]
                    if sigma > 0.0:
                        Xp[j, i] += sigma * root_dt * np.random.standard_normal()
    if stop == steps:
        snapshots[snapshots.shape[0] - 1] = X


#: A block of LE-SDE modes is rescaled by 2**-LESDE_RENORM_STEP once its largest entry exceeds
#: 2**LESDE_RENORM_AT: powers of two scale float64 exactly, and 2**600 (1e180) leaves room for the
#: drift of one step (factor 1 + dt |rate| < 2 under the Euler stability bound) before overflow.
LESDE_RENORM_AT = 600.0
LESDE_RENORM_STEP = 512.0


@njit(**_KERNEL_OPTIONS)
def lesde_modal_euler_maruyama(
    Y, Z, L2, A_alpha, A_beta, alpha, beta, mean_noise, dev_var, block, seed, dt, start, stop,
    record_every, Y_out, Z_out, L2_out, A, D, inv_scale, peak, acc,
):  # fmt: skip
    """Euler-Maruyama for the linear LE-SDE in modal coordinates (:mod:`ufm.dynamics._lesde`).

    Y (P x q): class-mean modes, stored as Y_true = 2**L2[p, block[i]] * Y[p, i]; each step
    Y += dt (alpha[s] A_alpha + beta[s] A_beta) Y + mean_noise[s] 2**-L2 xi, xi ~ N(0, 1) drawn
    path by path, mode by mode (left endpoint coefficients, as the Ito integral requires); a block
    whose largest entry exceeds 2**LESDE_RENORM_AT is divided by 2**LESDE_RENORM_STEP and its L2
    raised (A_alpha, A_beta must be block-diagonal: the Python layer builds them so).
    Z (P x r): within-class deviation modes, pure diffusion: their increment over a record interval
    is one draw of variance sum(dev_var) (exact in law), drawn after the interval's last step.
    Y_out, Z_out, L2_out receive the state before step k * record_every and, last, after the final
    step. A, D (q x q, P x q), inv_scale and peak (number of blocks) are scratch. Steps s = start,
    ..., stop - 1 run; the random stream is seeded at start = 0 and continues across calls, and
    acc[0] carries the deviation variance of the current record interval from call to call, so
    chunks of one run give the same numbers as one call (in one thread).
    """
    if start == 0:
        np.random.seed(seed)
        acc[0] = 0.0
    P, q = Y.shape
    r = Z.shape[1]
    B = L2.shape[1]
    steps = alpha.shape[0]
    top = 2.0**LESDE_RENORM_AT
    down = 2.0**-LESDE_RENORM_STEP
    for s in range(start, stop):
        if s % record_every == 0:
            rec = s // record_every
            Y_out[rec] = Y
            Z_out[rec] = Z
            L2_out[rec] = L2
        a = alpha[s] * dt
        c = beta[s] * dt
        for i in range(q):
            for j in range(q):
                A[i, j] = a * A_alpha[i, j] + c * A_beta[i, j]
        _gemm(1.0, Y, False, A, True, 0.0, D)
        for p in range(P):
            for b in range(B):
                inv_scale[b] = 2.0 ** (-L2[p, b])
                peak[b] = 0.0
            for i in range(q):
                xi = np.random.standard_normal()
                Y[p, i] += D[p, i] + mean_noise[s] * inv_scale[block[i]] * xi
                v = abs(Y[p, i])
                if v > peak[block[i]]:
                    peak[block[i]] = v
            for b in range(B):
                if peak[b] > top:
                    for i in range(q):
                        if block[i] == b:
                            Y[p, i] *= down
                    L2[p, b] += LESDE_RENORM_STEP
        acc[0] += dev_var[s]
        if (s + 1) % record_every == 0 or s == steps - 1:
            sd = math.sqrt(acc[0])
            for p in range(P):
                for j in range(r):
                    Z[p, j] += sd * np.random.standard_normal()
            acc[0] = 0.0
    if stop == steps:
        Y_out[Y_out.shape[0] - 1] = Y
        Z_out[Z_out.shape[0] - 1] = Z
        L2_out[L2_out.shape[0] - 1] = L2


@njit(**_KERNEL_OPTIONS)
def _block(flat, offset, rows, cols):
    """The rows x cols C-contiguous view of flat[offset : offset + rows cols]."""
    return flat[offset : offset + rows * cols].reshape((rows, cols))


@njit(**_KERNEL_OPTIONS)
def chain_objective_gradient(
    theta, shapes, offsets, b, labels, link, t_own, t_other, decay, lambda_b, has_bias, want_value,
    partial, back, Z, colmax, colsum, ones, grad, gb,
):  # fmt: skip
    r"""Objective of the deep linear UFM at theta; its gradient into grad (same layout) and gb.

    theta holds the q = L + 1 factors ``W_L, ..., W_1, H`` flat, factor j of shape shapes[j] at
    offsets[j]; decay[j] is its weight decay. With :math:`P_0 = H`, :math:`P_l = W_lP_{l-1}` and
    :math:`G = \partial\,\mathrm{data}/\partial Z` at :math:`Z = P_L` (:func:`logit_gradient`):

    .. math:: \nabla_{W_l} = B_l P_{l-1}^\top + \lambda_lW_l,\quad B_L = G,\quad
              B_{l-1} = W_l^\top B_l,\quad \nabla_H = B_0 + \lambda_HH.

    partial (flat) receives :math:`P_1, \dots, P_{L-1}` at the offsets of a running sum;
    back (2 x max width x N) holds two alternating :math:`B` buffers; Z (K x N), colmax, colsum,
    ones as in :func:`objective_gradient`. The value is computed only when ``want_value`` (else 0).
    """
    q = shapes.shape[0]
    N = Z.shape[1]
    H = _block(theta, offsets[q - 1], shapes[q - 1, 0], shapes[q - 1, 1])
    prev = H
    p_off = 0
    for j in range(q - 2, -1, -1):  # W_1 first
        W = _block(theta, offsets[j], shapes[j, 0], shapes[j, 1])
        if j == 0:
            _gemm(1.0, W, False, prev, False, 0.0, Z)
        else:
            nxt = _block(partial, p_off, shapes[j, 0], N)
            _gemm(1.0, W, False, prev, False, 0.0, nxt)
            prev = nxt
            p_off += shapes[j, 0] * N
    data = logit_gradient(Z, b, labels, link, t_own, t_other, want_value, colmax, colsum)
    if has_bias:
        _row_sums(Z, ones, gb)
    else:
        gb[:] = 0.0
    upper = Z
    side = 0
    for j in range(q - 1):  # W_L first: the partial below it is P_{L-1}
        rows, cols = shapes[j, 0], shapes[j, 1]
        if j == q - 2:
            below = H
        else:
            p_off -= cols * N
            below = _block(partial, p_off, cols, N)
        W = _block(theta, offsets[j], rows, cols)
        _gemm(1.0, upper, False, below, True, 0.0, _block(grad, offsets[j], rows, cols))
        lower = _block(back[side], 0, cols, N)
        _gemm(1.0, W, True, upper, False, 0.0, lower)
        upper = lower
        side = 1 - side
    gH = _block(grad, offsets[q - 1], shapes[q - 1, 0], N)
    for r in range(gH.shape[0]):
        for i in range(N):
            gH[r, i] = upper[r, i]
    reg = 0.0
    for j in range(q):
        lam = decay[j]
        for e in range(offsets[j], offsets[j] + shapes[j, 0] * shapes[j, 1]):
            x = theta[e]
            reg += lam * x * x
            grad[e] += lam * x
    if has_bias:
        for k in range(b.shape[0]):
            gb[k] += lambda_b * b[k]
            reg += lambda_b * b[k] * b[k]
    return data + 0.5 * reg


@njit(**_KERNEL_OPTIONS)
def chain_gradient_descent(
    theta, shapes, offsets, b, labels, link, t_own, t_other, decay, lambda_b, has_bias, lr, steps,
    record_every, partial, back, Z, colmax, colsum, ones, grad, gb, records,
):  # fmt: skip
    """``steps`` full-batch gradient steps on the deep linear UFM, in place on theta and b.

    Before step t (t = 0, record_every, ... < steps) records[t // record_every] receives
    (objective, gradient norm) at the current point; buffers as in
    :func:`chain_objective_gradient`.
    """
    for t in range(steps):
        want = t % record_every == 0
        value = chain_objective_gradient(
            theta, shapes, offsets, b, labels, link, t_own, t_other, decay, lambda_b, has_bias,
            want, partial, back, Z, colmax, colsum, ones, grad, gb,
        )  # fmt: skip
        if want:
            sq = 0.0
            for g in grad:
                sq += g * g
            for g in gb:
                sq += g * g
            records[t // record_every, 0] = value
            records[t // record_every, 1] = math.sqrt(sq)
        for e in range(theta.shape[0]):
            theta[e] -= lr * grad[e]
        if has_bias:
            for k in range(b.shape[0]):
                b[k] -= lr * gb[k]
