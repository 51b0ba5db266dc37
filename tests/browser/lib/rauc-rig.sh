#!/bin/bash
# A real RAUC on a private bus for the firmware journey — the same rig as
# src/firmware/tests/harness.rs: `dbus-daemon` with a permissive test policy on a private
# socket, `rauc service --override-boot-slot=A` with a test system.conf (compatible
# "CooCenter CC-8 test", bootloader=uboot through fw_printenv/fw_setenv wrappers on an
# environment file, A/B slots as image files), a development CA and a foreign CA made with
# openssl, and two bundles made with `rauc bundle`: good.raucb (2.1.0, signed by the
# development CA) and foreign.raucb (signed by the foreign CA).
#
# Prints one JSON line {bus_address, keyring, good_bundle, foreign_bundle, dir} once RAUC
# answers on the bus, then waits; SIGTERM (or SIGINT) stops RAUC and the bus and removes the
# temp dir. Exit 77 when `rauc` is not installed (the caller skips).
#
# Usage: tests/browser/lib/rauc-rig.sh
set -euo pipefail

COMPATIBLE="CooCenter CC-8 test"
SLOT_SIZE=$((4 * 1024 * 1024))
IMAGE_SIZE=$((2 * 1024 * 1024))

if ! command -v rauc >/dev/null 2>&1; then
  echo "rauc-rig: \`rauc\` is not installed (apt-get install rauc squashfs-tools dbus libubootenv-tool u-boot-tools e2fsprogs openssl)" >&2
  exit 77
fi
for pair in dbus-daemon:dbus mksquashfs:squashfs-tools fw_printenv:libubootenv-tool fw_setenv:libubootenv-tool \
  mkenvimage:u-boot-tools mkfs.ext4:e2fsprogs openssl:openssl; do
  tool=${pair%%:*}
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "rauc-rig: \`$tool\` is missing: apt-get install ${pair#*:}" >&2
    exit 1
  fi
