namespace Forge.Experiments.Retrieval;

/// <summary>
/// Where the queried chain of one example sits: for hop k = 1 … h (h = the look-ups the query takes),
/// the position of the statement's rhs token that hop k needs. Hop 1 reads the statement whose lhs is the
/// query name, and needs its rhs (the next name back, or the value); hop k continues from there. Read
/// from the tokens alone (names are distinct within an example), so any example can be analysed.
/// </summary>
public static class ChainPositions
{
    /// <summary>The rhs position needed at each hop of the first query, in hop order (index 0 = hop 1).</summary>
    public static int[] Of(RetrievalTask task, ReadOnlySpan<int> sequence)
    {
        int statementsEnd = task.StatementsEnd;
        var rhsPositionOf = new Dictionary<int, int>();   // lhs name → position of its rhs
        for (int p = 0; p + 1 < statementsEnd; p += task.StatementLength)
            if (sequence[p] != RetrievalTask.Pad) rhsPositionOf[sequence[p]] = p + 1;
        var positions = new List<int>();
        int token = sequence[task.AnswerPosition];
        while (token < task.FirstValue)
        {
            if (!rhsPositionOf.TryGetValue(token, out int position))
                throw new InvalidDataException($"retrieval: name {token} has no statement in this example");
            positions.Add(position);
            token = sequence[position];
        }
        return [.. positions];
    }
}
