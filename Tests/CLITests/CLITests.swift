import Foundation
import TestSupport
import Testing

/// The `cleave` executable as a user runs it: exit statuses, messages that
/// name the file, atomic outputs. Runs the binary SwiftPM built beside the
/// test bundle.
struct CLITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let binary: String? = {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("cleave").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    struct Run { var status: Int32; var out: String; var err: String }

    func cleave(_ arguments: [String]) throws -> Run {
        let binary = try #require(CLITests.binary, "the cleave executable is not next to the test bundle")
        let run = try runTool(binary, arguments)
        return Run(status: run.status, out: String(decoding: run.stdout, as: UTF8.self), err: run.stderr)
    }

    var board: String { CLITests.repo + "/DeviceTrees/qemu-virt-gicv3.dtb" }
    var plan: String { CLITests.repo + "/Boards/qemu-virt/plan.dts" }

    @Test func devicesListsEveryDeviceAsJSON() throws {
        let run = try cleave(["devices", board, "--json"])
        #expect(run.status == 0, "\(run.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(run.out.utf8)) as? [String: Any])
        let devices = try #require(json["devices"] as? [[String: Any]])
        let rtc = try #require(devices.first { $0["path"] as? String == "/pl031@9010000" })
        let irq = try #require((rtc["interrupts"] as? [[String: Any]])?.first)
        #expect(irq["intid"] as? Int == 34)
        #expect(irq["trigger"] as? String == "level-high")
    }

    @Test func checkExitStatuses() throws {
        #expect(try cleave(["check", board, plan]).status == 0)
        let dir = try temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad = dir + "/bad.dts"
        try """
            /dts-v1/;
            / { compatible = "cleave,plan-v1"; board = "linux,dummy-virt";
                guests { g { cpus = <0>; memory-size = /bits/ 64 <0x10000000>; kernel = "/k"; }; }; };
            """.write(toFile: bad, atomically: true, encoding: .utf8)
        let errors = try cleave(["check", board, bad, "--json"])
        #expect(errors.status == 1)
        #expect(errors.out.contains("\"no-host-cpu\""))
        let missing = try cleave(["check", dir + "/nope.dtb", plan])
        #expect(missing.status == 2)
        #expect(missing.err.contains("nope.dtb"), "the message names the file: \(missing.err)")
    }

    /// What check cannot know from the board tree it says (memory-unknown), and
    /// page sharing the boot side traps is a note, not a warning.
    @Test func checkSaysWhatOnlyBootCanCheck() throws {
        let rk = try cleave(["check", CLITests.repo + "/DeviceTrees/rk3399-rockpro64.dtb", CLITests.repo + "/Boards/rk3399-rockpro64/plan.dts"])
        #expect(rk.status == 0, "\(rk.out)\(rk.err)")
        #expect(rk.out.contains("note: [memory-unknown] plan:/guests/guest: memory-size 0x10000000 (256 MiB) cannot be checked here"), "\(rk.out)")
        let virt = try cleave(["check", board, plan])
        #expect(virt.status == 0)
        #expect(virt.out.contains("note: [page-shared] /virtio_mmio@a003e00:") && !virt.out.contains("warning: [page-shared]"), "\(virt.out)")
        #expect(!virt.out.contains("memory-unknown"), "qemu-virt's tree has /memory")
    }

    @Test func unusableInputsNameTheFile() throws {
        let dir = try temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let junk = dir + "/junk.dtb"
        try Data("not a device tree at all, just a line of text that is long enough".utf8).write(to: URL(fileURLWithPath: junk))
        let run = try cleave(["devices", junk])
        #expect(run.status == 2)
        #expect(run.err.contains("junk.dtb") && run.err.contains("magic"), "\(run.err)")
        let short = dir + "/short.dtb"
        try Data([0xd0, 0x0d, 0xfe, 0xed]).write(to: URL(fileURLWithPath: short))
        let truncated = try cleave(["devices", short])
        #expect(truncated.status == 2)
        #expect(truncated.err.contains("short.dtb") && truncated.err.contains("shorter than a device tree header"), "\(truncated.err)")
        let brokenPlan = dir + "/broken.dts"
        try "/dts-v1/; / { guests { g { cpus = <1> }; }; };".write(toFile: brokenPlan, atomically: true, encoding: .utf8)
        let dtc = try cleave(["check", board, brokenPlan])
        #expect(dtc.status == 2)
        #expect(dtc.err.contains("broken.dts") && dtc.err.contains("dtc"), "\(dtc.err)")
    }

    // MARK: run and boot: the library path cleave-boot shares (one option
    // parser, one Supervisor). They cannot boot an arm64 guest on this
    // workstation; what they must do is read their inputs, reach the
    // supervisor and end a failed setup with status 1 and a setup line.

