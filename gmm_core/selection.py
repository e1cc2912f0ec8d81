"""Model selection: BIC, AIC and ICL of a GMM fit for every (k, covariance type).

Fits of a few thousand rows take milliseconds and are bound by Python overhead, so
threads gain nothing (the GIL) and worker processes pay off only when a sweep is big
enough to amortize handing work over; ``sweep`` decides with a size threshold measured
on this project's 2-core machine (``benchmarks/bench_selection.py``). With one start
per fit, the start (a k-means partition, say) depends on k and the seed but not on the
covariance type, so it is computed once per k and shared by every type.

Fits can be cached by the caller: ``fit_key`` names one fit in plain values, and
``sweep(cache=...)`` reads finished fits from a mapping and writes new ones to it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from gmm_core.init import PARTITION_INITIALIZERS, partitioner
from gmm_core.model import GMM, aic_from, bic_from, icl_from
from gmm_core.model_names import mclust_name
from gmm_core.request import COVARIANCE_CHOICES, COVARIANCE_TYPES, INIT_METHODS
from gmm_core.scaling import RowSummary, summarize_rows
from gmm_core.threads import single_threaded
from gmm_core.validation import validate_data

# BIC and AIC, scikit-learn's criteria; a sweep's table adds ICL (the Model selection
# page plots all three).
CRITERIA = ("bic", "aic")
TABLE_CRITERIA = (*CRITERIA, "icl")
COLUMNS = ("k", "covariance_type", "bic", "aic", "icl", "mean_loglik", "converged", "n_iter",
           "singular")
# Worker processes are used when rows x (sum of k over the fits to run) reaches this.
# Measured on the 2-core machine (4-component 2-D data, k = 1…10 x 4 types): two warm
# workers take half the time of one process at every size (4,000 rows: 0.09 s against
# 0.17 s; 100,000 rows: 1.0 s against 2.4 s), but starting them costs about 1.5 s, which
# a sweep repays only from about 2 s of work (22 million units: 2.45 s cold against 2.35 s).
PARALLEL_MIN_WORK = 20_000_000


@dataclass(frozen=True)
class SweepSettings:
    """Everything that determines one fit of a sweep besides the data, k and the type."""

    n_init: int = 1
    seed: int = 42
    tol: float = 1e-3
    reg_covar: float = 1e-6
    max_iters: int = 100
    init: str = "kmeans"
    noise: bool = False  # mclust's noise component (gmm_core.noise) in every fit

    def __post_init__(self):
        if self.init not in INIT_METHODS:
            raise ValueError(f"init must be one of {', '.join(INIT_METHODS)}; got {self.init!r}")
        self.model(1, "full").check_parameters()

    def model(self, k: int, covariance_type: str) -> GMM:
        # One display row: a sweep keeps scores only, so the trace stays small.
        return GMM(k=k, covariance_type=covariance_type, tol=self.tol,
                   max_iters=self.max_iters, reg_covar=self.reg_covar, init=self.init,
                   seed=self.seed, n_init=self.n_init, noise=self.noise, trace_points=1)


@dataclass(frozen=True)
class FitScore:
    """One row of a sweep."""

    k: int
    covariance_type: str
    bic: float
    aic: float
    icl: float  # BIC plus twice the hard classification's entropy (gmm_core.model.icl_from)
    mean_loglik: float  # mean per-row log-likelihood of the fitted parameters
    converged: bool
    n_iter: int
    singular: str = ""  # why the fit is singular (gmm_core.singular); "" for a sound fit


def fit_key(k: int, covariance_type: str, settings: SweepSettings) -> tuple:
    """A hashable name for one fit; keep one cache mapping per data set (fingerprint)."""
    # The fields as they are (asdict would deep-copy them, for every fit of a sweep).
    return (int(k), covariance_type, *(getattr(settings, f.name) for f in fields(settings)))


def score_fit(X, k: int, covariance_type: str, settings: SweepSettings) -> FitScore:
    """Fit one GMM and score it: ``settings.model(k, covariance_type).fit(X)``."""
    return score_fits(X, k, [covariance_type], settings)[0]


def score_fits(X, k: int, covariance_types: Iterable[str], settings: SweepSettings,
               rows: RowSummary | None = None, partition_of: Callable | None = None
               ) -> list[FitScore]:
    """Fit and score one GMM per covariance type, each exactly as ``settings.model``.

    Runs with one BLAS/OpenMP thread: the fits are small, so extra threads only add
    start-up costs and, on a busy machine, OpenMP spin-waiting in the k-means start
    (the benchmark sweep took 2.5-4.5 s with the default threads, 0.3-0.4 s with one).
    One thread also makes in-process and worker-process results bitwise identical.
    What a sweep makes once for all its k: ``rows``, ``summarize_rows(X)``;
    ``partition_of``, ``_shared_partitions(X, settings)``.
    """
    X = validate_data(X, min_rows=k)
    rows = summarize_rows(X) if rows is None else rows  # once for every fit
    with single_threaded():
        partition_of = partition_of or _shared_partitions(X, settings)
        partition = None if partition_of is None else partition_of(k)
        return [_score(X, settings.model(k, covariance_type), rows, partition)
                for covariance_type in covariance_types]


def _shared_partitions(X: np.ndarray, settings: SweepSettings
                       ) -> Callable[[int], np.ndarray] | None:
    """``partition_of(k)``: the start GMM would draw from ``seed`` at k, when one start
    serves every type (None otherwise)."""
    if settings.n_init != 1 or settings.init not in PARTITION_INITIALIZERS:
        return None
    partition = partitioner(settings.init, X)
    return lambda k: partition(k, np.random.RandomState(settings.seed))


def _score(X, model: GMM, rows: RowSummary, partition: np.ndarray | None) -> FitScore:
    # One pass for every criterion, the fit's last: bic(X), aic(X) and icl(X) would each
    # make their own.
    log_likelihood, responsibilities = model.fit_evaluate(X, rows, partition)
    mean_loglik = float(log_likelihood.mean())
    n, n_parameters = len(X), model.n_parameters()
    bic = bic_from(mean_loglik, n, n_parameters)
    return FitScore(k=model.k, covariance_type=model.covariance_type, bic=float(bic),
                    aic=float(aic_from(mean_loglik, n, n_parameters)),
                    icl=float(icl_from(bic, responsibilities)),
                    mean_loglik=float(mean_loglik), converged=bool(model.converged_),
                    n_iter=int(model.n_iter_),
                    singular="; ".join(f"component {component}: {why}" for component, why
                                       in sorted(model.singular_.items())))


@dataclass(frozen=True)
class SweepResult:
    """The sweep's table, one row per (k, covariance type), and how it ran."""

    table: pd.DataFrame  # columns COLUMNS, ordered by covariance type then k
    settings: SweepSettings
    n_jobs: int  # processes that ran the new fits (1: this one)
    n_cached: int  # fits read from the cache instead of run

    def best(self, criterion: str = "bic") -> tuple[int, str]:
        """``(k, covariance_type)`` of the sound fit with the lowest criterion (the first
        such on ties). A singular fit is never best: its likelihood is bounded only by
        the regularization. ValueError if every fit is singular."""
        sound = self.table[self.table["singular"] == ""]
        if sound.empty:
            raise ValueError("every fit of this sweep is singular (a component on a point "
                             "or a flat set), so no criterion can choose among them")
        row = sound.loc[sound[_criterion(criterion)].idxmin()]
        return int(row["k"]), str(row["covariance_type"])

    def by_type(self, criterion: str = "bic") -> pd.DataFrame:
        """The criterion as a k x covariance-type table: one line per type in a chart."""
        types = list(dict.fromkeys(self.table["covariance_type"]))
        return self.table.pivot(index="k", columns="covariance_type",
                                values=_criterion(criterion))[types]


