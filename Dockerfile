# One image for every Clip Live service; docker-compose.yml picks the service with `command`.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    OPENBLAS_NUM_THREADS=1 \
    CLIP_LIVE_DATA_DIR=/data

RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg redis-server espeak-ng gcc g++ \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-nodeps.txt ./
# CPU-only torch first (for sentence-transformers); the default wheel carries CUDA.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install -r requirements.txt \
    && pip install --no-deps -r requirements-nodeps.txt
COPY . .
RUN pip install --no-deps .

VOLUME ["/data"]
CMD ["clip-live", "run"]
