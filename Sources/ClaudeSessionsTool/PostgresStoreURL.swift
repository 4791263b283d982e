import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import Foundation
import PostgresNIO

/// `--store postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=PATH]`,
/// read: `sslmode` is one of libpq's (`PostgresSessionStore.SSLMode`; `prefer` by default, as in
/// libpq), `sslrootcert` the root certificate that `verify-ca` and `verify-full` check the
/// server's certificate with (`~/.postgresql/root.crt` by default, `system` for the system's).
struct PostgresStoreURL: Equatable {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String
    var sslMode: PostgresSessionStore.SSLMode
    var sslRootCertificate: String?

    init(_ url: String) throws(ToolError) {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            throw ToolError(
                ExitStatus.usage,
                "cannot read '\(Self.redacted(url))'; use postgres://USER:PASSWORD@HOST:PORT/DATABASE[?sslmode=MODE]")
        }
        self.host = host
        user = components.user.flatMap { $0.isEmpty ? nil : $0 } ?? "postgres"
        password = components.password
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? user : path
        port = components.port ?? 5432
        sslMode = .prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = PostgresSessionStore.SSLMode(rawValue: value) else {
                    throw ToolError(
                        ExitStatus.usage,
                        "sslmode '\(item.value ?? "")' in the store URL is not one of \(PostgresSessionStore.SSLMode.names)"
                    )
                }
                sslMode = mode
            case "sslrootcert":
                sslRootCertificate = item.value.map(expandTilde)
            default:
                continue
            }
        }
    }

    /// How to name the store in messages: no password, and the TLS mode when not the default.
    var location: String {
        "postgres://\(user)@\(host):\(port)/\(database)" + (sslMode == .prefer ? "" : "?sslmode=\(sslMode.rawValue)")
    }

    func clientConfiguration() throws(ToolError) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        do {
            tls = try PostgresSessionStore.tls(sslMode, rootCertificate: sslRootCertificate)
        } catch {
            throw ToolError(ExitStatus.usage, "\(error)")
        }
        return PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    /// `url` without its password, for messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "…"
        return components.string ?? "postgres://…"
    }
}
