/// A failure to parse JSON text.
///
/// The error names the byte offset where parsing stopped and why. It never carries
/// the input itself, so it is safe to log even when the input holds secrets.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The offset, in bytes from the start of the input, where the problem was found.
    public var offset: Int
    /// A short, human-readable reason, such as `"unexpected end of input"`.
    public var reason: String

    /// Creates an error at `offset` with `reason`.
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        "JSON parse error at byte \(offset): \(reason)"
    }
}
