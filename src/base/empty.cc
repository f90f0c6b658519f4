// Every static library gets this file too, so a module can be declared
// before its first source file exists (CMake rejects a library without sources).
