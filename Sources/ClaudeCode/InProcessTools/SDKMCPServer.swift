import Foundation

/// A tool written in Swift that Claude can call, served in-process by an ``SDKMCPServer``.
///
/// ```swift
/// struct AddInput: Codable { var a: Double; var b: Double }
/// let add = try SDKMCPTool(name: "add", description: "Adds two numbers", input: AddInput.self) { input in
///     .text("\(input.a + input.b)")
/// }
/// ```
///
/// Claude sees it as `mcp__<server key>__<name>`. Arguments are checked against ``inputSchema``
/// before the handler runs (see ``JSONSchemaValidator``); an unknown tool, invalid arguments and a
/// handler that throws all come back to Claude as error results, never as a protocol failure.
public struct SDKMCPTool: Sendable {
    /// The tool's name within its server.
    public let name: String
    /// What the tool does, for Claude.
    public let description: String
    /// The JSON Schema of the arguments (an object schema).
    public let inputSchema: JSONValue
    /// Hints about the tool's behaviour.
    public let annotations: MCPToolAnnotations?
    let handler: @Sendable (JSONValue) async throws -> MCPToolResult

    /// A tool whose arguments are described by a JSON Schema and arrive as a ``JSONValue`` object.
    ///
    /// The CLI accepts only object schemas, and refuses *every* tool of a server when one schema is
    /// not one: an empty schema (`[:]`) is therefore sent as `{"type":"object","properties":{}}`,
    /// and any other schema that is not an object schema makes `connect()` fail with
    /// ``ClaudeCodeError/Code/invalidOptions`` before the CLI starts (see ``schemaProblem``).
    public init(
        name: String, description: String, inputSchema: JSONValue, annotations: MCPToolAnnotations? = nil,
        handler: @escaping @Sendable (_ arguments: JSONValue) async throws -> MCPToolResult
    ) {
        self.name = name
        self.description = description
        self.inputSchema = Self.normalizedSchema(inputSchema)
        self.annotations = annotations
        self.handler = handler
    }

    /// A tool that takes no arguments: its schema is `{"type":"object","properties":{}}`.
    ///
    /// ```swift
    /// let now = SDKMCPTool(name: "now", description: "The current time") { .text("\(Date())") }
    /// ```
    public init(
        name: String, description: String, annotations: MCPToolAnnotations? = nil,
        handler: @escaping @Sendable () async throws -> MCPToolResult
    ) {
        self.init(
            name: name, description: description, inputSchema: Self.emptyObjectSchema, annotations: annotations
        ) { _ in try await handler() }
    }

    /// The schema of a tool without arguments.
    static let emptyObjectSchema: JSONValue = ["type": "object", "properties": [:]]

    /// An empty schema becomes the empty object schema; anything else is kept as given.
    static func normalizedSchema(_ schema: JSONValue) -> JSONValue {
        schema == [:] ? emptyObjectSchema : schema
    }

    /// Why the CLI would refuse this tool's schema (and with it every tool of its server), or `nil`
    /// when it is an object schema (`"type": "object"`, `"properties"` an object and `"required"` an
    /// array of names when present). The CLI checks more than this (it drops a tool whose property
    /// types it does not know, for example); ``ClaudeSDKClient/sdkServerToolReports()`` reports those.
    public var schemaProblem: String? {
        guard case .object(let object) = inputSchema else {
            return "tool \(name): its input schema must be a JSON object with \"type\": \"object\""
        }
        guard object["type"] == "object" else {
            return
                "tool \(name): its input schema must have \"type\": \"object\" (the CLI drops every tool of the server otherwise)"
        }
        if let properties = object["properties"], properties.objectValue == nil {
            return
                "tool \(name): its input schema's \"properties\" must be an object (the CLI drops every tool of the server otherwise)"
        }
        if let required = object["required"],
            required.arrayValue.map({ $0.allSatisfy { $0.stringValue != nil } }) != true
        {
            return
                "tool \(name): its input schema's \"required\" must be an array of property names (the CLI drops every tool of the server otherwise)"
        }
        return nil
    }

