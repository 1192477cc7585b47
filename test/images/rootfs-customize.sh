#!/usr/bin/env bash
# mmdebstrap customize hook (argument: the root being built). Turns a `--variant=minbase bookworm` root into what
# upstream's image has below its COPY steps: the debian:bookworm-slim base (debuerreotype's minbase + "slim" dpkg
# filters + apt/dpkg config for containers), then the runtime stage's three RUN steps of
# docker/robustmq/Dockerfile at v0.4.11, run with the same shell (/bin/sh = dash) and the same commands.
# `rootfs-customize.sh --finish ROOT` runs after mmdebstrap's own clean-up, for what that clean-up removes.
set -euo pipefail
if [ "$1" = --finish ]; then
  # mmdebstrap deletes the policy-rc.d it used while building: put back the one the Debian images carry
  printf '#!/bin/sh\n# no service starts during package installs in an image build\nexit 101\n' >"$2/usr/sbin/policy-rc.d"
  chmod 0755 "$2/usr/sbin/policy-rc.d"
  exit 0
fi
root=$(cd "$1" && pwd)
in_root() {
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C \
    DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"
}

# --- the "slim" variant: dpkg keeps these paths out of every later install, as in debian:*-slim ------------------------
excludes=(/usr/share/doc/ /usr/share/groff/ /usr/share/info/ /usr/share/linda/ /usr/share/lintian/overrides/
  /usr/share/locale/ /usr/share/man/)
# patterns for dpkg and find, never expanded by this shell
includes=('/usr/share/doc/*/copyright' '/usr/share/doc/kde/HTML/C/*' '/usr/share/gnome/help/*/C/*'
  /usr/share/locale/all_languages '/usr/share/locale/currency/*' '/usr/share/locale/l10n/*' /usr/share/locale/languages
  /usr/share/locale/locale.alias '/usr/share/omf/*/*-C.emf')
cfg=$root/etc/dpkg/dpkg.cfg.d/docker
{
  echo '# The "slim" variant of the Debian base image: these files stay out of the image.'
  for p in "${excludes[@]}"; do echo "path-exclude $p*"; done
  for p in "${includes[@]}"; do echo "path-include $p"; done
} >"$cfg"
keep=()
for p in "${includes[@]}"; do keep+=(-o -path "$p"); done
# inside the root: absolute symlinks (the alternatives of man pages) must resolve there to be seen dangling
for d in "${excludes[@]}"; do
  [ -d "$root$d" ] || continue
  in_root find "$d" -depth -mindepth 1 -not \( "${keep[@]:1}" \) -not -type d -not -type l -delete
  # dangling symlinks and directories left empty, until none is left
  while [ -n "$(in_root find "$d" -depth -mindepth 1 \( -empty -o -xtype l \) -print -delete | head -c1)" ]; do :; done
done

# --- apt and dpkg settings of the Debian container images (what debuerreotype-minimizing-config writes) --------------
printf 'force-unsafe-io\n' >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
conf=$root/etc/apt/apt.conf.d
printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$conf/docker-autoremove-suggests"
clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true";'
printf 'DPkg::Post-Invoke { %s };\nAPT::Update::Post-Invoke { %s };\nDir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' \
  "$clean" "$clean" >"$conf/docker-clean"
printf 'Acquire::GzipIndexes "true";\n' >"$conf/docker-gzip-indexes"
printf 'Acquire::Languages "none";\n' >"$conf/docker-no-languages"
chmod 0644 "$cfg" "$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup" "$conf"/docker-*

# --- upstream's runtime stage, one RUN at a time -------------------------------------------------------------------
# apt's defaults as in debian:bookworm-slim, so Recommends are installed (the Dockerfile does not pass
# --no-install-recommends): mmdebstrap's own setting that turns them off is set aside for these steps.
mm_conf=$conf/00mmdebstrap
[ ! -e "$mm_conf" ] || mv "$mm_conf" "$root/.00mmdebstrap"
trap '[ ! -e "$root/.00mmdebstrap" ] || mv "$root/.00mmdebstrap" "$mm_conf"' EXIT
in_root /bin/sh -c 'apt-get update && apt-get install -y ca-certificates curl && rm -rf /var/lib/apt/lists/* && apt-get clean'
in_root /bin/sh -c 'groupadd -r robustmq && useradd -r -g robustmq robustmq'
# dash has no brace expansion: this makes /robustmq and one directory literally named "{bin,libs,config,data,logs}",
# exactly as upstream's image has it (data/ and logs/ are not in the real image).
in_root /bin/sh -c 'mkdir -p /robustmq/{bin,libs,config,data,logs} && chown -R robustmq:robustmq /robustmq'

# The chart pins runAsUser/runAsGroup/fsGroup 999 for a user the Dockerfile only names: fail if that ever drifts.
ids=$(in_root /bin/sh -c 'echo "$(id -u robustmq):$(id -g robustmq):$(getent group robustmq | cut -d: -f3)"')
[ "$ids" = 999:999:999 ] || { echo "rootfs-customize: robustmq is uid:gid:group-gid $ids, want 999:999:999" >&2; exit 1; }
in_root dpkg-query -W -f '${Package}=${Version}\n' >"$root/../packages.txt"
