import Dispatch
import Foundation

extension FileSessionStore {
    /// The project keys that have a folder in this store, sorted (for tools that list every
    /// project, such as `claude-sessions --store files:DIR`).
    ///
    /// Folder names are decoded as the store encodes them; a shortened (hashed) name is read
    /// from the `.key` file beside it. Names the store never produces are left out.
    ///
    /// - Returns: The keys; empty when the folder does not exist.
    /// - Throws: ``SessionStoreError`` with ``SessionStoreError/Code/ioFailure`` when the folder
    ///   exists but cannot be read.
    public func listProjectKeys() async throws(SessionStoreError) -> [String] {
        let directory = configuration.directory
        return try await BlockingIO.perform { () throws(SessionStoreError) -> [String] in
            try Self.projectKeys(in: directory)
        }
    }

    static func projectKeys(in directory: String) throws(SessionStoreError) -> [String] {
        let entries: [POSIX.Entry]
        do {
            entries = try POSIX.listDirectory(directory)
        } catch {
            if error.number == ENOENT || error.number == ENOTDIR { return [] }
            throw SessionStoreError(.ioFailure, reason: "cannot list \(directory) (errno \(error.number))")
        }
        var keys: [String] = []
        for entry in entries where !entry.name.hasPrefix(".") && POSIX.entryIsDirectory(entry, in: directory) {
            if FileNameCodec.isHashed(entry.name) {
                if let bytes = try? POSIX.readFile(directory + "/" + entry.name + ".key"),
                    let key = String(validating: bytes, as: UTF8.self)
                {
                    keys.append(key.trimmingCharacters(in: .newlines))
                }
            } else if let key = FileNameCodec.decode(entry.name) {
                keys.append(key)
            }
        }
        return keys.sorted()
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
