// What the comparison programs measure about themselves: CPU time and peak memory.
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// This process's resource usage, from `getrusage`.
public enum ResourceUsage {
    /// User plus system CPU time of this process (all threads), in seconds.
    public static func processCPUSeconds() -> Double { seconds(of: usage(children: false)) }

    /// User plus system CPU time of this process's reaped children, in seconds.
    public static func childrenCPUSeconds() -> Double { seconds(of: usage(children: true)) }

    /// The process's peak resident set size so far, in bytes.
    public static func peakRSSBytes() -> Int {
        #if canImport(Glibc)
            Int(usage(children: false).ru_maxrss) * 1024  // kilobytes on Linux
        #else
            Int(usage(children: false).ru_maxrss)  // bytes on Darwin
        #endif
    }

    /// The process's anonymous memory in transparent huge pages now, in bytes (`AnonHugePages`
    /// in `/proc/self/smaps_rollup`); 0 where there is no such file.
    public static func anonymousHugePageBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/smaps_rollup", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("AnonHugePages:") {
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            return kilobytes * 1024
        }
        return 0
    }

    static func usage(children: Bool) -> rusage {
        var usage = rusage()
        #if canImport(Glibc)
            getrusage(children ? RUSAGE_CHILDREN.rawValue : RUSAGE_SELF.rawValue, &usage)
        #else
            getrusage(children ? RUSAGE_CHILDREN : RUSAGE_SELF, &usage)
        #endif
        return usage
    }

    static func seconds(of usage: rusage) -> Double {
        Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