def _criterion(criterion: str) -> str:
    if criterion not in TABLE_CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(TABLE_CRITERIA)}; "
                         f"got {criterion!r}")
    return criterion


def sweep(X, k_values: Iterable[int] = range(1, 11),
          covariance_types: Iterable[str] = COVARIANCE_TYPES, n_init: int = 1, seed: int = 42,
          tol: float = 1e-3, reg_covar: float = 1e-6, max_iters: int = 100,
          progress: Callable[[int, int], None] | None = None, n_jobs: int | None = None,
          init: str = "kmeans", noise: bool = False,
          cache: MutableMapping[tuple, FitScore] | None = None) -> SweepResult:
    """BIC, AIC and ICL of a GMM fit for every k in ``k_values`` and every covariance type
    (scikit-learn's four names or mclust's models, gmm_core.parsimonious).

    Each row equals ``GMM(k, covariance_type, tol, max_iters, reg_covar, init, seed,
    n_init, noise).fit(X)``'s ``bic(X)``, ``aic(X)``, ``icl(X)`` and ``score(X)``.
    ``init="kmeans"`` is scikit-learn's default start, so the table is comparable with a
    ``GaussianMixture`` sweep. ``noise=True`` gives every fit mclust's noise component, as
    ``mclustBIC(initialization = list(noise = ...))`` does: its weight counts as one more
    parameter in each criterion, and k counts the Gaussians only.
    ``progress(done, total)`` is called once per (k, type), in this process, as results
    arrive (cached ones first). ``n_jobs=None`` uses one worker process per core
    only when the sweep is big enough to gain from them; ``n_jobs=1`` never does, and
    ``n_jobs > 1`` always does. ``cache`` (keys from ``fit_key``) supplies finished fits
    and receives new ones; it must belong to this data set.
    """
    X = validate_data(X)
    settings = SweepSettings(n_init=n_init, seed=seed, tol=tol, reg_covar=reg_covar,
                             max_iters=max_iters, init=init, noise=noise)
    pairs = _pairs(k_values, covariance_types, n_rows=len(X))
    cache = {} if cache is None else cache
    cached = {pair: cache[fit_key(*pair, settings)] for pair in pairs
              if fit_key(*pair, settings) in cache}
    todo: dict[int, list[str]] = {}
    for k, covariance_type in pairs:
        if (k, covariance_type) not in cached:
            todo.setdefault(k, []).append(covariance_type)
    work = len(X) * sum(k * len(types) for k, types in todo.items())
    workers = _workers(n_jobs, work, len(todo))
    scores = dict(cached)
    for done, score in enumerate(_scores_as_ready(X, todo, cached, settings, workers), 1):
        scores[(score.k, score.covariance_type)] = score
        cache[fit_key(score.k, score.covariance_type, settings)] = score
        if progress is not None:
            progress(done, len(pairs))
    table = pd.DataFrame([asdict(scores[pair]) for pair in pairs], columns=list(COLUMNS))
    return SweepResult(table, settings, workers, len(cached))


