# GMM Explorer: the Streamlit dashboard, served on port 8501.
#   docker build -t gmm-explorer .
#   docker run -p 8501:8501 -v gmm-data:/data gmm-explorer
FROM python:3.11-slim

# PYTHONPATH: a Dask scheduler or worker started from this image (compose.yaml) unpickles
# tasks that name gmm_core, so /app must be importable whatever the command.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    ASTROML_DATA=/data \
    PYTHONPATH=/app

# The app runs as an unprivileged user that owns only the data folder; its id is numeric
# so that the host (and Kubernetes' runAsNonRoot) can check it.
RUN groupadd --system --gid 10001 app \
    && useradd --system --no-log-init --uid 10001 --gid app \
        --create-home --home-dir /home/app app \
    && mkdir /data \
    && chown app:app /data

WORKDIR /app
COPY requirements.txt .
RUN python -m pip install -r requirements.txt

COPY gmm_core/ gmm_core/
USER 10001:10001
# The SDSS spectra (27 MB) are baked in when the build can reach the download host;
# without network the build still succeeds and the app opens on built-in data.
RUN python -m gmm_core fetch sdss || echo "SDSS spectra not downloaded: the dashboard is falling back to built-in data"
VOLUME ["/data"]

COPY . .

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4).read() != b'ok')"]
CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.headless=true"]
