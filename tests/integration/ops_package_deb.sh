# labels: package
# timeout: 600
# ops_package_deb.sh - the Debian package installs and ships in a fresh Debian 12 root.
#
# Builds the .deb with `cpack -G DEB` from BUILD_DIR, unpacks a minimal bookworm root
# (/var/tmp/fresh-base.tgz, made with debootstrap --variant=minbase if absent), installs the
# package there with apt-get (dependencies from the Debian archive), and proves:
#   - the logferry system user exists, in group adm; conffile, unit, man page are in place;
#   - `logferry check` passes on the packaged agent.conf while /var/log/nginx, /var/log/spring
#     and /var/lib/logferry do not exist;
#   - a shipping run as user logferry (setpriv; no systemd in a chroot) inside the unit's
#     file-system sandbox rebuilt with mounts (root read-only, only /var/lib/logferry
#     writable, private /tmp, no /home) with the packaged config plus its commented NDJSON
#     output block enabled delivers every numbered nginx and Spring Boot line exactly once,
#     and exits 0 on SIGTERM;
#   - `logferry status` inside the root shows the nginx file;
#   - `apt-get purge` removes the state and the configuration.
# Needs root (chroot, mounts) and the Debian archive. Exit 77 when either is missing.
# Takes about 1-2 minutes with the cached base root (plus ~40 s once for debootstrap).
set -u
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chroot, mount)"; exit 77; }
command -v cpack >/dev/null || { echo "SKIP: cpack missing"; exit 77; }
lf_setup
CACHE=${FRESH_CACHE:-/var/tmp/fresh-base.tgz}
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null)
[ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

# 1. the package
(cd "$BUILD_DIR" && cpack -G DEB -B "$T/pkg" >"$T/cpack.log" 2>&1) || { cat "$T/cpack.log"; fail "cpack failed"; }
DEB=$(ls "$T"/pkg/logferry_*_amd64.deb 2>/dev/null | head -n1)
[ -n "$DEB" ] || fail "cpack made no .deb"
# Depends names the Debian package of every shared library the binary links directly.
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
for so in $(readelf -d "$BUILD_DIR/logferry" | awk '/\(NEEDED\)/ {gsub(/[][]/, "", $5); print $5}'); do
    lib=$(ldd "$BUILD_DIR/logferry" | awk -v so="$so" '$1 == so {print $3}')
    real=$(readlink -f "$lib")
    pkg=$(dpkg -S "$real" 2>/dev/null || dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$real" 2>/dev/null)
    pkg=${pkg%%:*}
    [ -n "$pkg" ] || fail "no Debian package owns $lib"
    case "$pkg" in libasan*|libubsan*|libgcc-s1) continue ;; esac # sanitizer builds; libgcc-s1 is required
    echo "$DEPENDS" | tr ',' '\n' | sed 's/^ *//; s/ .*//' | grep -qx "$pkg" \
        || fail "Depends lacks $pkg (for $lib): $DEPENDS"
done
dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles | grep -qx /etc/logferry/agent.conf \
    || fail "agent.conf is not a conffile"

# 2. a fresh Debian 12 root
if [ ! -s "$CACHE" ]; then
    command -v debootstrap >/dev/null || { echo "SKIP: debootstrap missing"; exit 77; }
    b=$(mktemp -d /var/tmp/fresh-build-XXXXXX)
    debootstrap --variant=minbase bookworm "$b" "$mirror" >"$T/debootstrap.log" 2>&1 \
        || { rm -rf "$b"; tail "$T/debootstrap.log"; echo "SKIP: debootstrap failed (no archive?)"; exit 77; }
    tar -C "$b" -czf "$CACHE.tmp.$$" . && mv "$CACHE.tmp.$$" "$CACHE"
    rm -rf "$b"
fi
R=$(mktemp -d /var/tmp/lf-pkgroot-XXXXXX)
RO=
pkg_cleanup() {
    for p in /proc/[0-9]*; do # whatever still runs inside the roots: ours, by pid
        case "$(readlink "$p/root" 2>/dev/null)" in "$R"|"${RO:-/nonexistent}") kill -9 "${p#/proc/}" 2>/dev/null ;; esac
    done
    if [ -n "$RO" ]; then
        for m in dev proc home tmp var/lib/logferry ""; do umount -l "$RO/$m" 2>/dev/null; done
        rmdir "$RO" 2>/dev/null
    fi
    for m in dev/pts dev proc; do umount -l "$R/$m" 2>/dev/null; done
    [ -n "${LF_KEEP:-}" ] && echo "kept root $R" || rm -rf --one-file-system "$R"
    lf_cleanup
}
trap pkg_cleanup EXIT
tar -C "$R" -xzf "$CACHE"
chmod 0755 "$R" # mktemp made it 0700 (and so did the cached tarball's "."): the logferry user must traverse /
cp /etc/apt/sources.list.d/*.sources "$R/etc/apt/sources.list.d/" 2>/dev/null && rm -f "$R/etc/apt/sources.list"
cp /etc/resolv.conf "$R/etc/resolv.conf"
mount -t proc proc "$R/proc" && mount --bind /dev "$R/dev" && mount --bind /dev/pts "$R/dev/pts" \
    || fail "cannot mount /proc, /dev in the root"
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"; }

# 3. install with dependencies from the archive
cp "$DEB" "$R/tmp/logferry.deb"
in_root apt-get update -qq >"$T/apt.log" 2>&1 || { tail "$T/apt.log"; echo "SKIP: no Debian archive"; exit 77; }
in_root apt-get install -y -qq --no-install-recommends /tmp/logferry.deb >>"$T/apt.log" 2>&1 \
    || { tail -n 30 "$T/apt.log"; fail "apt-get install of the .deb failed"; }
in_root id -nG logferry | tr ' ' '\n' | grep -qx adm || fail "user logferry is not in group adm"
in_root getent passwd logferry | grep -q ':/usr/sbin/nologin$' || fail "logferry has a login shell"
for f in /usr/bin/logferry /etc/logferry/agent.conf /usr/lib/systemd/system/logferry.service \
         /usr/share/man/man8/logferry.8.gz; do
    [ -e "$R$f" ] || fail "$f not installed"
done
[ "$(in_root stat -c %U /var/lib/logferry)" = logferry ] || fail "/var/lib/logferry not owned by logferry"
grep -qx 'User=logferry' "$R/usr/lib/systemd/system/logferry.service" || fail "unit does not run as logferry"
# every program the unit executes is installed (Depends pulls in what a minimal system lacks)
for exe in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\([^ ]*\).*/\1/p' "$R/usr/lib/systemd/system/logferry.service"); do
    [ -x "$R$exe" ] || fail "the unit runs $exe, which the package does not bring"
