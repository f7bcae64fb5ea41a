using BenchmarkDotNet.Running;

// Picks benchmarks by filter, e.g.: dotnet run -c Release --project bench/Forge.Bench -- --filter '*Gemm*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
