import ClaudeCode
import ClaudeCodeSessions
import Foundation
import Testing

/// Runs the official Python SDK (claude-agent-sdk 0.2.188, through
/// `scripts/test/dump-sessions.py`) and ``ClaudeSessionLibrary`` over the same
/// transcript folders and compares every field of every result.
///
/// Where we differ on purpose (the Python SDK's weaknesses, `python-sdk.md` §6 items 6–9),
/// the test asserts the difference and says why ours is right.
@Suite("CLI transcripts: differential against the Python SDK", .serialized, .timeLimit(.minutes(5)))
struct CLITranscriptsDifferentialTests {
    /// One operation, as the Python SDK names it and as we run it.
    struct Operation {
        var name: String
        var arguments: [(String, JSONValue)]
        var run: @Sendable (ClaudeSessionLibrary) async -> JSONValue
        /// `nil`: results must be equal. Otherwise the results must differ and this check,
        /// given (python, ours), must hold.
        var difference: (reason: String, check: @Sendable (JSONValue, JSONValue) -> Bool)?
        /// Whether the results must differ (false when Python's result depends on the order
        /// the file system lists a folder in, so it is only sometimes wrong).
        var mustDiffer = true
        /// Applied to both results before comparing (for values that cannot agree, such as
        /// fresh ids or the time a mutation ran).
        var normalize: (@Sendable (JSONValue) -> JSONValue)?

        var pythonJSON: JSONValue {
            .object(["op": .string(name), "args": .object(Dictionary(arguments, uniquingKeysWith: { $1 }))])
        }
    }

    static func ok(_ value: JSONValue) -> JSONValue { ["ok": value] }

    static func failure(_ error: any Error) -> JSONValue {
        let type: String
        switch (error as? CLITranscriptError)?.code {
        case .sessionNotFound?: type = "FileNotFoundError"
        case .fileSystem?: type = "OSError"
        case nil: type = String(describing: Swift.type(of: error))
        default: type = "ValueError"
        }
        return ["error": ["type": .string(type)]]
    }

    static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    static func optional(_ value: Int?) -> JSONValue { value.map { .int(Int64($0)) } ?? .null }

    // MARK: Operation builders

    static func list(directory: String? = nil, limit: Int? = nil, offset: Int = 0, includeWorktrees: Bool = true)
        -> Operation
    {
        Operation(
            name: "list_sessions",
            arguments: [
                ("directory", optional(directory)), ("limit", optional(limit)), ("offset", .int(Int64(offset))),
                ("include_worktrees", .bool(includeWorktrees)),
            ],
            run: { library in
                do {
                    let sessions = try await library.listSessions(
                        directory: directory, limit: limit, offset: offset, includeWorktrees: includeWorktrees)
                    return ok(.array(sessions.map(\.pythonShape)))
                } catch { return failure(error) }
            })
    }

    static func info(_ id: String, directory: String?) -> Operation {
        Operation(
            name: "get_session_info", arguments: [("session_id", .string(id)), ("directory", optional(directory))],
            run: { library in
                do {
                    return ok(try await library.sessionInfo(id: id, directory: directory)?.pythonShape ?? .null)
                } catch {
                    return failure(error)
                }
            })
    }

    static func messages(_ id: String, directory: String?, limit: Int? = nil, offset: Int = 0) -> Operation {
        Operation(
            name: "get_session_messages",
            arguments: [
                ("session_id", .string(id)), ("directory", optional(directory)), ("limit", optional(limit)),
                ("offset", .int(Int64(offset))),
            ],
            run: { library in
                do {
                    let messages = try await library.messages(
                        sessionID: id, directory: directory, limit: limit, offset: offset)
                    return ok(.array(messages.map(\.pythonShape)))
                } catch { return failure(error) }
            })
    }

    static func subagents(_ id: String, directory: String?) -> Operation {
        Operation(
            name: "list_subagents", arguments: [("session_id", .string(id)), ("directory", optional(directory))],
            run: { library in
                do {
                    return ok(
                        .array(try await library.subagents(sessionID: id, directory: directory).map(JSONValue.string)))
                } catch {
                    return failure(error)
                }
            })
    }

    static func subagentMessages(_ id: String, agent: String, directory: String?, limit: Int? = nil, offset: Int = 0)
        -> Operation
    {
        Operation(
            name: "get_subagent_messages",
            arguments: [
                ("session_id", .string(id)), ("agent_id", .string(agent)), ("directory", optional(directory)),
                ("limit", optional(limit)), ("offset", .int(Int64(offset))),
            ],
            run: { library in
                do {
                    let messages = try await library.subagentMessages(
                        sessionID: id, agentID: agent, directory: directory, limit: limit, offset: offset)
                    return ok(.array(messages.map(\.pythonShape)))
                } catch { return failure(error) }
            })
    }

    static func rename(_ id: String, _ title: String, directory: String?) -> Operation {
        Operation(
            name: "rename_session",
            arguments: [("session_id", .string(id)), ("title", .string(title)), ("directory", optional(directory))],
            run: { library in
                do {
                    try await library.rename(sessionID: id, title: title, directory: directory)
                    return ok(.null)
                } catch { return failure(error) }
            })
    }

