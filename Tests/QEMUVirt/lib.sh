# QEMU-virt board harness, shared by Tests/QEMUVirt/run and Scripts/run-qemu-virt.
# Source it from bash with $repo set to the checkout. Every QEMU boot runs under
# `timeout`; logs and images go to $work (default ${TMPDIR:-/tmp}/cleave-qemu-virt).
#
#   qv_prepare            install what is missing, fetch Debian's kernel and
#                         busybox, build cleave (host), cleave-boot (static
#                         aarch64) and the test guest
#   qv_carve NAME BOARD   cleave carve DeviceTrees/<board dtb> Boards/<NAME>/plan.dts
#   qv_initramfs OUT TESTS  host initramfs: busybox, cleave-boot, /guest/*, and
#                         /init running the shell snippet TESTS
#   qv_boot LOG DTB INITRAMFS CPU GIC SECONDS   boot the board, serial to LOG
set -euo pipefail

work=${CLEAVE_WORK:-${TMPDIR:-/tmp}/cleave-qemu-virt}
cache=${CLEAVE_CACHE:-$HOME/.cache/cleave}
mkdir -p "$work"

qv_log() { echo "qemu-virt: $*" >&2; }

qv_prepare() {
    "$repo/Scripts/install-deps" --harness
    kernel_root=$("$repo/Scripts/fetch-debian-kernel")
    kernel=$(ls "$kernel_root"/boot/vmlinuz-* | head -n1)
    arm64_root=$("$repo/Scripts/fetch-arm64-packages" libfdt-dev libgpiod-dev busybox-static)
    busybox="$arm64_root/bin/busybox"
    [[ -x "$busybox" ]] || { qv_log "no busybox in $arm64_root"; return 1; }
    qv_log "building cleave (host) and cleave-boot (static aarch64)"
    (cd "$repo" && swift build --scratch-path "${CLEAVE_SCRATCH:-.build-harness}" --product cleave >"$work/build-cleave.log" 2>&1) ||
        { tail -n 40 "$work/build-cleave.log" >&2; return 1; }
    cleave="$repo/${CLEAVE_SCRATCH:-.build-harness}/debug/cleave"
    static=$("$repo/Scripts/build-static" "$work/cleave-boot")
    "$repo/Tests/Guests/build" "$work/guests" >/dev/null
    qv_guest_initramfs "$work/guest-initrd.cpio"
}

# The Linux guest's userspace: print a marker with the guest's own uptime, power off.
qv_guest_initramfs() {
    local root="$work/guest-root"
    rm -rf "$root"
    mkdir -p "$root/bin"
    cp "$busybox" "$root/bin/busybox"
    cp "$work/guests/guest-clock" "$root/bin/guest-clock"
    # The marker ends the line: the supervisor logs when it sees it.
    cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox echo "$(/bin/guest-clock) uptime=$(/bin/busybox cut -d' ' -f1 /proc/uptime) mem=$(/bin/busybox grep MemTotal /proc/meminfo | /bin/busybox tr -s ' ' | /bin/busybox cut -d' ' -f2)kB cpus=$(/bin/busybox grep -c ^processor /proc/cpuinfo) CLEAVE-GUEST-USERSPACE"
/bin/busybox echo "CLEAVE-GUEST-CMDLINE $(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
INIT
    chmod +x "$root/init"
    (cd "$root" && find . | cpio -o -H newc 2>/dev/null) >"$1"
}

qv_carve() {
    local name=$1 board=$2
    rm -rf "$work/carve-$name"
    "$cleave" carve "$repo/DeviceTrees/$board" "$repo/Boards/$name/plan.dts" --out "$work/carve-$name" \
        >"$work/carve-$name.log" 2>&1 || { cat "$work/carve-$name.log" >&2; return 1; }
}

qv_initramfs() {
    local out=$1 tests=$2 root="$work/host-root"
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/guest"
    cp "$busybox" "$root/bin/busybox"
    cp "$static" "$root/bin/cleave-boot"
    cp "$kernel" "$root/guest/Image"
    cp "$work/guest-initrd.cpio" "$root/guest/initrd.cpio"
    cp "$work"/guests/*.bin "$root/guest/"
    cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "CLEAVE-HOST up=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r) cmdline=$(cat /proc/cmdline)"
dmesg | grep -E "GIC: Using split EOI|kvm \[1\]: (VHE|Hyp|Protected)|kvm \[1\]: .*mode initialized" | sed 's/^/CLEAVE-DMESG /'
grep -E "HugePages_(Total|Free)" /proc/meminfo | tr -s ' ' | sed 's/^/CLEAVE-MEMINFO /'
. /tests.sh
grep -E "HugePages_(Total|Free)" /proc/meminfo | tr -s ' ' | sed 's/^/CLEAVE-MEMINFO-END /'
echo "CLEAVE-HOST done"
poweroff -f
INIT
    chmod +x "$root/init"
    printf '%s\n' "$tests" >"$root/tests.sh"
    (cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$out"
}

qv_boot() {
    local log=$1 dtb=$2 initramfs=$3 cpu=$4 gic=$5 seconds=$6
    timeout --foreground -k 5 "$seconds" qemu-system-aarch64 \
        -M virt,virtualization=on,gic-version="$gic" -cpu "$cpu" -smp 2 -m 2048 \
        -nographic -no-reboot -nic none \
        -device virtio-rng-device -device virtio-rng-device \
        -kernel "$kernel" -initrd "$initramfs" -dtb "$dtb" </dev/null >"$log" 2>&1
}
