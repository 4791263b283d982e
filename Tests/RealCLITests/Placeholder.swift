import Testing

@Test func placeholder_RealCLITests() { #expect(Bool(true)) }
