// Temporary stand-in; replaced by the fast writer.
import Foundation

extension JSONValue {
    public func serialized() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data("null".utf8))
    }
    public var jsonString: String { String(decoding: serialized(), as: UTF8.self) }
}
