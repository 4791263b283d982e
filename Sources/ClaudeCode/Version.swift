public enum ClaudeCodeVersion { public static let sdk = "0.1.0" }
