"""The origin of the deep linear UFM is a strict local minimizer for q >= 3 factors (sympy).

Statement (derived here; consistent with Ziyin, Li & Meng 2022, "Exact solutions of a deep linear
network", whose abstract states that weight decay creates bad minima at zero in networks with more
than one hidden layer). Deep linear UFM with L weight layers (ufm ``depth`` = L), q = L + 1 >= 3
factors (= ufm depth >= 2), balanced classes, every decay lambda_x > 0, data term
l(Z) = (1/N) sum_i loss(z_i, y_i) at the logits Z = W_L...W_1 H (+ b 1^T), MSE (bias none or free)
or CE (no bias: the CE free-bias direction is flat at 0, so its Hessian there is singular). Then
at the origin theta = 0 (a free MSE bias at its optimum b0 = n/N):

    grad f = 0,   Hessian = blockdiag(lambda_L I, ..., lambda_1 I, lambda_H I) (+ I on the bias),

so the origin is a strict local minimizer. Contrast (proofs/strict_saddle.py): at depth 1 the
logits W H are of degree 2, the Hessian has the cross block of grad l(0), and the origin is a
strict saddle iff kappa < 1.

Basin: with c = N^(-1/2) q^(-q/2) and lambda_min the smallest decay, f(theta) - f(0) >=
rho^2 (lambda_min/2 - c rho^(q-2)) for rho = ||theta|| (bias-free), positive up to
r = (lambda_min/(4c))^(1/(q-2)), where it is >= lambda_min rho^2/4.

Proof: (1) the product of q factors is homogeneous of degree q; (2) so along t theta the logits
are b0 + t db + t^q P, and the t and t^2 Taylor coefficients of the data term (computed exactly
per class below) do not involve P for q >= 3: the gradient is 0 and the data Hessian is 0 on the
factors (I on a free MSE bias); (3) the penalties contribute lambda_x; (4) the basin bound by
convexity of l in Z, ||grad l(0)||_F <= N^(-1/2) and AM-GM.
"""

import sympy as sp
from _steps import done, fact, identity

t = sp.Symbol("t")

# (1) homogeneity of the product, on a symbolic 2 x 2 instance with q = 3 and q = 4 factors.
for q in (3, 4):
    mats = [sp.Matrix(2, 2, sp.symbols(f"m{f}_0:4")) for f in range(q)]
    identity(
        f"q={q}: (t A_1)...(t A_q) = t^q A_1...A_q (symbolic 2 x 2 factors)",
        sp.prod([t * A for A in mats], sp.eye(2)),
        t**q * sp.prod(mats, sp.eye(2)),
    )


# (2) Taylor coefficients of the data term along t, per class (K = 3, balanced weights 1/K).
def data_term(loss, K, q, free):
    P = sp.symbols(f"p0:{K}", real=True)  # the column of the product's direction
    db = sp.symbols(f"db0:{K}", real=True) if free else (0,) * K
    b0 = sp.Rational(1, K) if free else 0
    total = 0
    for k in range(K):
        zk = [b0 + t * db[j] + t**q * P[j] for j in range(K)]
        if loss == "mse":
            term = sum((zk[j] - int(j == k)) ** 2 for j in range(K)) / 2
        else:
            term = sp.log(sum(sp.exp(x) for x in zk)) - zk[k]
        total += term / K
    return total, list(P), list(db) if free else []


K = 3
for loss, free in (("mse", False), ("mse", True), ("ce", False)):
    for q in (3, 4):
        data, P, db = data_term(loss, K, q, free)
        c1 = sp.simplify(sp.diff(data, t).subs(t, 0))
        c2 = sp.expand(sp.simplify(sp.diff(data, t, 2).subs(t, 0)))
        name = f"{loss}, bias {'free' if free else 'none'}, q={q}"
        identity(f"{name}: the t coefficient (grad f(0) . direction) vanishes", c1, 0)
        identity(
            f"{name}: the t^2 coefficient (direction^T data-Hessian direction) is "
            + ("||db||^2: the bias block is I" if free else "0"),
            c2,
            sum(x**2 for x in db),
        )
        fact(f"{name}: it does not involve the product P", not (c2.free_symbols & set(P)))

q = 2
data, P, _ = data_term("mse", K, q, False)
c2 = sp.expand(sp.diff(data, t, 2).subs(t, 0))
fact(
    "contrast q=2 (depth 1): the t^2 coefficient does involve P (the cross term -<Y, P>/N that "
    "makes the origin a saddle)",
    bool(c2.free_symbols & set(P)),
    f"{c2}",
)

