import Foundation
import Testing
import GuestMemory
import KVM
import DeviceTree
import GuestTree
import Options
import Partitioning
import Supervisor

/// The option parser `cleave run|boot` and `cleave-boot run|boot` share:
/// defaults, every option, and errors that name the option at fault.
@Suite struct RunOptionTests {
    let gicv3 = boardPath("qemu-virt-gicv3.dtb")
    let gicv2 = boardPath("qemu-virt-gicv2.dtb")

    func parse(_ items: [String]) throws -> GuestConfiguration { try RunOptions.parse(items) }

    /// The message of the UsageError `items` raise, or nil when they parse.
    func error(_ items: [String]) -> String? {
        do { _ = try RunOptions.parse(items); return nil } catch { return error.description }
    }

    @Test func defaults() throws {
        let c = try parse(["--kernel", "/guest/Image", "--board", gicv3])
        #expect(c.name == "run")
        #expect(c.kernelPath == "/guest/Image")
        #expect(c.memorySize == 64 << 20)
        #expect(c.hostCPUs == [nil])
        #expect(c.pageSize == .twoMiB)
        #expect(c.fixedBase == nil)
        #expect(c.imageKind == .automatic)
        #expect(c.loadOffset == 0x80000)
        #expect(c.bootargs == "")
        // The console where carving puts it on this board (Partitioning's
        // Layout over its inventory; the parser reads the tree alone).
        let board = Board(try DeviceTree(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: gicv3)))))
        let base = try #require(Layout.consoleBase(board: board))
        let spi = try #require(Layout.consoleSPI(board: board))
        #expect(c.consoleBase == base && c.consoleINTID == spi + 32)
        #expect(base % 0x1000 == 0 && base < 0x1_0000_0000)
        #expect(c.restart == .never && !c.interactive)
        #expect(c.unmappedMMIO == .fault)
        #expect(c.pmu == PMUInterrupt(specifier: [1, 7, 4]) && c.pmu?.intid == 23)
        #expect(c.its == 0x0808_0000)
        guard case .v3(let d, let r) = c.gic else { Issue.record("not GICv3"); return }
        #expect(d == 0x0800_0000 && r == 0x080a_0000)
        guard case .generated = c.tree else { Issue.record("tree not generated"); return }
    }

    @Test func everyOption() throws {
        let c = try parse(["--name", "fw", "--kernel", "fw.bin", "--raw", "--load-offset", "0x200000",
                           "--initrd", "i.cpio", "--memory", "1G", "--hugepage-size", "1G", "--memory-base", "0x80000000",
                           "--cpus", "1-2", "--bootargs", "console=ttyS0 -- init=/x", "--board", gicv2,
                           "--console", "0x1c090000", "--console-intid", "40", "--dump-dtb", "/tmp/g.dtb",
                           "--mark", "READY", "--watchdog-ms", "100", "--restart", "on-failure", "--max-restarts", "3", "--interactive",
                           "--unmapped-mmio", "ignore"])
        #expect(c.name == "fw" && c.kernelPath == "fw.bin" && c.imageKind == .raw)
        #expect(c.loadOffset == 0x20_0000 && c.initrdPath == "i.cpio")
        #expect(c.memorySize == 1 << 30 && c.pageSize == .oneGiB && c.fixedBase == 0x8000_0000)
        #expect(c.hostCPUs == [1, 2])
        #expect(c.bootargs == "console=ttyS0 -- init=/x")
        #expect(c.consoleBase == 0x1c09_0000 && c.consoleINTID == 40)
        #expect(c.dumpTreePath == "/tmp/g.dtb" && c.consoleMarker == "READY")
        #expect(c.watchdogPeriodMilliseconds == 100 && c.restart == .onFailure && c.interactive)
        #expect(c.maxRestarts == 3 && c.unmappedMMIO == .ignore)
        #expect(try parse(["--kernel", "k", "--board", gicv3, "--unmapped-mmio", "fault"]).unmappedMMIO == .fault)
        #expect(try parse(["--kernel", "k", "--board", gicv3, "--no-pmu"]).pmu == nil)
        #expect(try parse(["--kernel", "k", "--board", gicv3]).sveMaxVectorBits == nil)
        #expect(try parse(["--kernel", "k", "--board", gicv3, "--sve-max-vl", "256"]).sveMaxVectorBits == 256)
        #expect(try parse(["--kernel", "k", "--board", gicv3, "--sve-max-vl", "0"]).sveMaxVectorBits == 0)
        #expect(try parse(["--kernel", "k", "--board", gicv3]).ptrauth)
        #expect(try !parse(["--kernel", "k", "--board", gicv3, "--no-ptrauth"]).ptrauth)
        #expect(try parse(["--kernel", "k", "--board", gicv3]).ramScrub == .zero)
        #expect(try parse(["--kernel", "k", "--board", gicv3, "--ram-scrub", "none"]).ramScrub == .none)
        #expect(try parse(["--kernel", "k", "--board", gicv3, "--ram-scrub", "zero"]).ramScrub == .zero)
        // The board's PMU PPI when it has a PMUv3 node, else PPI 7; rk3399's is
        // split by ppi-partitions, which KVM cannot mirror.
        #expect(try parse(["--kernel", "k", "--board", boardPath("imx8mm-evk.dtb")]).pmu == PMUInterrupt(specifier: [1, 7, 0xf04]))
        #expect(try parse(["--kernel", "k", "--board", boardPath("rk3399-rockpro64.dtb")]).pmu == .fallback)
        #expect(c.its == nil)
        guard case .v2 = c.gic else { Issue.record("not GICv2"); return }
        #expect(try parse(["--kernel", "k", "--board", gicv3, "--vcpus", "4"]).hostCPUs == [nil, nil, nil, nil])
        #expect(try parse(["--kernel", "k", "--board", gicv3, "--linux", "--hugepage-size", "32M"]).pageSize == .thirtyTwoMiB)
    }

    @Test(arguments: [
        (["--board", "B"], "--kernel"),
        (["--kernel"], "--kernel"),
        (["--kernel", "k", "--board", "B", "--memory", "lots"], "--memory"),
        (["--kernel", "k", "--board", "B", "--cpus", "3-1"], "--cpus"),
        (["--kernel", "k", "--board", "B", "--vcpus", "0"], "--vcpus"),
        (["--kernel", "k", "--board", "B", "--hugepage-size", "4M"], "--hugepage-size"),
        (["--kernel", "k", "--board", "B", "--memory-base", "here"], "--memory-base"),
        (["--kernel", "k", "--board", "B", "--load-offset", "0xg"], "--load-offset"),
        (["--kernel", "k", "--board", "B", "--console", "-1"], "--console"),
        (["--kernel", "k", "--board", "B", "--console", "0x9fff800"], "--console"),
        (["--kernel", "k", "--board", "B", "--console-intid", "16"], "--console-intid"),
        (["--kernel", "k", "--board", "B", "--console-intid", "1020"], "--console-intid"),
        (["--kernel", "k", "--board", "B", "--watchdog-ms", "5"], "--watchdog-ms"),
        (["--kernel", "k", "--board", "B", "--restart", "sometimes"], "--restart"),
        (["--kernel", "k", "--board", "B", "--max-restarts", "-1"], "--max-restarts"),
        (["--kernel", "k", "--board", "B", "--unmapped-mmio", "emulate"], "--unmapped-mmio"),
        (["--kernel", "k", "--board", "B", "--unmapped-mmio"], "--unmapped-mmio"),
        (["--kernel", "k", "--board", "B", "--sve-max-vl", "200"], "--sve-max-vl"),
        (["--kernel", "k", "--board", "B", "--ram-scrub", "random"], "--ram-scrub"),
        (["--kernel", "k", "--board", "B", "--ram-scrub"], "--ram-scrub"),
        (["--kernel", "k", "--board", "B", "--sve-max-vl", "all"], "--sve-max-vl"),
        (["--kernel", "k", "--board", "B", "--frobnicate"], "--frobnicate"),
        (["--kernel", "k", "--board", "B", "--bootargs"], "--bootargs"),
        (["--kernel", "k", "--board", "/nonexistent.dtb"], "--board"),
    ])
    func errorsNameTheOption(_ items: [String], _ option: String) throws {
        let items = items.map { $0 == "B" ? gicv3 : $0 }
        let message = try #require(error(items), "\(items) parsed")
        #expect(message.contains(option), "\(message)")
    }

    @Test func boardWithoutAGICIsRefused() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("nogic.dtb").path
        try Data([UInt8](repeating: 0, count: 16)).write(to: URL(fileURLWithPath: path))
        #expect(error(["--kernel", "k", "--board", path])?.contains(path) == true)
    }

    @Test func help() {
        #expect(RunOptions.wantsHelp(["--help"]))
        #expect(RunOptions.wantsHelp(["-h"]))
        #expect(RunOptions.wantsHelp(["--kernel", "k", "--help"]))
        #expect(RunOptions.wantsHelp(["--kernel", "k", "--raw", "-h"]))
        #expect(!RunOptions.wantsHelp(["--kernel", "k", "--bootargs", "-h"])) // a value, not a request
        #expect(!RunOptions.wantsHelp(["--kernel", "k"]))
        #expect(BootOptions.wantsHelp(["--interactive", "--help"]))
        #expect(!BootOptions.wantsHelp(["--mark", "--help"]))
        #expect(RunOptions.usage.contains("--interactive") && BootOptions.usage.contains("--tree"))
        #expect(RunOptions.usage.contains("--no-pmu") && RunOptions.usage.contains("--unmapped-mmio"))
        #expect(RunOptions.wantsHelp(["--kernel", "k", "--no-pmu", "-h"]))
        #expect(RunOptions.usage.contains("--no-ptrauth") && RunOptions.wantsHelp(["--kernel", "k", "--no-ptrauth", "-h"]))
    }

    /// A usage mistake prints the usage; a tree that cannot be booted from is a
    /// setup error (status 1, the message alone).
    @Test func bootSetupErrorsAreNotUsageErrors() {
        func failure(_ items: [String]) -> UsageError? {
            do throws(UsageError) { _ = try BootOptions.parse(items); return nil } catch { return error }
        }
        let usage = failure(["--tree"])
        #expect(usage != nil && usage?.isSetup == false)
        let unknown = failure(["--frobnicate"])
        #expect(unknown != nil && unknown?.isSetup == false)
        // The board tree as it comes from QEMU: no /chosen/cleave.
        let setup = failure(["--tree", gicv3])
        #expect(setup?.isSetup == true)
        #expect(setup?.description.contains("/chosen/cleave") == true, "\(setup?.description ?? "")")
        let missing = failure(["--tree", "/nonexistent/host.dtb"])
        #expect(missing?.isSetup == true && missing?.description.contains("/nonexistent/host.dtb") == true)
    }

    @Test func sizesAndCPULists() {
        #expect(parseSize("0x80000") == 0x80000)
        #expect(parseSize("256M") == 256 << 20 && parseSize("2m") == 2 << 20)
        #expect(parseSize("1G") == 1 << 30 && parseSize("4k") == 4096)
        #expect(parseSize("12345") == 12345)
        #expect(parseSize("") == nil && parseSize("M") == nil && parseSize("0x") == nil && parseSize("-1") == nil)
        #expect(parseSize("99999999999G") == nil) // overflow
        #expect(parseCPUList("1") == [1] && parseCPUList("1,3") == [1, 3] && parseCPUList("2-4") == [2, 3, 4])
        #expect(parseCPUList("0-1,3") == [0, 1, 3])
        #expect(parseCPUList("") == nil && parseCPUList("a") == nil && parseCPUList("3-1") == nil)
    }
}

