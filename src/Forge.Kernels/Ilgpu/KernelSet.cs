using System.Numerics;
using System.Reflection;
using ILGPU.Algorithms.ScanReduceOperations;

namespace Forge.Kernels.Ilgpu;

/// <summary>
/// The compiled kernels of one operation for one element type (e.g. softmax's forward and backward
/// for float). <see cref="IlgpuBackend.Kernels{TSet}"/> loads a set the first time it is asked for
/// and keeps it for the accelerator's lifetime: compiling a kernel costs milliseconds to seconds, so
/// it must never happen per call.
/// </summary>
internal interface IKernelSet<TSelf> where TSelf : class
{
    /// <summary>Compiles and loads every kernel of the set on the backend's accelerator.</summary>
    static abstract TSelf Load(IlgpuBackend backend);
}

/// <summary>A dense slot number per kernel-set type, so the backend finds a loaded set by array index.</summary>
internal static class KernelSetId
{
    static int _next = -1;

    public static int Next() => Interlocked.Increment(ref _next);
}

/// <summary>The slot of <typeparamref name="TSet"/> (assigned once per process).</summary>
internal static class KernelSetId<TSet>
{
    public static readonly int Value = KernelSetId.Next();
}

/// <summary>
/// Closes generic kernel methods over the element type. ILGPU.Algorithms' group reductions take the
/// reduction as a type (AddFloat, MaxDouble, …); its ready-made ones are per element type, so a
/// kernel written once as <c>Kernel&lt;T, TSum, TMax&gt;</c> is closed here over the matching pair.
/// (A home-made generic reduction struct is no substitute: ILGPU's PTX backend needs a working
/// AtomicApply, which generic math cannot provide.)
/// </summary>
internal static class KernelMethods
{
    /// <summary>
    /// <paramref name="name"/> in <paramref name="owner"/>, closed over T (then <paramref name="extraTypeArguments"/>),
    /// or over T and T's add and max reductions when the method has three type parameters and no
    /// extras are given, as a delegate ILGPU can load.
    /// </summary>
    public static TDelegate Get<T, TDelegate>(Type owner, string name, params Type[] extraTypeArguments)
        where TDelegate : Delegate
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
            throw new NotSupportedException($"ILGPU kernels exist for float and double, not {typeof(T).Name}.");
        var method = owner.GetMethod(name, BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
            ?? throw new MissingMethodException(owner.FullName, name);
        Type[] arguments = method.GetGenericArguments().Length switch
        {
            var count when count == 1 + extraTypeArguments.Length => [typeof(T), .. extraTypeArguments],
            3 when typeof(T) == typeof(float) => [typeof(float), typeof(AddFloat), typeof(MaxFloat)],
            3 => [typeof(double), typeof(AddDouble), typeof(MaxDouble)],
            var count => throw new InvalidOperationException($"{owner.Name}.{name} has {count} type parameters."),
        };
        return method.MakeGenericMethod(arguments).CreateDelegate<TDelegate>();
    }

    /// <summary>
    /// The one-thread-per-index kernel <paramref name="name"/> of <paramref name="owner"/> (signature
    /// <c>(Index1D, TArgs)</c>), closed over T and loaded with ILGPU's automatic group size.
    /// </summary>
    public static Action<ILGPU.Runtime.AcceleratorStream, ILGPU.Index1D, TArgs> Indexed<T, TArgs>(IlgpuBackend backend, Type owner, string name)
        where TArgs : struct =>
        Counted(backend, owner.Name + "." + name, ILGPU.Runtime.KernelLoaders.LoadAutoGroupedKernel(backend.Accelerator, Get<T, Action<ILGPU.Index1D, TArgs>>(owner, name)));

    /// <summary>
    /// The explicitly grouped kernel <paramref name="name"/> of <paramref name="owner"/> (signature
    /// <c>(TArgs)</c>, launched with a <see cref="ILGPU.KernelConfig"/>), closed as <see cref="Get{T, TDelegate}"/> does.
    /// </summary>
    public static Action<ILGPU.Runtime.AcceleratorStream, ILGPU.KernelConfig, TArgs> Grouped<T, TArgs>(IlgpuBackend backend,
        Type owner, string name, params Type[] extraTypeArguments) where TArgs : struct =>
        Counted(backend, owner.Name + "." + name, ILGPU.Runtime.KernelLoaders.LoadKernel(backend.Accelerator, Get<T, Action<TArgs>>(owner, name, extraTypeArguments)));

    /// <summary>A launcher that counts each launch of <paramref name="kernel"/> in <see cref="IlgpuBackend.Launches"/>, then queues the kernel.</summary>
    public static Action<ILGPU.Runtime.AcceleratorStream, TIndex, TArgs> Counted<TIndex, TArgs>(IlgpuBackend backend, string kernel,
        Action<ILGPU.Runtime.AcceleratorStream, TIndex, TArgs> launch) where TArgs : struct =>
        (stream, index, args) =>
        {
            backend.CountLaunch(kernel);
            launch(stream, index, args);
        };
}
