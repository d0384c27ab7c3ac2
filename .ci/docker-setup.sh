#!/usr/bin/env bash
# Make a Docker engine and an offline Python base image available for thriftbox's Docker tests.
#
#   eval "$(.ci/docker-setup.sh)"            # or: .ci/docker-setup.sh ENV_FILE && . ENV_FILE
#
# No container registry is reachable on CI machines, so the base image is built locally with debootstrap
# from the Debian mirror apt already uses, then `docker import`ed. Idempotent: a second run only checks.
# Progress goes to stderr; stdout carries nothing but the `export` lines for the caller.
set -euo pipefail

BASE_IMAGE="${THRIFTBOX_CI_BASE_IMAGE:-thriftbox-base:bookworm}"
SUITE="${THRIFTBOX_CI_SUITE:-bookworm}"
DOCKERD_LOG="${THRIFTBOX_CI_DOCKERD_LOG:-/var/log/thriftbox-dockerd.log}"
ENV_FILE="${1:-}"

log() { echo "docker-setup: $*" >&2; }
die() { log "error: $*"; exit 1; }

apt_updated=0
apt_install() {
    [ "$(id -u)" = 0 ] || die "need root to install $* (run as root, or install it yourself)"
    if [ "$apt_updated" = 0 ]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        apt_updated=1
    fi
    log "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

engine_answers() { timeout 15 docker info >/dev/null 2>&1; }

# The first Debian (not -security) mirror in apt's sources, else the default one.
debian_mirror() {
    local uri
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -oE '(https?|ftp)://[^ ]+/debian/?( |$)' | grep -v -- '-security' | head -n1 | tr -d ' ' || true)
    echo "${uri:-http://deb.debian.org/debian}"
}

# 1. Tools.
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# 2. An engine that answers.
if engine_answers; then
    log "engine answers: ${DOCKER_HOST:-unix:///var/run/docker.sock}"
else
    [ "$(id -u)" = 0 ] || die "no Docker engine answers and only root can start dockerd"
    log "starting dockerd (log: $DOCKERD_LOG)"
    # setsid: the daemon outlives this script and is not hit by the caller's Ctrl-C.
    setsid nohup dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
    for _ in $(seq 1 60); do
        engine_answers && break
        sleep 1
    done
    engine_answers || { tail -n 20 "$DOCKERD_LOG" >&2 || true; die "dockerd did not answer within 60 s"; }
    log "engine is up"
fi

# 3. The offline base image: Debian minbase with python3 + pip, built once and cached by tag.
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "base image $BASE_IMAGE already present"
else
    [ "$(id -u)" = 0 ] || die "need root to debootstrap $BASE_IMAGE"
    mirror=$(debian_mirror)
    root=$(mktemp -d /var/tmp/thriftbox-base.XXXXXX)
    trap 'rm -rf "$root"' EXIT
    log "debootstrap $SUITE from $mirror into $root (about 35 s)"
    start=$(date +%s)
    debootstrap --variant=minbase --include=python3,python3-pip,python3-venv "$SUITE" "$root" "$mirror" \
        >"$root.log" 2>&1 || { tail -n 20 "$root.log" >&2; die "debootstrap failed (log: $root.log)"; }
    rm -f "$root.log"
    # pip refuses to install into Debian's python without this marker removed (PEP 668).
    rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["python3"]' \
        - "$BASE_IMAGE" >/dev/null
    log "built $BASE_IMAGE in $(( $(date +%s) - start )) s"
fi

exports="export THRIFTBOX_BASE_IMAGE=$BASE_IMAGE
export THRIFTBOX_REQUIRE_DOCKER=1"
[ -z "$ENV_FILE" ] || echo "$exports" >"$ENV_FILE"
echo "$exports"
