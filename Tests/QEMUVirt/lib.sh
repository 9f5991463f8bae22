# QEMU-virt board harness, shared by Tests/QEMUVirt/run and Scripts/run-qemu-virt.
# Source it from bash with $repo set to the checkout. Every step and every QEMU
# boot runs under `timeout -k`; logs and images go to $work (default
# ${TMPDIR:-/tmp}/cleave-qemu-virt).
#
#   qv_prepare            install what is missing, fetch Debian's kernel and
#                         busybox, build cleave (host), cleave-boot (static
#                         aarch64), the test guests and the modules (each step bounded)
#   qv_dump_board OUT GIC CPU MEMORY   the board's own tree, dumped by QEMU with
#                         the machine options qv_boot uses
#   qv_carve NAME BOARD [PLAN]   cleave carve BOARD (a path) with Boards/<NAME>/plan.dts
#                         (or PLAN) into $work/carve-NAME
#   qv_initramfs OUT TESTS  host initramfs: busybox, cleave-boot, the board
#                         scripts (Tests/QEMUVirt/board), /guest/*, and /init
#                         running the shell snippet TESTS
#   qv_boot LOG DTB INITRAMFS CPU GIC SECONDS   boot the board, serial to LOG;
#                         presses the power key (PL061 line 3) each time the
#                         board prints CLEAVE-PRESS-KEY
#   check / skip / qv_summary   one line per check, "N passed, M failed, K skipped"
#   qv_passthrough_checks PREFIX BLOCK RUN   the checks of one passthrough run
set -euo pipefail

work=${CLEAVE_WORK:-${TMPDIR:-/tmp}/cleave-qemu-virt}
cache=${CLEAVE_CACHE:-$HOME/.cache/cleave}
mkdir -p "$work"

qv_log() { echo "qemu-virt: $*" >&2; }

# Every step and boot is also cut to what is left of CLEAVE_HARNESS_BUDGET
# (seconds, default 2400) from the moment this file is sourced, so the limits
# inside fit the caller's outer one (Scripts/test passes its remaining share).
qv_deadline=$(( $(date +%s) + ${CLEAVE_HARNESS_BUDGET:-2400} ))
qv_limit() { # seconds -> min(seconds, budget left - 10), 0 when under 20 s are left
    local left=$(( qv_deadline - $(date +%s) - 10 ))
    (( left < 20 )) && left=0
    echo $(( $1 < left ? $1 : left ))
}

passed=0
failed=0
skipped=0
failed_logs=()
check() { # name condition-result(0/1) detail log
    if [[ $2 -eq 0 ]]; then
        passed=$((passed + 1)); echo "ok   $1${3:+ ($3)}"
    else
        failed=$((failed + 1)); echo "FAIL $1${3:+ ($3)}"; failed_logs+=("$4")
    fi
}
skip() { # name reason: counted and shown in the closing line, never as a pass
    skipped=$((skipped + 1)); echo "skip $1 ($2)"
}
qv_summary() { # prints the closing line and the logs of failed checks; status 1 on failure
    echo "$passed passed, $failed failed, $skipped skipped"
    if [[ $failed -gt 0 ]]; then
        for l in $(printf '%s\n' "${failed_logs[@]}" | sort -u); do
            echo "---- $l (last 60 lines)"; tail -n 60 "$l"
        done
        return 1
    fi
}
field() { { grep -a -m1 "$2" "$1" | grep -ao "$3=[^ \"]*" | head -n1 | cut -d= -f2- | tr -d '\r'; } || true; }

# One bounded preparation step: `qv_step NAME SECONDS command...`, its standard
# output in $work/step-NAME.out, its messages in $work/step-NAME.log. A timeout
# or failure names the step and shows the log's tail.
qv_step() {
    local name=$1 seconds status=0
    seconds=$(qv_limit "$2")
    shift 2
    [[ $seconds -gt 0 ]] || { qv_log "step '$name': no time left of the harness budget"; return 1; }
    timeout -k 10 "$seconds" "$@" >"$work/step-$name.out" 2>"$work/step-$name.log" || status=$?
    if [[ $status -eq 124 || $status -eq 137 ]]; then
        qv_log "step '$name' timed out after ${seconds}s; last lines of $work/step-$name.log:"
        tail -n 30 "$work/step-$name.log" >&2
        return 1
    elif [[ $status -ne 0 ]]; then
        qv_log "step '$name' failed (status $status); last lines of $work/step-$name.log:"
        tail -n 30 "$work/step-$name.log" >&2
        return 1
    fi
}

qv_prepare() {
    qv_step install-deps 600 "$repo/Scripts/install-deps" --harness
    qv_step fetch-kernel 600 "$repo/Scripts/fetch-debian-kernel"
    kernel_root=$(tail -n1 "$work/step-fetch-kernel.out")
    kernel=$(ls "$kernel_root"/boot/vmlinuz-* | head -n1)
    qv_step fetch-arm64 600 "$repo/Scripts/fetch-arm64-packages" libfdt-dev libgpiod-dev busybox-static
    arm64_root=$(tail -n1 "$work/step-fetch-arm64.out")
    busybox="$arm64_root/bin/busybox"
    [[ -x "$busybox" ]] || { qv_log "no busybox in $arm64_root"; return 1; }
    qv_log "building cleave (host) and cleave-boot (static aarch64)"
    qv_step build-cleave 900 bash -c "cd '$repo' && swift build --scratch-path '${CLEAVE_SCRATCH:-.build-harness}' --product cleave"
    cleave="$repo/${CLEAVE_SCRATCH:-.build-harness}/debug/cleave"
    qv_step build-static 900 "$repo/Scripts/build-static" "$work/cleave-boot"
    static=$(tail -n1 "$work/step-build-static.out")
    qv_step build-guests 300 "$repo/Tests/Guests/build" "$work/guests"
    qv_step build-modules 900 "$repo/Scripts/build-modules"
    modules=$(tail -n1 "$work/step-build-modules.out")
    # The disk QEMU gives the first passed-through virtio-mmio transport.
    qv_disk="$work/passthrough-disk.img"
    { printf 'CLEAVE-DISK-CONTENT %s\n' "written-by-the-harness"; head -c 65536 /dev/zero; } >"$qv_disk"
    qv_guest_initramfs "$work/guest-initrd.cpio"
}