    static func tag(_ id: String, _ tag: String?, directory: String?) -> Operation {
        Operation(
            name: "tag_session",
            arguments: [("session_id", .string(id)), ("tag", optional(tag)), ("directory", optional(directory))],
            run: { library in
                do {
                    try await library.tag(sessionID: id, tag: tag, directory: directory)
                    return ok(.null)
                } catch { return failure(error) }
            })
    }

    static func delete(_ id: String, directory: String?) -> Operation {
        Operation(
            name: "delete_session", arguments: [("session_id", .string(id)), ("directory", optional(directory))],
            run: { library in
                do {
                    try await library.delete(sessionID: id, directory: directory)
                    return ok(.null)
                } catch { return failure(error) }
            })
    }

    /// Fork results carry a random id; both sides report `{"session_id": <id>}` and the
    /// forked files are compared separately.
    static func fork(_ id: String, directory: String?, upTo: String? = nil, title: String? = nil) -> Operation {
        Operation(
            name: "fork_session",
            arguments: [
                ("session_id", .string(id)), ("directory", optional(directory)), ("up_to_message_id", optional(upTo)),
                ("title", optional(title)),
            ],
            run: { library in
                do {
                    let result = try await library.fork(
                        sessionID: id, directory: directory, upToMessageID: upTo, title: title)
                    return ok(["session_id": .string(result.sessionID)])
                } catch { return failure(error) }
            },
            normalize: { result in
                guard case .string(let id)? = result["ok"]?["session_id"] else { return result }
                return ["ok": ["session_id": .string(id.count == 36 ? "<fresh uuid>" : id)]]
            })
    }

    static func sanitize(_ path: String) -> Operation {
        Operation(
            name: "sanitize_path", arguments: [("path", .string(path))],
            run: { _ in ok(.string(ClaudeSessionLibrary.projectFolderName(for: path))) })
    }

    /// Compares listings without some sessions (whose difference another operation asserts).
    static func ignoring(_ sessions: Set<String>, _ operation: Operation) -> Operation {
        var operation = operation
        operation.normalize = { result in
            guard case .array(let infos)? = result["ok"] else { return result }
            return ["ok": .array(infos.filter { !sessions.contains($0["session_id"]?.stringValue ?? "") })]
        }
        return operation
    }

    /// Drops what depends on when and how a mutation wrote (modification times; sizes,
    /// since Python escapes non-ASCII), and orders listings by id.
    static func afterMutation(_ operation: Operation) -> Operation {
        var operation = operation
        let previous = operation.normalize
        operation.normalize = { result in
            let result = previous?(result) ?? result
            func strip(_ info: JSONValue) -> JSONValue {
                guard case .object(var object) = info else { return info }
                object["last_modified"] = nil
                object["file_size"] = nil
                return .object(object)
            }
            switch result["ok"] {
            case .array(let infos)?:
                return [
                    "ok": .array(
                        infos.map(strip).sorted {
                            ($0["session_id"]?.stringValue ?? "") < ($1["session_id"]?.stringValue ?? "")
                        })
                ]
            case .object?:
                return ["ok": strip(result["ok"]!)]
            default:
                return result
            }
        }
        return operation
    }

    /// Marks an operation as a deliberate difference that shows only for some directory orders.
    static func sometimesDiffering(
        _ operation: Operation, because reason: String, _ check: @escaping @Sendable (JSONValue, JSONValue) -> Bool
    ) -> Operation {
        var operation = differing(operation, because: reason, check)
        operation.mustDiffer = false
        return operation
    }

    /// Marks an operation as a deliberate difference.
    static func differing(
        _ operation: Operation, because reason: String, _ check: @escaping @Sendable (JSONValue, JSONValue) -> Bool
    ) -> Operation {
        var operation = operation
        operation.difference = (reason, check)
        return operation
    }

    // MARK: Running

