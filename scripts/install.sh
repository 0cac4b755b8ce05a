#!/usr/bin/env bash
# Installs mtxmon as a set of systemd services, or removes it again.
#
#   scripts/install.sh [install] [--no-build | --binary PATH] [--prefix DIR] [--destdir DIR]
#   scripts/install.sh uninstall [--purge] [--prefix DIR] [--destdir DIR]
#
# install: builds the release binary (unless --no-build, which takes .build/release/mtxmon as it is, or
# --binary PATH), then puts
#   $PREFIX/bin/mtxmon                                  the binary (PREFIX defaults to /usr/local)
#   /etc/systemd/system/mtxmon*.service, *.timer        the units, ExecStart pointing at $PREFIX/bin
#   /etc/mediamtx-monitoring.env                        the settings, from the example: only if absent
#   /etc/sysusers.d/mtxmon.conf                         the system user and group mediamtxmon
#   $PREFIX/share/doc/mtxmon/                           README.md and the env example, for reference
# under $DESTDIR (default: the real root). Only into the real root does it create the user, and it
# starts nothing: it prints the systemctl commands that do.
# uninstall: stops and disables the units (real root only) and removes those files, keeping the history
# (/var/lib/mtxmon), the settings file and the user; --purge removes those too.
set -euo pipefail
cd "$(dirname "$0")/.."

action=install
build=yes
binary=""
purge=no
prefix="${PREFIX:-/usr/local}"
destdir="${DESTDIR:-}"
usage() { sed -n '2,19s/^# \{0,1\}//p' "$0"; }
while (($#)); do
    case "$1" in
        install | uninstall) action="$1" ;;
        --no-build) build=no ;;
        --binary) binary="${2:?--binary needs a path}"; build=no; shift ;;
        --prefix) prefix="${2:?--prefix needs a directory}"; shift ;;
        --destdir) destdir="${2:?--destdir needs a directory}"; shift ;;
        --purge) purge=yes ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown argument '$1'" >&2; usage >&2; exit 64 ;;
    esac
    shift
done
case "$prefix" in /*) ;; *) echo "--prefix must be an absolute path, e.g. /usr/local" >&2; exit 64 ;; esac
destdir="${destdir%/}"
[ "$prefix" = / ] || prefix="${prefix%/}"

units=(mtxmon.service mtxmon-collector.service mtxmon-api.service mtxmon-prune.service mtxmon-prune.timer)
unitdir="$destdir/etc/systemd/system"
envfile="$destdir/etc/mediamtx-monitoring.env"
sysusers="$destdir/etc/sysusers.d/mtxmon.conf"
docdir="$destdir$prefix/share/doc/mtxmon"
bin="$destdir$prefix/bin/mtxmon"
user=mediamtxmon
# Only a real root is a live system whose users and services this script may touch.
live=no
[ -z "$destdir" ] && live=yes
running_systemd() { [ "$live" = yes ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }

if [ "$action" = install ]; then
    if [ "$build" = yes ]; then
        # The Swift runtime goes into the binary: the services run it as a system user under
        # ProtectHome=, which hides a toolchain installed in a home directory.
        echo "building the release binary (swift build -c release --static-swift-stdlib)" >&2
        swift build -c release --product mtxmon --static-swift-stdlib
        binary="$(swift build -c release --static-swift-stdlib --show-bin-path)/mtxmon"
    fi
    # --no-build: what `swift build -c release` left, without running swift (often not on sudo's PATH).
    [ -n "$binary" ] || binary=.build/release/mtxmon
    [ -x "$binary" ] || { echo "no mtxmon binary at $binary: build it (swift build -c release --static-swift-stdlib) or pass --binary" >&2; exit 1; }
    if command -v ldd >/dev/null && ldd "$binary" 2>/dev/null | grep -q 'libswiftCore'; then
        echo "warning: $binary loads the Swift runtime from the toolchain ($(ldd "$binary" | awk '/libswiftCore/ {print $3}')):" \
            "the services cannot start where that path is missing or hidden (ProtectHome=);" \
            "rebuild with swift build -c release --product mtxmon --static-swift-stdlib" >&2
    fi

    install -d -m 0755 "$destdir$prefix/bin" "$unitdir" "$destdir/etc/sysusers.d" "$docdir"
    install -m 0755 "$binary" "$bin"
    for unit in "${units[@]}"; do
        # The units name /usr/local; another PREFIX is written into them.
        sed -e "s#/usr/local/#$prefix/#g" "systemd/$unit" >"$unitdir/$unit.tmp"
        chmod 0644 "$unitdir/$unit.tmp"
        mv "$unitdir/$unit.tmp" "$unitdir/$unit"
    done
    printf 'u %s - "mtxmon, MediaMTX monitoring" /var/lib/mtxmon -\n' "$user" >"$sysusers"
    chmod 0644 "$sysusers"
    install -m 0644 README.md systemd/mediamtx-monitoring.env.example "$docdir/"
    if [ -e "$envfile" ]; then
        echo "kept $envfile as it is (the example with every setting: $prefix/share/doc/mtxmon/)" >&2
    else
        install -m 0600 systemd/mediamtx-monitoring.env.example "$envfile"
    fi

    if [ "$live" = yes ] && ! id -u "$user" >/dev/null 2>&1; then
        if command -v systemd-sysusers >/dev/null; then
            systemd-sysusers "$sysusers"
        else
            useradd --system --user-group --home-dir /var/lib/mtxmon --no-create-home \
                --shell /usr/sbin/nologin --comment "mtxmon, MediaMTX monitoring" "$user"
        fi
    fi

    echo "installed mtxmon into ${destdir:-/}: $prefix/bin/mtxmon, units in /etc/systemd/system, settings in /etc/mediamtx-monitoring.env"
    echo "edit /etc/mediamtx-monitoring.env (MEDIA_MTX_API_URL at least), then:"
    echo "  sudo systemctl daemon-reload"
    echo "  sudo systemctl enable --now mtxmon.service mtxmon-prune.timer"
    echo "(or, for a collector and an API in two processes sharing Redis: enable --now mtxmon-collector.service mtxmon-api.service mtxmon-prune.timer)"
    exit 0
fi

if running_systemd; then
    present=()
    for unit in "${units[@]}"; do [ -e "$unitdir/$unit" ] && present+=("$unit"); done
    if ((${#present[@]})); then systemctl disable --now "${present[@]}" || true; fi
fi
for unit in "${units[@]}"; do rm -f "$unitdir/$unit"; done
rm -f "$bin" "$sysusers" "$docdir/README.md" "$docdir/mediamtx-monitoring.env.example"
rmdir "$docdir" 2>/dev/null || true
if running_systemd; then systemctl daemon-reload; fi
if [ "$purge" = yes ]; then
    rm -f "$envfile"
    rm -rf "$destdir/var/lib/mtxmon"
    if [ "$live" = yes ] && id -u "$user" >/dev/null 2>&1; then userdel "$user"; fi
    echo "removed mtxmon, its settings, its history and its user"
else
    echo "removed mtxmon; kept the history in /var/lib/mtxmon, the settings in /etc/mediamtx-monitoring.env" \
        "and the user $user (uninstall --purge removes them)"
fi