def _pairs(k_values, covariance_types, n_rows: int) -> list[tuple[int, str]]:
    ks = sorted({int(k) for k in k_values})
    types = list(dict.fromkeys(covariance_types))
    if not ks or not types:
        raise ValueError("a sweep needs at least one k and one covariance type")
    if ks[0] < 1 or ks[-1] > n_rows:
        raise ValueError(f"k must lie between 1 and the number of rows ({n_rows}); "
                         f"got {ks[0]}…{ks[-1]}")
    unknown = [t for t in types if t not in COVARIANCE_CHOICES]
    if unknown:
        raise ValueError(f"covariance types must be among {', '.join(COVARIANCE_CHOICES)}; "
                         f"got {unknown[0]!r}")
    return [(k, t) for t in types for k in ks]


def _workers(n_jobs: int | None, work: int, n_tasks: int) -> int:
    if n_jobs is not None and (isinstance(n_jobs, bool) or int(n_jobs) < 1):
        raise ValueError(f"n_jobs must be a positive integer or None; got {n_jobs!r}")
    if n_jobs is None:
        n_jobs = (os.cpu_count() or 1) if work >= PARALLEL_MIN_WORK else 1
    return max(1, min(int(n_jobs), n_tasks))


def _scores_as_ready(X, todo: dict[int, list[str]], cached: dict, settings: SweepSettings,
                     workers: int):
    """Cached scores, then new ones as each k's fits finish.

    Workers take the largest k first, so none is left finishing one long fit alone.
    """
    yield from list(cached.values())
    if not todo:
        return
    rows = summarize_rows(X)
    if workers == 1:
        with single_threaded():
            partition_of = _shared_partitions(X, settings)
        for k, types in todo.items():
            yield from score_fits(X, k, types, settings, rows, partition_of)
        return
    parallel = Parallel(n_jobs=workers, return_as="generator_unordered")
    for scores in parallel(delayed(score_fits)(X, k, todo[k], settings, rows)
                           for k in sorted(todo, reverse=True)):
        yield from scores


def top_models(result: SweepResult, criterion: str = "bic", n: int = 3) -> pd.DataFrame:
    """mclust's "Top 3 models" (``summary(mclustBIC)``): the ``n`` sound fits of lowest
    criterion, each named "VEV,2" (mclust's model name, k) with its value and its
    difference to the best (mclust prints both negated); ``k`` and ``covariance_type``
    name each fit as the sweep does."""
    sound = result.table[result.table["singular"] == ""]
    top = sound.sort_values(_criterion(criterion), kind="stable").head(n)
    values = top[criterion].to_numpy()
    return pd.DataFrame({
        "model,k": [f"{mclust_name(t)},{k}"
                    for t, k in zip(top["covariance_type"], top["k"], strict=True)],
        criterion: values, "difference to the best": values - values.min(initial=np.inf),
        "k": top["k"].to_numpy(), "covariance_type": top["covariance_type"].to_numpy(),
    })
