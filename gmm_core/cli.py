"""Command line: ``python -m gmm_core fit | sweep | datasets | fetch``.

Bad input ends with exit status 2 and one line ``error: …`` on stderr; a download or
fit that fails for other reasons ends with status 1 and the same kind of line. Ctrl-C
ends with status 130 and one line, ``interrupted after iteration N; nothing written``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import warnings

import numpy as np

from gmm_core.datasets import (
    Dataset,
    DatasetError,
    fetch_sdss,
    list_datasets,
    load_dataset,
    prepare_features,
    read_csv_upload,
    sdss_available,
    sdss_file_path,
)
from gmm_core.datasets.base import describe_names
from gmm_core.model import GMM, DegenerateFitError, aic_from, bic_from
from gmm_core.model_names import covariance_type_of, mclust_name, models_for
from gmm_core.request import (
    CONVERGENCE_RULES,
    COVARIANCE_CHOICES,
    DEGENERATE_POLICIES,
    INIT_METHODS,
    REGULARIZATIONS,
    FitRequest,
)
from gmm_core.scaling import RegularizationWarning, check_magnitudes, location_and_spread
from gmm_core.selection import TABLE_CRITERIA, sweep, top_models
from gmm_core.wording import counted

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
# What a shell reports for a program ended by SIGPIPE (128 + 13), as ``yes | head`` ends.
EXIT_BROKEN_PIPE = 141
# What a shell reports for a program ended by SIGINT (128 + 2), as Ctrl-C ends one.
EXIT_INTERRUPTED = 130
PROGRESS_WIDTH = 30


class UsageError(Exception):
    """Bad command-line input, reported as one ``error:`` line."""


class Interrupted(Exception):
    """Ctrl-C during a fit, after ``iterations`` completed iterations."""

    def __init__(self, iterations: int):
        super().__init__(iterations)
        self.iterations = iterations


class IterationProgress:
    """A fit's ``on_iteration``: counts the iterations done (what Ctrl-C reports) and,
    when ``echo``, prints one line per iteration on stderr."""

    def __init__(self, echo: bool):
        self.echo = echo
        self.done = 0

    def __call__(self, iteration: int, mean_loglik: float) -> None:
        self.done = iteration
        if self.echo:
            # One write with its newline: Ctrl-C can come between print's two writes,
            # which would leave the next line glued to this one.
            sys.stderr.write(f"iteration {iteration}: mean log-likelihood {mean_loglik:.6g}\n")
            sys.stderr.flush()

    @contextlib.contextmanager
    def interruptible(self):
        """Ctrl-C inside becomes ``Interrupted`` with the iterations done."""
        try:
            yield
        except KeyboardInterrupt:
            raise Interrupted(self.done) from None


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m gmm_core",
                     description="Fit Gaussian mixtures by EM from the command line.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fit = commands.add_parser("fit", help="fit a Gaussian mixture to a data set or CSV file")
    source = fit.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", metavar="FILE", help="a CSV file (comma, semicolon or tab)")
    source.add_argument("--dataset", metavar="NAME", help="a registered data set (see "
                        "`datasets`)")
    source.add_argument("--parquet", metavar="SOURCE",
                        help="a catalog fitted on a Dask cluster: a Parquet file, a directory "
                             "or glob of Parquet files, a glob of CSV files, or a Zarr group")
    fit.add_argument("--scheduler", metavar="ADDRESS",
                     help="with --parquet: the Dask scheduler (default: "
                          "$DASK_SCHEDULER_ADDRESS, else two local worker processes)")
    fit.add_argument("--columns", metavar="A,B", type=_column_list,
                     help="columns to fit (default: every numeric column of a CSV file but "
                          "its row names, the default view of a data set)")
    fit.add_argument("--param", metavar="KEY=VALUE", action="append", default=[],
                     type=_key_value, help="a data-set parameter, e.g. n_components=4")
    fit.add_argument("--k", type=int, default=2, help="number of components (default 2)")
    fit.add_argument("--covariance", choices=COVARIANCE_CHOICES, default="full",
                     help="scikit-learn's full, tied, diag, spherical or one of mclust's "
                          "models: EII, VII, …, VVV (E, V for one column)")
    fit.add_argument("--init", choices=INIT_METHODS, default="kmeans++")
    fit.add_argument("--convergence", choices=CONVERGENCE_RULES, default="loglik")
    fit.add_argument("--on-degenerate", choices=DEGENERATE_POLICIES, default="regularize")
    fit.add_argument("--tol", type=float, default=1e-4)
    fit.add_argument("--max-iter", type=int, default=100)
    fit.add_argument("--seed", type=int, default=42)
    fit.add_argument("--reg", type=float, default=1e-6, help="reg_covar added to variances")
    fit.add_argument("--regularization", choices=REGULARIZATIONS, default="absolute",
                     help="absolute: add --reg to each variance; relative: add --reg times "
                          "each feature's variance (the same fit in any units)")
    fit.add_argument("--standardize", action="store_true",
                     help="z-score each column before fitting")
    fit.add_argument("--noise", action="store_true",
                     help=NOISE_HELP + "; its rows are counted apart")
    fit.add_argument("--json", action="store_true", help="print one JSON object")
    fit.add_argument("--progress", action="store_true",
                     help="one line per iteration on stderr (always on with --parquet)")

    choose = commands.add_parser(
        "sweep", help="BIC, ICL and AIC for every k and covariance model, and mclust's "
                      "top 3 models")
    source = choose.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", metavar="FILE", help="a CSV file (comma, semicolon or tab)")
    source.add_argument("--dataset", metavar="NAME", help="a registered data set")
    choose.add_argument("--columns", metavar="A,B", type=_column_list,
                        help="columns to fit (default: as for fit)")
    choose.add_argument("--param", metavar="KEY=VALUE", action="append", default=[],
                        type=_key_value, help="a data-set parameter, e.g. n_components=4")
    choose.add_argument("--standardize", action="store_true",
                        help="z-score each column before fitting")
    choose.add_argument("--k-max", type=int, default=9,
                        help="fit k = 1 … K_MAX (default 9, as mclust)")
    choose.add_argument("--models", metavar="M,N", type=_column_list,
                        help="covariance models, mclust's names or scikit-learn's (default: "
                             "mclust's 14; E and V for one column)")
    choose.add_argument("--criterion", choices=TABLE_CRITERIA, default="bic",
                        help="the criterion of the table and the top 3 (default bic)")
    choose.add_argument("--n-init", type=int, default=1, help="starts per fit (default 1)")
    choose.add_argument("--init", choices=INIT_METHODS, default="kmeans")
    choose.add_argument("--tol", type=float, default=1e-3)
    choose.add_argument("--max-iter", type=int, default=100)
    choose.add_argument("--seed", type=int, default=42)
    choose.add_argument("--reg", type=float, default=1e-6, help="reg_covar added to variances")
    choose.add_argument("--noise", action="store_true",
                        help=NOISE_HELP + " in every fit (counted as one more parameter)")
    choose.add_argument("--json", action="store_true", help="print one JSON object")

    commands.add_parser("datasets", help="list the data sets and their features")

    fetch = commands.add_parser("fetch", help="download a data set into astroML's data home")
    fetch.add_argument("name", choices=["sdss"])
    fetch.add_argument("--url", help="download from this address instead of astroML's")
    return parser


NOISE_HELP = ("add mclust's noise component for outliers: a uniform density 1/V over the "
              "data's hypervolume V (mclust's hypvol)")


def _column_list(text: str) -> list[str]:
    columns = [part.strip() for part in text.split(",")]
    if not all(columns):
        raise argparse.ArgumentTypeError(f"empty column name in {text!r}")
    return columns


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE; got {text!r}")
    return key.strip(), value.strip()


def main(argv: list[str] | None = None) -> int:
    try:
        status = _run(argv)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:  # the reader (``| head``) has gone: stop quietly
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except Interrupted as stop:
        when = (f"after iteration {stop.iterations}" if stop.iterations
                else "before the first iteration")
        print(f"interrupted {when}; nothing written", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("interrupted; nothing written", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED


def _run(argv: list[str] | None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except SystemExit as exit_:  # --help
        return int(exit_.code or 0)
    except (UsageError, DatasetError, ValueError) as exc:
        return _fail(exc, EXIT_BAD_INPUT)
    except DegenerateFitError as exc:
        return _fail(exc, EXIT_FAILED)


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so that Python's own flush at exit does not report the
    closed pipe (Python's documented way to leave quietly after SIGPIPE)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _fail(exc: Exception, status: int) -> int:
    print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
    return status


# ---------------------------------------------------------------------------- fit
def run_fit(args) -> int:
    if args.parquet is not None:
        return run_catalog_fit(args)
    if args.scheduler is not None:
        raise UsageError("--scheduler applies to --parquet")
    dataset, columns = _fit_data_source(args)
    prepared = prepare_features(dataset, columns,
                                "standardize" if args.standardize else "none")
    # The fit checks this too; here the message can name the column.
    check_magnitudes(location_and_spread(prepared.X)[1], prepared.columns, args.reg,
                     args.regularization)
    request = FitRequest(
        dataset=dataset.name, features=prepared.columns, k=args.k, tol=args.tol,
        seed=args.seed, covariance_type=args.covariance, init=args.init,
        convergence=args.convergence, max_iters=args.max_iter, reg_covar=args.reg,
        standardize=args.standardize, on_degenerate=args.on_degenerate,
        regularization=args.regularization, dataset_params=tuple(args.param),
        noise=args.noise)
    progress = IterationProgress(echo=args.progress)
    with progress.interruptible(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gmm = GMM(**request.model_params(), on_iteration=progress).fit(prepared.X)
    for warning in caught:
        _warn(warning.message, prepared.columns)
    result = fit_summary(gmm, prepared.X)
    result.update(dataset=dataset.name, title=dataset.title, fingerprint=dataset.fingerprint,
                  columns=list(prepared.columns), n_samples=len(prepared.X),
                  notes=list(prepared.notes), preprocessing=prepared.preprocessing.to_dict(),
                  request=request.to_dict())
    if args.json:
        print(json.dumps(result, allow_nan=False))
    else:
        print(_readable_fit(result, dataset))
    return 0


def _warn(message: Warning, columns) -> None:
    """A warning from the fit as one ``warning:`` line on stderr, its fix in options."""
    if isinstance(message, RegularizationWarning):
        text = (f"{message.what(columns[message.feature])}; use --standardize, a smaller "
                "--reg, or --regularization relative")
    else:
        text = str(message)
    print(f"warning: {' '.join(text.split())}", file=sys.stderr)


def _fit_data_source(args) -> tuple[Dataset, list[str]]:
    """The data set ``fit`` reads and the columns it fits (a CSV file's numeric columns
    but its row names, or a registered data set's default view, unless ``--columns``
    names them)."""
    if args.csv is not None:
        if args.param:
            raise UsageError("--param applies to --dataset, not to --csv")
        dataset = read_csv_upload(args.csv, min_rows=max(args.k, 1), columns=args.columns)
        return dataset, list(args.columns or dataset.default_features)
    dataset = load_dataset(args.dataset, **dict(args.param))
    return dataset, list(args.columns or dataset.default_view)


def fit_summary(gmm: GMM, X: np.ndarray) -> dict:
    """The fitted parameters and scores as plain JSON-ready values."""
    labels = gmm.predict(X)
    noise = {} if gmm.noise_weight_ is None else {"noise_count": int((labels == -1).sum())}
    return {**_fitted(gmm, gmm.score(X), len(X)), "icl": float(gmm.icl(X)),
            "counts": np.bincount(labels[labels >= 0], minlength=gmm.k).tolist(), **noise}


def _fitted(gmm: GMM, mean_loglik: float, n_samples: int) -> dict:
    return {
        "k": gmm.k,
        "covariance_type": gmm.covariance_type,
        "n_iter": int(gmm.n_iter_),
        "converged": bool(gmm.converged_),
        "stop_reason": gmm.trace_.stop_reason,
        "mean_loglik": float(mean_loglik),
        "loglik": float(mean_loglik * n_samples),
        "bic": float(bic_from(mean_loglik, n_samples, gmm.n_parameters())),
        "aic": float(aic_from(mean_loglik, n_samples, gmm.n_parameters())),
        "weights": gmm.weights_.tolist(),
        "means": gmm.means_.tolist(),
        "covariances": np.asarray(gmm.covariances_).tolist(),
        "singular": {str(component): why for component, why in gmm.singular_.items()},
        "events": [event.to_dict() for event in gmm.trace_.events],
    } | ({} if gmm.noise_weight_ is None else
         {"noise_weight": float(gmm.noise_weight_), "vinv": float(gmm.vinv_)})


def run_catalog_fit(args) -> int:
    """Fit a catalog on a Dask cluster, one progress line per iteration on stderr."""
    from gmm_core.catalog import open_catalog

    if args.param or args.standardize or args.noise:
        raise UsageError("--param, --standardize and --noise apply to --csv and --dataset")
    try:
        client = _connect_ignoring_ctrl_c(args.scheduler)
    except OSError as exc:
        raise UsageError(f"cannot reach the Dask scheduler: {exc}") from None
    progress = IterationProgress(echo=True)
    with client, progress.interruptible(), _quiet_on_ctrl_c():
        try:
            catalog = open_catalog(args.parquet, args.columns)
            request = FitRequest(
                dataset="catalog", features=catalog.columns, k=args.k, tol=args.tol,
                seed=args.seed, covariance_type=args.covariance, init=args.init,
                convergence=args.convergence, max_iters=args.max_iter, reg_covar=args.reg,
                on_degenerate=args.on_degenerate, regularization=args.regularization)
            gmm = GMM(**request.model_params(), on_iteration=progress).fit(catalog.rows)
        except KeyboardInterrupt:
            if client.cluster is not None:
                # The local workers are closed mid-task next: silenced first, they do
                # not log the tasks they drop.
                with contextlib.suppress(Exception):
                    client.run(logging.disable, logging.CRITICAL)
            raise
        finally:
            if client.cluster is not None:  # the local workers this command started
                client.cluster.close()
    # The trace's last entry scores the final parameters on every row.
    result = _fitted(gmm, float(gmm.trace_.mean_log_likelihood[-1]), catalog.n_rows)
    result.update(source=catalog.source, columns=list(catalog.columns),
                  n_samples=catalog.n_rows, n_dropped=catalog.n_dropped,
                  request=request.to_dict())
    if args.json:
        print(json.dumps(result, allow_nan=False))
        return 0
    print(f"data: {catalog.source}: {counted(catalog.n_rows, 'row')} × "
          f"{', '.join(catalog.columns)}"
          + (f" ({counted(catalog.n_dropped, 'row')} with a missing or non-finite value "
             "dropped)" if catalog.n_dropped else ""))
    print(f"fit: k={gmm.k}, {gmm.covariance_type} covariance; {_how_it_stopped(result)}")
    print(f"mean log-likelihood {result['mean_loglik']:.6g}; BIC {result['bic']:.6g}")
    for j, (weight, mean) in enumerate(zip(result["weights"], result["means"], strict=True)):
        print(f"{j:>9}  {weight:>7.4f}  ({', '.join(f'{value:.4g}' for value in mean)})")
    for event in result["events"]:
        print(f"event ({event['kind']}): {event['message']}")
    return 0


@contextlib.contextmanager
def _quiet_on_ctrl_c():
    """Ctrl-C silences this process's logging before it raises KeyboardInterrupt: the
    interrupted gather's task and the scheduler log what they drop from the client's
    event-loop thread, which can run before the main thread unwinds to a handler, and
    Ctrl-C's answer is one line."""

    def silence_then_interrupt(signum, frame):
        logging.disable(logging.CRITICAL)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, silence_then_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _connect_ignoring_ctrl_c(address: str | None):
    """``connect``, with any local worker processes started ignoring SIGINT: Ctrl-C in a
    terminal reaches the whole process group, and the workers are this command's to shut
    down cleanly, not for the signal to kill mid-task."""
    from gmm_core.distributed import connect

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return connect(address)
    finally:
        signal.signal(signal.SIGINT, previous)


