using BenchmarkDotNet.Running;

// `steps ...` times training steps and prints JSON (see Training/StepTimer.cs, used by bench/peers/step_race.py).
if (args.Length > 0 && args[0] == "steps") return Forge.Bench.Training.StepTimer.Run(args[1..]);
// `profile --case sorting --threads 2 --steps 30` prints where a training step's time goes, per op (Training/StepProfiler.cs).
// `kernels --threads N` times every kernel case with a plain Stopwatch loop (Kernels/KernelTimer.cs), to cross-check BenchmarkDotNet.
if (args.Length > 0 && args[0] == "kernels") return Forge.Bench.Kernels.KernelTimer.Run(args[1..]);
if (args.Length > 0 && args[0] == "profile") return Forge.Bench.Training.StepProfiler.Run(args[1..]);

// Picks benchmarks by filter, e.g.: dotnet run -c Release --project bench/Forge.Bench -- --filter '*Gemm*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
