# A passed-through UART as a guest's console (issue 11), sourced by
# Tests/QEMUVirt/run after lib.sh: one board boot whose host console is a
# virtio console (console=hvc0 in the board's bootargs, as a bootloader
# would give them; qv_host_console) so that the PL011 at 0x09000000 is free:
# a plan variant gives it to the guest as its device and its console
# (console = "/pl011@9000000"), its SPI (INTID 33, level) forwarded. The
# guest's output reaches QEMU's serial ($work/uart-serial.log), not the
# supervisor; a line typed into the serial comes back through the guest's
# shell (its RX interrupt). The board's init is busybox init with the
# shipped Init/inittab (qv_busybox_init), so the guest runs under the
# partition service, started as a board without systemd starts it.
#
#   uart_console_run VARIANT   after qv_variant VARIANT; adds its checks

uart_console_tests='
# PID 1 s argv: busybox init rewrites its own to "init" (a script /init would show "/bin/busybox sh /init").
echo "CLEAVE-HOST up=$(cut -d" " -f1 /proc/uptime) kernel=$(uname -r) init=$(tr "\000" " " </proc/1/cmdline)cmdline=$(cat /proc/cmdline)"
dmesg | grep -E "GIC: Using split EOI|kvm \[[0-9]+\]: .*mode initialized" | sed "s/^/CLEAVE-DMESG /"
echo "CLEAVE-UART-MODULES $(cut -d" " -f1 /proc/modules | tr "\n" " ")"
echo "CLEAVE-UART-HOST consoles=$(cut -d" " -f1 /proc/consoles | tr "\n" ",") pl011-driver=$(basename "$(readlink /sys/bus/platform/devices/9000000.pl011/driver)" 2>/dev/null)"
# The service (started by init from Init/inittab) runs the guest once (restart never): wait for its end.
i=0
while [ $i -lt 600 ]; do
    case "$(cleave-boot status 2>/dev/null | grep "^guest linux ")" in *state=stopped*|*state=failed*) break ;; esac
    sleep 0.5; i=$((i + 1))
done
cleave-boot status 2>&1 | sed "s/^/CLEAVE-UART-STATUS /"
sed "s/^/CLEAVE-UART-LOG /" /var/log/cleave.log
cleave-host-after 9000000.pl011
echo "CLEAVE-HOST done"
poweroff
'