def _how_it_stopped(result: dict) -> str:
    return (f"converged after {counted(result['n_iter'], 'iteration')}" if result["converged"]
            else f"stopped at the iteration limit ({result['n_iter']}) without converging")


def _readable_fit(result: dict, dataset: Dataset) -> str:
    labels = [dataset.features[name].axis_title for name in result["columns"]]
    lines = [
        f"data: {result['title']}: {counted(result['n_samples'], 'row')} × "
        f"{', '.join(labels)}",
        *[f"note: {note}" for note in result["notes"]],
        "preprocessing: " + ("standardize (means below are in standardized units)"
                             if result["preprocessing"]["method"] == "standardize" else "none"),
        f"fit: k={result['k']}, {result['covariance_type']} covariance; {_how_it_stopped(result)}",
        f"mean log-likelihood {result['mean_loglik']:.6g} (total {result['loglik']:.6g}); "
        f"BIC {result['bic']:.6g}; AIC {result['aic']:.6g}",
        f"{'component':>9}  {'weight':>7}  {'count':>7}  mean",
    ]
    for j, (weight, count, mean) in enumerate(
            zip(result["weights"], result["counts"], result["means"], strict=True)):
        coords = ", ".join(f"{value:.4g}" for value in mean)
        lines.append(f"{j:>9}  {weight:>7.4f}  {count:>7}  ({coords})")
    if "noise_weight" in result:
        lines.append(f"{'noise':>9}  {result['noise_weight']:>7.4f}  "
                     f"{result['noise_count']:>7}  (uniform, density {result['vinv']:.4g})")
    lines += [f"event ({event['kind']}): {event['message']}" for event in result["events"]]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- sweep
