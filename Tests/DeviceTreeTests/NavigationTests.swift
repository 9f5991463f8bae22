import CFDT
import Testing
@testable import DeviceTree

let navigationSource = """
/dts-v1/;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
    compatible = "vendor,board", "vendor,soc";
    model = "Test board";
    aliases {
        serial0 = &uart0;
        serial1 = "/soc/serial@2000";
        gpio = &gpio0;
        dangling = "/soc/nothing@0";
        relative = "soc/serial@1000";
    };
    chosen { stdout-path = "serial0:115200n8"; };
    soc: soc {
        compatible = "simple-bus";
        #address-cells = <1>;
        #size-cells = <1>;
        ranges;
        uart0: serial@1000 { compatible = "ns16550a"; reg = <0x1000 0x100>; status = "okay";
            child { compatible = "child"; };
        };
        uart1: serial@2000 { compatible = "ns16550a"; reg = <0x2000 0x100>; status = "ok"; };
        uart2: serial@3000 { compatible = "ns16550a"; reg = <0x3000 0x100>; status = "disabled"; };
        gpio0: gpio@4000 { compatible = "vendor,gpio"; reg = <0x4000 0x100>; gpio-controller; #gpio-cells = <2>; };
        off: bus@5000 {
            compatible = "simple-bus";
            status = "disabled";
            #address-cells = <1>;
            #size-cells = <1>;
            ranges;
            inner: timer@5100 {
                compatible = "vendor,timer";
                reg = <0x5100 0x10>;
                status = "okay";
                deep: leaf { status = "okay"; };
            };
        };
        broken: watchdog@6000 { compatible = "vendor,wdt"; reg = <0x6000 0x10>; status = "fail"; };
        odd: rtc@7000 { compatible = "vendor,rtc"; reg = <0x7000 0x10>; status = "fail-sss"; };
    };
    memory@80000000 { device_type = "memory"; reg = <0x80000000 0x40000000>; };
    cells {
        empty;
        one = <0x12345678>;
        two = <0x1 0x2>;
        three = <1 2 3>;
        bytes = [de ad be ef 01];
        str = "hello";
        list = "a", "", "bc";
        unterminated = [61 62 63];
        legacy { linux,phandle = <0x4242>; };
    };
};
"""

@Suite("Paths, aliases, labels, status and property values")
struct NavigationTests {
    let tree: DeviceTree
    let symbols: DeviceTree

    init() throws {
        tree = try DeviceTree(bytes: compileDTS(navigationSource))
        symbols = try DeviceTree(bytes: compileDTS(navigationSource, symbols: true))
    }

    @Test func pathsRoundTripForEveryNode() throws {
        for node in tree.allNodes {
            let path = tree.path(of: node)
            #expect(tree.lookup(path: path) == node, "\(path)")
            #expect(tree.resolve(path) == node, "\(path)")
            if let parent = tree.parent(of: node) {
                #expect(parent < node, "parents come before children in tree order")
                #expect(tree.children(of: parent).contains(node))
                #expect(tree.depth(of: node) == tree.depth(of: parent) + 1)
                #expect(tree.isDescendant(node, of: parent))
                #expect(!tree.isDescendant(parent, of: node))
                #expect(path == (tree.path(of: parent) == "/" ? "" : tree.path(of: parent)) + "/" + tree.name(of: node))
            } else {
                #expect(node == tree.root)
                #expect(path == "/")
            }
            #expect(tree.isDescendant(node, of: tree.root))
            #expect(tree.isDescendant(node, of: node))
        }
        #expect(tree.allNodes.count == tree.nodeCount)
        #expect(tree.lookup(path: "/") == tree.root)
        #expect(tree.lookup(path: "") == tree.root)
        #expect(tree.lookup(path: "//soc//serial@1000/") == (try tree.node("/soc/serial@1000")))
        #expect(tree.lookup(path: "/soc/serial@9999") == nil)
        #expect(tree.lookup(path: "/nothing") == nil)
        #expect(tree.resolve("") == nil)
        #expect(tree.depth(of: tree.root) == 0)
        #expect(tree.depth(of: try tree.node("/soc/bus@5000/timer@5100/leaf")) == 4)
    }

