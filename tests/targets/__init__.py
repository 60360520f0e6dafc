"""Small real APIs the scanner is tested against, each a vulnerable app and its fixed twin."""
