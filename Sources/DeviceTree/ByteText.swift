/// Byte-wise tests on a name read in place from a blob (a property name, a
/// `compatible` entry), so classifying one allocates no String. Device-tree
/// names are ASCII; bytes are compared as they are, without Unicode
/// normalisation.
extension UnsafeRawBufferPointer {
    public func equals(_ text: StaticString) -> Bool {
        count == text.utf8CodeUnitCount && matches(text, at: 0)
    }

    public func hasPrefix(_ text: StaticString) -> Bool {
        count >= text.utf8CodeUnitCount && matches(text, at: 0)
    }

    public func hasSuffix(_ text: StaticString) -> Bool {
        count >= text.utf8CodeUnitCount && matches(text, at: count - text.utf8CodeUnitCount)
    }

    public func includes(_ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard n > 0 else { return true }
        var i = 0
        while i + n <= count {
            if matches(text, at: i) { return true }
            i += 1
        }
        return false
    }

    private func matches(_ text: StaticString, at start: Int) -> Bool {
        let n = text.utf8CodeUnitCount
        let t = text.utf8Start
        var k = 0
        while k < n {
            if self[start + k] != t[k] { return false }
            k += 1
        }
        return true
    }
}