    @Test func childrenInBlobOrder() throws {
        let soc = try tree.node("/soc")
        #expect(tree.children(of: soc).map { tree.name(of: $0) } ==
                ["serial@1000", "serial@2000", "serial@3000", "gpio@4000", "bus@5000", "watchdog@6000", "rtc@7000"])
        #expect(tree.children(of: try tree.node("/soc/serial@2000")).isEmpty)
        #expect(tree.name(of: tree.root) == "")
        #expect(tree.baseName(of: try tree.node("/soc/serial@1000")) == "serial")
        #expect(tree.unitAddress(of: try tree.node("/soc/serial@1000")) == "1000")
        #expect(tree.unitAddress(of: soc) == nil)
        #expect(tree.baseName(of: soc) == "soc")
        #expect(tree.parent(of: tree.root) == nil)
    }

    /// Without a unit address, a name matches the first child with that base
    /// name, as libfdt's `fdt_path_offset` does.
    @Test func unitAddressLessLookup() throws {
        let first = try tree.node("/soc/serial@1000")
        #expect(tree.lookup(path: "/soc/serial") == first)
        #expect(tree.lookup(path: "/soc/gpio") == (try tree.node("/soc/gpio@4000")))
        #expect(tree.lookup(path: "/memory") == (try tree.node("/memory@80000000")))
        #expect(tree.lookup(path: "/soc/bus/timer/leaf") == (try tree.node("/soc/bus@5000/timer@5100/leaf")))
        #expect(tree.child(of: tree.root, named: "memory") == (try tree.node("/memory@80000000")))
        #expect(tree.child(of: tree.root, named: "memory@0") == nil)
        #expect(tree.child(of: tree.root, named: "mem") == nil, "a prefix of the base name is no match")
        #expect(tree.lookup(path: "/soc/serial@") == nil)
        // Agree with libfdt on every node and on every unit-address-less form.
        for node in tree.allNodes {
            let full = tree.path(of: node)
            let short = "/" + full.split(separator: "/").map { $0.split(separator: "@", maxSplits: 1)[0] }.joined(separator: "/")
            for path in [full, short] {
                let offset = tree.withUnsafeBlob { fdt_path_offset($0, path) }
                let ours = tree.lookup(path: path)
                #expect(ours.map { tree.structOffset(of: $0) } == (offset >= 0 ? offset : nil), "\(path)")
            }
        }
    }

    /// An exact name wins over an earlier child that only shares the base name.
    @Test func exactNameWinsOverBaseName() throws {
        let t = try openDTS("/dts-v1/; / { serial@1 { id = <1>; }; serial { id = <2>; }; serial@2 { id = <3>; }; };")
        #expect(t.lookup(path: "/serial").flatMap { t.property("id", of: $0)?.u32 } == 2)
        #expect(t.lookup(path: "/serial@2").flatMap { t.property("id", of: $0)?.u32 } == 3)
    }

    @Test func aliases() throws {
        let uart0 = try tree.node("/soc/serial@1000")
        let uart1 = try tree.node("/soc/serial@2000")
        #expect(tree.resolve("serial0") == uart0)
        #expect(tree.resolve("serial1") == uart1)
        #expect(tree.resolve("serial0/child") == (try tree.node("/soc/serial@1000/child")))
        #expect(tree.resolve("serial0/") == uart0)
        #expect(tree.resolve("serial0/nothing") == nil)
        #expect(tree.resolve("gpio") == (try tree.node("/soc/gpio@4000")))
        #expect(tree.resolve("dangling") == nil)
        #expect(tree.resolve("relative") == nil, "an alias value must be an absolute path")
        #expect(tree.resolve("serial9") == nil)
        #expect(tree.aliases(of: uart0) == ["serial0"])
        #expect(tree.aliases(of: uart1) == ["serial1"])
        #expect(tree.aliases(of: try tree.node("/soc/serial@3000")).isEmpty)
        #expect(tree.aliases(of: tree.root).isEmpty)
    }

    @Test func labelsOnlyWithSymbols() throws {
        // Without __symbols__ (as in most board DTBs) labels are gone.
        #expect(tree.lookup(path: "/__symbols__") == nil)
        #expect(tree.resolve("uart0") == nil)
        #expect(tree.resolve("inner") == nil)
        #expect(tree.labels(of: try tree.node("/soc/serial@1000")).isEmpty)
        // With them, a label resolves like an alias, also with a path suffix.
        let uart0 = try symbols.node("/soc/serial@1000")
        #expect(symbols.resolve("uart0") == uart0)
        #expect(symbols.resolve("uart0/child") == (try symbols.node("/soc/serial@1000/child")))
        #expect(symbols.resolve("deep") == (try symbols.node("/soc/bus@5000/timer@5100/leaf")))
        #expect(symbols.labels(of: uart0) == ["uart0"])
        #expect(symbols.labels(of: try symbols.node("/soc")) == ["soc"])
        #expect(symbols.labels(of: symbols.root).isEmpty)
        // Aliases come first when a name is both.
        #expect(symbols.resolve("serial0") == uart0)
        #expect(symbols.resolve("nolabel") == nil)
    }

    @Test func statusSemantics() throws {
        func node(_ path: String) throws -> Node { try tree.node(path) }
        #expect(tree.isEnabled(try node("/soc/serial@1000")))        // "okay"
        #expect(tree.isEnabled(try node("/soc/serial@2000")))        // "ok"
        #expect(tree.isEnabled(try node("/soc/gpio@4000")))          // no status
        #expect(!tree.isEnabled(try node("/soc/serial@3000")))       // "disabled"
        #expect(!tree.isEnabled(try node("/soc/watchdog@6000")))     // "fail"
        #expect(!tree.isEnabled(try node("/soc/rtc@7000")))          // "fail-sss"
        #expect(tree.isEnabled(tree.root))
        // A disabled bus disables everything below it, whatever their own status says.
        let bus = try node("/soc/bus@5000")
        let timer = try node("/soc/bus@5000/timer@5100")
        let leaf = try node("/soc/bus@5000/timer@5100/leaf")
        #expect(!tree.isEnabledItself(bus))
        #expect(tree.isEnabledItself(timer))
        #expect(!tree.isEnabled(timer))
        #expect(!tree.isEnabled(leaf))
        #expect(tree.disabledAncestor(of: timer) == bus)
        #expect(tree.disabledAncestor(of: leaf) == bus)
        #expect(tree.disabledAncestor(of: bus) == nil, "a node is not its own ancestor")
        #expect(tree.disabledAncestor(of: try node("/soc/serial@3000")) == nil)
        #expect(tree.disabledAncestor(of: tree.root) == nil)
    }

    /// The nearest disabled ancestor is reported when several are disabled.
    @Test func nearestDisabledAncestor() throws {
        let t = try openDTS("""
        /dts-v1/;
        / { a { status = "disabled"; b { c { status = "disabled"; d { status = "okay"; }; }; }; }; };
        """)
        #expect(t.disabledAncestor(of: try t.node("/a/b/c/d")) == (try t.node("/a/b/c")))
        #expect(t.disabledAncestor(of: try t.node("/a/b/c")) == (try t.node("/a")))
        #expect(t.disabledAncestor(of: try t.node("/a/b")) == (try t.node("/a")))
    }

    /// `status;` (present but empty) is not "okay": Linux's
    /// `__of_device_is_available` reports such a node unavailable, and
    /// isEnabledItself's own contract is "okay"/"ok" or no status property.
    @Test
    func emptyStatusIsDisabled() throws {
        let t = try openDTS("/dts-v1/; / { a { status; }; b { status = [01 02]; }; };")
        #expect(!t.isEnabledItself(try t.node("/a")))
        #expect(!t.isEnabled(try t.node("/a")))
        #expect(!t.isEnabledItself(try t.node("/b")))
    }

    @Test func compatible() throws {
        let uart = try tree.node("/soc/serial@1000")
        #expect(tree.compatible(of: tree.root) == ["vendor,board", "vendor,soc"])
        #expect(tree.isCompatible(tree.root, with: "vendor,soc"))
        #expect(!tree.isCompatible(tree.root, with: "vendor,so"), "whole strings only")
        #expect(!tree.isCompatible(tree.root, with: "vendor,board\u{0}vendor"))
        #expect(tree.isCompatible(uart, with: "ns16550a"))
        #expect(tree.compatible(of: try tree.node("/cells")).isEmpty)
        #expect(!tree.isCompatible(try tree.node("/cells"), with: ""))
    }

    @Test func propertyValues() throws {
        let cells = try tree.node("/cells")
        let empty = try #require(tree.property("empty", of: cells))
        #expect(empty.isEmpty && empty.count == 0 && empty.cells.isEmpty)
        #expect(empty.string == nil && empty.strings == nil && empty.u32 == nil && empty.u64 == nil)
        #expect(tree.hasProperty("empty", of: cells))
        #expect(!tree.hasProperty("missing", of: cells))
        #expect(tree.property("emp", of: cells) == nil, "names match whole")

        let one = try #require(tree.property("one", of: cells))
        #expect(one.u32 == 0x1234_5678 && one.u64 == 0x1234_5678 && one.cells == [0x1234_5678])
        #expect(one.bytes == [0x12, 0x34, 0x56, 0x78])
        let two = try #require(tree.property("two", of: cells))
        #expect(two.u32 == nil && two.u64 == 0x1_0000_0002 && two.cellCount == 2)
        #expect(two.number(at: 0, cells: 2) == 0x1_0000_0002 && two.number(at: 1, cells: 1) == 2)
        let three = try #require(tree.property("three", of: cells))
        #expect(three.u64 == nil && three.cells == [1, 2, 3] && three.cell(2) == 3)
        #expect(three.number(at: 0, cells: 3) == 0x2_0000_0003, "wider numbers keep their low 64 bits")
        let bytes = try #require(tree.property("bytes", of: cells))
        #expect(bytes.count == 5 && bytes.cellCount == 1 && bytes.cells == [0xdead_beef] && bytes.u32 == nil)
        #expect(bytes.string == nil)

        let str = try #require(tree.property("str", of: cells))
        #expect(str.string == "hello" && str.strings == ["hello"] && str.count == 6)
        #expect(str.contains(string: "hello") && !str.contains(string: "hell") && !str.contains(string: "hello!"))
        let list = try #require(tree.property("list", of: cells))
        #expect(list.strings == ["a", "", "bc"])
        #expect(list.string == "a")
        #expect(list.contains(string: "") && list.contains(string: "bc") && !list.contains(string: "b"))
        #expect(list.containsString(where: { $0.count == 2 }))
        #expect(!list.containsString(where: { $0.count == 3 }))
        let unterminated = try #require(tree.property("unterminated", of: cells))
        #expect(unterminated.string == nil && unterminated.strings == nil)
        #expect(!unterminated.containsString(where: { _ in true }))

        #expect(tree.properties(of: cells).map(\.name) ==
                ["empty", "one", "two", "three", "bytes", "str", "list", "unterminated"])
        #expect(tree.properties(of: try tree.node("/aliases")).count == 5)
        #expect(tree.property("model", of: tree.root)?.string == "Test board")
    }

    /// String lists are split on their NUL bytes, whatever the bytes between.
    @Test
    func stringListWithInvalidUTF8() throws {
        let t = try openDTS("/dts-v1/; / { a = [ff 00 61 62 00]; b = [e2 82 00 78 79 00]; };")
        #expect(t.property("a", of: t.root)?.strings?.count == 2)
        #expect(t.property("a", of: t.root)?.strings?.last == "ab")
        #expect(t.property("b", of: t.root)?.strings?.last == "xy")
    }

    @Test func phandles() throws {
        let t = try DeviceTree(bytes: compileDTS("""
        /dts-v1/;
        / { a: a { }; b: b { }; c { x = <&a &b>; }; legacy { linux,phandle = <0x4242>; }; both { phandle = <0x77>; linux,phandle = <0x77>; }; };
        """))
        let a = try t.node("/a")
        let b = try t.node("/b")
        let refs = try #require(t.property("x", of: try t.node("/c"))).cells
        #expect(t.node(phandle: refs[0]) == a)
        #expect(t.node(phandle: refs[1]) == b)
        #expect(t.phandle(of: a) == refs[0])
        #expect(t.phandle(of: try t.node("/c")) == nil)
        #expect(t.node(phandle: 0x4242) == (try t.node("/legacy")))
        #expect(t.phandle(of: try t.node("/legacy")) == 0x4242)
        #expect(t.node(phandle: 0x77) == (try t.node("/both")))
        #expect(t.maxPhandle == 0x4242)
        #expect(t.node(phandle: 0) == nil)
        #expect(t.node(phandle: 0xffff_ffff) == nil)
        #expect(t.node(phandle: 0x999) == nil)
        let none = try openDTS("/dts-v1/; / { a { }; };")
        #expect(none.maxPhandle == 0)
    }

    /// Version 16 blobs have no `size_dt_struct` header field (added in 17);
    /// the index must walk the structure block up to FDT_END instead.
    @Test
    func version16BlobOpens() throws {
        let source = "/dts-v1/; / { #address-cells = <1>; #size-cells = <1>; a@10 { reg = <0x10 4>; }; };"
        let v16 = try compileDTS(source, version: 16)
        #expect(v16[23] == 16)
        let t = try DeviceTree(bytes: v16)
        #expect(t.lookup(path: "/a@10") != nil)
        #expect(try t.deviceAddress(of: t.node("/a@10")) == .mmio([PhysicalRange(base: 0x10, size: 4)]))
    }

    @Test func errorDescriptionsNameTheProblem() {
        #expect(DeviceTreeError.noSuchNode("serial7").description.contains("'serial7'"))
        #expect(DeviceTreeError.badProperty(node: "/soc", property: "ranges", reason: "is odd").description
                == "/soc: property 'ranges' is odd")
        #expect(DeviceTreeError.libfdt(call: "fdt_setprop", code: -FDT_ERR_NOSPACE, context: "/a: b").description
                == "fdt_setprop failed: FDT_ERR_NOSPACE (/a: b)")
        #expect(DeviceTreeError.libfdt(call: "fdt_pack", code: -FDT_ERR_BADMAGIC, context: "").description
                == "fdt_pack failed: FDT_ERR_BADMAGIC")
        #expect(DeviceTreeError.malformed("x").description == "not a valid device tree blob: x")
    }
}
