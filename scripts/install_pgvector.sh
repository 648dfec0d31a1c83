#!/usr/bin/env bash
# Make the pgvector extension available to the local PostgreSQL server (needs root).
#
# 1. Nothing to do when the server already offers it.
# 2. The distribution's binary package (postgresql-<major>-pgvector), where it exists.
# 3. Otherwise build Debian's source package of pgvector (from the Debian archive,
#    checksum pinned) against the server's headers (postgresql-server-dev-<major>).
set -euo pipefail

PGVECTOR_VERSION=0.8.0
PGVECTOR_SHA256=867a2c328d4928a5a9d6f052cd3bc78c7d60228a9b914ad32aa3db88e9de27b0
PGVECTOR_URL="http://deb.debian.org/debian/pool/main/p/pgvector/pgvector_${PGVECTOR_VERSION}.orig.tar.gz"
PSQL=(psql -h "${PGHOST:-127.0.0.1}" -U "${PGUSER:-postgres}" -d postgres -tAq)

log() { echo "[pgvector] $*"; }

if [ "$("${PSQL[@]}" -c "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")" = 1 ]; then
  log "already available"; exit 0
fi

major=$(( $("${PSQL[@]}" -c "SHOW server_version_num") / 10000 ))
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if apt-get install -y -qq "postgresql-${major}-pgvector" >/dev/null 2>&1; then
  log "installed postgresql-${major}-pgvector"; exit 0
fi

log "no binary package for PostgreSQL ${major}: building pgvector ${PGVECTOR_VERSION} from source"
apt-get install -y -qq "postgresql-server-dev-${major}" build-essential curl >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsSL -o "$work/pgvector.tar.gz" "$PGVECTOR_URL"
echo "$PGVECTOR_SHA256  $work/pgvector.tar.gz" | sha256sum -c --quiet
tar -xzf "$work/pgvector.tar.gz" -C "$work"
# OPTFLAGS="": no -march=native, so the build runs on any CPU of the same architecture.
make -s -C "$work/pgvector-${PGVECTOR_VERSION}" OPTFLAGS="" \
  PG_CONFIG="/usr/lib/postgresql/${major}/bin/pg_config" >/dev/null
make -s -C "$work/pgvector-${PGVECTOR_VERSION}" install \
  PG_CONFIG="/usr/lib/postgresql/${major}/bin/pg_config" >/dev/null
log "built and installed"
