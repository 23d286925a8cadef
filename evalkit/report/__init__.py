"""Views of a RunResult: files on disk and the terminal."""