def run_sweep(args) -> int:
    """Every k = 1…k_max for every model, as the Model selection page sweeps: the
    criterion by k and model (lower is better), and mclust's top 3."""
    args.k = args.k_max  # the largest fit: _fit_data_source checks the rows against it
    dataset, columns = _fit_data_source(args)
    prepared = prepare_features(dataset, columns,
                                "standardize" if args.standardize else "none")
    models = [covariance_type_of(m) for m in args.models or models_for(len(columns))]
    result = sweep(prepared.X, range(1, args.k_max + 1), models, n_init=args.n_init,
                   seed=args.seed, tol=args.tol, reg_covar=args.reg, max_iters=args.max_iter,
                   init=args.init, noise=args.noise)
    top = top_models(result, args.criterion)
    if args.json:
        print(json.dumps({"dataset": dataset.name, "columns": list(prepared.columns),
                          "n_samples": len(prepared.X), "criterion": args.criterion,
                          "table": result.table.to_dict(orient="records"),
                          "top": top.to_dict(orient="records")}, allow_nan=False))
        return 0
    name = args.criterion.upper()
    table = result.by_type(args.criterion).rename(columns=mclust_name).rename_axis(
        columns="model")
    print(f"data: {dataset.title}: {counted(len(prepared.X), 'row')} × "
          f"{', '.join(prepared.columns)}")
    print(f"{name} by k and model (lower is better; mclust prints it negated):")
    print(table.to_string(float_format=lambda value: f"{value:.6g}"))
    print(f"top {len(top)} models by {name}:")
    print(top[["model,k", args.criterion, "difference to the best"]].rename(
        columns={args.criterion: name}).to_string(index=False,
                                                  float_format=lambda value: f"{value:.6g}"))
    return 0


