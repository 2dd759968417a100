// The framework namespaces much of the library uses (generic math, invariant formatting, stopwatches); a file imports
// only what is particular to it. Only System namespaces belong here: every Noether namespace a file uses stays a `using`
// line of that file, where the layering rule (tests/Noether.Tests/LayeringTests.cs) reads it.
global using System.Diagnostics;
global using System.Globalization;
global using System.Numerics;