    @Test func runAndBootHelpListEveryOption() throws {
        let run = try cleave(["run", "--help"])
        #expect(run.status == 0)
        for option in ["--kernel", "--raw", "--restart", "--max-restarts", "--interactive"] {
            #expect(run.out.contains(option), "cleave run --help lacks \(option)")
        }
        let boot = try cleave(["boot", "--help"])
        #expect(boot.status == 0 && boot.out.contains("--tree") && boot.out.contains("--guest"))
    }

    @Test func serviceCommandsTakeTheBootBinarysText() throws {
        let help = try cleave(["console", "--help"])
        #expect(help.status == 0 && help.out.contains("--no-follow") && help.out.contains("Ctrl-] detaches"), "\(help.out)")
        let missing = try cleave(["console"])
        #expect(missing.status != 0 && missing.status != 1, "a usage mistake is not a service error")
        #expect(missing.err.contains("console needs a guest name"), "\(missing.err)")
        let stop = try cleave(["stop", "linux", "--json"])
        #expect(stop.err.contains("unknown arguments: --json"), "\(stop.err)")
    }

    @Test func runUsageMistakesNameTheOption() throws {
        let run = try cleave(["run", "--kernel", "k", "--board", board, "--restart", "sometimes"])
        #expect(run.status != 0 && run.status != 1, "a usage mistake is not a setup error")
        #expect(run.err.contains("--restart"), "\(run.err)")
    }

    @Test func runReachesTheSupervisorAndEndsASetupFailureWithStatus1() throws {
        // On a machine where the guest cannot start (no arm64 KVM, no hugepage
        // pool, or no such image), the supervisor says why and exits 1.
        let run = try cleave(["run", "--name", "clitest", "--kernel", "/nonexistent/Image", "--board", board, "--memory", "2M"])
        #expect(run.status == 1, "\(run.err)")
        #expect(run.err.contains("guest=clitest event=start"), "\(run.err)")
        #expect(run.err.contains("guest=clitest event=setup error="), "\(run.err)")
    }

    @Test func bootReadsTheCarvedRecordAndRefusesWhatItCannotBoot() throws {
        let dir = try temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try cleave(["carve", board, plan, "--out", dir + "/out"]).status == 0)
        let host = dir + "/out/host.dtb"
        // No /chosen/cleave in a board tree: a setup error naming it.
        let plain = try cleave(["boot", "--tree", board])
        #expect(plain.status == 1 && plain.err.contains("/chosen/cleave"), "\(plain.status) \(plain.err)")
        // A guest the plan does not have.
        let unknown = try cleave(["boot", "--tree", host, "--guest", "nosuch"])
        #expect(unknown.status == 1 && unknown.err.contains("nosuch"), "\(unknown.status) \(unknown.err)")
        // The plan's guest: its record is read and the supervisor starts it
        // (here it then fails its setup, so status 1).
        let linux = try cleave(["boot", "--tree", host, "--guest", "linux"])
        #expect(linux.err.contains("guest=linux event=start"), "\(linux.err)")
        #expect(linux.status == 1 && linux.err.contains("guest=linux event=setup error="), "\(linux.status) \(linux.err)")
    }

    @Test func carveWritesEveryOutput() throws {
        let dir = try temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/out"
        let run = try cleave(["carve", board, plan, "--out", out])
        #expect(run.status == 0, "\(run.err)")
        for name in ["host.dtb", "linux.dtb", "report.txt"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name) missing")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
    }

    @Test func carveWithErrorsLeavesEarlierOutputsUntouched() throws {
        let out = try temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let earlier = Data("earlier host.dtb".utf8)
        try earlier.write(to: URL(fileURLWithPath: out + "/host.dtb"))
        let bad = out + "/bad.dts"
        try """
            /dts-v1/;
            / { compatible = "cleave,plan-v1"; board = "linux,dummy-virt";
                guests { g { cpus = <1>; memory-size = /bits/ 64 <0x10000000>; kernel = "/k";
                    d { device = "/no-such-device"; }; }; }; };
            """.write(toFile: bad, atomically: true, encoding: .utf8)
        let run = try cleave(["carve", board, bad, "--out", out])
        #expect(run.status == 1)
        #expect(run.out.contains("device-missing"))
        #expect(FileManager.default.contents(atPath: out + "/host.dtb") == earlier)
        #expect(!FileManager.default.fileExists(atPath: out + "/g.dtb"))
    }

    @Test func carveIntoAnUnwritablePlaceSaysSo() throws {
        let dir = try temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/a-file"
        try Data().write(to: URL(fileURLWithPath: file))
        let run = try cleave(["carve", board, plan, "--out", file + "/sub"])
        #expect(run.status == 2)
        #expect(run.err.contains("a-file"), "\(run.err)")
    }
}
