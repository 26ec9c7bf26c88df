# tests of the loader area
