print("multi-turn")
