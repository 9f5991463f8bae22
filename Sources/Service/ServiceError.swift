/// Why a service command could not do its work; the message names what and
/// what to do.
public struct ServiceError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
