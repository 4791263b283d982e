import ClaudeCode
public import ClaudeCodeSessions
import Foundation
public import PostgresNIO

extension PostgresSessionStore {
    /// Whether and how a connection uses TLS, with libpq's `sslmode` names and meanings.
    ///
    /// | Mode | TLS | The server's certificate |
    /// | --- | --- | --- |
    /// | ``disable`` | never | — |
    /// | ``prefer`` (the default, as in libpq) | when the server offers it, else a plain connection | not checked |
    /// | ``require`` | always (a server without TLS is refused) | not checked; with a root certificate given, checked as ``verifyCA`` does (as libpq does) |
    /// | ``verifyCA`` | always | signed by the root certificate |
    /// | ``verifyFull`` | always | signed by the root certificate and naming the host (its DNS name or IP address) |
    ///
    /// The root certificate is `sslrootcert` (`PGSSLROOTCERT`): a PEM file, or `system` for the
    /// system's trusted roots; by default `~/.postgresql/root.crt`, as in libpq. libpq's `allow`
    /// (plain first, TLS only when the server insists) is not offered: postgres-nio negotiates TLS
    /// first or not at all.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        /// No TLS.
        case disable
        /// TLS when the server offers it, without checking its certificate; else plain.
        case prefer
        /// TLS, without checking the certificate unless a root certificate is given.
        case require
        /// TLS with a certificate signed by the root certificate.
        case verifyCA = "verify-ca"
        /// TLS with a certificate signed by the root certificate and naming the host.
        case verifyFull = "verify-full"

        /// The modes' names, for messages: `disable, prefer, require, verify-ca, verify-full`.
        public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
    }

    /// The postgres-nio TLS setting for `mode` (libpq's meanings, see ``SSLMode``).
    ///
    /// - Parameters:
    ///   - mode: The mode.
    ///   - rootCertificate: `sslrootcert`: a PEM file of trusted roots, `system` for the system's
    ///     roots, or `nil` for `~/.postgresql/root.crt` (required by ``SSLMode/verifyCA`` and
    ///     ``SSLMode/verifyFull`` only).
    ///   - environment: Where `HOME` is read from (for the default root certificate).
    /// - Throws: `SessionStoreError/Code/backendFailure` when a mode that checks certificates has
    ///   no root certificate file to check them with.
    public static func tls(
        _ mode: SSLMode, rootCertificate: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SessionStoreError) -> PostgresClient.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .disable:
            return .disable
        case .prefer:
            configuration.certificateVerification = .none
            return .prefer(configuration)
        case .require:
            guard let rootCertificate, !rootCertificate.isEmpty else {
                configuration.certificateVerification = .none
                return .require(configuration)
            }
            try trust(rootCertificate, in: &configuration)
            configuration.certificateVerification = .noHostnameVerification
            return .require(configuration)
        case .verifyCA, .verifyFull:
            let root =
                rootCertificate.flatMap { $0.isEmpty ? nil : $0 }
                ?? HomeDirectory.path(environment: environment) + "/.postgresql/root.crt"
            try trust(root, in: &configuration)
            configuration.certificateVerification = mode == .verifyFull ? .fullVerification : .noHostnameVerification
            return .require(configuration)
        }
    }

    private static func trust(_ root: String, in configuration: inout TLSConfiguration) throws(SessionStoreError) {
        if root == "system" {
            configuration.trustRoots = .default
            return
        }
        guard FileManager.default.isReadableFile(atPath: root) else {
            throw SessionStoreError(
                .backendFailure,
                reason:
                    "the root certificate file \(root) does not exist or cannot be read; give sslrootcert=PATH (PGSSLROOTCERT), sslrootcert=system, or a weaker sslmode"
            )
        }
        configuration.trustRoots = .file(root)
    }
}
