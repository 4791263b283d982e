import Testing

@Test func placeholder_ClaudeCodeSessionsTests() { #expect(Bool(true)) }
