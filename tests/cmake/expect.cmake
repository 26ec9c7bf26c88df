# tests of the expect area
