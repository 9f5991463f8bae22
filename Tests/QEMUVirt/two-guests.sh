# Two guests at once under the partition service, started at board boot
# (issue 11), sourced by Tests/QEMUVirt/run after lib.sh: a board boot of
# its own whose -dtb is the carved host tree of Boards/qemu-virt-two-guests
# (plan variant "two": ctl panics at QEMU's power key, io beats), so the
# board kernel's command line is the carve's (CPUs 2-3 isolated: isolcpus,
# nohz_full, rcu_nocbs, irqaffinity=0-1), with -smp 4, and whose init is
# busybox init with the shipped Init/inittab (qv_busybox_init): its respawn
# line starts `cleave-boot start` from the live /chosen/cleave. The board's
# bootargs also carry NOTIFY_SOCKET=..., which the kernel passes to init as
# an environment variable and init to the service, and a sysinit line
# starts the harness's notify listener there (cleave-two-board setup).
# Tests/QEMUVirt/board/cleave-two-board runs the proofs; a plan variant
# "twochaos" (the chaos guest on CPUs 1-2 beside io) is the last of them.
#
#   two_guests_run VARIANT [MODE]   after qv_variant VARIANT; adds its checks
#       MODE full (default) | at-boot: only what the start at board boot
#       shows (both running, status, READY=1, the isolation of CPUs 2-3
#       while io beats, SIGTERM), for a variant whose main boot runs the
#       fault proofs (Tests/QEMUVirt/board/cleave-two-run)

two_guests_tests='
echo "CLEAVE-HOST up=$(cut -d" " -f1 /proc/uptime) kernel=$(uname -r) init=$(tr "\000" " " </proc/1/cmdline)"
dmesg | grep -E "GIC: Using split EOI|kvm \[[0-9]+\]: .*mode initialized|Unknown kernel command line" | sed "s/^/CLEAVE-DMESG /"
timeout -s KILL 720 cleave-two-board
echo "CLEAVE-HOST done"
poweroff
'

# The fast restarts of Tests/QEMUVirt/board/cleave-two-lib rekill_rounds
# (docs/kernel-facts.md §34): the service and both VMMs killed with SIGKILL
# and a new service started at once, N rounds, io's VMM in the last one
# killed with SIGABRT and dumping core into a pipe helper for 3 s. Every
# round both guests must run again in new VMMs with their devices and no
# setup error; a new VMM that waited must have waited for the killed VMM of
# its guest, and the new io VMM of the last round must have waited. How
# many of the other starts waited is printed, not required: the window is
# a race they mostly lose here (§34).
two_rekill_check() { # variant two-log rounds
    local variant=$1 two=$2 n=$3 line devs first after waited
    line=$(grep -a -m1 "^CLEAVE-TWO rekill " "$two" || true)
    # Each device's method and its SPIs' methods: as the first start had them, and after the rounds.
    methods() { awk -v tag="CLEAVE-TWO-$1" '$1 == tag && $2 == "guest" { g = $3 } $1 == tag && $2 == "device" { print g, $3, $4, $5 }' "$two" | sort | tr '\n' ' '; }
    first=$(methods STATUS); after=$(methods REKILLED)
    devs=$(grep -ac "^CLEAVE-TWO-REKILLED   device .* method=[a-z]* intids=[0-9]*/[a-z]*/[a-z]* " "$two" || true)
    waited=$(grep -ao " waited=[0-9]*" <<<"$line" | cut -d= -f2 || true)
    check "$variant: two guests: $n fast restarts (the service and both VMMs killed with SIGKILL at once, a new service started at once, no wait for the killed VMMs): every round both guests run again in new VMMs, no setup error; after the last both have their four devices with the methods of the first start (no forwarded SPI fallen back to irqfd); a VMM that waited waited for the killed VMM of its guest, and in the last round (io dumping core for 3 s) the new io VMM waited for it" \
        $([[ "$line" == *" rounds=$n running=$n "* && "$line" == *" waited_for_the_killed_vmm=$waited setup_errors=0 dump_round_io_waited=yes"* && $devs -eq 4 && -n "$first" && "$after" == "$first" ]]; echo $?) \
        "${waited:-?} of $(( 2 * n )) VMM starts waited for the killed VMM (the dump round: $(grep -ao "dump_round_io_waited=[a-z-]*" <<<"$line" | cut -d= -f2)) ($(grep -ao "old_vmms_not_done_at_start=[0-9]*" <<<"$line" | cut -d= -f2) of the killed VMMs not done right after the new start); waits (ms): $(grep -a "^CLEAVE-TWO-REKILL round=" "$two" | grep -ao "guest=[a-z]*:[0-9.]*" | sed 's/guest=//' | tr '\n' ' ')methods after: $after$([[ "$after" == "$first" ]] || echo " (first start: $first)") $(grep -a -m1 "^CLEAVE-TWO-REKILL-ERROR" "$two" | grep -ao "error=.*" | head -c 200)" "$two"
}

