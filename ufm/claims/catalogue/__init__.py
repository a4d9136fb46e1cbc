"""The built-in catalogue: every theorem of ufm, encoded once, with the routes that verify it.

One module per family of claims, named like the prefix of its claim ids (``etf.identities`` lives
in ``etf.py``). Importing a family module registers its claims (:func:`ufm.claims.register`);
:data:`FAMILIES` imports them in this order, which is the order of ``ufm check --list``:

========== ===================================================================================
family     claims
========== ===================================================================================
etf        ``etf.identities``: the simplex ETF (Gram, column sum, rank, cosines)
ce         ``ce.global-minimizer`` (Zhu et al. 2021, Thm 3.1), ``.label-smoothing``,
           ``.implicit-max-margin``, ``.imbalanced-minority-threshold`` (two class sizes: the
           minority collapses iff sqrt(lambda_W lambda_H) >= sqrt(n_B)/N),
           ``.label-smoothing-imbalanced`` (the same with smoothing alpha: both the minority and
           the zero threshold scale by 1 - alpha)
mse        the MSE minimizers: ``mse.no-bias-orthogonal-frame``, ``.free-bias-etf``,
           ``.regularized-bias`` (balanced), ``.imbalanced-svt`` (any class sizes),
           ``.deep-linear`` (L weight layers: one scalar law per singular value),
           ``.deep-linear-jump`` (q >= 3 factors: the jump to zero, the metastable window),
           ``.central-path`` (the least-squares classifier's loss in Sigma_W, Sigma_B; descent),
           ``.min-norm-interpolant`` (the unregularized limit: nuclear norm of the labels)
landscape  ``landscape.benign``, ``landscape.strict-saddle``: no spurious minima, strict saddles;
           ``landscape.deep-origin-minimum``: at q >= 3 factors the origin is a strict minimizer
lpm        ``lpm.balanced-etf``, ``lpm.minority-collapse``: the layer-peeled model
seli       ``seli.max-margin``: the SELI geometry of the max-margin UFM
nc         ``nc.nc4-from-nc1-nc3``: NC1-NC3 imply NC4
lesde      ``lesde.separation-rate``, ``.separability-transition``, ``.l-boundary``, ``.nc-emerges``
sphere     ``sphere.normalized-ce``: unit features and classifiers, temperature tau (Yaras et al.)
supcon     ``supcon.simplex``: full-batch SupCon on a sphere, class collapse (Graf et al. 2021)
gnc        ``gnc.softmax-code``: the largest minimal one-vs-rest margin of K unit classifiers
========== ===================================================================================

Each ``predict`` encodes the published statement directly (its formula, written once in its
family; shared formulas in ``_common.py``); the routes measure the same quantities independently:
``symbolic`` through the sympy derivations of :mod:`ufm.geometry`, :mod:`ufm.minimizers`,
:mod:`ufm.landscape`; ``convex`` through the cvxpy programs of :mod:`ufm.relaxations`; ``dynamic``
through :mod:`ufm.dynamics`. Matrices are compared rotation-free (Gram matrices W W^T, M^T M, W M,
K x K: :func:`ufm.metrics.gram_invariants`), in the conventions of :mod:`ufm.objectives`.

Adding a family
---------------
1. Write ``catalogue/<family>.py``: the predictions, the route functions (measurements call the
   library; library logic does not live here) and one ``register(Claim(...))`` per claim, with a
   proof file under ``proofs/``. The global-minimizer claims of a new loss use
   ``_minimizer.register_minimizer`` with the loss's ``theorem(point, bias)``.
2. Add the family's name to :data:`FAMILIES` (one line) and a row to the table above.

``tests/test_claims.py`` then checks every route of the new claims, that the family registers at
least one claim and that every module of this folder is listed in :data:`FAMILIES`.
"""

import importlib

#: The families, in registration order (the order of ``ufm check --list``).
FAMILIES = (
    "etf", "ce", "mse", "landscape", "lpm", "seli", "nc", "lesde", "sphere", "supcon", "gnc",
)  # fmt: skip

for _family in FAMILIES:
    importlib.import_module(f"{__name__}.{_family}")
