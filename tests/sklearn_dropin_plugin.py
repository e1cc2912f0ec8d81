"""A pytest plugin: scikit-learn's own GaussianMixture tests run against
``gmm_core.GaussianMixture``. Loaded with ``-p sklearn_dropin_plugin`` before the test
module is imported, it points ``sklearn.mixture.GaussianMixture`` (what the test module
imports) at the drop-in."""

import sklearn.mixture

import gmm_core

sklearn.mixture.GaussianMixture = gmm_core.GaussianMixture