# The machine every boot uses: one place, so the dumped board tree and the
# booted board are the same machine. -monitor: the power key (qv_press_key).
# qv_smp CPUs (default 4: the one-guest plans use CPU 1,
# Boards/qemu-virt-two-guests CPUs 2 and 3; Scripts/run-qemu-virt sets 2, the
# CPUs of the bundled tree it boots).
qv_machine() { # gic cpu memory
    # acpi=off: with ACPI, QEMU's power key is an ACPI event, not PL061 line 3.
    echo "-M virt,virtualization=on,gic-version=$1,acpi=off -cpu $2 -smp ${qv_smp:-4} -m $3 -nic none"
}

# A harness variant's machine: sets plan (Boards/<plan>), cpu, gic, mode
# (KVM's), qv_memory (MiB) and pauth (1: the CPU has pointer authentication).
# 3 GiB on gicv3 leave a free 1 GiB-aligned range for a 1 GiB hugepage at run
# time. Only gicv3 gets pointer authentication, QEMU's IMPLEMENTATION DEFINED
# algorithm (pauth-impdef=on): it costs a board boot about a quarter more
# QEMU CPU time (QARMA5, QEMU's default, three to four times), so gicv2 keeps
# pauth=off and checks, as nvhe's cortex-a57 does, that the guest sees none
# (docs/kernel-facts.md §1, §27).
qv_variant() { # gicv3 (VHE) | gicv2 | nvhe
    case $1 in
        gicv3) plan=qemu-virt; cpu=max,pauth-impdef=on; pauth=1; gic=3; mode=VHE; qv_memory=3072 ;;
        gicv2) plan=qemu-virt-gicv2; cpu=max,pauth=off; pauth=0; gic=2; mode=VHE; qv_memory=2048 ;;
        nvhe)  plan=qemu-virt; cpu=cortex-a57; pauth=0; gic=3; mode=nVHE; qv_memory=2048 ;;
        *) echo "unknown variant $1"; return 2 ;;
    esac
}

# The board's tree as QEMU builds it for this machine (its /memory follows -m).
# Seeds zeroed and the padding removed as in Scripts/dump-qemu-virt-trees.
qv_dump_board() { # out gic cpu memory
    local out=$1 raw="$work/dump-raw.dtb"
    # shellcheck disable=SC2046
    timeout -k 5 60 qemu-system-aarch64 $(qv_machine "$2" "$3" "$4") -machine dumpdtb="$raw" -display none \
        >"$work/dump.log" 2>&1 || { cat "$work/dump.log" >&2; return 1; }
    dtc -q -I dtb -O dtb -o "$out" "$raw"
}

# A simulated GPIO bank added to the board tree OUT (gpio-sim's device tree
# binding, drivers/gpio/gpio-sim.c: a "gpio-simulator" node, a bank per
# child): 8 lines at /gpio-sim/bank0 for the GPIO runs (issue 12), probed when
# the board loads gpio-sim.ko. Edited as a blob, with libfdt's fdtput.
qv_add_gpio_sim() { # out
    fdtput -c "$1" /gpio-sim /gpio-sim/bank0 &&
        fdtput -t s "$1" /gpio-sim compatible gpio-simulator &&
        fdtput -t s "$1" /gpio-sim/bank0 gpio-sim,label cleave-sim &&
        fdtput -t s "$1" /gpio-sim/bank0 gpio-controller "" &&
        fdtput -t i "$1" /gpio-sim/bank0 "#gpio-cells" 2 &&
        fdtput -t i "$1" /gpio-sim/bank0 ngpios 8
}

