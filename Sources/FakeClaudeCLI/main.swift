FakeClaude.main()
