using System.Numerics;
using Forge.Kernels;
using Forge.Kernels.Ilgpu;
using Forge.Tests.Kernels;
using static Forge.Tests.Kernels.KernelTestData;

namespace Forge.Tests.Ilgpu;

[IlgpuParityFixtures]
public class IlgpuAttentionTests<T>(IlgpuDeviceKind kind) : IlgpuParityTests<T>(kind) where T : unmanaged, IFloatingPointIeee754<T>
{
    [Test]
    public void ForwardAndBackward_MatchReference([Values(1, 7, 19)] int t, [Values(1, 2)] int batch, [Values(1, 3)] int heads,
        [Values(1, 5)] int dHead)
    {
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
