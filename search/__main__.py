"""`python -m search` runs the `newsearch` command line."""

from search.cli import main

if __name__ == "__main__":
    main()
