print("data_len = 20")
