"""Numba kernels: plain array functions under the Python layer of :mod:`ufm.dynamics`.

This is the only module of ufm that uses ``@njit``. Every kernel takes float64 C-contiguous arrays
and scalars, writes into preallocated outputs, allocates nothing inside its loops, validates and
raises nothing; randomness comes in as an explicit seed. ``fastmath=False`` keeps IEEE semantics, so
results are reproducible and match the numpy twins in the tests to rounding; ``cache=True`` compiles
once per machine (on first call, never at import).

Integer codes used by the kernels: ``loss`` 0 = cross-entropy, 1 = MSE.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..metrics import RANK_RTOL

#: Integer code of each loss, as the kernels receive it.
LOSS_CODES = {"ce": 0, "mse": 1}

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


@njit(**_KERNEL_OPTIONS)
def objective_gradient(
    W, H, b, labels, loss, lambda_W, lambda_H, lambda_b, has_bias, Z, colmax, colsum, gW, gH, gb
):
    """Objective of the regularized UFM at (W, H, b); its gradient goes into gW, gH, gb.

    Z (K x N) receives dData/dZ; colmax, colsum (N,) are scratch. ``lambda_b`` is 0 unless the bias
    is regularized; with ``has_bias`` false, gb is set to zero.
    """
    K, N = Z.shape
    np.dot(W, H, Z)
    for k in range(K):
        for i in range(N):
            Z[k, i] += b[k]
    inv_N = 1.0 / N
    data = 0.0
    if loss == 0:
        # Softmax and its gradient fused over the logits: max-shifted exponentials are written into
        # Z, so every logit is read once for the max, once for exp, once for the normalization.
        for i in range(N):
            colmax[i] = Z[0, i]
            colsum[i] = 0.0
        for k in range(1, K):
            for i in range(N):
                if Z[k, i] > colmax[i]:
                    colmax[i] = Z[k, i]
        for i in range(N):
            data += colmax[i] - Z[labels[i], i]
        for k in range(K):
            for i in range(N):
                e = math.exp(Z[k, i] - colmax[i])
                Z[k, i] = e
                colsum[i] += e
        for i in range(N):
            data += math.log(colsum[i])
            colsum[i] = inv_N / colsum[i]
        for k in range(K):
            for i in range(N):
                Z[k, i] *= colsum[i]
        for i in range(N):
            Z[labels[i], i] -= inv_N
    else:
        for i in range(N):
            Z[labels[i], i] -= 1.0
        for k in range(K):
            for i in range(N):
                r = Z[k, i]
                data += 0.5 * r * r
                Z[k, i] = r * inv_N
    data *= inv_N
    np.dot(Z, H.T, gW)
    np.dot(W.T, Z, gH)
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
    for k in range(K):
        if has_bias:
            s = lambda_b * b[k]
            for i in range(N):
                s += Z[k, i]
            gb[k] = s
            reg_b += b[k] * b[k]
        else:
            gb[k] = 0.0
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
    W, H, b, labels, counts, loss, lambda_W, lambda_H, lambda_b, has_bias,
    Z, colmax, colsum, gW, gH, gb, Mc, gram, out,
):  # fmt: skip
    """out = [objective, gradient norm, RECORDED_METRICS...] at (W, H, b); leaves the gradient in
    gW, gH, gb."""
    out[0] = objective_gradient(
        W, H, b, labels, loss, lambda_W, lambda_H, lambda_b, has_bias, Z, colmax, colsum, gW, gH, gb
    )
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
def gradient_descent(
    W, H, b, labels, counts, loss, lambda_W, lambda_H, lambda_b, has_bias, lr, steps, record_every,
    Z, colmax, colsum, gW, gH, gb, Mc, gram, records,
):  # fmt: skip
    """``steps`` full-batch gradient steps X <- X - lr grad f(X), in place on W, H, b.

    Before step t (t = 0, record_every, 2 record_every, ... < steps) the row records[t //
    record_every] receives :func:`record_point`; the gradient computed for the record is the one the
    step uses.
    """
    for t in range(steps):
        if t % record_every == 0:
            record_point(
                W, H, b, labels, counts, loss, lambda_W, lambda_H, lambda_b, has_bias,
                Z, colmax, colsum, gW, gH, gb, Mc, gram, records[t // record_every],
            )  # fmt: skip
        else:
            objective_gradient(
                W, H, b, labels, loss, lambda_W, lambda_H, lambda_b, has_bias, Z, colmax, colsum,
                gW, gH, gb,
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
    X, W0, labels, alpha, beta, dt, sigma, seed, linear, record_every, Z, V, D, snapshots
):
    """Euler-Maruyama for the locally elastic SDE of :mod:`ufm.dynamics._lesde`, all paths at once.

    X (P x d x N) is advanced in place by len(alpha) steps of size dt; alpha[s], beta[s] are the
    impacts at t_s = s dt (left endpoint, as the Ito integral requires). The drift of sample i is
    W0^T sum_k' E_{y_i k'} g_k' / N with g_k' the sum over class k' of e_y - softmax(W0 x_j)
    (``linear``: its linearization (e_y - 1/K) - (I - 11^T/K) W0 x_j / K). snapshots[r] receives X
    before step r * record_every, and the last row X after the last step. Z (K x N), V (K x K), D (d
    x K) are scratch.
    """
    np.random.seed(seed)
    P, d, N = X.shape
    K = W0.shape[0]
    steps = alpha.shape[0]
    root_dt = math.sqrt(dt)
    inv_K = 1.0 / K
    for s in range(steps):
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
    snapshots[snapshots.shape[0] - 1] = X
