import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The identity the CLI runs as when ``ClaudeCodeOptions/user`` is set: a user database entry's
/// uid, primary group and supplementary groups.
public struct CLIUser: Sendable, Hashable {
    /// The user's name in the user database.
    public var name: String
    /// The user id the CLI runs with.
    public var uid: UInt32
    /// The primary group id the CLI runs with.
    public var gid: UInt32
    /// The supplementary groups the CLI runs with (the user's groups, as `initgroups` would set).
    public var groups: [UInt32]

    /// Creates an identity.
    public init(name: String, uid: UInt32, gid: UInt32, groups: [UInt32]) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    /// util-linux's `setpriv`, through which the CLI is started as another user on Linux.
    static let setprivPath = "/usr/bin/setpriv"

    /// Looks `user` (a name, or a numeric uid) up in the user database and checks that this
    /// process may switch to it.
    ///
    /// - Throws: ``ClaudeCodeError`` with ``ClaudeCodeError/Code/invalidOptions`` (empty, unknown)
    ///   or ``ClaudeCodeError/Code/userNotPermitted`` (not root, and not already that user).
    public static func resolve(_ user: String, effectiveUID: UInt32 = UInt32(geteuid())) throws(ClaudeCodeError)
        -> CLIUser
    {
        guard !user.isEmpty, !user.utf8.contains(0) else {
            throw ClaudeCodeError(.invalidOptions, "options.user is empty or contains a NUL byte")
        }
        guard let found = lookUp(user) else {
            throw ClaudeCodeError(
                .invalidOptions, "options.user: no user \(user) in the user database (a name or a numeric uid)")
        }
        try found.checkPermitted(effectiveUID: effectiveUID)
        return found
    }

    /// Only root may switch to another user; any process may "switch" to its own.
    func checkPermitted(effectiveUID: UInt32) throws(ClaudeCodeError) {
        guard effectiveUID == 0 || effectiveUID == uid else {
            throw ClaudeCodeError(
                .userNotPermitted,
                "options.user: this process (uid \(effectiveUID)) may not run the CLI as \(name) (uid \(uid)); "
                    + "only root may switch users. Run the host as root or as \(name), or leave user unset")
        }
    }

    private static func lookUp(_ user: String) -> CLIUser? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        let status: Int32
        if let uid = UInt32(user) {
            status = getpwuid_r(uid_t(uid), &entry, &buffer, buffer.count, &result)
        } else {
            status = getpwnam_r(user, &entry, &buffer, buffer.count, &result)
        }
        guard status == 0, result != nil, let namePointer = entry.pw_name else { return nil }
        let name = String(decoding: Data(bytes: namePointer, count: strlen(namePointer)), as: UTF8.self)
        let uid = UInt32(entry.pw_uid)
        let gid = UInt32(entry.pw_gid)
        return CLIUser(name: name, uid: uid, gid: gid, groups: groups(of: name, primary: gid))
    }

    /// The user's groups from the group database (`getgrouplist`), the primary group included.
    private static func groups(of name: String, primary: UInt32) -> [UInt32] {
        var count: Int32 = 64
        while true {
            #if canImport(Darwin)
                var list = [Int32](repeating: 0, count: Int(count))
                let rc = getgrouplist(name, Int32(bitPattern: primary), &list, &count)
                if rc >= 0 { return list.prefix(Int(count)).map { UInt32(bitPattern: $0) } }
            #else
                var list = [gid_t](repeating: 0, count: Int(count))
                let rc = getgrouplist(name, gid_t(primary), &list, &count)
                if rc >= 0 { return list.prefix(Int(count)).map { UInt32($0) } }
            #endif
            guard count < 65536 else { return [primary] }
            count = max(count, 64) * 2
        }
    }
}
