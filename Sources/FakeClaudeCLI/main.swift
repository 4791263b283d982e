print("fake-claude")
