import Testing

@Test func placeholder_ClaudeCodeProcessTests() { #expect(Bool(true)) }