done

# 4. check on a machine without the log folders and the state directory
rm -rf "$R/var/lib/logferry"
[ ! -e "$R/var/log/nginx" ] && [ ! -e "$R/var/log/spring" ] || fail "the base root unexpectedly has log folders"
in_root logferry check -c /etc/logferry/agent.conf >"$T/check.log" 2>&1 \
    || { cat "$T/check.log"; fail "logferry check fails on the packaged config"; }
echo "--- logferry check on the packaged config ---"; cat "$T/check.log"
# ... but with no output enabled the agent must not start (it would commit offsets of lines
# it shipped nowhere): it exits non-zero at once and writes no registry.
install -d -m 0750 "$R/var/lib/logferry" && chroot "$R" chown logferry:adm /var/lib/logferry
rc=0; in_root timeout 20 setpriv --reuid=logferry --regid=adm --init-groups \
    /usr/bin/logferry -c /etc/logferry/agent.conf >"$T/noout.log" 2>&1 || rc=$?
[ $rc != 0 ] && [ $rc != 124 ] || { cat "$T/noout.log"; fail "agent ran (status $rc) with no output enabled"; }
[ ! -e "$R/var/lib/logferry/registry.json" ] || fail "agent with no output wrote a registry"
rm -rf "$R/var/lib/logferry"

# 5. shipping run: the packaged config with its NDJSON output block uncommented
PORT=$(( 20000 + RANDOM % 20000 ))
python3 - "$R/etc/logferry/agent.conf" "$R/etc/logferry/agent.test.conf" "$PORT" <<'PY'
import sys, re
src, dst, port = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(src).read().split("\n")
out, in_block = [], False
for l in lines:
    if l.startswith("#[output file"):
        in_block = True
    elif in_block and not l.startswith("#") or l.startswith("##"):
        in_block = False
    if in_block and l.startswith("#"):
        l = l[1:]
    l = re.sub(r"^http_listen = .*", f"http_listen = 127.0.0.1:{port}", l)
    out.append(l)
