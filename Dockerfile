# One image recipe for every HNTH Ops process; compose picks the process with build args:
#   docker build --build-arg PACKAGE=scheduling --build-arg MODULE=scheduling .
#   docker build --build-arg PACKAGE=hnth-console --build-arg MODULE=hnth_console .
FROM python:3.11-slim
ARG PACKAGE
ARG MODULE=${PACKAGE}
COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
# DejaVu Sans: the PDF exports' font (PDF's own fonts have no Vietnamese letters)
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml uv.lock LICENSE THIRD_PARTY_NOTICES.md ./
COPY contracts contracts
COPY kit kit
COPY services services
COPY cli cli
COPY console console
# a workspace member (the native stack for machines without Docker): uv needs its metadata
COPY infra/pyproject.toml infra/
COPY infra/src infra/src
# the provinces' rules and their demo directories (registration loads a province's file
# when that province's directory is empty)
COPY policies policies
COPY data data
RUN test -n "${PACKAGE}" && uv sync --frozen --no-dev --package "${PACKAGE}"
RUN useradd --system --uid 10001 hnth
USER hnth
ENV HNTH_MODULE=${MODULE} HNTH_HTTP_HOST=0.0.0.0 HNTH_HTTP_PORT=8000 HNTH_POLICY_DIR=/app/policies
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD python -c "import urllib.request,os;urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ['HNTH_HTTP_PORT'], timeout=2)"
CMD ["sh", "-c", "exec python -m \"$HNTH_MODULE\""]
