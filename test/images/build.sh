#!/usr/bin/env bash
# Builds the real node's images as OCI image-layout archives, for
#   ctr -n k8s.io images import --local --platform linux/amd64 ARCHIVE
# (the name is in the archive's index.json: no --base-name needed, see docs/images.md):
#   localhost/robustmq-standin:v0.4.11  a replica of ghcr.io/robustmq/robustmq:v0.4.11 (same base, packages, user,
#                                       directories, environment, entrypoint) holding the stand-in binaries
#   localhost/pause:3.10                the sandbox image: a static pause binary and nothing else
#   localhost/backup-kubectl:<version>  the backup CronJob's image: the replica's base layer (sh, coreutils, sed) plus
#                                       the tool cache's kubectl, so the CronJob runs without docker.io/alpine/kubectl
# Inputs (flag or environment):
#   --broker-server PATH  ROBUSTMQ_STANDIN_BROKER_SERVER  } default: what test/standin/build.sh prints
#   --cli-command PATH    ROBUSTMQ_STANDIN_CLI_COMMAND    } (broker-server=PATH, cli-command=PATH)
#   --pause PATH          ROBUSTMQ_PAUSE_BINARY           a static pause binary
#   --kubectl PATH        ROBUSTMQ_BACKUP_KUBECTL         a static kubectl (default: what `scripts/provision.sh helm`
#                                                         prints as kubectl=); its version is the image's tag
#   ROBUSTMQ_IMAGE_ARCHIVE   an archive of the real image, used instead of the replica (its name is read from it)
#   ROBUSTMQ_INSTALL_CACHE   cache root (default ~/.cache/robustmq-install); images go to $cache/images
#   IMAGES_BUILD_NICE        nice level of the slow steps (default 10)
#   ROBUSTMQ_DEBIAN_SOURCES  a sources.list file for mmdebstrap (default: its own, the Debian archive)
# Prints robustmq_image=, robustmq_archive=, pause_image=, pause_archive=, backup_image=, backup_archive= on stdout;
# progress goes to stderr.
# Needs root (mmdebstrap writes a root filesystem with its owners), mmdebstrap, python3, GNU tar, and Debian's
# package mirror (only on the first build: the base layer is cached by the hash of what makes it). The backup image
# needs the base layer too, so it is built even with ROBUSTMQ_IMAGE_ARCHIVE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${ROBUSTMQ_INSTALL_CACHE:-$HOME/.cache/robustmq-install}/images
nice_level=${IMAGES_BUILD_NICE:-10}
ROBUSTMQ_NAME=localhost/robustmq-standin:v0.4.11
PAUSE_NAME=localhost/pause:3.10
BACKUP_REPOSITORY=localhost/backup-kubectl
SUITE=bookworm
ARCH=amd64

broker=${ROBUSTMQ_STANDIN_BROKER_SERVER:-}
cli=${ROBUSTMQ_STANDIN_CLI_COMMAND:-}
pause=${ROBUSTMQ_PAUSE_BINARY:-}
kubectl=${ROBUSTMQ_BACKUP_KUBECTL:-}
while [ $# -gt 0 ]; do
  case $1 in
    --broker-server) broker=$2; shift 2 ;;
    --cli-command) cli=$2; shift 2 ;;
    --pause) pause=$2; shift 2 ;;
    --kubectl) kubectl=$2; shift 2 ;;
    *) echo "images: unknown argument $1" >&2; exit 2 ;;
  esac
done