    /// A tool whose arguments decode into `Input`. The schema is derived from `Input`
    /// (see ``JSONSchemaInference``) unless you pass one. A type without properties gives
    /// `{"type":"object","properties":{}}` (or use ``init(name:description:annotations:handler:)``).
    /// - Throws: ``ClaudeCodeError/Code/invalidInput`` when no schema is given and none can be derived,
    ///   or when the schema is not an object schema (`Input` is not a struct or class with keys, or
    ///   the given schema lacks `"type": "object"`): the CLI would drop every tool of the server.
    public init<Input: Decodable & Sendable>(
        name: String, description: String, input: Input.Type, inputSchema: JSONValue? = nil,
        annotations: MCPToolAnnotations? = nil,
        handler: @escaping @Sendable (_ input: Input) async throws -> MCPToolResult
    ) throws(ClaudeCodeError) {
        let schema: JSONValue
        if let inputSchema {
            schema = Self.normalizedSchema(inputSchema)
        } else {
            schema = try JSONSchemaInference.schema(for: Input.self)
        }
        guard case .object(let object) = schema, object["type"] == "object" else {
            throw ClaudeCodeError(
                .invalidInput,
                "tool \(name): the input schema must be an object schema (\"type\": \"object\"); the CLI drops every tool of the server otherwise"
            )
        }
        self.init(name: name, description: description, inputSchema: schema, annotations: annotations) { arguments in
            let decoded: Input
            do {
                decoded = try JSONDecoder().decode(Input.self, from: Data(arguments.serialized()))
            } catch {
                return .error("Input validation error: \(Self.describe(error))")
            }
            return try await handler(decoded)
        }
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return String(describing: error) }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.reduce("$") { path, key in
                key.intValue.map { "\(path)[\($0)]" } ?? "\(path).\(key.stringValue)"
            }
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context)): missing required property \(key.stringValue)"
        case .typeMismatch(let type, let context): return "\(path(context)): expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)): expected \(type), got null"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return String(describing: error)
        }
    }

    /// The tool as `tools/list` describes it.
    var listing: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "description": .string(description), "inputSchema": inputSchema,
        ]
        if let annotations {
            object["annotations"] = annotations.json
            if let limit = annotations.maxResultSizeChars {
                object["_meta"] = ["anthropic/maxResultSizeChars": .int(Int64(limit))]
            }
        }
        return .object(object)
    }
}

/// Hints about a tool's behaviour (MCP tool annotations).
public struct MCPToolAnnotations: Sendable, Hashable {
    /// A human-readable title.
    public var title: String?
    /// The tool changes nothing.
    public var readOnlyHint: Bool?
    /// The tool may destroy data.
    public var destructiveHint: Bool?
    /// Calling it twice with the same arguments does no more than once.
    public var idempotentHint: Bool?
    /// The tool reaches outside systems.
    public var openWorldHint: Bool?
    /// The largest result, in characters, the CLI keeps before truncating (sent as `_meta["anthropic/maxResultSizeChars"]`).
    public var maxResultSizeChars: Int?

    /// Creates annotations; hints left `nil` are not sent.
    public init(
        title: String? = nil, readOnlyHint: Bool? = nil, destructiveHint: Bool? = nil, idempotentHint: Bool? = nil,
        openWorldHint: Bool? = nil, maxResultSizeChars: Int? = nil
    ) {
        self.title = title
        self.readOnlyHint = readOnlyHint
        self.destructiveHint = destructiveHint
        self.idempotentHint = idempotentHint
        self.openWorldHint = openWorldHint
        self.maxResultSizeChars = maxResultSizeChars
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if let title { object["title"] = .string(title) }
        if let readOnlyHint { object["readOnlyHint"] = .bool(readOnlyHint) }
        if let destructiveHint { object["destructiveHint"] = .bool(destructiveHint) }
        if let idempotentHint { object["idempotentHint"] = .bool(idempotentHint) }
        if let openWorldHint { object["openWorldHint"] = .bool(openWorldHint) }
        return .object(object)
    }
}

/// What a tool returns to Claude.
public struct MCPToolResult: Sendable, Hashable {
    /// The content blocks.
    public var content: [MCPContent]
    /// Whether this reports a failure (Claude sees it as an error result).
    public var isError: Bool
    /// Machine-readable output. When it is set, the CLI (2.1.331) gives Claude this value (as JSON
    /// text) *instead of* ``content``: Claude never sees the content blocks then, so put everything
    /// Claude needs in it.
    public var structuredContent: JSONValue?

    /// A result with these content blocks.
    public init(content: [MCPContent], isError: Bool = false, structuredContent: JSONValue? = nil) {
        self.content = content
        self.isError = isError
        self.structuredContent = structuredContent
    }

    /// A result with one text block.
    public static func text(_ text: String) -> MCPToolResult { MCPToolResult(content: [.text(text)]) }

    /// An error result with one text block.
    public static func error(_ message: String) -> MCPToolResult {
        MCPToolResult(content: [.text(message)], isError: true)
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["content": .array(content.map(\.json))]
        if isError { object["isError"] = true }
        if let structuredContent { object["structuredContent"] = structuredContent }
        return .object(object)
    }
}

/// One content block of a tool result.
///
/// What Claude sees (CLI 2.1.331): text and images as they are; a ``resourceLink(uri:name:description:mimeType:)``
/// as the text `[Resource link: <name>] <uri> (<description>)`; an embedded text ``resource(_:)`` as
/// `[Resource from <server> at <uri>] <text>`.
public enum MCPContent: Sendable, Hashable {
    /// Text.
    case text(String)
    /// An image, base64-encoded.
    case image(base64Data: String, mimeType: String)
    /// Audio, base64-encoded.
    case audio(base64Data: String, mimeType: String)
    /// A link to a resource the client can read (MCP `resource_link`).
    case resourceLink(uri: String, name: String, description: String? = nil, mimeType: String? = nil)
    /// A resource embedded in the result (MCP `resource`).
    case resource(MCPResourceContents)
    /// Any other MCP content block, sent as it is.
    case json(JSONValue)

