/// The last `capacity` bytes of a console's output, a ring addressed by
/// absolute positions: `end` counts every byte ever appended, so a reader
/// that keeps its own position (a console client, ConsoleServer) takes what
/// it has not seen yet, and knows how much it missed when it fell more than
/// `capacity` bytes behind (its position is before `start`).
///
/// A value type with no locking: its owner serialises access.
public struct ConsoleHistory {
    public let capacity: Int
    private var storage: [UInt8]
    /// Every byte appended so far (the position after the newest byte).
    public private(set) var end: UInt64 = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "a console history holds at least one byte")
        self.capacity = capacity
        storage = [UInt8](repeating: 0, count: capacity)
    }

    /// The position of the oldest byte still held.
    public var start: UInt64 { end > UInt64(capacity) ? end - UInt64(capacity) : 0 }

    /// How many bytes are held (at most `capacity`).
    public var count: Int { Int(end - start) }

    public mutating func append(_ byte: UInt8) {
        storage[Int(end % UInt64(capacity))] = byte
        end += 1
    }

    public mutating func append(contentsOf bytes: [UInt8]) {
        for b in bytes { append(b) }
    }

    /// Up to `limit` bytes from `position` on (a position before `start`
    /// reads from `start`: the caller compares to learn what was lost; one at
    /// or after `end` reads nothing).
    public func bytes(from position: UInt64, limit: Int) -> [UInt8] {
        let from = max(position, start)
        guard from < end, limit > 0 else { return [] }
        let n = Int(min(UInt64(limit), end - from))
        let index = Int(from % UInt64(capacity))
        let first = min(n, capacity - index)
        var out = Array(storage[index..<(index + first)])
        if first < n { out.append(contentsOf: storage[0..<(n - first)]) }
        return out
    }
}