# The Linux guest's userspace: print a marker with the guest's own uptime, power off.
qv_guest_initramfs() {
    local root="$work/guest-root"
    rm -rf "$root"
    mkdir -p "$root/bin"
    cp "$busybox" "$root/bin/busybox"
    cp "$work/guests/guest-clock" "$root/bin/guest-clock"
    cp "$work/guests/pt-probe" "$root/bin/pt-probe"
    cp "$work/guests/gpio-bench" "$root/bin/gpio-bench"
    mkdir -p "$root/lib"
    for ko in virtio_mmio virtio_blk virtio-rng; do cp "$(find "$kernel_root/lib/modules" -name $ko.ko | head -n1)" "$root/lib/"; done
    cp "$modules/pvpanic.ko" "$modules/pvpanic-mmio.ko" "$root/lib/"
    # The marker ends the line: the supervisor logs when it sees it.
    cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox mount -t proc proc /proc
/bin/guest-clock CLEAVE-GUEST-USERSPACE
# A kernel panic reported through the VMM's pvpanic device (every guest tree,
# carved or generated, describes it; Debian's kernel lacks the driver,
# Scripts/build-modules builds it).
if /bin/busybox grep -q cleave.panic /proc/cmdline; then
    /bin/busybox mount -t sysfs sys /sys
    /bin/busybox insmod /lib/pvpanic.ko; /bin/busybox insmod /lib/pvpanic-mmio.ko
    /bin/busybox echo "CLEAVE-PANIC bound=$(/bin/busybox ls /sys/bus/platform/drivers/pvpanic-mmio | /bin/busybox grep -c "\.pvpanic")"
    /bin/busybox echo c >/proc/sysrq-trigger
fi
/bin/busybox echo "CLEAVE-GUEST-INFO uptime=$(/bin/busybox cut -d' ' -f1 /proc/uptime) mem=$(/bin/busybox grep MemTotal /proc/meminfo | /bin/busybox tr -s ' ' | /bin/busybox cut -d' ' -f2)kB cpus=$(/bin/busybox grep -c ^processor /proc/cpuinfo) pauth=[$(for f in paca pacg; do /bin/busybox grep -m1 ^Features /proc/cpuinfo | /bin/busybox grep -qw $f && echo -n $f,; done)]"
/bin/busybox echo "CLEAVE-GUEST-CMDLINE $(/bin/busybox cat /proc/cmdline)"
# Under the two-guest service runs (Tests/QEMUVirt/board/cleave-two-board
# and cleave-two-run):
# cleave.beat prints a counter every 0.5 s (checked for a gap while the
# other guest panics); cleave.on-key-panic panics through pvpanic when QEMU's
# power key (its passed-through PL061 line 3) is pressed. Both in the
# background: the guest then idles (cleave.idle).
# A background job reads /dev/null: /dev first.
/bin/busybox grep -qE "cleave.(beat|on-key-panic)" /proc/cmdline && /bin/busybox mount -t devtmpfs dev /dev
if /bin/busybox grep -q cleave.beat /proc/cmdline; then
    (n=0; while :; do n=$((n + 1)); /bin/busybox echo "CLEAVE-BEAT n=$n up=$(/bin/busybox cut -d' ' -f1 /proc/uptime)"; /bin/busybox sleep 0.5; done) &
fi
if /bin/busybox grep -q cleave.on-key-panic /proc/cmdline; then
    /bin/busybox mount -t sysfs sys /sys
    /bin/busybox insmod /lib/pvpanic.ko; /bin/busybox insmod /lib/pvpanic-mmio.ko
    chip=$(/bin/busybox ls -d /sys/class/gpio/gpiochip* | /bin/busybox head -n1)
    key=$(($(/bin/busybox cat $chip/base) + 3))
    /bin/busybox echo $key >/sys/class/gpio/export
    /bin/busybox echo in >/sys/class/gpio/gpio$key/direction; /bin/busybox echo rising >/sys/class/gpio/gpio$key/edge
    keys() { /bin/busybox grep gpiolib /proc/interrupts | /bin/busybox awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }'; }
    k0=$(keys)
    /bin/busybox echo "CLEAVE-PANIC-ARMED pvpanic=$(/bin/busybox ls /sys/bus/platform/drivers/pvpanic-mmio | /bin/busybox grep -c "\.pvpanic") chip=$(/bin/busybox cat $chip/label) keys=$k0"
    (while [ "$(keys)" = "$k0" ]; do /bin/busybox sleep 0.1; done
     /bin/busybox echo "CLEAVE-PANIC-KEY keys=$(keys)"; /bin/busybox echo c >/proc/sysrq-trigger) &
fi
# Under the partition service (Tests/QEMUVirt/board/cleave-service-run): a
# shell on the console until stopped, for `cleave-boot console` (started
# again should it end; cttyhack gives it the console as its terminal).
if /bin/busybox grep -q cleave.idle /proc/cmdline; then
    /bin/busybox echo "CLEAVE-GUEST-IDLE"
    /bin/busybox mount -t sysfs sys /sys
    /bin/busybox mount -t devtmpfs dev /dev
    /bin/busybox --install -s /bin
    export PATH=/bin PS1="cleave-guest# "
    while :; do setsid cttyhack sh; sleep 1; done
fi
# Console input (cleave-boot run --interactive): read one line, echo it back.
if /bin/busybox grep -q cleave.echo /proc/cmdline; then
    /bin/busybox echo "CLEAVE-ECHO-READY"
    read -t 120 line
    /bin/busybox echo "CLEAVE-ECHO got=[$line]"
fi
# Passed-through devices, each exercised when the carved tree gave it to this guest.
/bin/busybox mount -t sysfs sys /sys
dt=/sys/firmware/devicetree/base
export PATH=/bin
/bin/busybox --install -s /bin
mount -t devtmpfs dev /dev
# The interrupt count (all CPUs) of the /proc/interrupts lines matching $1.
count() { grep "$1" /proc/interrupts | awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }'; }
# A passed-through PL011 as the console (Tests/QEMUVirt/uart-console.sh): its interrupts so far.
[ -e $dt/pl011@9000000 ] && echo "CLEAVE-UART-GUEST irqs=$(count uart-pl011) console=$(cat /sys/class/tty/console/active)"
if ls -d $dt/virtio_mmio@* >/dev/null 2>&1; then
    insmod /lib/virtio_mmio.ko; insmod /lib/virtio_blk.ko
    want=$(ls -d $dt/virtio_mmio@* | wc -l)
    i=0; while [ "$(ls /sys/bus/virtio/devices 2>/dev/null | wc -l)" -lt $want ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    for d in /sys/bus/virtio/devices/*; do [ -e $d ] && echo "CLEAVE-PT-VIRTIO $(basename $d) device=$(cat $d/device) transport=$(basename "$(readlink -f $d/..)")"; done
    i=0; while [ -e $dt/virtio_mmio@a003e00 ] && [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
fi
if [ -e $dt/pl031@9010000 ]; then
    rtc=$(cat /sys/class/rtc/rtc0/time 2>/dev/null)
    irqs() { count pl031; }
    n0=$(irqs)
    # Silent between the marks but for the alarms: the host samples KVM's
    # counters 0.3 s after "start" and after the third alarm (Tests/QEMUVirt/board/cleave-pt-run).
    echo "CLEAVE-PT-MARK start"
    sleep 1
    # Each alarm 2 s ahead, not 1: the RTC core reads the clock again when
    # it programs the alarm, and an alarm no longer in the future by then
    # expires in software only (-ETIME in __rtc_set_alarm), with no
    # interrupt. "+1" loses its interrupt whenever a second boundary falls
    # between the two reads (docs/kernel-facts.md §35). The guest then waits for
    # the interrupt (at most 4 s), and stays silent 1 s after the third.
    alarms=""
    for i in 1 2 3; do
        n=$(irqs); echo 0 >/sys/class/rtc/rtc0/wakealarm
        t=$(cat /sys/class/rtc/rtc0/since_epoch); echo +2 >/sys/class/rtc/rtc0/wakealarm; a=$(cat /sys/class/rtc/rtc0/wakealarm)
        sleep 1; j=0; while [ "$(irqs)" = "$n" ] && [ $j -lt 30 ]; do sleep 0.1; j=$((j + 1)); done
        alarms="$alarms $i:set=$t,alarm=${a:-none},count=$(irqs),waited_ms=$((1000 + 100 * j))"
    done
    sleep 1
    echo "CLEAVE-PT-MARK end"
    echo "CLEAVE-PT-RTC time=$rtc before=$n0 after=$(irqs) alarms=${alarms# }"
    # cleave.reset-test (the harness's resetfwd run): the first boot leaves
    # the PL031's level SPI asserted and the guest holding it, then resets
    # (PSCI SYSTEM_RESET); the boot after it, which knows itself by the
    # counter loaded here (1970), takes the alarm 3 times again above.
    if grep -q cleave.reset-test /proc/cmdline; then
        if [ "$(cat /sys/class/rtc/rtc0/since_epoch)" -gt 100000 ]; then
            echo 9010000.pl031 >/sys/bus/amba/drivers/rtc-pl031/unbind
            devmem 0x09010008 32 1000; devmem 0x09010004 32 1002; devmem 0x09010010 32 1 # RTCLR, RTCMR, RTCIMSC
            i=0; while [ "$(devmem 0x09010014 32)" != 0x00000001 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
            echo "CLEAVE-PT-RESET-HOLDING ris=$(devmem 0x09010014 32)" # RTCRIS: the alarm's line is up
            sleep 2 # the host reads the SPI's state now (cleave-pt-run)
            echo "CLEAVE-PT-RESET-REBOOT"
            reboot -f
        fi
        echo "CLEAVE-PT-RESET-AFTER since_epoch=$(cat /sys/class/rtc/rtc0/since_epoch)"
    fi
fi
if [ -e $dt/pl061@9030000 ]; then
    chip=$(ls -d /sys/class/gpio/gpiochip* | head -n1); base=$(cat $chip/base)
    echo $base >/sys/class/gpio/export; g=/sys/class/gpio/gpio$base
    echo out >$g/direction; echo 1 >$g/value; high=$(cat $g/value); echo 0 >$g/value; low=$(cat $g/value)
    echo "CLEAVE-PT-GPIO label=$(cat $chip/label) high=$high low=$low"
    # Line 3 is QEMU virt's power key: the harness presses it (QEMU monitor
    # system_powerdown) when it reads READY; the line's edge interrupt comes
    # through the PL061's SPI.
    k=/sys/class/gpio/gpio$((base + 3))
    echo $((base + 3)) >/sys/class/gpio/export; echo in >$k/direction; echo rising >$k/edge
    keys() { count gpiolib; }
    k0=$(keys)
    echo "CLEAVE-PT-GPIO-IRQ-READY"
    i=0; while [ "$(keys)" = "$k0" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    echo "CLEAVE-PT-GPIO-IRQ before=$k0 after=$(keys) spi=$(grep pl061 /proc/interrupts | head -n1 | tr -s ' ' | cut -d' ' -f2-)"
fi
# Virtual GPIO (issue 12): a virtual PL061 whose lines the plan named
# cleave-out, cleave-in, cleave-irq (Tests/QEMUVirt/board/cleave-gpio-run
# plays the host's end of each).
vchip=""
for c in /sys/class/gpio/gpiochip*; do
    [ -e $c/device/of_node/gpio-line-names ] && grep -q cleave-out $c/device/of_node/gpio-line-names && vchip=$c
done
if [ -n "$vchip" ]; then
    base=$(cat $vchip/base)
    echo "CLEAVE-GPIO-CHIP label=$(cat $vchip/label) ngpio=$(cat $vchip/ngpio) names=$(tr '\0' ',' <$vchip/device/of_node/gpio-line-names)"
    for i in 0 1 2; do echo $((base + i)) >/sys/class/gpio/export; done
    o=/sys/class/gpio/gpio$base; n=/sys/class/gpio/gpio$((base + 1)); q=/sys/class/gpio/gpio$((base + 2))
    wait_for() { i=0; while [ "$(cat $1)" != "$2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; cat $1; }
    echo out >$o/direction; echo 1 >$o/value; echo "CLEAVE-GPIO-OUT-HIGH"; sleep 1
    echo 0 >$o/value; echo "CLEAVE-GPIO-OUT-LOW"; sleep 1
    echo in >$n/direction; echo "CLEAVE-GPIO-IN-READY"
    echo "CLEAVE-GPIO-IN high=$(wait_for $n/value 1)"
    echo "CLEAVE-GPIO-IN low=$(wait_for $n/value 0)"
    echo in >$q/direction; echo rising >$q/edge
    g0=$(count gpiolib)
    echo "CLEAVE-GPIO-IRQ-READY"
    i=0; while [ $(count gpiolib) -lt $((g0 + 5)) ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    sleep 1
    echo "CLEAVE-GPIO-IRQ before=$g0 after=$(count gpiolib)"
    # The benchmark (Tests/Guests/gpio-bench.c) through the character device
    # of the same controller, the lines given back by sysfs first.
    for i in 0 1 2; do echo $((base + i)) >/sys/class/gpio/unexport; done
    gpio-bench guest /dev/$(basename "$(ls -d $vchip/device/gpiochip* | head -n1)") 60
    echo "CLEAVE-GPIO-BENCH status=$?"
fi
if [ -b /dev/vda ]; then
    echo "CLEAVE-PT-DISK $(head -c 64 /dev/vda | head -n1)"
    echo "CLEAVE-PT-LATENCY $(/bin/pt-probe /dev/vda 200)"
fi
if grep -qx 0x0004 /sys/bus/virtio/devices/*/device 2>/dev/null; then
    insmod /lib/virtio-rng.ko
    dev=$(grep -lx 0x0004 /sys/bus/virtio/devices/*/device | head -n1 | xargs dirname | xargs basename)
    r() { count " $dev\$"; }
    i=0; while [ ! -e /dev/hwrng ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    r0=$(r)
    bytes=$(head -c 64 /dev/hwrng | wc -c)
    echo "CLEAVE-PT-RNG device=$dev rng=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null) bytes=$bytes irqs_before=$r0 irqs_after=$(r)"
fi
/bin/busybox poweroff -f
INIT
    chmod +x "$root/init"
    (cd "$root" && find . | cpio -o -H newc 2>/dev/null) >"$1"
}

qv_carve() { # name board-path [plan-path]
    local name=$1 board=$2 plan=${3:-$repo/Boards/$1/plan.dts}
    rm -rf "$work/carve-$name"
    timeout -k 5 120 "$cleave" carve "$board" "$plan" --out "$work/carve-$name" >"$work/carve-$name.log" 2>&1 ||
        { cat "$work/carve-$name.log" >&2; return 1; }
    [[ -s "$work/carve-$name/host.dtb" && -s "$work/carve-$name/report.txt" ]] ||
        { qv_log "carve $name: no host.dtb or report.txt"; return 1; }
}

# A plan variant of Boards/<name>/plan.dts with `text` added to every device
# node of its guests (e.g. passthrough = "uio";), written to OUT.
qv_plan_variant() { # name out text
    sed -E "s|(\{ device = \"[^\"]*\";)|\1 $3|" "$repo/Boards/$1/plan.dts" >"$2"
}

# The two-guest plan as Tests/QEMUVirt/board/cleave-two-run runs it
# (Boards/qemu-virt-two-guests names no GIC: every variant carves it): both
# idle, quiet (each console byte is an exit); ctl panics at the power key, io
# beats. Written to OUT.
qv_plan_two() { # out
    sed -E -e '/^\t\tctl \{/,/^\t\t\};/ s|bootargs = "([^"]*)";|bootargs = "\1 quiet cleave.idle cleave.on-key-panic";|' \
        -e '/^\t\tio \{/,/^\t\t\};/ s|bootargs = "([^"]*)";|bootargs = "\1 quiet cleave.idle cleave.beat";|' \
        "$repo/Boards/qemu-virt-two-guests/plan.dts" >"$1"
}

qv_initramfs() {
    local out=$1 tests=$2 root="$work/host-root"
    rm -rf "$root"
    mkdir -p "$root/bin" "$root/guest"
    cp "$busybox" "$root/bin/busybox"
    cp "$static" "$root/bin/cleave-boot"
    cp "$work/guests/exec-clock" "$root/bin/exec-clock"
    cp "$work/guests/pty-keys" "$root/bin/pty-keys"
    cp "$work/guests/notify-listen" "$root/bin/notify-listen"
    cp "$work/guests/forward-probe" "$root/bin/forward-probe"
    cp "$work/guests/gpio-bench" "$root/bin/gpio-bench"
    cp "$work/guests/time-runs" "$root/bin/time-runs"
    cp "$work/guests/rtc-alarm-probe" "$root/bin/rtc-alarm-probe"
    cp "$work/guests/vfio-hold" "$root/bin/vfio-hold"
    cp "$repo"/Tests/QEMUVirt/board/* "$root/bin/"
    cp "$kernel" "$root/guest/Image"
    cp "$work/guest-initrd.cpio" "$root/guest/initrd.cpio"
    cp "$work"/guests/*.bin "$root/guest/"
    # Extra files for /guest (carved host trees of plan variants): $qv_extra.
    for f in ${qv_extra:-}; do cp "$f" "$root/guest/"; done
    mkdir -p "$root/lib/cleave-modules" "$root/lib/host-modules"
    cp "$modules"/*.ko "$root/lib/cleave-modules/"
    # A host driver for the allow-unbind check (Debian's own module), and the
    # virtio console a board booted with console=hvc0 needs (qv_host_console).
    for ko in virtio_mmio virtio_console; do cp "$(find "$kernel_root/lib/modules" -name $ko.ko | head -n1)" "$root/lib/host-modules/"; done
    # The board's set-up, shared by the shell /init below and busybox init
    # (qv_busybox_init): busybox's applets, /proc, /sys, /dev, debugfs, and
    # with console=hvc0 (its UART is a guest's, qv_host_console) the virtio
    # console, which init has none of until the modules are in.
    mkdir -p "$root/etc"
    cat >"$root/etc/board-setup" <<'SETUP'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# The host kernel's warnings off the console, which the tests' lines share:
# printed in the middle of a line they cut it in two (an "hrtimer:
# interrupt took ... ns" warning split a guest's line on a loaded machine).
# They stay in dmesg, which the checks that want kernel lines read; an oops
# (emergency and alert levels) still shows.
echo 2 >/proc/sys/kernel/printk
if grep -q "console=hvc0" /proc/cmdline; then
    insmod /lib/host-modules/virtio_mmio.ko; insmod /lib/host-modules/virtio_console.ko
    # Until it opens, not only exists: the node comes before the port is
    # ready (docs/kernel-facts.md §29).
    i=0; while ! (: </dev/hvc0) 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
fi
SETUP
    cat >"$root/init" <<'INIT'
#!/bin/busybox sh
. /etc/board-setup
if grep -q "console=hvc0" /proc/cmdline; then exec </dev/hvc0 >/dev/hvc0 2>&1; fi
echo "CLEAVE-HOST up=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r) cmdline=$(cat /proc/cmdline)"
dmesg | grep -E "GIC: Using split EOI|kvm \[[0-9]+\]: .*mode initialized" | sed 's/^/CLEAVE-DMESG /'
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
    [[ ${qv_busybox_init:-0} == 1 ]] && qv_busybox_init_root "$root"
    (cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$out"
}

# qv_host_console=hvc0 before qv_boot: the host's console is a virtio
# console (QEMU's virtconsole on its stdout, so the LOG as always) and the
# PL011 (0x09000000) is free for a guest: its output goes to
# $work/uart-serial.log and its input comes from the unix socket
# $work/uart.sock (qv_uart_type types into it).
qv_host_console=serial

# qv_busybox_init=1 before qv_initramfs: the board's init is busybox init
# (/init is busybox) with the shipped Init/inittab, as a board without
# systemd would run the service: /etc/inittab is the board's own set-up
# (/etc/board-setup, as the shell /init runs it, and depmod for modprobe),
# Init/inittab's lines, then TESTS once on the
# console (they end with poweroff) and, at shutdown, the service's log
# (/var/log/cleave.log) as CLEAVE-INIT-SHUTDOWN-LOG lines. The built
# modules go to /lib/modules/<version>/extra, Init/modprobe.d/cleave.conf to
# /etc/modprobe.d, cleave-boot also to /usr/sbin (the paths Init/ uses).
# qv_init_extra: more inittab lines of the caller's, after Init/inittab's
# (busybox init runs every sysinit line before any respawn line, wherever
# it stands).
qv_busybox_init=0
qv_init_extra=""

qv_busybox_init_root() { # root
    local root=$1 version=${kernel##*/vmlinuz-} tty=""
    [[ $qv_host_console == hvc0 ]] && tty=hvc0
    rm -f "$root/init"
    ln -s bin/busybox "$root/init"
    mkdir -p "$root/etc/modprobe.d" "$root/usr/sbin" "$root/lib/modules/$version/extra"
    cp "$modules"/*.ko "$root/lib/modules/$version/extra/"
    cp "$repo/Init/modprobe.d/cleave.conf" "$root/etc/modprobe.d/"
    cp "$static" "$root/usr/sbin/cleave-boot"
    {
        echo "::sysinit:/bin/busybox sh /etc/board-setup"
        echo "::sysinit:/sbin/depmod"
        grep -v '^#' "$repo/Init/inittab"
        [[ -n "${qv_init_extra:-}" ]] && printf '%s\n' "$qv_init_extra"
        echo "$tty::once:/bin/sh /tests.sh"
        echo "::shutdown:/bin/sh -c 'sed \"s/^/CLEAVE-INIT-SHUTDOWN-LOG /\" /var/log/cleave.log >/dev/console 2>&1'"
    } >"$root/etc/inittab"
}

qv_boot() { # log dtb initramfs cpu gic seconds
    local log=$1 dtb=$2 initramfs=$3 cpu=$4 gic=$5 seconds status=0
    local monitor="$work/monitor.sock" console=()
    if [[ $qv_host_console == hvc0 ]]; then
        rm -f "$work/uart.sock" "$work/uart-serial.log"
        console=(-chardev "socket,id=uart,path=$work/uart.sock,server=on,wait=off,logfile=$work/uart-serial.log" -serial chardev:uart
                 -device virtio-serial-device -chardev stdio,id=hvc -device virtconsole,chardev=hvc)
    fi
    seconds=$(qv_limit "$6")
    [[ $seconds -gt 0 ]] || { echo "qemu-virt: no time left of the harness budget for this boot" >"$log"; return 124; }
    rm -f "$monitor"
    : >"$log"
    qv_key_presser "$log" "$monitor" & local presser=$!
    # shellcheck disable=SC2046
    timeout --foreground -k 5 "$seconds" qemu-system-aarch64 $(qv_machine "$gic" "$cpu" "${qv_memory:-2048}") \
        -nographic -no-reboot -monitor unix:"$monitor",server=on,wait=off \
        -drive if=none,id=pt0,format=raw,readonly=on,file.locking=off,file="$qv_disk" \
        -device virtio-blk-device,drive=pt0 -device virtio-rng-device -device virtio-rng-device "${console[@]}" \
        -kernel "$kernel" -initrd "$initramfs" -dtb "$dtb" </dev/null >>"$log" 2>&1 || status=$?
    kill "$presser" 2>/dev/null; wait "$presser" 2>/dev/null || true
    return $status
}

# With qv_host_console=hvc0: types TEXT and a newline into the PL011 (QEMU's
# serial, the socket $work/uart.sock) once $work/uart-serial.log shows
# MARKER; reads and drops what the socket sends meanwhile. Ends after typing
# or after SECONDS. Run it in the background before qv_boot.
qv_uart_typer() { # marker text seconds
    python3 - "$work/uart.sock" "$work/uart-serial.log" "$1" "$2" "$3" <<'TYPER' 2>/dev/null || qv_log "could not type into $work/uart.sock"
import os, socket, sys, time
path, log, marker, text, seconds = sys.argv[1], sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode(), float(sys.argv[5])
end = time.time() + seconds
s = None
while time.time() < end and s is None:
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(path)
    except OSError:
        s = None; time.sleep(0.5)
if s is None:
    sys.exit(1)
s.setblocking(False)
while time.time() < end:
    try:
        while s.recv(4096): pass
    except BlockingIOError:
        pass
    if os.path.exists(log) and marker in open(log, "rb").read():
        time.sleep(0.5)
        s.sendall(text + b"\n")
        time.sleep(1)
        sys.exit(0)
    time.sleep(0.2)
sys.exit(1)
TYPER
}

# Presses QEMU virt's power key (gpio-keys on PL061 line 3, through the
# monitor's system_powerdown) once for each CLEAVE-PRESS-KEY line the board
# prints (Tests/QEMUVirt/board/cleave-pt-run: the guest waits for it), until killed.
qv_key_presser() { # log monitor-socket
    local pressed=0 ready
    while sleep 0.2; do
        ready=$(grep -ac "CLEAVE-PRESS-KEY" "$1" || true)
        while [[ $pressed -lt $ready ]]; do
            python3 - "$2" <<'PY' 2>/dev/null || qv_log "could not press the power key through $2"
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
s.sendall(b"system_powerdown\n")
time.sleep(0.2)
s.close()
PY
            pressed=$((pressed + 1))
        done
    done
}

# The output of board run RUN (cleave-pt-run's CLEAVE-PT-BEGIN/END lines) from
# LOG into OUT. Serial lines may end in \r; an empty block must fail the checks
# that read it, not abort the run.
qv_block() { # log run out
    sed -n "/CLEAVE-PT-BEGIN $2\r\?\$/,/CLEAVE-PT-END $2\r\?\$/p" "$1" | tr -d '\r' >"$3" || true
}

# The checks of one passthrough run whose output is BLOCK (the CLEAVE-PT-BEGIN/END
# block of run RUN), in LOG: every device taken with a backend that delivers its
# interrupts (or, with METHOD, with that method), the RTC alarm, the GPIO line and
# its interrupt, the disk, the second transport, exit 0 and the host restored.
qv_passthrough_checks() { # prefix log run block [method]
    local prefix=$1 log=$2 run=$3 block=$4 method=${5:-} methods rtc before after line n
    qv_block "$log" "$run" "$block"
    methods=$({ grep -ao "event=passthrough device=[^ ]* method=[a-z]*" "$block" || true; } | sed 's/.*device=//; s/ method=/=/' | tr '\n' ' ')
    n=$(grep -ac "event=passthrough device=" "$block" || true)
    if [[ -n "$method" ]]; then
        check "$prefix: every device taken with $method" \
            $([[ $n -gt 0 && $(grep -ac "event=passthrough device=.* method=$method " "$block") -eq $n ]]; echo $?) "${methods% }" "$block"
    else
        # A device with SPIs needs an interrupt method that delivers them
        # (forward, irqfd, uio: intids=34/level/forward); none only without.
        check "$prefix: every device taken, each device with SPIs by a method that delivers them" \
            $([[ $n -gt 0 ]] && ! grep -a "event=passthrough device=" "$block" | grep -v "intids=- *$" | grep -aq "/none"; echo $?) "${methods% }" "$block"
    fi
    rtc=$(grep -a -m1 "CLEAVE-PT-RTC" "$block" || true)
    before=$(grep -ao "before=[0-9]*" <<<"$rtc" | cut -d= -f2 || true); after=$(grep -ao "after=[0-9]*" <<<"$rtc" | cut -d= -f2 || true)
    check "$prefix: PL031 read by the guest and its alarm (level SPI 34) arrives 3 times" \
        $([[ "$rtc" == *"time="[0-9]* && -n "$before" && -n "$after" && $((after - before)) -ge 3 ]]; echo $?) "${rtc#*CLEAVE-PT-RTC }" "$block"
    check "$prefix: PL061 line driven high and low and read back by the guest" \
        $(grep -aq "CLEAVE-PT-GPIO .*high=1 low=0" "$block"; echo $?) "" "$block"
    line=$(grep -a -m1 "CLEAVE-PT-GPIO-IRQ " "$block" || true)
    before=$(grep -ao "before=[0-9]*" <<<"$line" | cut -d= -f2 || true); after=$(grep -ao "after=[0-9]*" <<<"$line" | cut -d= -f2 || true)
    check "$prefix: PL061 interrupt (SPI 39): the power key pressed on QEMU's side reaches the guest's GPIO line" \
        $([[ -n "$before" && -n "$after" && $after -gt $before ]]; echo $?) "${line#*CLEAVE-PT-GPIO-IRQ }" "$block"
    check "$prefix: virtio-blk on a passed-through transport reads the harness's file (DMA via the identity map)" \
        $(grep -aq "CLEAVE-PT-DISK CLEAVE-DISK-CONTENT written-by-the-harness" "$block"; echo $?) "" "$block"
    line=$(grep -a -m1 "CLEAVE-PT-RNG " "$block" || true)
    before=$(grep -ao "irqs_before=[0-9]*" <<<"$line" | cut -d= -f2 || true); after=$(grep -ao "irqs_after=[0-9]*" <<<"$line" | cut -d= -f2 || true)
    check "$prefix: second virtio transport (virtio-rng) gives the guest 64 random bytes by its interrupt" \
        $([[ "$line" == *"bytes=64 "* && -n "$before" && -n "$after" && $after -gt $before ]]; echo $?) "${line#*CLEAVE-PT-RNG }" "$block"
    check "$prefix: guest exits 0 and the host is restored" \
        $(grep -aq "CLEAVE-STATUS $run 0" "$log" && grep -aq "event=host-restored problems=0" "$block"; echo $?) "" "$block"
}

# After the runs: no device holds a driver or driver_override the supervisor
# left, and no host state file is left (cleave-host-after's lines in LOG).
qv_host_restored_check() { # name log
    check "$1" $(grep -aq "CLEAVE-PT-AFTER 9010000.pl031" "$2" && ! grep -a "CLEAVE-PT-AFTER .*driver=[a-z]" "$2" | grep -q . &&
        ! grep -a "CLEAVE-PT-AFTER .*override=[a-z]" "$2" | grep -v "override=(null)" | grep -q . &&
        grep -aq "CLEAVE-PT-AFTER state-file=0" "$2"; echo $?) "" "$2"
}

# cleave-forward's checks (Tests/QEMUVirt/board/cleave-forward-run's CLEAVE-FWD-
# lines in LOG): each refusal with its errno and its dmesg line, the PL031's
# level SPI and an edge SPI through the forwarded path, the active state the
# guest holds and its EOI clears, SIGKILL while it is held, a second forwarding
# after it, the module's unload.
qv_forward_checks() { # prefix log
    local prefix=$1 log=$2 line c errno why phase trigger path
    line=$(grep -a -m1 "CLEAVE-FWD-MODULE" "$log" || true)
    check "$prefix: cleave-forward loads (kallsyms through a kprobe; the kernel tainted)" \
        $([[ "$line" == *"loaded tainted="[1-9]* ]]; echo $?) "${line#*CLEAVE-FWD-MODULE }" "$log"
    # case errno dmesg-text
    while read -r c errno why; do
        line=$(grep -a -m1 "CLEAVE-FWD-REFUSE case=$c " "$log" || true)
        check "$prefix: refused: $c ($errno, dmesg: \"$why\")" \
            $([[ "$line" == *"errno=$errno"* ]] && grep -a "CLEAVE-FWD-DMESG .*refused:" "$log" | grep -aq "$why"; echo $?) \
            "${line#*CLEAVE-FWD-REFUSE }" "$log"
    done <<'CASES'
closed-fd EBADF fd 999 is not open
not-a-vm EINVAL is not a KVM VM
ppi ERANGE INTID 27 is not an SPI
beyond-1019 ERANGE INTID 1020 is not an SPI
beyond-the-vgic ERANGE INTID 79 is beyond the VM's vGIC
no-vcpu ENOENT the VM has no vCPU 7
cpu-offline EXDEV host CPU 7 is not online
host-driver EBUSY INTID 33 (IRQ [0-9]*) is already requested
no-host-mapping ENXIO INTID 200 has no Linux IRQ
vgic-not-initialised ENODEV vGIC is not initialised
already-forwarded EBUSY INTID 34 (IRQ [0-9]*) is already requested
vfio-opened-first EBUSY an open VFIO device
vcpu-thread-elsewhere EXDEV thread is pinned elsewhere
CASES
    line=$(grep -a -m1 "CLEAVE-FWD-ACCEPT case=vcpu-thread-pinned" "$log" || true)
    check "$prefix: accepted once the vCPU's thread is pinned to the IRQ's CPU" \
        $([[ "$line" == *"errno=0 vcpu_thread_cpu=1"* ]]; echo $?) "${line#*CLEAVE-FWD-ACCEPT }" "$log"
    phase=$(grep -a -m1 "CLEAVE-FWD-PHASE" "$log" || true)
    check "$prefix: PL031 alarm (level SPI 34) 3/3 through the forwarded path: host /proc/interrupts +3, no exit to userspace" \
        $(grep -aq "CLEAVE-FWD-RUN .*intid=34 .*trigger=level cpu=1 .*forwarded=1" "$log" &&
          [[ "$phase" == *"interrupts=3 host_irqs=3 handled=3 user_exits=0"* ]]; echo $?) "${phase#*PHASE }" "$log"
    # The killed guest left the PL031 asserting: the host takes that line as
    # soon as the IRQ is enabled again, before the guest's START mark, and it
    # is the guest's first of its 3 interrupts.
    phase=$(grep -a -m1 "CLEAVE-FWD-AGAIN-PHASE" "$log" || true)
    check "$prefix: after the SIGKILL, SPI 34 forwarded again: the line the killed guest left asserted, then 2 alarms, 3/3, no exit to userspace" \
        $(grep -aq "CLEAVE-FWD-AGAIN-RUN .*intid=34 .*trigger=level cpu=1 .*forwarded=1" "$log" &&
          [[ "$phase" == *"interrupts=3 host_irqs=2 handled=3 user_exits=0"* ]]; echo $?) "${phase#*PHASE }" "$log"
    for run in "" EDGE-; do
        local what="PL031 (level SPI 34)"
        [[ -n "$run" ]] && what="edge SPI 48 (idle virtio-mmio transport, made pending by the host)"
        line=$(grep -a -m1 "CLEAVE-FWD-${run}HELD" "$log" || true)
        check "$prefix: $what: the guest holds it acknowledged, the host reads ACTIVE=1" \
            $([[ "$line" == *"active=1"* ]]; echo $?) "${line#*HELD }" "$log"
        line=$(grep -a -m1 "CLEAVE-FWD-${run}EOIED" "$log" || true)
        check "$prefix: $what: the guest's EOI deactivates it (ACTIVE=0) with no host handler run in between" \
            $([[ "$line" == *"handled_since_held=0 "*"active=0"* ]]; echo $?) "${line#*EOIED }" "$log"
        line=$(grep -a -m1 "CLEAVE-FWD-${run}AFTER" "$log" || true)
        # The carved host's bootargs say irqaffinity=0: CPU 0 is where the IRQ was.
        check "$prefix: $what: closing the forwarding fd leaves no handler, no forwarded flag, not active, the IRQ back on CPU 0" \
            $([[ "$line" == *"cpu=0 requested=0 forwarded=0 active=0"* ]] && grep -aq "CLEAVE-FWD-${run}STATUS .*off_cpu=0 vcpu_thread_cpu=1 " "$log"; echo $?) \
            "$(grep -a -m1 "CLEAVE-FWD-${run}STATUS" "$log" | sed 's/.*STATUS //' | cut -d' ' -f1-3)" "$log"
    done
    phase=$(grep -a -m1 "CLEAVE-FWD-EDGE-PHASE" "$log" || true)
    check "$prefix: edge SPI 48 3/3 through the forwarded path" \
        $(grep -aq "CLEAVE-FWD-EDGE-RUN .*intid=48 .*trigger=edge .*forwarded=1" "$log" && [[ "$phase" == *"interrupts=3 host_irqs=3 handled=3 "* ]]; echo $?) \
        "${phase#*PHASE }" "$log"
    check "$prefix: SIGKILL while the guest holds SPI 34: held before (requested, forwarded, active), nothing left after" \
        $(grep -aq "CLEAVE-FWD-KILL-BEFORE .*requested=1 forwarded=1 active=1" "$log" && grep -aq "CLEAVE-FWD-KILLED status=137" "$log" &&
          grep -aq "CLEAVE-FWD-KILL-AFTER .*requested=0 forwarded=0 active=0" "$log"; echo $?) \
        "$(grep -a -m1 "CLEAVE-FWD-KILL-AFTER" "$log" | grep -o "requested.*")" "$log"
    line=$(grep -a -m1 "CLEAVE-FWD-VFIO-VFIO " "$log" || true)
    phase=$(grep -a -m1 "CLEAVE-FWD-VFIO-PHASE" "$log" || true)
    check "$prefix: SPI 34 forwarded, the PL031's page from its VFIO device opened after: 3/3, held, EOIed; VFIO's own trigger refused (EBUSY); the device given back" \
        $([[ "$line" == *"opened=1 "*"set_irqs=EBUSY"* && "$phase" == *"interrupts=3 host_irqs=3 handled=3 user_exits=0"* ]] &&
          grep -aq "CLEAVE-FWD-VFIO-EOIED .*handled_since_held=0 .*active=0" "$log" &&
          grep -aq "CLEAVE-FWD-VFIO-AFTER .*requested=0 forwarded=0 active=0" "$log" &&
          grep -aqE "CLEAVE-FWD-VFIO-RESTORED driver= override=(\(null\))?$" "$log"; echo $?) "${line#*VFIO-VFIO }; ${phase#*PHASE }" "$log"
    # The benchmark: only that every path took all its interrupts is checked;
    # the numbers are printed.
    while read -r c trigger path; do
        line=$(grep -a -m1 "CLEAVE-FWD-BENCH path=$path intid=$c " "$log" || true)
        check "$prefix: benchmark: $trigger SPI $c raised 60 times at the host GIC, 60/60 through the $path path" \
            $([[ "$line" == *"interrupts=60/60 latency_us"*"status=0" ]]; echo $?) "" "$log"
        echo "bench $prefix: SPI latency and host work per interrupt, $trigger SPI $c, $path: ${line#*cpu=1 }"
    done <<'PATHS'
48 edge forward
48 edge irqfd
48 edge uio
34 level forward
34 level irqfd
34 level uio
PATHS
    check "$prefix: cleave-forward unloads after its forwardings are closed" $(grep -aq "CLEAVE-FWD-UNLOADED" "$log"; echo $?) "" "$log"
}

# The refusal of a host GIC not in split EOI/Deactivate mode (a boot whose
# GICv2 CPU interface window is 4 KiB; cleave-forward-run not-split).
qv_forward_not_split_check() { # prefix log
    local line
    line=$(grep -a -m1 "CLEAVE-FWD-REFUSE case=not-split" "$2" || true)
    check "$1: refused: host GIC not in split EOI/Deactivate mode (EOPNOTSUPP, dmesg: \"not in split EOI\")" \
        $(! grep -aq "GIC: Using split EOI" "$2" && [[ "$line" == *"errno=EOPNOTSUPP"* ]] &&
          grep -a "CLEAVE-FWD-DMESG .*refused:" "$2" | grep -aq "not in split EOI"; echo $?) "${line#*CLEAVE-FWD-REFUSE }" "$2"
}