done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/rauc-rig-XXXXXX")
BUS_PID=""
RAUC_PID=""
cleanup() {
  trap - EXIT TERM INT
  [ -n "$RAUC_PID" ] && kill "$RAUC_PID" 2>/dev/null && wait "$RAUC_PID" 2>/dev/null
  [ -n "$BUS_PID" ] && kill "$BUS_PID" 2>/dev/null && wait "$BUS_PID" 2>/dev/null
  # RAUC may have left its mount point busy only while installing; try to unmount anyway.
  umount "$DIR/mnt"/* 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 0' TERM INT

quiet() { # run, show the output only on failure
  local out
  if ! out=$("$@" 2>&1); then
    echo "rauc-rig: $* failed: $out" >&2
    exit 1
  fi
}

# A CA (ECDSA P-256) and a code-signing certificate it issues: $DIR/<name>-*.
make_ca() {
  local name=$1
  quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -keyout "$DIR/$name-ca.key.pem" -out "$DIR/$name-ca.cert.pem" \
    -subj "/O=CooCenter test/CN=$name CA" \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign"
  quiet openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$DIR/$name-signing.key.pem" -out "$DIR/$name-signing.csr" \
    -subj "/O=CooCenter test/CN=$name signing"
  printf 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' \
    >"$DIR/$name-signing.ext"
  quiet openssl x509 -req -in "$DIR/$name-signing.csr" -CA "$DIR/$name-ca.cert.pem" \
    -CAkey "$DIR/$name-ca.key.pem" -CAcreateserial -days 365 \
    -out "$DIR/$name-signing.cert.pem" -extfile "$DIR/$name-signing.ext"
}

# A bundle with one ext4 `rootfs` image of random content: make_bundle NAME VERSION SIGNER.
make_bundle() {
  local name=$1 version=$2 signer=$3
  local content="$DIR/content-$name" tree="$DIR/tree-$name"
  mkdir -p "$content" "$tree"
  head -c $((256 * 1024)) /dev/urandom >"$tree/payload"
  printf '%s' "$version" >"$tree/version"
  quiet mkfs.ext4 -q -F -d "$tree" "$content/rootfs.ext4" "$((IMAGE_SIZE / 1024))k"
  printf '[update]\ncompatible=%s\nversion=%s\n\n[bundle]\nformat=plain\n\n[image.rootfs]\nfilename=rootfs.ext4\n' \
    "$COMPATIBLE" "$version" >"$content/manifest.raucm"
  quiet rauc bundle --cert "$DIR/$signer-signing.cert.pem" --key "$DIR/$signer-signing.key.pem" \
    "$content" "$DIR/$name.raucb"
}

make_ca dev
make_ca foreign

head -c "$SLOT_SIZE" /dev/urandom >"$DIR/slot-a.img"
head -c "$SLOT_SIZE" /dev/urandom >"$DIR/slot-b.img"

# The U-Boot environment in a file, read and written by libubootenv's tools.
printf 'BOOT_ORDER=A B\nBOOT_A_LEFT=3\nBOOT_B_LEFT=3\n' >"$DIR/uboot-env.txt"
quiet mkenvimage -s 0x4000 -o "$DIR/uboot.env" "$DIR/uboot-env.txt"
printf '%s 0x0000 0x4000\n' "$DIR/uboot.env" >"$DIR/fw_env.config"
mkdir -p "$DIR/bin" "$DIR/mnt"
for tool in fw_printenv fw_setenv; do
  printf '#!/bin/sh\nexec %s -c %s "$@"\n' "$(command -v "$tool")" "$DIR/fw_env.config" >"$DIR/bin/$tool"
  chmod 755 "$DIR/bin/$tool"
done

# Test-only: plain bundles allowed (verity ones need device-mapper to install).
cat >"$DIR/system.conf" <<EOF
[system]
compatible=$COMPATIBLE
bootloader=uboot
bundle-formats=plain verity
statusfile=$DIR/central.raucs

[keyring]
path=$DIR/dev-ca.cert.pem
check-purpose=codesign

[slot.rootfs.0]
device=$DIR/slot-a.img
type=ext4
bootname=A

[slot.rootfs.1]
device=$DIR/slot-b.img
type=ext4
bootname=B
EOF

make_bundle good 2.1.0 dev
make_bundle foreign 2.1.0 foreign

# The bus: RAUC's own policy would allow only root to own its name; here anyone may.
cat >"$DIR/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=$DIR/bus.sock</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
mkfifo "$DIR/bus.addr"
dbus-daemon --config-file="$DIR/bus.conf" --nofork --print-address >"$DIR/bus.addr" 2>/dev/null &
BUS_PID=$!
read -r BUS_ADDRESS <"$DIR/bus.addr"
case "$BUS_ADDRESS" in
  unix:*) ;;
  *) echo "rauc-rig: dbus-daemon said '$BUS_ADDRESS'" >&2; exit 1 ;;
esac

DBUS_SYSTEM_BUS_ADDRESS="$BUS_ADDRESS" PATH="$DIR/bin:$PATH" \
  rauc --conf="$DIR/system.conf" --mount="$DIR/mnt" service --override-boot-slot=A >>"$DIR/rauc.log" 2>&1 &
RAUC_PID=$!

# Ready once it answers on the bus (BootSlot property).
ready=""
for _ in $(seq 1 200); do
  if ! kill -0 "$RAUC_PID" 2>/dev/null; then break; fi
  if DBUS_SYSTEM_BUS_ADDRESS="$BUS_ADDRESS" dbus-send --system --print-reply --dest=de.pengutronix.rauc / \
    org.freedesktop.DBus.Properties.Get string:de.pengutronix.rauc.Installer string:BootSlot 2>/dev/null |
    grep -q '"A"'; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "rauc-rig: rauc service did not come up: $(cat "$DIR/rauc.log")" >&2
  exit 1
fi

json() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
printf '{"bus_address":"%s","keyring":"%s","good_bundle":"%s","foreign_bundle":"%s","dir":"%s"}\n' \
  "$(json "$BUS_ADDRESS")" "$(json "$DIR/dev-ca.cert.pem")" "$(json "$DIR/good.raucb")" \
  "$(json "$DIR/foreign.raucb")" "$(json "$DIR")"

# Wait for SIGTERM; `wait` returns when a trapped signal arrives.
wait "$RAUC_PID" || true
echo "rauc-rig: rauc service exited: $(tail -n 5 "$DIR/rauc.log")" >&2
exit 1
