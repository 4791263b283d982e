print("simple-persist")
