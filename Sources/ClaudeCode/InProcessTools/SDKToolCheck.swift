import Logging
import Synchronization

/// What the CLI made of one in-process (``MCPServerConfig/sdk(_:)``) MCP server's tools.
///
/// The CLI validates the tools a server lists and, without telling the server, drops those it
/// refuses: all of a server's tools when one schema is not an object schema, or one tool whose
/// schema it cannot use (an unknown property type, for example). Claude then answers "No such tool
/// available". ``ClaudeSDKClient`` compares what each server registered with what the CLI offers,
/// logs a warning for every refused tool, and keeps the result (``ClaudeSDKClient/sdkServerToolReports()``).
public struct SDKServerToolReport: Sendable, Hashable {
    /// The server's name (the key in ``ClaudeCodeOptions/mcpServers``).
    public var server: String
    /// Its connection state as the CLI reports it; `nil` when the CLI did not list the server.
    public var status: MCPConnectionStatus?
    /// The tools the server registered, in its order.
    public var registered: [String]
    /// The tools the CLI offers for it.
    public var offered: [String]

    /// Creates a report.
    public init(server: String, status: MCPConnectionStatus?, registered: [String], offered: [String]) {
        self.server = server
        self.status = status
        self.registered = registered
        self.offered = offered
    }

    /// Registered tools the CLI does not offer: it refused them.
    public var refused: [String] {
        let offered = Set(offered)
        return registered.filter { !offered.contains($0) }
    }

    /// Whether every registered tool is offered.
    public var isHealthy: Bool { refused.isEmpty }

    /// A one-line explanation of a report that is not healthy, `nil` for a healthy one.
    public var problem: String? {
        guard !isHealthy else { return nil }
        let which = refused.count == registered.count ? "every tool" : "tools \(refused.joined(separator: ", "))"
        return "the CLI refused \(which) of in-process MCP server '\(server)' (status "
            + "\(status?.rawValue ?? "unknown")); Claude cannot call them. Check their input schemas: "
            + "object schemas whose properties use JSON Schema types"
    }
}

/// Checks, once per connection, that the CLI offers every tool of the in-process servers.
///
/// The first `system/init` (sent when a turn starts, after the CLI has listed the servers' tools)
/// starts the check. When `init.tools` names every registered tool (`mcp__<server>__<tool>`), the
/// check ends there, without a round trip. Otherwise it asks the CLI (`mcp_status`), whose lists
/// are authoritative (ToolSearch may keep tools out of `init.tools` that the CLI did accept), and
/// logs a warning for each server with refused tools.
final class SDKToolCheck: Sendable {
    private struct State {
        var started = false
        var reports: Task<[SDKServerToolReport], Never>?
    }

    /// Registered tool names per server, in `mcpServers`' key order.
    let registered: [(server: String, tools: [String])]
    private let state = Mutex(State())
    private let logger: Logger

    /// `nil` when the options have no in-process server with tools.
    init?(options: ClaudeCodeOptions, logger: Logger) {
        let registered = Self.registeredTools(options)
        guard !registered.isEmpty else { return nil }
        self.registered = registered
        self.logger = logger
    }

    /// Starts the check on the first `system/init`; later ones are ignored.
    func observe(_ info: SystemInit, askCLI: @escaping @Sendable () async throws(ClaudeCodeError) -> [MCPServerStatus])
    {
        // The check is claimed and its task stored under one lock, so `reports()` never sees a
        // started check without its task.
        state.withLock { state in
            guard !state.started else { return }
            state.started = true
            state.reports = makeCheck(info, askCLI: askCLI)
        }
    }

    private func makeCheck(
        _ info: SystemInit, askCLI: @escaping @Sendable () async throws(ClaudeCodeError) -> [MCPServerStatus]
    ) -> Task<[SDKServerToolReport], Never> {
        let offered = Set(info.tools)
        let allListed = registered.allSatisfy { entry in
            entry.tools.allSatisfy { offered.contains("mcp__\(entry.server)__\($0)") }
        }
        return Task { [registered, logger] () -> [SDKServerToolReport] in
            if allListed {
                let states = Dictionary(info.mcpServers.map { ($0.name, $0.status) }, uniquingKeysWith: { a, _ in a })
                return registered.map {
                    SDKServerToolReport(
                        server: $0.server, status: states[$0.server].map(MCPConnectionStatus.init(rawValue:)),
                        registered: $0.tools, offered: $0.tools)
                }
            }
            let reports: [SDKServerToolReport]
            do throws(ClaudeCodeError) {
                reports = Self.reports(registered: registered, statuses: try await askCLI())
            } catch {
                logger.warning(
                    "could not check the tools of the in-process MCP servers: \(error.code): \(error.message)")
                return []
            }
            for report in reports {
                if let problem = report.problem {
                    logger.warning(
                        "\(problem)",
                        metadata: ["mcp.server": "\(report.server)", "mcp.refused": "\(report.refused)"])
                }
            }
            return reports
        }
    }

    /// The reports of the automatic check: waits for it when it runs; empty before it started.
    func reports() async -> [SDKServerToolReport] {
        guard let task = state.withLock({ $0.reports }) else { return [] }
        return await task.value
    }

    /// The in-process servers with tools, by name, and their tools' names.
    static func registeredTools(_ options: ClaudeCodeOptions) -> [(server: String, tools: [String])] {
        options.mcpServers.keys.sorted().compactMap { name in
            guard case .sdk(let server) = options.mcpServers[name], !server.tools.isEmpty else { return nil }
            return (name, server.tools.map(\.name))
        }
    }

    static func reports(registered: [(server: String, tools: [String])], statuses: [MCPServerStatus])
        -> [SDKServerToolReport]
    {
        registered.map { entry in
            let status = statuses.first { $0.name == entry.server }
            return SDKServerToolReport(
                server: entry.server, status: status?.status, registered: entry.tools,
                offered: status?.tools.map(\.name) ?? [])
        }
    }
}
