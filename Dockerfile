# GMM Explorer: the Streamlit dashboard, served on port 8501.
#   docker build -t gmm-explorer .
#   docker run -p 8501:8501 -v gmm-data:/data gmm-explorer
# Two stages: the requirements are installed into a virtual environment in the first and
# only that environment, pruned, is copied into the second, which keeps no pip, build
# tools or caches.

FROM python:3.11-slim AS venv
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /build
COPY requirements.txt .
# No bytecode is written (--no-compile): it would be a third of the environment's weight;
# the served image's Python compiles what it imports, in memory.
RUN python -m pip install --no-compile -r requirements.txt
# What a server never runs: pip itself, the packages' own test suites (astropy/tests is
# kept: astropy imports its test runner), C headers, pydeck's Jupyter bundle, plotly's
# JupyterLab extension, pyarrow's Flight RPC and S3 libraries (pyarrow imports them
# only on request; catalogs are read from local files), and fontTools, which only
# matplotlib's PDF and PostScript writers import (astroML requires matplotlib; the app
# never draws with it).
RUN python -m pip uninstall --yes pip setuptools \
    && find /opt/venv -type d -name tests -not -path "*/site-packages/astropy/tests" \
        -prune -exec rm -rf {} + \
    && find /opt/venv -type d -name include -path "*/site-packages/*" -prune -exec rm -rf {} + \
    && site=$(python -c "import sysconfig; print(sysconfig.get_path('purelib'))") \
    && rm -rf "$site/pydeck/nbextension/static" "$site/plotly/labextension" \
        "$site"/pyarrow/*flight* "$site"/pyarrow/libarrow_s3.* "$site"/pyarrow/_s3fs.* \
        "$site"/fontTools "$site"/fonttools-*.dist-info \
        /opt/venv/bin/fonttools /opt/venv/bin/pyftmerge /opt/venv/bin/pyftsubset /opt/venv/bin/ttx

FROM python:3.11-slim
# PYTHONPATH: a Dask scheduler or worker started from this image (compose.yaml) unpickles
# tasks that name gmm_core, so /app must be importable whatever the command.
# PYTHONPYCACHEPREFIX: the image holds no bytecode (see above), so a container compiles
# what it imports once, into its own /tmp, for its later processes and restarts.
# NUMBA_CACHE_DIR: the same for the Numba kernels of large fits (gmm_core/compiled.py),
# whose source folder the app user cannot write.
ENV PYTHONUNBUFFERED=1 \
    PYTHONPYCACHEPREFIX=/tmp/pycache \
    NUMBA_CACHE_DIR=/tmp/numba \
    ASTROML_DATA=/data \
    PYTHONPATH=/app \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# The app runs as an unprivileged user that owns only the data folder; its id is numeric
# so that the host (and Kubernetes' runAsNonRoot) can check it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app \
        --create-home --home-dir /home/app app \
    && mkdir /data \
    && chown app:app /data

COPY --from=venv /opt/venv /opt/venv
WORKDIR /app
COPY gmm_core/ gmm_core/
USER 10001:10001
# The SDSS spectra (27 MB) are baked in when the build can reach the download host;
# without network the build still succeeds and the app opens on built-in data. No
# bytecode from this step goes into the image.
RUN PYTHONDONTWRITEBYTECODE=1 python -m gmm_core fetch sdss || echo "SDSS spectra not downloaded: the dashboard is falling back to built-in data"
VOLUME ["/data"]

COPY . .

EXPOSE 8501
# The check asks the port the server listens on: 8501 unless STREAMLIT_SERVER_PORT says.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('STREAMLIT_SERVER_PORT', '8501'); sys.exit(urllib.request.urlopen(f'http://localhost:{port}/_stcore/health', timeout=4).read() != b'ok')"]
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.headless=true"]
