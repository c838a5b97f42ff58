from _fake_job import main

if __name__ == "__main__":
    main()
