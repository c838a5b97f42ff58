"""Pure DataFrame -> DataFrame functions. No I/O, no paths, no connections."""
