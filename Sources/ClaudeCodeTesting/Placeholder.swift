import ClaudeCode