two_guests_run() { # variant [mode]
    local variant=$1 mode=${2:-full} board="$work/board-two-$1.dtb" log="$work/$1-twoboard.log" two="$work/$1-two.log" status=0 t0 t1
    local notify=/tmp/cleave-notify.sock
    # The plan variants: "two" as the main boots used it (both idle and
    # quiet, each console byte being an exit; ctl panics at the power key,
    # io beats); "twochaos": ctl's place taken by the chaos guest with two
    # vCPUs (CPUs 1 and 2: the host keeps CPU 0), 16 MiB, no devices,
    # restart always with no bound.
    sed -E -e '/^\t\tctl \{/,/^\t\t\};/ s|bootargs = "([^"]*)";|bootargs = "\1 quiet cleave.idle cleave.on-key-panic";|' \
        -e '/^\t\tio \{/,/^\t\t\};/ s|bootargs = "([^"]*)";|bootargs = "\1 quiet cleave.idle cleave.beat";|' \
        "$repo/Boards/qemu-virt-two-guests/plan.dts" >"$work/plan-two-board.dts"
    sed -E -e '/^\t\tctl \{/,/^\t\t\};/ { s|^\t\tctl \{|\t\tchaos {|; s|cpus = <2>;|cpus = <1 2>;|; s|memory-size = [^;]*;.*|memory-size = /bits/ 64 <0x1000000>;|;
                s|kernel = "[^"]*";|kernel = "/guest/chaos-guest.bin";|; /initrd =/d; /(rtc|gpio) \{ device/d;
                s|restart = "[^"]*";|restart = "always";|; s|max-restarts = <[0-9]*>;|max-restarts = <0>;|; }' \
        "$work/plan-two-board.dts" >"$work/plan-twochaos.dts"
    { qv_dump_board "$board" "$gic" "$cpu" "$qv_memory" &&
      fdtput -t s "$board" /chosen bootargs "NOTIFY_SOCKET=$notify" &&
      qv_carve two-board "$board" "$work/plan-two-board.dts" && qv_carve twochaos "$board" "$work/plan-twochaos.dts"; } >"$work/carve-two-board.out" 2>&1 || status=$?
    local bootargs
    bootargs=$(fdtget "$work/carve-two-board/host.dtb" /chosen bootargs 2>/dev/null || true)
    check "$variant: two-guest board: Boards/qemu-virt-two-guests (and its chaos variant) carved on the board's own -smp 4 tree; the host tree's command line isolates CPUs 2-3 and keeps the board's NOTIFY_SOCKET" \
        $([[ $status -eq 0 && " $bootargs " == *" isolcpus=managed_irq,domain,2-3 nohz_full=2-3 rcu_nocbs=2-3 irqaffinity=0-1 "* && " $bootargs " == *" NOTIFY_SOCKET=$notify "* ]] &&
          grep -aq "chaos': CPUs 1,2, 16 MiB" "$work/carve-twochaos/report.txt"; echo $?) "$bootargs" "$work/carve-two-board.out"
    [[ $status -eq 0 ]] || return 0
    cp "$work/carve-twochaos/host.dtb" "$work/host-twochaos.dtb"
    qv_extra="$work/host-twochaos.dtb" qv_busybox_init=1 qv_init_extra="::sysinit:/bin/cleave-two-board setup"
    qv_initramfs "$work/two-board-initramfs.gz" "${two_guests_tests/cleave-two-board/cleave-two-board $mode}"
    qv_extra="" qv_busybox_init=0 qv_init_extra=""
    t0=$(date +%s.%N)
    qv_boot "$log" "$work/carve-two-board/host.dtb" "$work/two-board-initramfs.gz" "$cpu" "$gic" "$boot_timeout" || status=$?
    t1=$(date +%s.%N)
    tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
    sed -n '/CLEAVE-TWO-BEGIN/,/CLEAVE-TWO-END/p' "$log" >"$two" || true
    local live
    live=$(grep -a -m1 "^CLEAVE-TWO-BOARD " "$two" | grep -ao "cmdline=.*" | cut -d= -f2- || true)
    check "$variant: two-guest board: boots with the carved two-guest host tree (its command line live in /proc/cmdline), busybox init as PID 1, and powers off" \
        $([[ $status -eq 0 && " $live " == *" isolcpus=managed_irq,domain,2-3 nohz_full=2-3 rcu_nocbs=2-3 irqaffinity=0-1 "* ]] && grep -aq "CLEAVE-HOST done" "$log" &&
          grep -aqE "^CLEAVE-HOST up=.* init=init +$" "$log"; echo $?) \
        "qemu status $status, $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s; cmdline ${live:-?}" "$log"
    [[ -s "$two" ]] || { check "$variant: two-guest board: the run printed its block" 1 "" "$log"; return 0; }

    # "guest path method intids" per device line of a status block.
    devices_of() { # block guest
        awk -v g="$2" -v tag="^CLEAVE-TWO-$1 " '$0 ~ tag "guest " { cur = $3 } $0 ~ tag "  device " && cur == g { print $3, $4, $5 }' "$two" | sort
    }
    pid_in() { grep -a "^CLEAVE-TWO-$1 guest $2 " "$two" | grep -ao " pid=[0-9-]*" | cut -d= -f2 || true; }
    # Each guest's RAM banks (its VMM's first ram event): "base+size" per bank.
    banks_of() { grep -a -m1 "guest=$1 event=ram " "$two" | grep -ao "banks=[^ ]*" | cut -d= -f2 | tr ',' ' ' || true; }
    local ctl_devs io_devs disjoint=1 a c total g ctl io spid line
    ctl_devs=$(devices_of STATUS ctl | awk '{print $1}' | tr '\n' ' '); io_devs=$(devices_of STATUS io | awk '{print $1}' | tr '\n' ' ')
    if [[ -n "$(banks_of ctl)" && -n "$(banks_of io)" ]]; then
        disjoint=0
        for a in $(banks_of ctl); do for c in $(banks_of io); do
            (( ${a%+*} + ${a#*+} <= ${c%+*} || ${c%+*} + ${c#*+} <= ${a%+*} )) || disjoint=1
        done; done
        for g in ctl io; do total=0; for a in $(banks_of $g); do total=$(( total + ${a#*+} )); done; (( total == 0x8000000 )) || disjoint=1; done
    fi
    ctl=$(pid_in STATUS ctl); io=$(pid_in STATUS io)
    spid=$(grep -a -m1 "^CLEAVE-TWO-SERVICE " "$two" | grep -ao " pid=[0-9]*" | cut -d= -f2 || true)
    line=$(grep -a -m1 "^CLEAVE-TWO-SERVICE " "$two" || true)
    check "$variant: two guests at board boot: init started the service (its child, from the respawn line: start with no --tree) on the live tree (/sys/firmware/fdt), with the notify socket in its environment" \
        $([[ -n "$spid" && "$line" == *" ppid=1 cmdline=/usr/sbin/cleave-boot start notify_env=1"* ]] &&
          grep -aq "CLEAVE-TWO-LOG .*guest=service event=start pid=$spid tree=/sys/firmware/fdt guests=ctl,io notify=true" "$two"; echo $?) \
        "${line#CLEAVE-TWO-SERVICE }" "$two"
    check "$variant: two guests at board boot: status shows each running in its own VMM with its CPU (ctl 2, io 3), 128 MiB of RAM (disjoint) and its own devices, each by a method that delivers its SPIs" \
        $(grep -aq "CLEAVE-TWO running rc=0" "$two" &&
          grep -aqE "^CLEAVE-TWO-STATUS guest ctl state=running pid=[0-9]+ cpus=2 ram=0x[0-9a-f]+\+0x8000000 " "$two" &&
          grep -aqE "^CLEAVE-TWO-STATUS guest io state=running pid=[0-9]+ cpus=3 ram=0x[0-9a-f]+\+0x8000000 " "$two" &&
          [[ -n "$ctl" && -n "$io" && "$ctl" != "$io" && $disjoint -eq 0 ]] &&
          [[ "$ctl_devs" == "/pl031@9010000 /pl061@9030000 " && "$io_devs" == "/virtio_mmio@a003c00 /virtio_mmio@a003e00 " ]] &&
          [[ $(devices_of STATUS ctl | grep -acE "method=(vfio|uio|devmem) intids=[0-9]+/level/(forward|irqfd|uio)") -eq 2 ]] &&
          [[ $(devices_of STATUS io | grep -acE "method=(vfio|uio|devmem) intids=[0-9]+/edge/(forward|irqfd|uio)") -eq 2 ]]; echo $?) \
        "ctl pid ${ctl:-?} RAM banks $(banks_of ctl): ${ctl_devs}; io pid ${io:-?} RAM banks $(banks_of io): ${io_devs}" "$two"
    check "$variant: two guests at board boot: status --json is valid JSON with both guests running, CPUs [2] and [3], two devices each" \
        $(grep -a "^CLEAVE-TWO-JSON " "$two" | sed 's/^CLEAVE-TWO-JSON //' | python3 -c '
import json, sys
g = {x["name"]: x for x in json.load(sys.stdin)["guests"]}
ok = sorted(g) == ["ctl", "io"] and all(x["state"] == "running" and isinstance(x["pid"], int) and len(x["devices"]) == 2 for x in g.values()) \
    and g["ctl"]["cpus"] == [2] and g["io"]["cpus"] == [3] and g["ctl"]["pid"] != g["io"]["pid"]
sys.exit(0 if ok else 1)' >/dev/null 2>&1; echo $?) "" "$two"

    # ---- Isolation of CPUs 2-3, live ----
    line=$(grep -a -m1 "^CLEAVE-TWO-ISOLATED " "$two" || true)
    check "$variant: two guests: the live kernel isolates CPUs 2-3 (/sys/devices/system/cpu/isolated and nohz_full say 2-3) and init runs on the housekeeping CPUs 0-1" \
        $([[ "$line" == *"isolated=2-3 nohz_full=2-3 online=0-3 init_allowed=0-1" ]]; echo $?) "${line#CLEAVE-TWO-ISOLATED }" "$two"
    # Each VMM's threads (tid:allowed:last CPU:run ns/timeslices): exactly
    # one allowed only its guest's CPU, last run there, having run; every
    # other thread on the host's CPUs 0-1.
    vcpu_ok() { # guest cpu
        local threads t n=0 rest=0 allowed last run
        threads=$(grep -a -m1 "^CLEAVE-TWO-VCPU $1 " "$two" | cut -d' ' -f4- || true)
        for t in $threads; do
            IFS=: read -r _ allowed last run <<<"$t"
            if [[ "$allowed" == "$2" ]]; then
                [[ "$last" == "$2" && "${run%%/*}" =~ ^[0-9]+$ && ${run%%/*} -gt 0 ]] && n=$((n + 1)) || rest=1
            elif [[ "$allowed" != "0-1" ]]; then rest=1; fi
        done
        [[ $n -eq 1 && $rest -eq 0 ]]
    }
    check "$variant: two guests: each VMM's vCPU thread is allowed only its guest's CPU and ran there (Cpus_allowed_list, the processor field of its stat, its schedstat run time; ctl 2, io 3; first instruction there), the VMMs' other threads only on CPUs 0-1" \
        $(vcpu_ok ctl 2 && vcpu_ok io 3 && grep -aq "CLEAVE-TWO-LOG .*guest=ctl event=first-run vcpu=0 cpu=2 " "$two" &&
          grep -aq "CLEAVE-TWO-LOG .*guest=io event=first-run vcpu=0 cpu=3 " "$two"; echo $?) \
        "$(grep -a "^CLEAVE-TWO-VCPU " "$two" | cut -d' ' -f2- | tr '\n' ';')" "$two"
    # Host IRQs with a handler: SPIs (INTID 32 and up) and MSIs have their
    # effective affinity on CPUs 0-1, but the guests' own SPIs, steered to
    # their guest's CPU (34, 39 to 2; 78, 79 to 3); per-CPU PPIs/SGIs aside.
    # /proc/interrupts over the trace window: none of those host IRQs
    # counted on CPU 2 or 3.
    read -r irq_ok irq_text < <(python3 - "$two" <<'IRQS'
import re, sys
text = open(sys.argv[1], errors="replace").read()
guest = {34: "2", 39: "2", 78: "3", 79: "3"}
bad, host, steered = [], 0, 0
for m in re.finditer(r"^CLEAVE-TWO-IRQ irq=(\d+) hwirq=(\d*) chip=(\S*) effective=(\S*) action=(\S*)", text, re.M):
    irq, hwirq, chip, eff, action = m.groups()
    if chip.startswith("GIC") and hwirq and int(hwirq) < 32:
        continue
    if not hwirq or not eff:
        bad.append("irq %s: no hwirq or affinity" % irq); continue
    hw = int(hwirq)
    if chip.startswith("GIC") and hw in guest:
        steered += 1
        if eff != guest[hw]: bad.append("guest INTID %d on %s" % (hw, eff))
        continue
    host += 1
    cpus = set()
    for part in eff.split(","):
        a, _, b = part.partition("-"); cpus |= set(range(int(a), int(b or a) + 1))
    if cpus - {0, 1}: bad.append("%s (%s %d) on %s" % (action, chip, hw, eff))
def table(tag):
    rows = {}
    for m in re.finditer(r"^CLEAVE-TWO-IRQS-%s +(\S+):((?: +\d+){4}) +(\S+) +(\d+)?" % tag, text, re.M):
        name, counts, chip, hw = m.group(1), [int(x) for x in m.group(2).split()], m.group(3), m.group(4)
        rows[name] = (counts, chip, int(hw) if hw else None)
    return rows
a, b = table("A"), table("B")
counted = []
for name, (counts, chip, hw) in b.items():
    if not name.isdigit() or name not in a: continue
    if chip.startswith("GIC") and (hw is None or hw < 32 or hw in guest): continue
    d = [x - y for x, y in zip(counts, a[name][0])]
    if d[2] or d[3]: counted.append("%s %s %s: +%d on CPU 2, +%d on CPU 3" % (name, chip, hw, d[2], d[3]))
ok = not bad and not counted and host > 0 and steered == 4 and len(a) > 0 and len(b) > 0
print(0 if ok else 1, "%d host IRQs all on CPUs 0-1, 4 guest SPIs steered to their CPUs; %s" % (host, "; ".join(bad + counted) or "no host IRQ counted on CPUs 2-3 in the window"))
IRQS
) || true
    check "$variant: two guests: host IRQs keep off CPUs 2-3 (effective affinity of every host SPI and MSI with a handler within 0-1, none counted on CPU 2 or 3 in /proc/interrupts over the window), the guests' own SPIs steered to their guest's CPU" \
        "${irq_ok:-1}" "${irq_text:-no IRQ lines}" "$two"
    # The sched_switch trace of CPUs 2-3 from both running until after ctl's
    # panic and reboot: what was switched in there.
    local switched users ctl_on io_on events overrun
    switched=$(grep -a "^CLEAVE-TWO-SWITCHED " "$two" || true)
    users=$(grep -aE " kind=(user|gone) " <<<"$switched" | cut -d' ' -f2- | tr '\n' ';' || true)
    ctl_on=$(grep -a " kind=vcpu " <<<"$switched" | grep -ao "cpu=[0-9]* pid=[0-9]* kind=vcpu count=[0-9]* comm=[^ ]*" | sort || true)
    events=$(grep -a "^CLEAVE-TWO-TRACE events=" "$two" | cut -d= -f2 || true)
    overrun=$(grep -a "^CLEAVE-TWO-TRACE stop " "$two" | grep -ao "overrun=[0-9,]*" | cut -d= -f2 || true)
    # Every vCPU thread seen on CPU 2 belongs to ctl, on CPU 3 to io (the tids
    # noted from each VMM's threads before and after the panic).
    local vctl vio
    vctl=$(grep -a -m1 "^CLEAVE-TWO-VCPU ctl " "$two" | tr ' ' '\n' | awk -F: '$2 == "2" { print $1; exit }' || true)
    vio=$(grep -a -m1 "^CLEAVE-TWO-VCPU io " "$two" | tr ' ' '\n' | awk -F: '$2 == "3" { print $1; exit }' || true)
    local window="the panic window" csum=""
    [[ $mode == full ]] || window="4 s of io's heartbeat ($(grep -a -m1 "^CLEAVE-TWO window " "$two" | cut -d' ' -f3))"
    check "$variant: two guests: a sched_switch trace of CPUs 2-3 over $window shows only the vCPU threads (ctl's on CPU 2, io's on CPU 3), idle and kernel threads switched in there: no host userspace task ran on them (no ring buffer overrun)" \
        $([[ -n "$events" && $events -gt 0 && -z "$users" && "$overrun" == "0,0," && -n "$vctl" && -n "$vio" ]] &&
          grep -aqE "^CLEAVE-TWO-SWITCHED cpu=2 pid=$vctl kind=vcpu count=[1-9]" "$two" && grep -aqE "^CLEAVE-TWO-SWITCHED cpu=3 pid=$vio kind=vcpu count=[1-9]" "$two" &&
          ! grep -aE "^CLEAVE-TWO-SWITCHED cpu=3 .* kind=vcpu " "$two" | grep -aq " pid=$vctl " && ! grep -aE "^CLEAVE-TWO-SWITCHED cpu=2 .* kind=vcpu " "$two" | grep -aq " pid=$vio "; echo $?) \
        "${events:-?} switches, overrun ${overrun:-?}; vCPU: $(echo $ctl_on); kernel threads: $(grep -a " kind=kernel " <<<"$switched" | grep -ao "comm=[^ ]*" | cut -d= -f2 | sort -u | tr '\n' ' ')${users:+; other: $users}" "$two"
    check "$variant: two guests: no live host userspace thread but the vCPU threads may run on CPUs 2-3 or last ran there (Cpus_allowed_list and the processor field of every /proc/*/task/*/stat)" \
        $([[ $(grep -a "^CLEAVE-TWO-USERTASKS scanned=" "$two" | cut -d= -f2) -ge 6 ]] && ! grep -aq "^CLEAVE-TWO-USERTASK " "$two"; echo $?) \
        "$(grep -a "^CLEAVE-TWO-USERTASKS " "$two" | cut -d' ' -f2-)$(grep -a "^CLEAVE-TWO-USERTASK " "$two" | cut -d' ' -f2- | head -n3 | tr '\n' ';')" "$two"

    # ---- The service's proofs ----
    local ready starts=6 which="at boot, init's respawn after the SIGKILL and after each of the 3 fast restarts, the chaos variant"
    [[ $mode == full ]] || { starts=1; which="at boot, the only start"; }
    ready=$(grep -a "^CLEAVE-TWO-NOTIFY [0-9.]* READY=1$" "$two" | head -n1 | cut -d' ' -f2 || true)
    check "$variant: two guests: READY=1 on the harness's notify socket once per service start ($starts: $which), the first with STATUS=ctl running, io running" \
        $([[ -n "$ready" && $(grep -ac "^CLEAVE-TWO-NOTIFY [0-9.]* READY=1$" "$two") -eq $starts ]] && grep -aq "^CLEAVE-TWO-NOTIFY $ready STATUS=ctl running, io running$" "$two"; echo $?) \
        "READY=1 at ${ready:-?} s after the listener started (a sysinit line just before init starts the service)" "$two"
    local beats b0 b1 b2 b3 summary
    summary=$(grep -a -m1 "^CLEAVE-TWO-BEATS " "$two" | cut -d' ' -f2- || true)
    # The host before the first start and after the SIGTERM (host_line).
    host() { grep -a -m1 "^CLEAVE-TWO-HOST $1 " "$two" | cut -d' ' -f3- || true; }
    hv() { grep -ao "$2=[^ ]*" <<<"$1" | head -n1 | cut -d= -f2- || true; }
    local pre running killed_state recovered final d ok_kill=0 ok_final=0 n spid2
    pre=$(host pre); running=$(host before-kill); killed_state=$(host after-kill); recovered=$(host recovered); final=$(host final)
    for d in 9010000.pl031 9030000.pl061 a003e00.virtio_mmio a003c00.virtio_mmio; do
        # Bound to VFIO while running and after the kill (left for the next start); nothing after the stop.
        [[ "$(hv "$running" $d)" == vfio* && "$(hv "$killed_state" $d)" == vfio* && "$(hv "$recovered" $d)" == vfio* ]] || ok_kill=1
        [[ "$(hv "$pre" $d)" =~ ^/(\(null\))?$ && "$(hv "$final" $d)" =~ ^/(\(null\))?$ ]] || ok_final=1
    done
    for n in 34 39 78 79; do
        # The kernel closes each forwarding with the killed VMM's fd; the affinity is the host's again at the end.
        [[ "$(hv "$killed_state" spi$n)" != *"forwarded=1"* ]] || ok_kill=1
        # Before the first start the SPI may have no Linux IRQ yet (no affinity to read).
        [[ "$(hv "$final" spi$n)" != *"forwarded=1"* && "$(hv "$final" spi$n | cut -d/ -f1)" == 0-1 ]] || ok_final=1
        [[ "$(hv "$pre" spi$n | cut -d/ -f1)" =~ ^(0-1)?$ ]] || ok_final=1
    done
    if [[ $mode != full ]]; then
        line=$(grep -a -m1 "^CLEAVE-TWO window " "$two" || true)
        IFS=, read -r b0 b1 <<<"$(grep -ao "beats=[0-9,]*" <<<"$line" | cut -d= -f2)"
        check "$variant: two guests: io's console heartbeat runs on with no gap while both run (counter +1 each line, rising over 4 s)" \
            $([[ -n "$b1" && -n "$b0" && $b0 -lt $b1 ]] && [[ "$summary" =~ ^first=1\ last=([0-9]+)\ count=([0-9]+)\ bad_steps=0\  && "${BASH_REMATCH[1]}" == "${BASH_REMATCH[2]}" && ${BASH_REMATCH[1]} -ge $b1 ]]; echo $?) \
            "beats at the window's start and end: ${b0:-?},${b1:-?}; $summary" "$two"
    else
    line=$(grep -a -m1 "^CLEAVE-TWO panic " "$two" || true)
    beats=$(grep -ao "beats=[0-9,]*" <<<"$line" | cut -d= -f2 || true)
    IFS=, read -r b0 b1 b2 b3 <<<"$beats"
    check "$variant: two guests: ctl panics at the power key (its PL061) and its policy boots it again in the same VMM (pvpanic, restart, boots 1 -> 2); io keeps its VMM" \
        $(grep -aq "CLEAVE-TWO armed rc=0" "$two" && [[ "$line" == *"panicked=0 running-again=0 panics-before=0 boots=1-2 "* ]] &&
          [[ "$line" =~ ctl=([0-9]+)-([0-9]+)\ io=([0-9]+)-([0-9]+) && "${BASH_REMATCH[1]}" == "${BASH_REMATCH[2]}" && "${BASH_REMATCH[3]}" == "${BASH_REMATCH[4]}" ]] &&
          grep -aq "CLEAVE-TWO-LOG .*guest=ctl event=guest-panic vcpu=0 pvpanic=panicked" "$two" && grep -aq "CLEAVE-TWO-LOG .*guest=ctl event=restart after=\"crashed" "$two" &&
          ! grep -aq "CLEAVE-TWO-LOG .*guest=io event=\(restart\|guest-panic\)" "$two" &&
          grep -aqE "^CLEAVE-TWO-PANIC guest io state=running pid=$io .*boots=1 " "$two"; echo $?) "${line#*CLEAVE-TWO panic }" "$two"
    check "$variant: two guests: io's console heartbeat goes on across ctl's panic and reboot with no gap (counter +1 each line, rising at the press, the panic, ctl running again and 3 s later)" \
        $([[ -n "$b3" && $b0 -lt $b1 && $b1 -lt $b2 && $b2 -lt $b3 ]] && [[ "$summary" =~ ^first=1\ last=([0-9]+)\ count=([0-9]+)\ bad_steps=0\  && "${BASH_REMATCH[1]}" == "${BASH_REMATCH[2]}" && ${BASH_REMATCH[1]} -ge $b3 ]]; echo $?) \
        "beats at the press/panic/running again/+3 s: ${beats:-?}; $summary" "$two"
    local io2
    io2=$(grep -a "CLEAVE-TWO restarted" "$two" | grep -ao " io=[0-9]*" | cut -d= -f2 || true)
    check "$variant: two guests: stop io ends its VMM while ctl runs on (same pid); restart io starts it again (a new VMM), ctl untouched" \
        $(grep -aq "CLEAVE-TWO-STOP-OUT io: stopped" "$two" && grep -aq "CLEAVE-TWO stopped io-vmm-alive=no ctl=$ctl$" "$two" &&
          grep -aqE "^CLEAVE-TWO-STOPPED guest io state=stopped pid=- " "$two" && grep -aqE "^CLEAVE-TWO-STOPPED guest ctl state=running pid=$ctl " "$two" &&
          [[ -n "$io2" && "$io2" != "$io" ]] && grep -aq "CLEAVE-TWO-RESTART-OUT io: running pid=$io2" "$two" &&
          grep -aq "CLEAVE-TWO restarted rc=0 io=$io2 ctl=$ctl$" "$two"; echo $?) "" "$two"
    # The host around the SIGKILL of the service and both VMMs (ok_kill above).
    check "$variant: two guests: the service (stopped first) and both VMMs killed with SIGKILL: every thread of both VMMs has exited within 30 s, the kernel gave back the hugepages and closed the forwardings; the bindings (and state files) are left for the next start" \
        $(grep -aq "CLEAVE-TWO killed .* alive=no " "$two" && [[ $ok_kill -eq 0 && "$(hv "$running" state_files)" == 2 && "$(hv "$killed_state" state_files)" == 2 ]] &&
          [[ -n "$(hv "$killed_state" huge_total)" && "$(hv "$killed_state" huge_free)" == "$(hv "$killed_state" huge_total)" && $(( $(hv "$running" huge_total) - $(hv "$running" huge_free) )) -eq 128 ]]; echo $?) \
        "$(grep -a -m1 "CLEAVE-TWO killed" "$two" | grep -ao "alive=.*"); $(grep -a "CLEAVE-TWO survivor " "$two" | cut -d' ' -f3- | tr '\n' ' ')before: $running; after: $killed_state" "$two"
    spid2=$(grep -a "CLEAVE-TWO recovered" "$two" | grep -ao "service=[0-9]*" | cut -d= -f2 || true)
    check "$variant: two guests: init's respawn line is the new start: a new service recovers the host (each VMM undoes its state file, problems=0) and both run again" \
        $(grep -aq "CLEAVE-TWO recovered rc=0" "$two" && [[ -n "$spid2" && "$spid2" != "$spid" ]] &&
          grep -aq "CLEAVE-TWO-LOG .*guest=service event=start pid=$spid2 tree=/sys/firmware/fdt " "$two" &&
          grep -aq "CLEAVE-TWO-LOG .*guest=ctl event=host-recovered .*problems=0" "$two" && grep -aq "CLEAVE-TWO-LOG .*guest=io event=host-recovered .*problems=0" "$two" &&
          grep -aqE "^CLEAVE-TWO-RECOVERED guest ctl state=running " "$two" && grep -aqE "^CLEAVE-TWO-RECOVERED guest io state=running " "$two"; echo $?) \
        "service ${spid:-?} -> ${spid2:-?}; recovered: $recovered" "$two"
    two_rekill_check "$variant" "$two" 3
    fi
    local seconds
    seconds=$(grep -a "CLEAVE-TWO sigterm" "$two" | grep -ao "seconds=[0-9.]*" | cut -d= -f2 || true)
    check "$variant: two guests: SIGTERM (the respawn line taken out of /etc/inittab first) stops both guests and the service within 13 s, not respawned, and the host is as before the first start (no driver or override, the SPIs on the host CPUs 0-1 without forwarding, every hugepage free, no state file)" \
        $(grep -aq "CLEAVE-TWO sigterm service-alive=no vmms-alive=no stopped-by-reload=[a-z]* respawned=no " "$two" && awk "BEGIN { exit !(${seconds:-99} < 13) }" &&
          grep -aq "CLEAVE-TWO-LOG .*guest=service event=stopped guests=ctl:stopped,io:stopped" "$two" &&
          [[ $ok_final -eq 0 && "$(hv "$final" state_files)" == 0 && -n "$(hv "$final" huge_total)" && "$(hv "$final" huge_free)" == "$(hv "$final" huge_total)" ]]; echo $?) \
        "${seconds:-?} s ($(grep -a -m1 "CLEAVE-TWO sigterm" "$two" | grep -ao "stopped-by-reload=[a-z]*")); pre: $pre; final: $final" "$two"

    # ---- The chaos guest beside io ----
    if [[ $mode == full ]]; then
    line=$(grep -a -m1 "^CLEAVE-TWO chaos boots=" "$two" || true)
    local cs
    cs=$(grep -a -m1 "CLEAVE-TWO chaos-started" "$two" | grep -ao "service=[0-9]*" | cut -d= -f2 || true)
    read -r chaos_ok chaos_text < <(python3 - "$two" <<'CHAOS'
import re, sys
text = open(sys.argv[1], errors="replace").read()
kinds = ["16550-beyond-registers", "16550-wide-access", "16550-read-only-register", "pvpanic-beyond-register", "pvpanic-crash-loaded", "pvpanic-unknown-bits"]
# A summary line ends with first-mismatch-ret=...; the last boot's may be cut by the stop.
done = re.findall(r"^CLEAVE-TWO-CHAOS-GUEST done (.* first-mismatch-ret=0x[0-9a-f]+)$", text, re.M)
conduct = {int(n): rest for n, rest in re.findall(r"guest=chaos event=conduct n=(\d+) (.*)$", text, re.M)}
bad = []
for i, line in enumerate(done, 1):
    g = dict(re.findall(r"([a-z0-9-]+)=(0x[0-9a-f]+)", line))
    v = dict(re.findall(r"([a-z0-9-]+)=(\d+)", conduct.get(i, "")))
    for k in kinds:
        if k not in g or int(g[k], 16) == 0 or int(v.get(k, -1)) != int(g[k], 16): bad.append("boot %d %s guest %s vmm %s" % (i, k, g.get(k), v.get(k)))
    if int(g.get("mismatches", "0x1"), 16) != 0 or int(g.get("secondary-runs", "0x0"), 16) == 0 or int(g.get("psci", "0x0"), 16) == 0:
        bad.append("boot %d: mismatches %s secondary-runs %s psci %s" % (i, g.get("mismatches"), g.get("secondary-runs"), g.get("psci")))
logged = set(re.findall(r"guest=chaos event=guest-conduct kind=(\S+)", text))
ok = len(done) >= 2 and not bad and logged == set(kinds)
print(0 if ok else 1, "%d chaos boots done, each counted by its VMM as the guest made them, mismatches 0; first of each kind logged: %d%s" % (len(done), len(logged), "; " + "; ".join(bad[:4]) if bad else ""))
CHAOS
) || true
    check "$variant: chaos guest beside io under the service: every boot the chaos guest finished, its VMM counted each kind of odd 16550/pvpanic access as the guest made them and logged the first of each; its HVC/SMC/PSCI calls (bad CPU_ON targets, CPU_ON of vCPU 1 on its second CPU) answered as SMCCC and PSCI say (mismatches 0)" \
        "${chaos_ok:-1}" "${chaos_text:-no chaos lines}" "$two"
    local boots_a boots_b restarts
    boots_a=$(grep -ao "boots=[0-9]*-[0-9]*" <<<"$line" | cut -d= -f2 | cut -d- -f1 || true); boots_b=$(grep -ao "boots=[0-9]*-[0-9]*" <<<"$line" | cut -d- -f2 || true)
    restarts=$(grep -ac "CLEAVE-TWO-LOG .*guest=chaos event=restart after=\"powered-off\" " "$two" || true)
    check "$variant: chaos guest: its policy (restart always) boots it again in the same VMM after each power-off, two more boots while io beats; stop chaos then stops it (state stopped)" \
        $([[ "$line" == *" more=0 "* && -n "$boots_a" && -n "$boots_b" && $boots_b -ge $((boots_a + 2)) && $restarts -ge $((boots_b - 1)) ]] &&
          [[ "$line" =~ chaos=([0-9]+)- ]] && grep -aq "CLEAVE-TWO-CHAOS-STOP-OUT chaos: stopped" "$two" &&
          grep -aqE "^CLEAVE-TWO-CHAOS guest chaos state=running pid=[0-9]+ cpus=1,2 " "$two" && grep -aqE "^CLEAVE-TWO-CHAOS-STOPPED guest chaos state=stopped " "$two"; echo $?) \
        "${line#CLEAVE-TWO chaos }; $restarts restarts logged" "$two"
    local c0 c1 c2
    IFS=, read -r c0 c1 c2 <<<"$(grep -ao "beats=[0-9,]*" <<<"$line" | cut -d= -f2)"
    csum=$(grep -a -m1 "^CLEAVE-TWO-CHAOS-BEATS " "$two" | cut -d' ' -f2- || true)
    check "$variant: chaos guest: the service and io run on meanwhile (same pids, io running after), io's heartbeat with no gap across the chaos boots" \
        $([[ -n "$cs" && "$line" =~ service=([0-9]+)-([0-9]+)\ service-alive=yes\ io=([0-9]+)-([0-9]+) && "${BASH_REMATCH[1]}" == "${BASH_REMATCH[2]}" && "${BASH_REMATCH[1]}" == "$cs" && "${BASH_REMATCH[3]}" == "${BASH_REMATCH[4]}" ]] &&
          grep -aqE "^CLEAVE-TWO-CHAOS-STOPPED guest io state=running " "$two" &&
          [[ -n "$c2" && $c0 -lt $c1 && $c1 -lt $c2 && "$csum" =~ ^first=1\ last=([0-9]+)\ count=([0-9]+)\ bad_steps=0\  && "${BASH_REMATCH[1]}" == "${BASH_REMATCH[2]}" && ${BASH_REMATCH[1]} -ge $c2 ]]; echo $?) \
        "beats at two chaos boots apart and 3 s later: ${c0:-?},${c1:-?},${c2:-?}; $csum" "$two"
    check "$variant: two-guest board: at shutdown busybox init's SIGTERM (Init/inittab's shutdown line) stops the chaos variant's service and io" \
        $(grep -aq "CLEAVE-INIT-SHUTDOWN-LOG .*guest=service event=stopped guests=chaos:stopped,io:stopped" "$log"; echo $?) "" "$log"
    fi

    # Benchmarks (printed, not asserted).
    rss() { grep -a -m1 "^CLEAVE-TWO-PROC $1 " "$two" | grep -ao "rss_kib=[0-9]* hwm_kib=[0-9]*" || echo "?"; }
    echo "bench $variant: two guests at board boot: the board boot took $(awk "BEGIN { printf \"%.0f\", $t1 - $t0 }") s; notify listener up at $(grep -a -m1 "CLEAVE-TWO-SETUP" "$log" | grep -ao "up=[0-9.]*" | cut -d= -f2) s of uptime, READY=1 ${ready:-?} s later (service start to every guest's first instruction); both running seen at $(grep -a -m1 "CLEAVE-TWO running" "$two" | grep -ao "up=[0-9.]*" | cut -d= -f2) s; ctl first-run t_ms $(field "$two" "guest=ctl event=first-run" t_ms), io $(field "$two" "guest=io event=first-run" t_ms) (from each VMM's exec)"
    echo "bench $variant: two guests: cleave-boot status, 20 calls: $(grep -a -m1 "^CLEAVE-TWO-LATENCY status " "$two" | cut -d' ' -f3- || echo ?)"
    echo "bench $variant: two guests: RSS (KiB; hugetlb guest RAM excluded): service $(rss service), ctl VMM $(rss ctl), io VMM $(rss io)"
    echo "bench $variant: two guests: the run took $(awk "BEGIN { printf \"%.0f\", $(grep -a -m1 CLEAVE-TWO-END "$two" | grep -ao "up=[0-9.]*" | cut -d= -f2 || echo 0) - $(grep -a -m1 CLEAVE-TWO-BEGIN "$two" | grep -ao "up=[0-9.]*" | cut -d= -f2 || echo 0) }") s of the board boot; io heartbeat: $summary${csum:+; chaos phase: $csum}"
}
