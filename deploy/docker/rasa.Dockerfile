# The Rasa server (Rasa 3.6 needs Python 3.10), serving the model `make train` wrote.
# Built from the project root, after training:
#   make train
#   docker build -f deploy/docker/rasa.Dockerfile -t zunyi-zhengwu/rasa:0.1.0 .
# Rasa itself is not trained here: the image takes models/zunyi.tar.gz together with the files
# under var/ that the project's NLU components read when the model loads (config.yml names
# them). They must be the ones the model was trained with, so both come from the same
# `make train`; .dockerignore lets exactly these files of var/ and models/ into the context.
FROM python:3.10-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RASA_TELEMETRY_ENABLED=false \
    PYTHONPATH=/app

WORKDIR /app

# The `rasa` dependencies from pyproject.toml alone (an empty distribution without the code),
# with the pip scripts/setup.sh uses for them.
RUN pip install --upgrade "pip<24.1" wheel
COPY pyproject.toml /tmp/deps/
RUN touch /tmp/deps/README.md \
    && pip install "/tmp/deps[rasa]" \
    && rm -rf /tmp/deps

# The project's code Rasa loads: the NLU components config.yml names (bot.nlu.*, with what they
# import from indexer/), the gateway's input channel credentials.yml names, and the tracker
# store and event broker endpoints.production.yml names (with the masking they share).
COPY bot/__init__.py bot/
COPY bot/nlu bot/nlu
COPY bot/tracker_store.py bot/event_broker.py bot/redaction.py bot/
COPY indexer indexer
COPY channels/__init__.py channels/rasa_connector.py channels/rasa_action_validation.py channels/
COPY credentials.yml endpoints.production.yml ./
COPY var/index/typo_terms.txt var/index/dictionary.json var/index/
COPY var/jieba var/jieba
COPY var/models/multilingual-e5-small/*.json var/models/multilingual-e5-small/
COPY var/models/multilingual-e5-small-onnx/model_int8.onnx var/models/multilingual-e5-small-onnx/export.json var/models/multilingual-e5-small-onnx/
COPY models/zunyi.tar.gz models/

RUN groupadd --system --gid 10001 zunyi \
    && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/zunyi zunyi
USER 10001:10001

EXPOSE 5005
# The token is required: Rasa listens beyond loopback, and its HTTP API would otherwise be open.
# No --cors: only the gateway calls Rasa, never a browser. endpoints.production.yml reads the
# action server, tracker store and lock store from ZY_* variables (deploy/k8s/base/rasa.env).
CMD ["sh", "-c", ": \"${ZY_RASA__AUTH_TOKEN:?ZY_RASA__AUTH_TOKEN must be set}\" && exec rasa run --enable-api --port 5005 --model models/zunyi.tar.gz --endpoints endpoints.production.yml --credentials credentials.yml --auth-token \"$ZY_RASA__AUTH_TOKEN\""]
