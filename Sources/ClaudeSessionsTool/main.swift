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

/// The help of the subcommand that `claude-sessions SUB --help`, `SUB -h` or `help SUB` asks for;
/// `nil` for anything else (the root's help and errors go through ArgumentParser as usual).
func subcommandHelp(_ arguments: [String]) -> String? {
    var words = arguments
    if words.first == "help" {
        words.removeFirst()
    } else if !words.contains(where: { $0 == "--help" || $0 == "-h" }) {
        return nil
    }
    guard let name = words.first,
        let command = Tool.configuration.subcommands.first(where: { $0.configuration.commandName == name })
    else { return nil }
    return Tool.helpMessage(for: command)
}

func fail(_ status: Int32, _ message: String) -> Never {
    let line = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    FileHandle.standardError.write(Data("claude-sessions: error: \(line)\n".utf8))
    exit(status)
}

#if canImport(Glibc)
    /// glibc's `mallopt` (not in Swift's Glibc module).
    @_silgen_name("mallopt") func mallocOption(_ option: Int32, _ value: Int32) -> Int32
    // A short-lived process that reads many files: keep freed memory instead of handing it back to
    // the kernel after each file (madvise and page faults were a fifth of an index build's time).
    _ = mallocOption(-1, 1 << 30)  // M_TRIM_THRESHOLD
    _ = mallocOption(-3, 32 << 20)  // M_MMAP_THRESHOLD
#endif

let arguments = normalizeArguments(Array(CommandLine.arguments.dropFirst()))
if let help = subcommandHelp(arguments) {
    print(help)
    exit(ExitStatus.ok)
}
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