# ---------------------------------------------------------------------------- datasets
def run_datasets(args) -> int:
    for info in list_datasets():
        print(f"{info.name}: {info.title}{'' if info.available else ' (not downloaded)'}")
        print(f"  {info.description}")
        if info.params:
            print("  parameters: " + ", ".join(f"{k}={v}" for k, v in info.params.items()))
        if not info.available:
            print(f"  file: {sdss_file_path()} (get it with `python -m gmm_core fetch sdss`)")
            continue
        try:
            dataset = load_dataset(info.name)
        except DatasetError as exc:
            print(f"  cannot be loaded: {exc}")
            continue
        print(f"  {counted(dataset.n_samples, 'row')}; default view: "
              f"{', '.join(dataset.default_view)}")
        for family, names in dataset.families().items():
            labels = [dataset.features[name].label for name in names]
            shown = ", ".join(labels) if len(labels) <= 4 else f"{labels[0]} … {labels[-1]}"
            described = "" if labels == names else f" ({shown})"
            print(f"  {family}: {describe_names(names, limit=5)}{described}")
        if dataset.known_labels:
            print(f"  known labels: {', '.join(dataset.known_labels)}")
    return 0


# ---------------------------------------------------------------------------- fetch
def run_fetch(args) -> int:
    already = sdss_available()
    progress = ProgressBar()
    try:
        path = fetch_sdss(progress=progress, url=args.url)
    except DatasetError as exc:
        progress.finish()
        return _fail(exc, EXIT_FAILED)
    progress.finish()
    print(f"already present: {path}" if already else f"saved {path}")
    return 0


class ProgressBar:
    """A one-line text bar on stderr, redrawn only when what it shows changes."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.shown = ""

    def __call__(self, done: int, total: int) -> None:
        if total:
            filled = PROGRESS_WIDTH * done // total
            text = (f"[{'#' * filled}{'-' * (PROGRESS_WIDTH - filled)}] "
                    f"{100 * done // total:3d}% of {total / 1e6:.1f} MB")
        else:
            text = f"{done // 1_000_000} MB"
        if text != self.shown:
            print(f"\r{text}", end="", file=self.stream, flush=True)
            self.shown = text

    def finish(self) -> None:
        if self.shown:
            print(file=self.stream, flush=True)


COMMANDS = {"fit": run_fit, "sweep": run_sweep, "datasets": run_datasets,
            "fetch": run_fetch}