    var json: JSONValue {
        switch self {
        case .text(let text): return ["type": "text", "text": .string(text)]
        case .image(let data, let mimeType):
            return ["type": "image", "data": .string(data), "mimeType": .string(mimeType)]
        case .audio(let data, let mimeType):
            return ["type": "audio", "data": .string(data), "mimeType": .string(mimeType)]
        case .resourceLink(let uri, let name, let description, let mimeType):
            var object: [String: JSONValue] = ["type": "resource_link", "uri": .string(uri), "name": .string(name)]
            if let description { object["description"] = .string(description) }
            if let mimeType { object["mimeType"] = .string(mimeType) }
            return .object(object)
        case .resource(let contents): return ["type": "resource", "resource": contents.json]
        case .json(let value): return value
        }
    }
}

/// The contents of a resource: what `resources/read` returns, or an embedded ``MCPContent/resource(_:)``.
public enum MCPResourceContents: Sendable, Hashable {
    /// Text.
    case text(uri: String, text: String, mimeType: String? = nil)
    /// Binary data, base64-encoded.
    case blob(uri: String, base64Data: String, mimeType: String? = nil)

    var json: JSONValue {
        var object: [String: JSONValue]
        let type: String?
        switch self {
        case .text(let uri, let text, let mimeType):
            object = ["uri": .string(uri), "text": .string(text)]
            type = mimeType
        case .blob(let uri, let data, let mimeType):
            object = ["uri": .string(uri), "blob": .string(data)]
            type = mimeType
        }
        if let type { object["mimeType"] = .string(type) }
        return .object(object)
    }
}

/// A resource an ``SDKMCPServer`` serves: listed by `resources/list`, read by `resources/read`.
///
/// Claude Code 2.1.331 forwards both for in-process servers: Claude lists them with its
/// `ListMcpResourcesTool` and reads one with `ReadMcpResourceTool`.
public struct SDKMCPResource: Sendable {
    /// The resource's URI (any scheme: `file://`, `mem://`, …).
    public let uri: String
    /// Its name.
    public let name: String
    /// What it holds, for Claude.
    public let description: String?
    /// Its MIME type.
    public let mimeType: String?
    /// Reads it (called for each `resources/read`).
    public let read: @Sendable () async throws -> [MCPResourceContents]

    /// A resource at `uri`.
    public init(
        uri: String, name: String, description: String? = nil, mimeType: String? = nil,
        read: @escaping @Sendable () async throws -> [MCPResourceContents]
    ) {
        self.uri = uri
        self.name = name
        self.description = description
        self.mimeType = mimeType
        self.read = read
    }

    /// A text resource whose contents `text` gives.
    public init(
        uri: String, name: String, description: String? = nil, mimeType: String? = "text/plain",
        text: @escaping @Sendable () async throws -> String
    ) {
        self.init(uri: uri, name: name, description: description, mimeType: mimeType) {
            [.text(uri: uri, text: try await text(), mimeType: mimeType)]
        }
    }

    var listing: JSONValue {
        var object: [String: JSONValue] = ["uri": .string(uri), "name": .string(name)]
        if let description { object["description"] = .string(description) }
        if let mimeType { object["mimeType"] = .string(mimeType) }
        return .object(object)
    }
}

/// An MCP server that lives in this process: the CLI reaches its tools through `mcp_message`
/// control requests, so no server process is started.
///
/// ```swift
/// options.mcpServers["calc"] = .sdk(SDKMCPServer(name: "calc", tools: [add]))
/// options.allowedTools = ["mcp__calc__add"]
/// ```
///
/// Two servers compare equal when their names, versions and tool definitions are equal (handlers are not compared).
public struct SDKMCPServer: Sendable, Hashable {
    /// The server's name (reported in `serverInfo`).
    public let name: String
    /// The server's version (reported in `serverInfo`).
    public let version: String
    /// The tools, in the order `tools/list` reports them.
    public let tools: [SDKMCPTool]
    /// The resources, in the order `resources/list` reports them (the `resources` capability is announced
    /// only when there are some).
    public let resources: [SDKMCPResource]

    /// A server named `name` serving `tools` and `resources`.
    ///
    /// MCP prompts are not served: Claude Code 2.1.331 never asks an in-process server for them
    /// (`prompts/list` is not sent even when the capability is announced; see `docs/parity.md`).
    public init(name: String, version: String = "1.0.0", tools: [SDKMCPTool], resources: [SDKMCPResource] = []) {
        self.name = name
        self.version = version
        self.tools = tools
        self.resources = resources
    }

    /// Compares name, version, tool definitions and resource listings (not handlers).
    public static func == (lhs: SDKMCPServer, rhs: SDKMCPServer) -> Bool {
        lhs.name == rhs.name && lhs.version == rhs.version && lhs.tools.map(\.listing) == rhs.tools.map(\.listing)
            && lhs.resources.map(\.listing) == rhs.resources.map(\.listing)
    }

    /// Hashes name, version and tool names.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(version)
        hasher.combine(tools.map(\.name))
    }
}
