import Testing

@Test func placeholder_ClaudeCodeTests() { #expect(Bool(true)) }
