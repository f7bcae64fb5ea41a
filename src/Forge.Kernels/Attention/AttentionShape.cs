namespace Forge.Kernels;

/// <summary>
/// The sizes of one attention call, the argument checks both <see cref="Attention"/> and
/// <see cref="AttentionReference"/> run, and where one (batch, head) pair's data starts (or one
/// element, for the plain loops).
/// <para>
/// Two buffer layouts: "rows" buffers (q, k, v, z and their gradients) are (batch, t, heads, dHead),
/// so the t rows of one pair are heads·dHead apart; "squares" (scores, pattern and their gradients)
/// are (batch, heads, t, t), one contiguous (t, t) block per pair.
/// </para>
/// </summary>
internal readonly struct AttentionShape
{
    public readonly int Batch, T, Heads, DHead;
    readonly long _rowsLength, _squaresLength;

    AttentionShape(int batch, int t, int heads, int dHead)
    {
        Batch = batch; T = t; Heads = heads; DHead = dHead;
        _rowsLength = (long)batch * t * heads * dHead;
        _squaresLength = (long)batch * heads * t * t;
    }

    /// <summary>Validates the sizes (all ≥ 0) of a call to <paramref name="kernel"/> ("Attention.Forward", …).</summary>
    public static AttentionShape Checked(string kernel, int batch, int t, int heads, int dHead)
    {
        if (batch < 0 || t < 0 || heads < 0 || dHead < 0)
            throw new ArgumentException(
                $"{kernel}: sizes must be non-negative, got batch={batch}, t={t}, heads={heads}, dHead={dHead}.");
        return new AttentionShape(batch, t, heads, dHead);
    }

    /// <summary>
    /// The same checks for a step that only touches the (t, t) squares (the softmax): dHead plays no
    /// part, so it is neither asked for nor named in errors.
    /// </summary>
    public static AttentionShape CheckedSquares(string kernel, int batch, int t, int heads)
    {
        if (batch < 0 || t < 0 || heads < 0)
            throw new ArgumentException($"{kernel}: sizes must be non-negative, got batch={batch}, t={t}, heads={heads}.");
        return new AttentionShape(batch, t, heads, dHead: 0);
    }

    public bool IsEmpty => _rowsLength == 0 && _squaresLength == 0;

    /// <summary>Distance between consecutive positions of one head in a rows buffer.</summary>
    public int RowStride => Heads * DHead;

    /// <summary>Where pair = b·heads + h starts in a (batch, t, heads, dHead) buffer.</summary>
    public long RowOffset(int pair) => ((long)(pair / Heads) * T * Heads + pair % Heads) * DHead;

    /// <summary>Where pair = b·heads + h starts in a (batch, heads, t, t) buffer.</summary>
    public long SquareOffset(int pair) => (long)pair * T * T;

    /// <summary>
    /// Pairs per ForkJoin block, so that a block is a few µs of work (≈ 16k multiply-adds per
    /// pass): tiny problems then run inline instead of paying to wake the workers.
    /// </summary>
    public int MinPairsPerBlock
    {
        get
        {
            long multiplyAddsPerPair = Math.Max(1L, (long)T * (T + 1) / 2 * Math.Max(DHead, 1));
            return (int)Math.Clamp(16_384 / multiplyAddsPerPair, 1, int.MaxValue);
        }
    }

    /// <summary>Index of (b, position, h, d) in a (batch, t, heads, dHead) buffer.</summary>
    public int Row(int b, int position, int h, int d) => ((b * T + position) * Heads + h) * DHead + d;

    /// <summary>Index of (b, h, i, j) in a (batch, heads, t, t) buffer: query i, key j.</summary>
    public int Square(int b, int h, int i, int j) => ((b * Heads + h) * T + i) * T + j;

    /// <summary>Throws unless a (batch, t, heads, dHead) argument has enough elements.</summary>
    public void CheckRows(string kernel, string argument, int length) =>
        CheckLength(kernel, argument, length, _rowsLength, "batch·t·heads·dHead");

    /// <summary>Throws unless a (batch, heads, t, t) argument has enough elements.</summary>
    public void CheckSquares(string kernel, string argument, int length) =>
        CheckLength(kernel, argument, length, _squaresLength, "batch·heads·t·t", withDHead: false);

    void CheckLength(string kernel, string argument, int length, long expected, string formula, bool withDHead = true)
    {
        if (length < expected)
            throw new ArgumentException(
                $"{kernel}: {argument} has length {length}, expected at least {expected} = {formula} " +
                $"(batch={Batch}, t={T}, heads={Heads}{(withDHead ? $", dHead={DHead}" : "")}).", argument);
    }
}
