# tests of the modules area
