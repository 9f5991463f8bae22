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
    modules=$("$repo/Scripts/build-modules")
    # The disk QEMU gives the first passed-through virtio-mmio transport.
    qv_disk="$work/passthrough-disk.img"
    { printf 'CLEAVE-DISK-CONTENT %s\n' "written-by-the-harness"; head -c 65536 /dev/zero; } >"$qv_disk"
    qv_guest_initramfs "$work/guest-initrd.cpio"
}

# The Linux guest's userspace: print a marker with the guest's own uptime, power off.
qv_guest_initramfs() {
    local root="$work/guest-root"
    rm -rf "$root"
    mkdir -p "$root/bin"
    cp "$busybox" "$root/bin/busybox"
    cp "$work/guests/guest-clock" "$root/bin/guest-clock"
    cp "$work/guests/pt-probe" "$root/bin/pt-probe"
    mkdir -p "$root/lib"
    cp "$(find "$kernel_root/lib/modules" -name virtio_mmio.ko | head -n1)" "$(find "$kernel_root/lib/modules" -name virtio_blk.ko | head -n1)" "$root/lib/"
    # The marker ends the line: the supervisor logs when it sees it.
    cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox mount -t proc proc /proc
/bin/guest-clock CLEAVE-GUEST-USERSPACE
/bin/busybox echo "CLEAVE-GUEST-INFO uptime=$(/bin/busybox cut -d' ' -f1 /proc/uptime) mem=$(/bin/busybox grep MemTotal /proc/meminfo | /bin/busybox tr -s ' ' | /bin/busybox cut -d' ' -f2)kB cpus=$(/bin/busybox grep -c ^processor /proc/cpuinfo)"
/bin/busybox echo "CLEAVE-GUEST-CMDLINE $(/bin/busybox cat /proc/cmdline)"
# Console input (cleave-boot run --interactive): read one line, echo it back.
if /bin/busybox grep -q cleave.echo /proc/cmdline; then
    /bin/busybox echo "CLEAVE-ECHO-READY"
    read -t 120 line
    /bin/busybox echo "CLEAVE-ECHO got=[$line]"
fi
# Passed-through devices (issue 4), when the carved tree gave them.
/bin/busybox mount -t sysfs sys /sys
if [ -e /sys/firmware/devicetree/base/pl031@9010000 ]; then
    export PATH=/bin
    /bin/busybox --install -s /bin
    mount -t devtmpfs dev /dev
    insmod /lib/virtio_mmio.ko; insmod /lib/virtio_blk.ko
    i=0; while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    rtc=$(cat /sys/class/rtc/rtc0/time 2>/dev/null)
    irqs() { grep pl031 /proc/interrupts | awk '{print $2}'; }
    n0=$(irqs)
    echo "CLEAVE-PT-MARK start"
    for i in 1 2 3; do echo 0 >/sys/class/rtc/rtc0/wakealarm; echo +1 >/sys/class/rtc/rtc0/wakealarm; sleep 2; done
    echo "CLEAVE-PT-MARK end"
    echo "CLEAVE-PT-RTC time=$rtc before=$n0 after=$(irqs)"
    chip=$(ls -d /sys/class/gpio/gpiochip* | head -n1); base=$(cat $chip/base)
    echo $base >/sys/class/gpio/export; g=/sys/class/gpio/gpio$base
    echo out >$g/direction; echo 1 >$g/value; high=$(cat $g/value); echo 0 >$g/value; low=$(cat $g/value)
    echo "CLEAVE-PT-GPIO label=$(cat $chip/label) high=$high low=$low"
    echo "CLEAVE-PT-DISK $(head -c 64 /dev/vda | head -n1)"
    echo "CLEAVE-PT-LATENCY $(/bin/pt-probe /dev/vda 200)"
fi
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
    cp "$work/guests/exec-clock" "$root/bin/exec-clock"
    cp "$work/guests/pty-keys" "$root/bin/pty-keys"
    cp "$kernel" "$root/guest/Image"
    cp "$work/guest-initrd.cpio" "$root/guest/initrd.cpio"
    cp "$work"/guests/*.bin "$root/guest/"
    mkdir -p "$root/lib/cleave-modules"
    cp "$modules"/*.ko "$root/lib/cleave-modules/"
    cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
echo "CLEAVE-HOST up=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r) cmdline=$(cat /proc/cmdline)"
dmesg | grep -E "GIC: Using split EOI|kvm \[1\]: (VHE|Hyp|Protected)|kvm \[1\]: .*mode initialized" | sed 's/^/CLEAVE-DMESG /'
grep -E "HugePages_(Total|Free)" /proc/meminfo | tr -s ' ' | sed 's/^/CLEAVE-MEMINFO /'
# A separate shell: a test script that dies must not take init (and the board's
# poweroff) with it, or QEMU waits for its timeout.
/bin/busybox sh /tests.sh
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
        -M virt,virtualization=on,gic-version="$gic" -cpu "$cpu" -smp 2 -m "${qv_memory:-2048}" \
        -nographic -no-reboot -nic none \
        -drive if=none,id=pt0,format=raw,readonly=on,file.locking=off,file="$qv_disk" \
        -device virtio-blk-device,drive=pt0 -device virtio-rng-device \
        -kernel "$kernel" -initrd "$initramfs" -dtb "$dtb" </dev/null >"$log" 2>&1
}