uart_console_run() { # variant
    local variant=$1 board="$work/board-uart.dtb" log="$work/uart.log" serial="$work/uart-serial.log" status=0 typer t0 t1
    # This boot keeps -smp 2 (qv_machine): its one guest needs CPU 1 only.
    # (With -smp 4 it once failed to open hvc0, "hvc_open: request_irq
    # failed with rc -22": a race in virtio_console the board set-up now
    # waits out, docs/kernel-facts.md §29.)
    local qv_smp=2
    # The board with bootargs naming the virtio console; the plan: the
    # bundled one's guest with the PL011 for its only device and console,
    # its shell echoing one line (cleave.echo, qv_guest_initramfs).
    { qv_dump_board "$board" "$gic" "$cpu" "$qv_memory" && fdtput -t s "$board" /chosen bootargs "console=hvc0" &&
      sed -E -e '/(rtc|gpio|virtio0|virtio1) \{ device/d' -e 's|console = "virtual";|console = "/pl011@9000000";|' \
          -e 's|bootargs = "[^"]*";|bootargs = "console=ttyAMA0 earlycon cleave.echo";|' \
          -e 's|(restart = "never";)|\1 uart { device = "/pl011@9000000"; };|' "$repo/Boards/$plan/plan.dts" >"$work/plan-uart.dts" &&
      qv_carve "$plan-uart" "$board" "$work/plan-uart.dts"; } >"$work/carve-uart.out" 2>&1 || status=$?
    check "$variant: UART console: carve gives the PL011 to the guest as its console, drops the host's stdout-path and says so (host-console-moved)" \
        $([[ $status -eq 0 ]] && grep -aqF "warning: [host-console-moved] /chosen:" "$work/carve-$plan-uart/report.txt" &&
          ! fdtget "$work/carve-$plan-uart/host.dtb" /chosen stdout-path >/dev/null 2>&1 &&
          [[ "$(fdtget "$work/carve-$plan-uart/linux.dtb" /chosen stdout-path 2>/dev/null)" == /pl011@9000000 ]]; echo $?) \
        "$(grep -a -m1 "host-console-moved" "$work/carve-$plan-uart/report.txt" 2>/dev/null | head -c 120)" "$work/carve-uart.out"
    [[ $status -eq 0 ]] || return 0
    cp "$work/carve-$plan-uart/host.dtb" "$work/host-uart.dtb"
    qv_extra="$work/host-uart.dtb"
    qv_host_console=hvc0 qv_busybox_init=1
    qv_initramfs "$work/uart-initramfs.gz" "$uart_console_tests"
    qv_extra="" qv_busybox_init=0
    qv_uart_typer "CLEAVE-ECHO-READY" "echo-through-the-uart" "$boot_timeout" & typer=$!
    t0=$(date +%s.%N)
    qv_boot "$log" "$work/host-uart.dtb" "$work/uart-initramfs.gz" "$cpu" "$gic" "$boot_timeout" || status=$?
    t1=$(date +%s.%N)
    qv_host_console=serial
    kill "$typer" 2>/dev/null || true; wait "$typer" 2>/dev/null || true
    tr -d '\r' <"$log" >"$log.txt" && mv "$log.txt" "$log"
    [[ -f "$serial" ]] && tr -d '\r' <"$serial" >"$serial.txt" && mv "$serial.txt" "$serial"
    check "$variant: UART console: the board boots with its host console on hvc0 (a virtio console) and busybox init as PID 1, and powers off" \
        $([[ $status -eq 0 ]] && grep -aq "CLEAVE-HOST done" "$log" && grep -aq "CLEAVE-UART-HOST consoles=hvc0," "$log" &&
          grep -aqE "CLEAVE-HOST up=.* init=init +cmdline=" "$log"; echo $?) \
        "qemu status $status, $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s; $(grep -a -m1 "CLEAVE-UART-HOST" "$log" | cut -d' ' -f2-)" "$log"
    check "$variant: busybox init with the shipped Init/inittab: modprobe loads the passthrough modules with Init/modprobe.d options, the service starts from its respawn line and runs the carved guest once (restart never: stopped, exit status 0); at shutdown its SIGTERM stops the service" \
        $(grep -a "CLEAVE-UART-MODULES" "$log" | grep -aq "vfio_platform" && grep -a "CLEAVE-UART-MODULES" "$log" | grep -aq "cleave_forward" &&
          grep -aqE "CLEAVE-UART-STATUS guest linux state=stopped .*last_exit=\"exit status 0\"" "$log" &&
          grep -aq "CLEAVE-UART-LOG .*guest=service event=start pid=" "$log" &&
          grep -aq "CLEAVE-INIT-SHUTDOWN-LOG .*guest=service event=stopped guests=linux:stopped" "$log"; echo $?) \
        "$(grep -a -m1 "CLEAVE-UART-STATUS guest linux" "$log" | cut -d' ' -f3-5)" "$log"
    check "$variant: UART console: the host has no driver on the PL011; the supervisor passes it through with its SPI forwarded and runs the guest with no virtual console" \
        $(grep -aq "CLEAVE-UART-HOST .* pl011-driver=$" "$log" && grep -aq "CLEAVE-UART-LOG .*event=console device=/pl011@9000000 passed through" "$log" &&
          grep -aqE "CLEAVE-UART-LOG .*event=passthrough device=/pl011@9000000 method=(vfio|uio) .*intids=33/level/forward" "$log"; echo $?) \
        "$(grep -a -m1 "CLEAVE-UART-LOG .*event=passthrough device=/pl011" "$log" | grep -ao "method=.*" | head -c 100)" "$log"
    check "$variant: UART console: the guest's earlycon and console are the real PL011 (its kernel and userspace print on QEMU's serial, none of it through the supervisor)" \
        $(grep -aq "earlycon: pl11 at MMIO 0x0000000009000000" "$serial" && grep -aq "CLEAVE-GUEST-INFO uptime=" "$serial" &&
          grep -aq "CLEAVE-GUEST-CMDLINE console=ttyAMA0 earlycon cleave.echo" "$serial" && ! grep -aq "CLEAVE-UART-LOG .*CLEAVE-GUEST-INFO" "$log"; echo $?) \
        "$(grep -a -m1 "earlycon:" "$serial" 2>/dev/null | head -c 80)" "$serial"
    local irqs forwarded
    irqs=$(grep -a -m1 "CLEAVE-UART-GUEST irqs=" "$serial" 2>/dev/null | grep -ao "irqs=[0-9]*" | cut -d= -f2 || true)
    forwarded=$(grep -a "CLEAVE-UART-LOG .*event=forwarded interrupts=" "$log" | grep -aoE "(^|[ ,=])33:[0-9]+" | head -n1 | cut -d: -f2 || true)
    check "$variant: UART console: a line typed into the UART reaches the guest's shell and comes back (its interrupts forwarded: the guest counts them, the host's cleave-forward handled them), the host gets the PL011 back" \
        $(grep -aq "CLEAVE-ECHO got=\[echo-through-the-uart\]" "$serial" && [[ -n "$irqs" && $irqs -gt 0 && -n "$forwarded" && $forwarded -gt 0 ]] &&
          grep -aqE "CLEAVE-PT-AFTER 9000000.pl011 driver= override=(\(null\))?$" "$log"; echo $?) \
        "guest counted ${irqs:-?} PL011 interrupts, host forwarded ${forwarded:-?}" "$serial"
}
