namespace Forge.Experiments.TextData;

/// <summary>Which part of a corpus: the documents a model trains on, or the held-out ones it is measured on.</summary>
public enum TextSplit
{
    Train,
    Validation,
}

/// <summary>
/// The fixed train/validation split of the Brown corpus, by whole documents so that no validation text
/// was seen in training, not even a neighbouring sentence.
/// <para>
/// The rule looks at the file id alone: a file whose two-digit number ends in 1 (<c>ca01</c>, <c>ca11</c>,
/// <c>ca21</c>, …) is validation, every other file is train. Brown numbers each category's files 01, 02, …
/// without gaps, so every category has file 01 in validation and (all having at least 6 files) the rest in
/// train, and each category keeps about a tenth of its files out: 54 of 500 documents (10.8 %), from 1 of
/// science fiction's 6 to 8 of learned's 80. Because the rule needs no random numbers and no list of
/// other files, it can never drift between runs, machines or versions of this code.
/// </para>
/// </summary>
public static class BrownSplit
{
    /// <summary>The split a file belongs to, from its id (<c>c</c>, a category letter, two digits).</summary>
    public static TextSplit Of(string fileId)
    {
        if (!IsFileId(fileId))
            throw new ArgumentException($"'{fileId}' is not a Brown file id (c, a category letter, two digits)", nameof(fileId));
        return fileId[3] == '1' ? TextSplit.Validation : TextSplit.Train;
    }

    /// <summary>Whether <paramref name="text"/> is spelled like a Brown file id: <c>c</c>, a lower-case letter, two digits.</summary>
    public static bool IsFileId(string? text) =>
        text is { Length: 4 } && text[0] == 'c' && char.IsAsciiLetterLower(text[1]) && char.IsAsciiDigit(text[2]) && char.IsAsciiDigit(text[3]);
}
