import ClaudeCodeTesting
import Testing

// Test case names for parameterised tests over contracts and conformance checks.

extension TranscriptStoreContract: CustomTestStringConvertible {
    public var testDescription: String { name }
}

extension RecordStoreContract: CustomTestStringConvertible {
    public var testDescription: String { name }
}

extension SessionStoreConformance.Check: CustomTestStringConvertible {
    public var testDescription: String { name }
}