text = "\n".join(out)
assert "\n[output file debug]\npath = /var/lib/logferry/events.ndjson" in text, "file output block not found"
open(dst, "w").write(text)
PY
[ $? = 0 ] || fail "could not enable the file output block of the packaged config"
# what the unit's StateDirectory= and a log-writing nginx/Spring Boot would have done
install -d -o "$(in_root id -u logferry)" -g "$(in_root getent group adm | cut -d: -f3)" -m 0750 "$R/var/lib/logferry"
mkdir -p "$R/var/log/nginx" "$R/var/log/spring"
python3 - "$R/var/log/nginx/access.log" "$R/var/log/spring/shop.log" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 501):
        f.write(f'203.0.113.7 - - [26/Nov/2026:05:01:02 +0000] "GET /item/{i} HTTP/1.1" 200 512 "-" "curl/7.88"\n')
with open(sys.argv[2], "w") as f:
    for i in range(1, 301):
        f.write(f"2026-11-26T05:01:02.123Z  INFO 4242 --- [main] c.e.Shop : order {i} placed\n")
PY
chgrp -R "$(in_root getent group adm | cut -d: -f3)" "$R/var/log/nginx" "$R/var/log/spring"
chmod 0640 "$R/var/log/nginx/access.log" "$R/var/log/spring/shop.log"
chmod 0750 "$R/var/log/nginx" "$R/var/log/spring"

# The unit's file-system sandbox, rebuilt with mounts (no systemd in a chroot): the whole root
# read-only (ProtectSystem=strict, ReadOnlyPaths=/var/log), /var/lib/logferry writable
# (StateDirectory=), an empty private /tmp (PrivateTmp=), /home inaccessible (ProtectHome=).
RO=$(mktemp -d /var/tmp/lf-pkgro-XXXXXX)
mount --bind "$R" "$RO" && mount -o remount,bind,ro "$RO" \
    && mount --bind "$R/var/lib/logferry" "$RO/var/lib/logferry" \
    && mount -t tmpfs -o mode=1777,size=16m lftmp "$RO/tmp" \
    && mount -t tmpfs -o ro,mode=000 lfhome "$RO/home" \
    && mount -t proc proc "$RO/proc" && mount --bind /dev "$RO/dev" \
    || fail "cannot build the read-only sandbox"
touch "$RO/etc/lf-write-probe" 2>/dev/null && fail "the sandbox root is writable"
chroot "$RO" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
    setpriv --reuid=logferry --regid=adm --init-groups --no-new-privs \
    /usr/bin/logferry -c /etc/logferry/agent.test.conf >"$T/agent.log" 2>&1 &
AGENT_PID=$!
OUT="$R/var/lib/logferry/events.ndjson"
wait_for "[ \"\$(count_events $OUT)\" -ge 800 ]" 60 || fail "only $(count_events "$OUT") of 800 events shipped"
chroot "$RO" /usr/bin/env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
    logferry status -c /etc/logferry/agent.test.conf >"$T/status.txt" 2>&1 \
    || { cat "$T/status.txt"; fail "logferry status could not ask the agent"; }
grep -q '/var/log/nginx/access.log' "$T/status.txt" || { cat "$T/status.txt"; fail "status lacks the nginx file"; }
stop_agent
for m in dev proc home tmp var/lib/logferry ""; do umount "$RO/$m" || fail "cannot unmount $RO/$m"; done
rmdir "$RO"; RO=
python3 - "$OUT" <<'PY' || fail "events missing or duplicated"
import json, re, sys, collections
nginx, spring = collections.Counter(), collections.Counter()
for raw in open(sys.argv[1], "rb"):
    ev = json.loads(raw)
    text = json.dumps(ev)
    m = re.search(r"GET /item/(\d+) ", text)
    if m: nginx[int(m.group(1))] += 1
    m = re.search(r"order (\d+) placed", text)
    if m: spring[int(m.group(1))] += 1
bad = [("nginx", i, nginx[i]) for i in range(1, 501) if nginx[i] != 1]
bad += [("spring", i, spring[i]) for i in range(1, 301) if spring[i] != 1]
print(f"nginx {sum(nginx.values())}/500, spring {sum(spring.values())}/300, wrong counts: {bad[:10]}")
sys.exit(1 if bad else 0)
PY
[ "$(in_root stat -c %U /var/lib/logferry/registry.json)" = logferry ] || fail "registry not written by logferry"

# 6. purge removes state and configuration
in_root apt-get purge -y -qq logferry >>"$T/apt.log" 2>&1 || fail "apt-get purge failed"
[ ! -e "$R/var/lib/logferry" ] && [ ! -e "$R/etc/logferry" ] || fail "purge left /var/lib/logferry or /etc/logferry"
echo "PASS: package installs, checks, ships 800/800 lines as user logferry, purges"
