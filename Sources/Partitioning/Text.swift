/// Byte-wise substring search. `String.contains(_: StringProtocol)` is not in
/// the Embedded Swift standard library; device-tree names are ASCII anyway.
extension String {
    func includes(_ needle: String) -> Bool {
        let hay = Array(utf8)
        let pin = Array(needle.utf8)
        guard !pin.isEmpty else { return true }
        guard hay.count >= pin.count else { return false }
        var i = 0
        while i + pin.count <= hay.count {
            var match = true
            var k = 0
            while k < pin.count { if hay[i + k] != pin[k] { match = false; break }; k += 1 }
            if match { return true }
            i += 1
        }
        return false
    }
}