    static func compare(_ operations: [Operation], python: [JSONValue], ours: [JSONValue], phase: String) {
        #expect(python.count == operations.count, "\(phase): the reference returned \(python.count) results")
        for (index, operation) in operations.enumerated() where index < python.count {
            let label =
                "\(phase) #\(index) \(operation.name)(\(JSONValue.object(Dictionary(operation.arguments, uniquingKeysWith: { $1 })).jsonString))"
            var theirs = python[index]
            var mine = ours[index]
            // Error messages are Python prose; compare error types only.
            if case .object(var error)? = theirs["error"] {
                error["message"] = nil
                theirs = ["error": .object(error)]
            }
            if case .object(let value) = mine, value["error"] != nil {
                mine = value["error"].map { ["error": $0] } ?? mine
            }
            if let normalize = operation.normalize {
                theirs = normalize(theirs)
                mine = normalize(mine)
            }
            if let difference = operation.difference {
                if operation.mustDiffer {
                    #expect(
                        theirs != mine,
                        "\(label): expected a deliberate difference (\(difference.reason)) but both gave \(mine.jsonString.prefix(400))"
                    )
                }
                #expect(
                    difference.check(theirs, mine),
                    "\(label): \(difference.reason)\n python: \(theirs.jsonString.prefix(1500))\n ours:   \(mine.jsonString.prefix(1500))"
                )
            } else if let where_ = firstDifference(theirs, mine) {
                Issue.record(
                    "\(label) differs at \(where_)\n python: \(theirs.jsonString.prefix(1500))\n ours:   \(mine.jsonString.prefix(1500))"
                )
            }
        }
    }

    static func runOurs(_ operations: [Operation], library: ClaudeSessionLibrary) async -> [JSONValue] {
        var results: [JSONValue] = []
        for operation in operations { results.append(await operation.run(library)) }
        return results
    }

    // MARK: The test

    @Test("every operation agrees with the Python SDK on synthetic transcripts, or differs on purpose")
    func differential() async throws {
        try ReferencePython.requireAvailable()
        let root = try TranscriptFixtures.temporaryRoot("diff")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var scenario = try Scenario(root: root)
        try await scenario.build()

        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": scenario.home,
        ]

        // Phase 1: readers, on one shared folder.
        let readers = scenario.readOperations()
        let library = ClaudeSessionLibrary(configDirectory: scenario.fixtures.configDirectory, environment: environment)
        let oursRead = await Self.runOurs(readers, library: library)
        let pythonRead = try await ReferencePython.run(
            readers.map(\.pythonJSON), configDirectory: scenario.fixtures.configDirectory, home: scenario.home,
            workDirectory: root)
        Self.compare(readers, python: pythonRead, ours: oursRead, phase: "read")

        // Phase 2: mutations, each side on its own copy of the folder.
        let pythonConfig = root + "/config-python"
        let swiftConfig = root + "/config-swift"
        for copy in [pythonConfig, swiftConfig] {
            try await Scenario.copyTree(scenario.fixtures.configDirectory, to: copy)
        }
        let mutations = scenario.mutationOperations()
        let swiftLibrary = ClaudeSessionLibrary(configDirectory: swiftConfig, environment: environment)
        let oursMutated = await Self.runOurs(mutations, library: swiftLibrary)
        let pythonMutated = try await ReferencePython.run(
            mutations.map(\.pythonJSON), configDirectory: pythonConfig, home: scenario.home, workDirectory: root)
        Self.compare(mutations, python: pythonMutated, ours: oursMutated, phase: "mutate")

        // The appended rename/tag lines say the same thing (Python escapes non-ASCII).
        for id in [scenario.simple, scenario.titled] {
            let relative =
                "/projects/" + ClaudeSessionLibrary.projectFolderName(for: scenario.projectA) + "/\(id).jsonl"
            let theirs = try Scenario.jsonLines(pythonConfig + relative)
            let mine = try Scenario.jsonLines(swiftConfig + relative)
            #expect(theirs == mine, "appended lines of \(id) differ")
            #expect(try Scenario.rawLines(swiftConfig + relative).last?.hasPrefix(#"{"type":"#) == true)
        }
        // Deliberate: we write titles as UTF-8, as the CLI's JSON.stringify does; Python escapes them.
        let simpleFile =
            "/projects/" + ClaudeSessionLibrary.projectFolderName(for: scenario.projectA) + "/\(scenario.simple).jsonl"
        #expect(try Scenario.rawLines(swiftConfig + simpleFile).contains { $0.contains("Renamed ✓ title") })
        #expect(try Scenario.rawLines(pythonConfig + simpleFile).contains { $0.contains(#"Renamed \u2713 title"#) })

        #expect(scenario.forkChecks.count == 9)
        #expect(readers.count > 90 && mutations.count > 30)
        // Forked files: same entries after mapping the fresh ids back (see Scenario.forkChecks).
        for check in scenario.forkChecks {
            guard case .object(let theirs)? = pythonMutated[check.operationIndex]["ok"],
                case .object(let mine)? = oursMutated[check.operationIndex]["ok"],
                case .string(let theirID)? = theirs["session_id"], case .string(let myID)? = mine["session_id"]
            else {
                Issue.record("fork #\(check.operationIndex) did not succeed on both sides")
                continue
            }
            let folder = "/projects/" + ClaudeSessionLibrary.projectFolderName(for: check.directory) + "/"
            let theirLines = try Scenario.normalizedFork(pythonConfig + folder + theirID + ".jsonl")
            let myLines = try Scenario.normalizedFork(swiftConfig + folder + myID + ".jsonl")
            let attributes = try FileManager.default.attributesOfItem(atPath: swiftConfig + folder + myID + ".jsonl")
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "fork file mode")
            check.compare(theirLines, myLines)
            // Our reader sees the same conversation in our fork as in the source.
            let source = try await swiftLibrary.messages(sessionID: check.sourceID, directory: check.directory)
            let forked = try await swiftLibrary.messages(sessionID: myID, directory: check.directory)
            check.compareMessages(source, forked)
        }
    }
}
