import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation
import Testing

/// Renders the hostile export in headless Chromium (when Debian's `chromium` is installed):
/// the page is not blank, and nothing only running script could do appears in the DOM.
@Suite(
    "HTML export in a browser", .serialized,
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
            // scripts/test.sh installs Chromium and requires this tier: it fails, never skips, there.
            || ProcessInfo.processInfo.environment["CLAUDE_SDK_REQUIRE_CHROMIUM"] == "1",
        "needs /usr/bin/chromium (Debian's chromium)"))
struct HTMLBrowserTests {
    func chromium(_ arguments: [String], folder: String) async throws -> String {
        let result = try await ChildProcess.run(
            "/usr/bin/chromium",
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(folder)/profile", "--virtual-time-budget=2000",
            ] + arguments)
        return result.standardOutputText
    }

    @Test func hostileTranscriptRunsNoScriptAndRenders() async throws {
        let folder = try TemporaryFolder("browser")
        defer { folder.cleanup() }
        let cwd = folder.path + "/work"
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        let builder = CLITranscriptBuilder.hostile(configDirectory: folder.path + "/config", cwd: cwd)
        try builder.write()
        let page = folder.path + "/page.html"
        let run = try await runTool([
            "export", builder.sessionID, "--format", "html", "-o", page, "--config-dir", folder.path + "/config",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let dom = try await chromium(["--dump-dom", "file://" + page], folder: folder.path)
        #expect(dom.contains("First prompt"))
        #expect(dom.contains("Second prompt with picture"))
        #expect(!dom.contains(Payloads.marker), "a payload ran")
        #expect(!dom.lowercased().contains("<script"))
        #expect(!dom.contains("<img src=\"x\""))

        // A screenshot that is not blank: many distinct colours.
        let shot = folder.path + "/shot.png"
        _ = try await chromium(
            ["--screenshot=\(shot)", "--window-size=900,900", "file://" + page], folder: folder.path)
        #expect(FileManager.default.fileExists(atPath: shot))
        let colours = try await distinctColours(png: shot)
        #expect(colours > 20, "the page looks blank (\(colours) colours)")
    }

    /// Counts the distinct pixel values of a PNG (decoded by Python's zlib).
    func distinctColours(png: String) async throws -> Int {
        let script = """
            import sys, zlib, struct
            data = open(sys.argv[1], 'rb').read()
            pos, idat, width, height, bpp = 8, b'', 0, 0, 4
            while pos < len(data):
                length, kind = struct.unpack('>I4s', data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + length]
                if kind == b'IHDR':
                    width, height, depth, colour = struct.unpack('>IIBB', body[:10])
                    bpp = {2: 3, 6: 4, 0: 1, 4: 2}[colour]
                elif kind == b'IDAT':
                    idat += body
                pos += 12 + length
            raw = zlib.decompress(idat)
            stride = width * bpp
            prev = bytearray(stride)
            seen = set()
            i = 0
            for y in range(height):
                f = raw[i]; i += 1
                line = bytearray(raw[i:i + stride]); i += stride
                for x in range(stride):
                    a = line[x - bpp] if x >= bpp else 0
                    b = prev[x]
                    c = prev[x - bpp] if x >= bpp else 0
                    if f == 1: line[x] = (line[x] + a) & 255
                    elif f == 2: line[x] = (line[x] + b) & 255
                    elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                    elif f == 4:
                        p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
                for x in range(0, stride, bpp): seen.add(bytes(line[x:x + bpp]))
                prev = line
            print(len(seen))
            """
        let data = try await ChildProcess.run("/usr/bin/env", ["python3", "-c", script, png]).standardOutput
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}