# (3) penalties: sum lambda_x/2 ||t X||^2 = t^2 sum lambda_x/2 ||X||^2.
lam, nx = sp.symbols("lambda_x normsq_x", positive=True)
identity(
    "penalty of t X: lambda/2 t^2 ||X||^2, whose t^2 coefficient times 2 is lambda ||X||^2",
    sp.diff(lam / 2 * t**2 * nx, t, 2).subs(t, 0),
    lam * nx,
)

# (4) the basin.
Nn, Kk = sp.symbols("N K", positive=True)
identity(
    "||grad l(0)||_F^2 for CE: N columns of (1/N)(1/K - e_y) have total (K-1)/(K N) <= 1/N",
    Nn * ((1 - 1 / Kk) ** 2 + (Kk - 1) / Kk**2) / Nn**2,
    (Kk - 1) / (Kk * Nn),
)
identity("||grad l(0)||_F^2 for MSE without bias: ||Y/N||^2 = N/N^2 = 1/N", Nn / Nn**2, 1 / Nn)
rho, lmin, c = sp.symbols("rho lambda_min c", positive=True)
for q in (3, 4):
    r = (lmin / (4 * c)) ** sp.Rational(1, q - 2)
    identity(
        f"q={q}: lambda_min/2 rho^2 - c rho^q at rho = r = (lambda_min/(4c))^(1/(q-2)) equals "
        "lambda_min r^2/4 > 0 (and c rho^(q-2) <= lambda_min/4 for every rho <= r)",
        sp.simplify(lmin / 2 * r**2 - c * r**q),
        sp.simplify(lmin * r**2 / 4),
    )
a1, a2, a3 = sp.symbols("a1 a2 a3", positive=True)
am_gm = (a1 + a2 + a3) * ((a1 - a2) ** 2 + (a2 - a3) ** 2 + (a3 - a1) ** 2)
identity(
    "AM-GM, q = 3: a1^3 + a2^3 + a3^3 - 3 a1 a2 a3 = (a1+a2+a3)((a1-a2)^2 + ...)/2, so "
    "||ABC||_F <= prod ||X||_F <= (||theta||^2/3)^(3/2)",
    a1**3 + a2**3 + a3**3 - 3 * a1 * a2 * a3,
    am_gm / 2,
)
fact("the right-hand side is a positive sum times a sum of squares", am_gm.is_nonnegative is True)
worst = 0.0
for q in (3, 4):
    for N_ in range(2, 10):
        for lo in (1e-3, 1e-2, 1e-1, 1.0):
            for hi in (lo, 1.0):
                cq = N_**-0.5 * q ** (-q / 2)
                r_ = (lo / (4 * cq)) ** (1 / (q - 2))
                r0 = 0.1 * r_ * (lo / hi) ** 0.5
                start = hi * r0**2 / 2 + cq * r0**q + (r0**2 / q) ** q / (2 * N_)
                worst = max(worst, start / (lo * r_**2))
fact(
    "from r0 = 0.1 r sqrt(lambda_min/lambda_max): f - f(0) <= lambda_max r0^2/2 + c r0^q "
    "+ ||P||^2/(2N) <= 0.006 lambda_min r^2 (grid over the claim's domain: decays in "
    "[1e-3, 1], N = 2..9, q = 3, 4)",
    worst <= 0.006,
    f"max ratio {worst:.5f}",
)
for q in (3, 4):
    # from r0 = 0.1 r sqrt(lmin/lmax) <= 0.1 r: f - f(0) <= lmax r0^2/2 + c r0^q + ||P||^2/(2N)
    # <= 0.006 lmin r^2 (above), so descent stays where lmin rho^2/4 <= 0.006 lmin r^2, i.e.
    # rho <= 0.155 r; there <grad f, theta> >= rho^2 (lmin - q c rho^(q-2)).
    bound = 1 - q * sp.Rational(155, 1000) ** (q - 2) / 4
    fact(
        f"q={q}: for rho <= 0.155 r, q c rho^(q-2) <= q 0.155^(q-2) lambda_min/4, so "
        "<grad f, theta> >= 0.8 lambda_min rho^2 and the end point of descent has "
        "rho <= 2 ||grad f||/lambda_min",
        bound >= sp.Rational(4, 5),
        f"1 - q 0.155^(q-2)/4 = {bound}",
    )
done("the origin of the deep linear UFM (q >= 3 factors) is a strict local minimizer")
print("verified")