@Suite struct BootOptionTests {
    func error(_ items: [String]) -> String? {
        do { _ = try BootOptions.parse(items); return nil } catch { return error.description }
    }

    @Test func carvedGuest() throws {
        let host = try carvedHostTree(board: "qemu-virt-gicv3.dtb", plan: "qemu-virt")
        defer { try? FileManager.default.removeItem(at: host.directory) }
        let c = try BootOptions.parse(["--tree", host.path, "--guest", "linux", "--dump-dtb", "/tmp/x.dtb",
                                       "--mark", "M", "--interactive"])
        #expect(c.name == "linux" && c.dumpTreePath == "/tmp/x.dtb" && c.consoleMarker == "M" && c.interactive)
        // A carved partition always faults on unmapped MMIO: boot has no option for it.
        #expect(c.unmappedMMIO == .fault)
        // The board's PMU PPI, written into the carved tree.
        #expect(c.pmu?.intid == 23)
        #expect(error(["--tree", host.path, "--unmapped-mmio", "ignore"])?.contains("--unmapped-mmio") == true)
        #expect(error(["--tree", host.path, "--guest", "nosuch"])?.contains("no guest nosuch") == true)
        #expect(error(["--tree", host.path, "--bogus"])?.contains("--bogus") == true)
        #expect(error(["--tree"])?.contains("--tree") == true)
    }

    @Test func boardTreeWithoutPartitions() {
        // A board tree straight from the vendor has no /chosen/cleave: say so.
        let message = error(["--tree", boardPath("qemu-virt-gicv3.dtb")])
        #expect(message?.contains("/chosen/cleave") == true)
        #expect(error(["--tree", "/nonexistent.dtb"])?.contains("/nonexistent.dtb") == true)
    }
}