log() { echo "images: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
sha_of() { sha256sum | cut -c1-64; }
[ "$(id -u)" = 0 ] || die "needs root (the base layer is a Debian root filesystem made with mmdebstrap)"
mkdir -p "$cache"
# one build at a time per cache: parallel test runs share the layers
exec 9>"$cache/.lock"
flock 9

# --- base layer: debian:bookworm-slim + the runtime stage's RUN steps ----------------------------------------------
umount_under() { # unmounts everything below $1, deepest first (an interrupted mmdebstrap may leave /proc, /dev...)
  local m
  for m in $(awk -v p="$1/" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do umount -l "$m" || true; done
}
work=''
cleanup() {
  [ -n "$work" ] && [ -d "$work" ] || return 0
  umount_under "$work"
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build_base() {
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (scripts/install-system-deps.sh installs it)"
  work=$(mktemp -d "$cache/.base-XXXXXX")
  local t0=$SECONDS sources=()
  [ -z "${ROBUSTMQ_DEBIAN_SOURCES:-}" ] || sources=("$ROBUSTMQ_DEBIAN_SOURCES")
  log "base layer $base_key: mmdebstrap --variant=minbase $SUITE (a few minutes, once)"
  # no MIRROR argument: mmdebstrap's default for a stable suite is the main archive plus -updates and -security,
  # the same three suites the debian:bookworm-slim image is built from. The merged-usr hook sets /usr up as
  # debootstrap (and so debuerreotype) does; without it apt satisfies init-system-helpers with usrmerge, which
  # brings perl into the image.
  nice -n "$nice_level" mmdebstrap --quiet --mode=root --variant=minbase --arch="$ARCH" --format=directory \
    --skip=output/dev --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --customize-hook="\"$here/rootfs-customize.sh\" \"\$1\"" \
    "$SUITE" "$work/rootfs" ${sources[@]+"${sources[@]}"} </dev/null >&2
  umount_under "$work/rootfs"
  "$here/rootfs-customize.sh" --finish "$work/rootfs"
  # the runtime provides these; the Debian images carry none of them
  rm -f "$work/rootfs/etc/resolv.conf" "$work/rootfs/etc/hostname" "$work/rootfs/etc/machine-id"
  find "$work/rootfs/dev" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/tmp" -mindepth 1 -xdev -delete 2>/dev/null || true
  log "base root filesystem in $((SECONDS - t0))s; $(wc -l <"$work/packages.txt") packages"
  make_layer "$work/rootfs" "$work/layer.tar.gz" >"$work/layer.json"
  mkdir -p "$work/out"
  mv "$work/layer.tar.gz" "$work/layer.json" "$work/packages.txt" "$work/out/"
  rm -rf "$base" && mv "$work/out" "$base"
  log "base layer $base_key done in $((SECONDS - t0))s ($(du -h "$base/layer.tar.gz" | cut -f1) gzip)"
  cleanup
  work=''
}

# make_layer DIR OUT: DIR's content as a gzip layer tar (names without "./", sorted, numeric owners); prints its record
make_layer() {
  local dir=$1 out=$2
  (cd "$dir" && find . -mindepth 1 -maxdepth 1 -printf '%P\n' | LC_ALL=C sort |
    nice -n "$nice_level" tar --create --file=- --format=posix --numeric-owner --sort=name \
      --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime --files-from=-) |
    nice -n "$nice_level" python3 "$here/oci.py" layer "$out"
}

# --- the stand-in layer: upstream's COPY steps (libs, bin, config, dist, LICENSE, package-info.txt) ------------------
resolve_standin() {
  [ -n "$broker" ] && [ -n "$cli" ] && return 0
  [ -x "$repo/test/standin/build.sh" ] || die "no stand-in binaries: pass --broker-server/--cli-command (or ROBUSTMQ_STANDIN_*), or add test/standin/build.sh"
  local out
  out=$("$repo/test/standin/build.sh") || die "test/standin/build.sh failed"
  [ -n "$broker" ] || broker=$(sed -n 's/^broker-server=//p' <<<"$out" | tail -n1)
  [ -n "$cli" ] || cli=$(sed -n 's/^cli-command=//p' <<<"$out" | tail -n1)
  [ -n "$broker" ] && [ -n "$cli" ] || die "test/standin/build.sh did not print broker-server= and cli-command="
}

# The tree below /robustmq that upstream's COPY --chown=robustmq:robustmq steps add. libs/ holds the stand-ins;
# the rest has upstream's names with our own small contents (upstream's files are not copied into this repository).
stage_app() {
  local d=$1/robustmq
  mkdir -p "$d/libs" "$d/bin" "$d/config/cluster" "$d/config/certs" "$d/dist"
  install -m 0755 "$broker" "$d/libs/broker-server"
  install -m 0755 "$cli" "$d/libs/cli-command"
  # bin/: the release's wrappers; libs/cli-bench has no stand-in, so robust-bench fails as it would without it
  printf '#!/bin/sh\nworkdir=$(cd "$(dirname "$0")"; pwd)\nexec "$workdir/../libs/cli-command" "$@"\n' >"$d/bin/robust-ctl"
  printf '#!/bin/sh\nworkdir=$(cd "$(dirname "$0")"; pwd)\nexec "$workdir/../libs/cli-bench" "$@"\n' >"$d/bin/robust-bench"
  cat >"$d/bin/robust-server" <<'EOF'
#!/bin/sh
# stand-in image: the release's start/stop wrapper, reduced to a foreground start (the image never uses it)
cd "$(dirname "$0")/.." || exit 1
[ "${1:-}" = start ] || { echo "usage: $0 start [config_file]" >&2; exit 1; }
exec ./libs/broker-server --conf="${2:-config/server.toml}"
EOF
  chmod 0755 "$d/bin/"*
  # config/: the chart mounts its own server.toml and logger.toml over these (subPath) and its own TLS files elsewhere
  local header='# stand-in image: placeholder with the name of the file in upstream'"'"'s image (its content is not copied)'
  printf '%s\ncluster_name = "robustmq"\nbroker_id = 1\nroles = ["meta", "broker", "engine"]\ngrpc_port = 1228\nhttp_port = 58080\nmeta_addrs = { 1 = "127.0.0.1:1228" }\n' \
    "$header" >"$d/config/server.toml"
  cp "$d/config/server.toml" "$d/config/server.toml.template"
  printf '%s\n[stdout]\nkind = "console"\nlevel = "info"\n' "$header" >"$d/config/logger.toml"
  local i
  for i in 1 2 3; do
    sed "s/^broker_id = 1/broker_id = $i/" "$d/config/server.toml" >"$d/config/cluster/server-$i.toml"
    cp "$d/config/logger.toml" "$d/config/cluster/logger-$i.toml"
  done
  # upstream ships a development CA and a cert for localhost here; a locally made pair, made once and reused, keeps
  # the files parseable without putting anyone's key into the repository
  if [ ! -s "$cache/standin-certs/cert.pem" ]; then
    mkdir -p "$cache/standin-certs"
    local c=$cache/standin-certs
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -subj "/CN=robustmq stand-in dev CA" \
      -keyout "$c/ca-key.pem" -out "$c/ca.pem" 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=localhost" \
      -keyout "$c/key.pem" -out "$c/cert.csr" 2>/dev/null
    openssl x509 -req -in "$c/cert.csr" -CA "$c/ca.pem" -CAkey "$c/ca-key.pem" -CAcreateserial -days 3650 \
      -extfile <(printf 'subjectAltName=DNS:localhost\n') -out "$c/cert.pem" 2>/dev/null
  fi
  cp "$cache/standin-certs/ca.pem" "$cache/standin-certs/cert.pem" "$cache/standin-certs/key.pem" "$d/config/certs/"
  chmod 0644 "$d/config/certs/"*
  # the release's version.ini says 0.4.3 (stale upstream), and /api/info reports it
  printf '0.4.3\n' >"$d/config/version.ini"
  printf '<!doctype html><title>RobustMQ stand-in</title><p>stand-in image: no web console\n' >"$d/dist/index.html"
  printf 'stand-in image for tests: RobustMQ is licensed under the Apache License 2.0; its LICENSE is not copied here.\n' >"$d/LICENSE"
  printf 'Package: robustmq-server\nVersion: v0.4.11 (stand-in)\nPlatform: linux-amd64\nBinaries: broker-server cli-command (stand-ins)\nFrontend Web UI: Not included\n' \
    >"$d/package-info.txt"
  chmod -R u+rwX,go+rX,go-w "$d"
  chown -R 999:999 "$d"
}

# A layer made by a stage function into an empty root, cached under $cache/<dir>: made once per key (the key hashes
# the inputs and the stage function), written to a temp dir and renamed so an interrupted build leaves nothing half.
cached_layer() { # $1 = cache dir name, $2 = stage function; a no-op when the layer is there
  local dir=$cache/$1
  [ -s "$dir/layer.json" ] && [ -s "$dir/layer.tar.gz" ] && return 0
  work=$(mktemp -d "$cache/.$1-XXXXXX")
  mkdir "$work/root"
  "$2" "$work/root"
  make_layer "$work/root" "$work/layer.tar.gz" >"$work/layer.json"
  mkdir -p "$work/out" && mv "$work/layer.tar.gz" "$work/layer.json" "$work/out/"
  rm -rf "$dir" && mv "$work/out" "$dir"
  cleanup
  work=''
}

build_app() { # $1 = key; sets $app to the layer's directory
  app=$cache/app-$1
  [ -s "$app/layer.json" ] && [ -s "$app/layer.tar.gz" ] && return 0
  log "stand-in layer $1"
  cached_layer "app-$1" stage_app
}

# write_archive SPEC OUT: assembles the archive, unless the same spec made the file already
write_archive() {
  local spec=$1 out=$2 key
  key=$(sha_of <"$spec")
  if [ -s "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then return 0; fi
  python3 "$here/oci.py" image "$spec" "$out" >/dev/null
  echo "$key" >"$out.key"
}

layer_entry() { # $1 = layer dir: {"path", "digest", "diff_id", "size"}
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1]+"/layer.json")); d["path"]=sys.argv[1]+"/layer.tar.gz"; print(json.dumps(d))' "$1"
}

# The base layer's key covers what decides its content (the hook, how mmdebstrap is called, the sources); the
# Debian archive moves on too, so delete $cache/base-* to take newer packages.
base_key=$(cat "$here/rootfs-customize.sh" <(declare -f build_base make_layer) \
  <(printf '%s\n' "$SUITE" "$ARCH" "${ROBUSTMQ_DEBIAN_SOURCES:-default}") \
  ${ROBUSTMQ_DEBIAN_SOURCES:+"$ROBUSTMQ_DEBIAN_SOURCES"} | sha_of | cut -c1-16)
base=$cache/base-$base_key
t_start=$SECONDS
# the replica and the backup image share it, so it is there whichever RobustMQ image is used
if [ -s "$base/layer.json" ] && [ -s "$base/layer.tar.gz" ]; then log "base layer $base_key cached"; else build_base; fi
if [ -n "${ROBUSTMQ_IMAGE_ARCHIVE:-}" ]; then
  [ -s "$ROBUSTMQ_IMAGE_ARCHIVE" ] || die "ROBUSTMQ_IMAGE_ARCHIVE=$ROBUSTMQ_IMAGE_ARCHIVE is not a file"
  robustmq_archive=$(cd "$(dirname "$ROBUSTMQ_IMAGE_ARCHIVE")" && pwd)/$(basename "$ROBUSTMQ_IMAGE_ARCHIVE")
  robustmq_image=$(python3 "$here/oci.py" name "$robustmq_archive")
  log "using the real image $robustmq_image from $robustmq_archive (no replica built)"
else
  resolve_standin
  [ -x "$broker" ] && [ -x "$cli" ] || die "stand-in binaries not executable: $broker, $cli"
  app_key=$(cat "$broker" "$cli" <(declare -f stage_app) | sha_of | cut -c1-16)
  build_app "$app_key"
  spec=$(mktemp)
  python3 - "$spec" "$ROBUSTMQ_NAME" "$(layer_entry "$base")" "$(layer_entry "$app")" <<'EOF'
import json, sys
spec_path, name, base, app = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
ports = [1883, 1885, 8083, 8085, 9092, 1228, 5672, 8080]
second = 1_000_000_000
spec = {
    "name": name,
    "platform": {"os": "linux", "architecture": "amd64"},
    # upstream's runtime stage (docker/robustmq/Dockerfile at v0.4.11), field by field
    "config": {
        "User": "robustmq",
        "Env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "ROBUSTMQ_CONFIG_PATH=/robustmq/config/server.toml",
            "ROBUSTMQ_LOG_PATH=/robustmq/logs",
            "ROBUSTMQ_DATA_PATH=/robustmq/data",
        ],
        "Entrypoint": ["./libs/broker-server"],
        "Cmd": ["--conf=/robustmq/config/server.toml"],
        "WorkingDir": "/robustmq",
        "ExposedPorts": {f"{p}/tcp": {} for p in ports},
        # a Docker extension of the config; containerd and the kubelet ignore it (as upstream's, it could not pass)
        "Healthcheck": {
            "Test": ["CMD-SHELL", "curl -f http://localhost:8080/api/status || curl -f http://localhost:8080/ || exit 1"],
            "Interval": 30 * second, "Timeout": 10 * second, "StartPeriod": 30 * second, "Retries": 3,
        },
    },
    "created": "2026-07-31T00:00:00Z",
    "history": [
        {"created_by": "debian:bookworm-slim (mmdebstrap --variant=minbase bookworm, slim dpkg filters)", "empty_layer": True},
        {"created_by": "RUN apt-get install -y ca-certificates curl; groupadd -r robustmq && useradd -r -g robustmq robustmq; mkdir -p /robustmq/{bin,libs,config,data,logs} (dash)"},
        {"created_by": "COPY --chown=robustmq:robustmq libs bin config dist LICENSE package-info.txt (stand-in binaries in libs/)"},
        {"created_by": "USER robustmq; WORKDIR /robustmq; ENV ROBUSTMQ_*; ENTRYPOINT [\"./libs/broker-server\"]; CMD [\"--conf=/robustmq/config/server.toml\"]", "empty_layer": True},
    ],
    "layers": [base, app],
    "annotations": {
        "org.opencontainers.image.title": "robustmq-standin",
        "org.opencontainers.image.description": "Test stand-in: replica of ghcr.io/robustmq/robustmq:v0.4.11 with stand-in binaries",
        "org.opencontainers.image.version": "v0.4.11",
    },
}
json.dump(spec, open(spec_path, "w"), indent=1, sort_keys=True)
EOF
  robustmq_image=$ROBUSTMQ_NAME
  robustmq_archive=$cache/robustmq-standin-v0.4.11.oci.tar
  write_archive "$spec" "$robustmq_archive"
  rm -f "$spec"
