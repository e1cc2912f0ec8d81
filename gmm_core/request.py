"""The one request object that flows from the controls down to the core.

A ``FitRequest`` is hashable and made of plain values, so the dashboard can cache on it
together with a fingerprint of the data instead of hashing arrays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
# mclust's parsimonious models (gmm_core.parsimonious); the four above are VVV, EEE, VVI
# and VII under scikit-learn's names. "E" and "V" are mclust's one-feature models.
MCLUST_MODELS = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE",
                 "EEV", "VEV", "EVV", "VVV")
MCLUST_UNIVARIATE = ("E", "V")
COVARIANCE_CHOICES = (*COVARIANCE_TYPES, *MCLUST_MODELS, *MCLUST_UNIVARIATE)
# Starts drawn from the data; "placed" starts from means the user gives (means_init).
INIT_METHODS = ("kmeans++", "kmeans", "random_from_data", "random", "notebook", "hierarchical")
PLACED = "placed"
STARTS = (*INIT_METHODS, PLACED)
CONVERGENCE_RULES = ("loglik", "means")
DEGENERATE_POLICIES = ("regularize", "reinit", "raise")
# reg_covar added to each variance as is, or as a fraction of it (gmm_core.scaling).
REGULARIZATIONS = ("absolute", "relative")
ALGORITHMS = ("em", "notebook")


def check_choice(name: str, value, allowed) -> None:
    """Raise ValueError unless ``value`` is one of ``allowed``, saying which ones are."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


@dataclass(frozen=True)
class FitRequest:
    """Everything that determines a fit, apart from the data itself."""

    dataset: str = "blobs"
    features: tuple[str, ...] = ()
    k: int = 2
    tol: float = 1e-4
    seed: int = 42
    covariance_type: str = "full"
    init: str = "kmeans++"
    convergence: str = "loglik"
    max_iters: int = 100
    reg_covar: float = 1e-6
    standardize: bool = False
    algorithm: str = "em"
    on_degenerate: str = "regularize"
    n_init: int = 1
    regularization: str = "absolute"
    dataset_params: tuple[tuple[str, object], ...] = field(default_factory=tuple)
    # init="placed": each component's starting mean on the first two features (the
    # plotted ones, in the fitted units); its other features start at the data mean.
    placed_means: tuple[tuple[float, float], ...] = ()
    # mclust's noise component (gmm_core.noise): a uniform density over the data's volume.
    noise: bool = False

    def __post_init__(self):
        checks = (
            ("covariance_type", self.covariance_type, COVARIANCE_CHOICES),
            ("init", self.init, STARTS),
            ("convergence", self.convergence, CONVERGENCE_RULES),
            ("on_degenerate", self.on_degenerate, DEGENERATE_POLICIES),
            ("algorithm", self.algorithm, ALGORITHMS),
            ("regularization", self.regularization, REGULARIZATIONS),
        )
        for check in checks:
            check_choice(*check)
        if int(self.k) < 1:
            raise ValueError(f"k must be at least 1; got {self.k}")
        if int(self.max_iters) < 1:
            raise ValueError(f"max_iters must be at least 1; got {self.max_iters}")
        if not self.tol >= 0:
            raise ValueError(f"tol must be zero or positive; got {self.tol}")
        if not self.reg_covar >= 0:
            raise ValueError(f"reg_covar must be zero or positive; got {self.reg_covar}")
        object.__setattr__(self, "features", tuple(self.features))
        placed = tuple((float(x), float(y)) for x, y in self.placed_means)
        object.__setattr__(self, "placed_means", placed)
        if self.init == PLACED and len(placed) != int(self.k):
            raise ValueError(f"init 'placed' needs one placed mean per component ({self.k}); "
                             f"got {len(placed)}")

    def model_params(self) -> dict:
        """Keyword arguments for ``GMM`` (and, minus the notebook-only ones, the replay)."""
        return {
            "k": int(self.k),
            "covariance_type": self.covariance_type,
            "tol": float(self.tol),
            "max_iters": int(self.max_iters),
            "reg_covar": float(self.reg_covar),
            "init": self.init,
            "convergence": self.convergence,
            "seed": int(self.seed),
            "n_init": int(self.n_init),
            "on_degenerate": self.on_degenerate,
            "regularization": self.regularization,
            "noise": bool(self.noise),
        }

    def with_changes(self, **changes) -> FitRequest:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        values = asdict(self)
        values["features"] = list(self.features)
        values["dataset_params"] = dict(self.dataset_params)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> FitRequest:
        """The request ``to_dict`` wrote (as JSON reads it back)."""
        return cls(**{**values, "features": tuple(values["features"]),
                      "dataset_params": tuple(values.get("dataset_params", {}).items()),
                      "placed_means": tuple(map(tuple, values.get("placed_means", ())))})
