# One image recipe for every HNTH Ops process; compose picks the process with build args:
#   docker build --build-arg PACKAGE=scheduling --build-arg MODULE=scheduling .
#   docker build --build-arg PACKAGE=hnth-console --build-arg MODULE=hnth_console .
# BASE_IMAGE is any image with Python 3.11 (python3 + venv): the public default, a
# province's mirror of it, or the Debian image `make images` builds with debootstrap.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
# uv from its PyPI package (a PyPI mirror has it too: PYPI_MIRROR, a simple-index URL)
ARG UV_VERSION=0.13.9
ARG PYPI_MIRROR
# pip and uv verify TLS with the image's CA store (which may hold a province's own CA)
ARG CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
RUN python3 -m venv /opt/uv \
  && PIP_CERT=${CA_BUNDLE} /opt/uv/bin/pip install --quiet --no-cache-dir ${PYPI_MIRROR:+--index-url "$PYPI_MIRROR"} "uv==${UV_VERSION}" \
  && ln -s /opt/uv/bin/uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never \
  UV_NO_CACHE=1 PATH=/opt/venv/bin:$PATH
# DejaVu Sans: the PDF exports' font (PDF's own fonts have no Vietnamese letters)
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
  && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 hnth
WORKDIR /app
# the locked third-party dependencies of every package first: one layer, the same in every
# image (built and stored once), that survives source changes
COPY pyproject.toml uv.lock ./
COPY contracts/pyproject.toml contracts/
COPY kit/pyproject.toml kit/
COPY services/registration/pyproject.toml services/registration/
COPY services/scheduling/pyproject.toml services/scheduling/
COPY services/notification/pyproject.toml services/notification/
COPY services/inspection/pyproject.toml services/inspection/
COPY cli/pyproject.toml cli/
COPY console/pyproject.toml console/
COPY infra/pyproject.toml infra/
RUN SSL_CERT_FILE=${CA_BUNDLE} uv sync --frozen --no-dev --no-install-workspace --all-packages
COPY LICENSE THIRD_PARTY_NOTICES.md ./
COPY contracts contracts
COPY kit kit
COPY services services
COPY cli cli
COPY console console
# a workspace member (the native stack for machines without Docker; the SMTP catcher)
COPY infra/src infra/src
# the provinces' rules and their demo directories (registration loads a province's file
# when that province's directory is empty)
COPY policies policies
COPY data data
# the process this image runs (declared here: the layers above are the same in every image)
ARG PACKAGE
ARG MODULE=${PACKAGE}
# the port its HTTP server (health, API; the mail catcher's web page) listens on
ARG HTTP_PORT=8000
RUN test -n "${PACKAGE}" && SSL_CERT_FILE=${CA_BUNDLE} uv sync --frozen --no-dev --inexact --package "${PACKAGE}"
# a folder the process may write (the mail catcher keeps its messages in .run/mail)
RUN mkdir /app/.run && chown hnth /app/.run
USER hnth
ENV HNTH_MODULE=${MODULE} HNTH_HTTP_HOST=0.0.0.0 HNTH_HTTP_PORT=${HTTP_PORT} HNTH_POLICY_DIR=/app/policies
EXPOSE ${HTTP_PORT}
HEALTHCHECK --interval=10s --timeout=10s --start-period=60s --retries=5 \
  CMD python -c "import urllib.request,os;urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ['HNTH_HTTP_PORT'], timeout=8)"
CMD ["sh", "-c", "exec python -m \"$HNTH_MODULE\""]