fi

if [ -n "$pause" ]; then
  [ -x "$pause" ] || die "pause binary $pause is not executable"
  # a dynamically linked pause would need a libc that a scratch image does not have
  if command -v readelf >/dev/null && LC_ALL=C readelf -l "$pause" 2>/dev/null | grep -q INTERP; then
    die "$pause is dynamically linked; the pause image has no libc (build it with -static)"
  fi
  pause_key=$(sha_of <"$pause" | cut -c1-16)
  pdir=$cache/pause-$pause_key
  if ! [ -s "$pdir/layer.json" ]; then
    work=$(mktemp -d "$cache/.pause-XXXXXX")
    mkdir "$work/root"
    install -m 0755 -o 0 -g 0 "$pause" "$work/root/pause"
    make_layer "$work/root" "$work/layer.tar.gz" >"$work/layer.json"
    mkdir -p "$work/out" && mv "$work/layer.tar.gz" "$work/layer.json" "$work/out/"
    rm -rf "$pdir" && mv "$work/out" "$pdir"
    cleanup
    work=''
  fi
  spec=$(mktemp)
  python3 - "$spec" "$PAUSE_NAME" "$(layer_entry "$pdir")" <<'EOF'
import json, sys
spec_path, name, layer = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
json.dump({
    "name": name,
    "platform": {"os": "linux", "architecture": "amd64"},
    # as registry.k8s.io/pause: the binary at /pause, run as 65535 (works under runAsNonRoot and restricted PSS)
    "config": {"User": "65535:65535", "Entrypoint": ["/pause"], "WorkingDir": "/",
               "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
    "created": "2026-01-01T00:00:00Z",
    "history": [{"created_by": "COPY pause /pause (static)"}],
    "layers": [layer],
    "annotations": {"org.opencontainers.image.title": "pause"},
}, open(spec_path, "w"), indent=1, sort_keys=True)
EOF
  pause_archive=$cache/pause-3.10.oci.tar
  write_archive "$spec" "$pause_archive"
  rm -f "$spec"
else
  die "no pause binary: pass --pause PATH or ROBUSTMQ_PAUSE_BINARY"
fi

# --- the backup CronJob's image: the base layer + kubectl ------------------------------------------------------------
# backup.sh (chart/robustmq/files/scripts/backup.sh) runs under /bin/sh and calls kubectl, date (GNU -d @EPOCH), sed,
# cut, sort and sleep: dash, coreutils and sed are Essential in Debian, so minbase has them all and the base layer
# needs nothing added. Only kubectl is new; the base layer is the replica's own blob, so containerd stores it once.
stage_kubectl() {
  mkdir -p "$1/usr/local/bin"
  chmod 0755 "$1/usr" "$1/usr/local" "$1/usr/local/bin"
  install -m 0755 -o 0 -g 0 "$kubectl" "$1/usr/local/bin/kubectl"
  # one fixed time (the image's "created"): the same kubectl gives the same layer digest on every machine and rebuild
  find "$1" -mindepth 1 -exec touch -h -d 2026-01-01T00:00:00Z {} +
}
if [ -z "$kubectl" ]; then
  kubectl=$(bash "$repo/scripts/provision.sh" helm | sed -n 's/^kubectl=//p' | tail -n1) ||
    die "scripts/provision.sh helm failed (it fetches kubectl into the tool cache)"
fi
[ -n "$kubectl" ] && [ -x "$kubectl" ] || die "no kubectl: pass --kubectl PATH or ROBUSTMQ_BACKUP_KUBECTL (got '$kubectl')"
# the tag is kubectl's own version, written as alpine/kubectl (the chart's default image) writes it: 1.35.2, no "v"
backup_tag=$("$kubectl" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"].lstrip("v"))') ||
  die "$kubectl version --client failed"
[[ $backup_tag =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "$kubectl reports version '$backup_tag', want MAJOR.MINOR.PATCH"
kubectl_key=$(cat "$kubectl" <(declare -f stage_kubectl) | sha_of | cut -c1-16)
kdir=$cache/kubectl-$kubectl_key
if ! [ -s "$kdir/layer.json" ] || ! [ -s "$kdir/layer.tar.gz" ]; then
  t0=$SECONDS
  cached_layer "kubectl-$kubectl_key" stage_kubectl
  log "kubectl $backup_tag layer $kubectl_key done in $((SECONDS - t0))s ($(du -h "$kdir/layer.tar.gz" | cut -f1) gzip)"
fi
backup_image=$BACKUP_REPOSITORY:$backup_tag
spec=$(mktemp)
python3 - "$spec" "$backup_image" "$backup_tag" "$(layer_entry "$base")" "$(layer_entry "$kdir")" <<'EOF'
import json, sys
spec_path, name, version, base, layer = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), json.loads(sys.argv[5])
json.dump({
    "name": name,
    "platform": {"os": "linux", "architecture": "amd64"},
    "config": {
        # numeric, so the kubelet can check runAsNonRoot even where the pod sets no runAsUser (openshift mode); it is
        # 999:999, the uid/gid the chart's pods pin, which the base layer's passwd already names (robustmq)
        "User": "999:999",
        # the chart's pods have a read-only root and an emptyDir at /tmp; kubectl keeps its cache under $HOME (the
        # CronJob sets HOME=/tmp too; this is for the image run by hand)
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp"],
        # as alpine/kubectl, so the image stands in for it unchanged; the CronJob sets its own command
        "Entrypoint": ["kubectl"],
        "Cmd": ["--help"],
        "WorkingDir": "/",
    },
    "created": "2026-01-01T00:00:00Z",
    "history": [
        {"created_by": "the robustmq-standin replica's base layer (debian bookworm minbase, slim, + ca-certificates curl, user robustmq 999:999)"},
        {"created_by": f"COPY kubectl /usr/local/bin/kubectl (v{version}, static, from the tool cache)"},
        {"created_by": "USER 999:999; ENV HOME=/tmp; ENTRYPOINT [\"kubectl\"]; CMD [\"--help\"]", "empty_layer": True},
    ],
    "layers": [base, layer],
    "annotations": {
        "org.opencontainers.image.title": "backup-kubectl",
        "org.opencontainers.image.description": "Test image for the chart's backup CronJob: sh, coreutils, sed and kubectl",
        "org.opencontainers.image.version": version,
    },
}, open(spec_path, "w"), indent=1, sort_keys=True)
EOF
backup_archive=$cache/backup-kubectl-$backup_tag.oci.tar
write_archive "$spec" "$backup_archive"
rm -f "$spec"

# drop layers of earlier inputs, so the cache holds one base, one stand-in, one pause and one kubectl layer (a run on
# ROBUSTMQ_IMAGE_ARCHIVE keeps the stand-in layers: it made none, and the next replica run may want them)
for d in "$cache"/base-* "$cache"/app-* "$cache"/pause-* "$cache"/kubectl-*; do
  [ -d "$d" ] || continue
  case $d in "$base" | "$pdir" | "$kdir") continue ;; esac
  case $d in "$cache"/app-*) [ -z "${ROBUSTMQ_IMAGE_ARCHIVE:-}" ] && [ "$d" != "$app" ] || continue ;; esac
  rm -rf "$d"
done
log "done in $((SECONDS - t_start))s"
echo "robustmq_image=$robustmq_image"
echo "robustmq_archive=$robustmq_archive"
echo "pause_image=$PAUSE_NAME"
echo "pause_archive=$pause_archive"
echo "backup_image=$backup_image"
echo "backup_archive=$backup_archive"
