using Forge.Experiments.Cli;

// Every experiment and tool is an ICliCommand in this assembly; Discover finds them all.
return CliApp.Run(args, CommandRegistry.Discover());
