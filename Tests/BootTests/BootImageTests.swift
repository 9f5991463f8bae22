import Foundation
import Testing
@testable import Supervisor

/// A guest's image files across its boots in one VMM: the file held is read
/// again while the path names it unchanged; a file written in place or
/// replaced by a rename is opened again, so a reset boots what the path holds.
@Suite struct BootImageTests {
    static func file(_ content: String) -> String {
        let path = NSTemporaryDirectory() + "cleave-image-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        FileManager.default.createFile(atPath: path, contents: Data(content.utf8))
        return path
    }

    static func content(_ opened: BootImage.Opened) -> String {
        var bytes = [UInt8](repeating: 0, count: opened.size)
        _ = bytes.withUnsafeMutableBytes { opened.file.readExactly(into: $0, at: 0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func anUnchangedFileIsTheOneHeld() throws {
        let path = BootImageTests.file("kernel one")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let image = BootImage(path: path, headCount: 6)
        let first = try image.current()
        #expect(first.head == Array("kernel".utf8) && first.size == 10)
        #expect(try image.current() === first)
    }

    @Test func aFileReplacedByARenameIsOpenedAgain() throws {
        let path = BootImageTests.file("kernel one")
        let next = BootImageTests.file("kernel number two")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let image = BootImage(path: path)
        let first = try image.current()
        #expect(rename(next, path) == 0)
        let second = try image.current()
        #expect(second !== first && BootImageTests.content(second) == "kernel number two")
    }

    @Test func aFileWrittenInPlaceIsOpenedAgain() throws {
        let path = BootImageTests.file("kernel one")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let image = BootImage(path: path)
        let first = try image.current()
        // Same size, same inode: the ctime (and mtime) tell it.
        usleep(10_000)
        try Data("kernel two".utf8).write(to: URL(fileURLWithPath: path))
        let second = try image.current()
        #expect(second !== first && BootImageTests.content(second) == "kernel two")
    }

    @Test func aMissingFileNamesItsPath() throws {
        let path = BootImageTests.file("kernel one")
        let image = BootImage(path: path)
        _ = try image.current()
        try FileManager.default.removeItem(atPath: path)
        #expect(throws: SupervisorError.self) { try image.current() }
        do { _ = try image.current() } catch { #expect("\(error)".contains(path)) }
    }
}
