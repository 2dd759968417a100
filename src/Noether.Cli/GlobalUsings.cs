// The namespaces nearly every command, writer and figure uses; a file imports only what is particular to it.
global using System.CommandLine;
global using System.Diagnostics;
global using System.Globalization;
global using Noether.Cli.Commands;
global using Noether.Cli.Figures;
global using Noether.Cli.Output;
global using Noether.Cli.Report;
global using Noether.Experiments;
global using Noether.Serialization;
global using Spectre.Console;
