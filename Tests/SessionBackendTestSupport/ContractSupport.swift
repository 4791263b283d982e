import ClaudeCode
import ClaudeCodeSessions
import Foundation

/// A failed contract check, with what was expected.
public struct ContractFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Throws ``ContractFailure`` when `condition` is false.
public func check(
    _ condition: @autoclosure () async throws -> Bool, _ message: @autoclosure () -> String, line: Int = #line
) async throws {
    if try await !condition() { throw ContractFailure("line \(line): \(message())") }
}

/// Throws ``ContractFailure`` unless `a == b`.
public func checkEqual<T: Equatable>(
    _ a: @autoclosure () async throws -> T, _ b: @autoclosure () async throws -> T,
    _ message: @autoclosure () -> String = "", line: Int = #line
) async throws {
    let (x, y) = (try await a(), try await b())
    if x != y { throw ContractFailure("line \(line): \(message()) — got \(x), expected \(y)") }
}

/// Throws ``ContractFailure`` unless `body` throws a ``SessionStoreError`` with `code`.
public func checkThrows<T>(
    _ code: SessionStoreError.Code, _ message: @autoclosure () -> String, line: Int = #line,
    _ body: () async throws -> T
) async throws {
    do {
        _ = try await body()
    } catch let error as SessionStoreError {
        if error.code != code {
            throw ContractFailure("line \(line): \(message()) — threw \(error), expected code \(code)")
        }
        return
    }
    throw ContractFailure("line \(line): \(message()) — did not throw, expected \(code)")
}

/// A transcript line built from a JSON text (the exact bytes are kept).
public func entry(_ text: String) -> SessionStoreEntry {
    // swiftlint:disable:next force_try
    try! SessionStoreEntry(raw: RawJSON(text))
}

/// `{"type":"<type>","uuid":"<uuid>", …}` with optional extra members.
public func entry(type: String = "user", uuid: String? = nil, _ extra: String = "") -> SessionStoreEntry {
    var text = #"{"type":"\#(type)""#
    if let uuid { text += #","uuid":"\#(uuid)""# }
    if !extra.isEmpty { text += "," + extra }
    return entry(text + "}")
}

/// A fresh, unique name for test isolation (project keys, session ids).
public func uniqueName(_ prefix: String = "t") -> String {
    "\(prefix)-\(UUID().uuidString.lowercased())"
}
