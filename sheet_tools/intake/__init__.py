"""What happens to a returned file before it is stored: the guard against hostile packages, the
reader, identity and validation, run in bounded worker processes. Importing this package imports
nothing heavy: each module is imported where it is used."""
