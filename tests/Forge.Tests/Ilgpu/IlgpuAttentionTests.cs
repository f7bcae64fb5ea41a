using System.Numerics;
using Forge.Kernels;
using Forge.Kernels.Ilgpu;
using Forge.Tests.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Ilgpu;

[IlgpuParityFixtures]
public class IlgpuAttentionTests<T>(IlgpuDeviceKind kind) : IlgpuParityTests<T>(kind) where T : unmanaged, IFloatingPointIeee754<T>
{
    [TearDown]
    public void BackToDefault() { if (Backend is not null) Backend.AttentionInSharedMemory = true; }

    /// <summary>Both device paths: one group per (batch, head) pair in shared memory (the default), one group per query row.</summary>
    [Test]
    public void ForwardAndBackward_MatchReference([Values(1, 7, 19)] int t, [Values(1, 2)] int batch, [Values(1, 3)] int heads,
        [Values(1, 5)] int dHead, [Values] bool sharedMemory) =>
        CheckAgainstReference(t, batch, heads, dHead, sharedMemory);

    /// <summary>The experiments' own head shapes (sorting t 21 × d_head 48, affine 15 × 16, LM 64 × 32), one pair each.</summary>
    [Test]
    public void ModelShapes_MatchReference([Values(21, 15, 64)] int t, [Values] bool sharedMemory) =>
        CheckAgainstReference(t, batch: 1, heads: 2, dHead: t switch { 21 => 48, 15 => 16, _ => 32 }, sharedMemory);

    /// <summary>
    /// A pair too large for a group's shared memory (float64, t 64, d_head 64: 98 KB) takes the row kernels even when
    /// the shared path is on, and its results stay right.
    /// </summary>
    [Test]
    public void PairTooLargeForSharedMemory_FallsBackToRows()
    {
        if (typeof(T) != typeof(double)) Assert.Ignore("the float64 staging of this shape is the one over 48 KiB");
        Backend.StartLaunchTally();
        try
        {
            CheckAgainstReference(64, batch: 1, heads: 1, dHead: 64, sharedMemory: true);
            var kernels = Backend.LaunchesByKernel().Select(pair => pair.Key).ToList();
            Assert.That(kernels, Does.Not.Contain("AttentionPairKernels.ForwardPair").And.Not.Contain("AttentionPairKernels.BackwardPair"));
            Assert.That(kernels, Does.Contain("AttentionKernels.ForwardRow").And.Contain("AttentionKernels.QueryGradients"));
        }
        finally { Backend.StopLaunchTally(); }
    }

    void CheckAgainstReference(int t, int batch, int heads, int dHead, bool sharedMemory)
    {
        if (sharedMemory && Kind == IlgpuDeviceKind.OpenCL) Assert.Ignore("OpenCL always takes the row kernels (IlgpuBackend.DynamicSharedMemoryBytes says why)");
        Backend.AttentionInSharedMemory = sharedMemory;
        int rows = batch * t * heads * dHead, squares = batch * heads * t * t;
        T scale = T.One / T.Sqrt(T.CreateChecked(dHead));
        var q = Uniform<T>(rows, seed: 1);
        var k = Uniform<T>(rows, seed: 2);
        var v = Uniform<T>(rows, seed: 3);
        var dz = Uniform<T>(rows, seed: 4);
        T[] dq = Uniform<T>(rows, seed: 5), dk = Uniform<T>(rows, seed: 6), dv = Uniform<T>(rows, seed: 7);
        T[] scores = new T[squares], pattern = new T[squares], z = new T[rows], dPattern = new T[squares], dScores = new T[squares];
        T[] eDq = (T[])dq.Clone(), eDk = (T[])dk.Clone(), eDv = (T[])dv.Clone();
        AttentionReference.Forward<T>(q, k, v, scores, pattern, z, batch, t, heads, dHead, scale);
        AttentionReference.Backward<T>(dz, q, k, v, pattern, dPattern, dScores, eDq, eDk, eDv, batch, t, heads, dHead, scale);

        var qView = Upload(q);
        var kView = Upload(k);
        var vView = Upload(v);
        var scoresView = Upload(new T[squares]);
        var patternView = Upload(new T[squares]);
        var zView = Upload(new T[rows]);
        IlgpuAttention.Forward(Backend, qView, kView, vView, scoresView, patternView, zView, batch, t, heads, dHead, scale);
        var dPatternView = Upload(Uniform<T>(squares, seed: 8));   // scratch garbage must be overwritten
        var dScoresView = Upload(Uniform<T>(squares, seed: 9));
        var dqView = Upload(dq);
        var dkView = Upload(dk);
        var dvView = Upload(dv);
        IlgpuAttention.Backward(Backend, Upload(dz), qView, kView, vView, patternView, dPatternView, dScoresView,
            dqView, dkView, dvView, batch, t, heads, dHead, scale);

        KernelAssert.Close<T>(scores, Download(scoresView), Tol, "scores");
        KernelAssert.Close<T>(pattern, Download(patternView), Tol, "pattern");
        KernelAssert.Close<T>(z, Download(zView), Tol, "z");
        KernelAssert.Close<T>(dPattern, Download(dPatternView), Tol, "dPattern");
        KernelAssert.Close<T>(dScores, Download(dScoresView), Tol, "dScores");
        KernelAssert.Close<T>(eDq, Download(dqView), Tol, "dq");
        KernelAssert.Close<T>(eDk, Download(dkView), Tol, "dk");
        KernelAssert.Close<T>(eDv, Download(dvView), Tol, "dv");
    }
}
