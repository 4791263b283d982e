import ArgumentParser
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `--records` may stand alone (the default folder) or take `=DIR`; a following argument is its
/// folder only when it names an existing directory or a `sqlite:` database. `chat` takes no
/// positional argument, so there any following argument that is not an option is its folder
/// (the folder may not exist yet).
func normalizeArguments(_ arguments: [String]) -> [String] {
    let chat = arguments.first == "chat"
    var result: [String] = []
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        if argument == "--" {
            result += arguments[index...]
            break
        }
        if argument == "--records" {
            let next = index + 1 < arguments.count ? arguments[index + 1] : nil
            var isDirectory: ObjCBool = false
            if let next,
                (chat && !next.hasPrefix("-")) || next.hasPrefix("sqlite:")
                    || (FileManager.default.fileExists(atPath: next, isDirectory: &isDirectory)
                        && isDirectory.boolValue)
            {
                result.append("--records=" + next)
                index += 2
                continue
            }
            result.append("--records=")
            index += 1
            continue
        }
        result.append(argument)
        index += 1
    }
    return result
}

func fail(_ status: Int32, _ message: String) -> Never {
    let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    FileHandle.standardError.write(Data("claude-sessions: error: \(line)\n".utf8))
    exit(status)
}

let arguments = normalizeArguments(Array(CommandLine.arguments.dropFirst()))
do {
    let command = try Tool.parseAsRoot(arguments)
    if let runnable = command as? any ToolCommand {
        try await runnable.execute()
    } else {
        print(Tool.helpMessage())
    }
    exit(ExitStatus.ok)
} catch let error as ToolError {
    fail(error.status, error.message)
} catch {
    let code = Tool.exitCode(for: error)
    if code == .success {
        // --help, --version: the message goes to stdout.
        print(Tool.fullMessage(for: error))
        exit(ExitStatus.ok)
    }
    let message = Tool.message(for: error)
    if error is EncodingError || error is DecodingError {
        fail(ExitStatus.failure, message)
    }
    fail(ExitStatus.usage, message + "; see claude-sessions --help")
}
