import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the CLI names and finds project folders under `<config>/projects/`.
enum ProjectDirectories {
    /// The longest folder name kept whole; longer names are cut and get a hash suffix.
    static let maximumSanitizedLength = 200

    /// The folder name the CLI uses for a working directory.
    ///
    /// Every UTF-16 code unit outside `[A-Za-z0-9]` becomes `-` (so a character above
    /// U+FFFF becomes two), exactly as the CLI's JavaScript `replace(/[^a-zA-Z0-9]/g, "-")`
    /// does. Names longer than 200 units are cut to 200 and get `-` plus the base-36
    /// absolute value of the 32-bit `h = h * 31 + unit` hash of the original path's UTF-16
    /// units. (The Python SDK iterates code points, so it disagrees with the CLI for paths
    /// with characters above U+FFFF.)
    static func sanitize(_ path: String) -> String {
        var sanitized = [UInt8]()
        sanitized.reserveCapacity(path.utf16.count)
        for unit in path.utf16 {
            let isAlphanumeric =
                (unit >= 0x30 && unit <= 0x39) || (unit >= 0x41 && unit <= 0x5A) || (unit >= 0x61 && unit <= 0x7A)
            sanitized.append(isAlphanumeric ? UInt8(unit) : UInt8(ascii: "-"))
        }
        if sanitized.count <= maximumSanitizedLength {
            return String(decoding: sanitized, as: UTF8.self)
        }
        return String(decoding: sanitized.prefix(maximumSanitizedLength), as: UTF8.self) + "-" + hashSuffix(path)
    }

    /// The CLI's `Math.abs(simpleHash(path)).toString(36)` over UTF-16 code units.
    static func hashSuffix(_ path: String) -> String {
        var hash: Int32 = 0
        for unit in path.utf16 {
            hash = (hash &<< 5) &- hash &+ Int32(unit)
        }
        let magnitude = UInt64(hash.magnitude)
        return String(magnitude, radix: 36)
    }

    /// Realpath plus NFC, as the CLI keys project folders.
    static func canonicalize(_ directory: String) -> String {
        TextRules.nfc(POSIX.realPath(directory))
    }

    /// The project folder for a canonical working directory: the exact name when it
    /// exists; for names over 200 characters, otherwise the first folder (in name order)
    /// that starts with the same 200 characters and a `-`, in case another hash was used.
    static func find(projectPath: String, projectsDirectory: String) -> String? {
        let name = sanitize(projectPath)
        let exact = projectsDirectory + "/" + name
        if POSIX.isDirectory(exact) { return exact }
        guard name.utf8.count > maximumSanitizedLength else { return nil }
        let prefix = String(name.utf8.prefix(maximumSanitizedLength))! + "-"
        guard let entries = try? POSIX.listDirectory(projectsDirectory) else { return nil }
        let matches = entries.filter { $0.name.hasPrefix(prefix) && POSIX.entryIsDirectory($0, in: projectsDirectory) }
            .map(\.name).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return matches.first.map { projectsDirectory + "/" + $0 }
    }

    /// The paths of all git worktrees of the repository containing `directory`, from
    /// `git worktree list --porcelain` (5 second limit). Empty when git is missing, the
    /// directory is not in a repository, or git fails.
    static func worktreePaths(of directory: String, environment: [String: String]) -> [String] {
        guard POSIX.isDirectory(directory) else { return [] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "worktree", "list", "--porcelain"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return []
        }
        // Read on this (already blocking) thread with a deadline: a reader job on the shared
        // blocking queue could wait behind other jobs past the limit and lose the answer.
        guard let data = Self.readToEnd(output.fileHandleForReading.fileDescriptor, seconds: 5) else {
            process.terminate()
            process.waitUntilExit()
            return []
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return [] }
        let text = String(decoding: data, as: UTF8.self)
        var paths: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where line.hasPrefix("worktree ") {
            paths.append(TextRules.nfc(String(line.dropFirst("worktree ".count))))
        }
        return paths
    }
    /// Reads `descriptor` to its end, or returns `nil` when that takes longer than `seconds`.
    static func readToEnd(_ descriptor: Int32, seconds: Double) -> Data? {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return nil }
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let millis = Int32(
                max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            let ready = poll(&entry, 1, millis)
            if ready < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if ready == 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return nil
            }
            if count == 0 { return data }
            data.append(contentsOf: buffer[0..<count])
        }
    }
}
