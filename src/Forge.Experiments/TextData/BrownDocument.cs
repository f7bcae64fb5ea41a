namespace Forge.Experiments.TextData;

/// <summary>
/// One of the Brown corpus's 500 text samples (about 2,000 words each), as plain text.
/// </summary>
/// <param name="FileId">The corpus's file name: <c>c</c>, the category letter, two digits (<c>ca01</c> … <c>cr09</c>).</param>
/// <param name="Category">The category name from <c>cats.txt</c> (<c>news</c>, <c>learned</c>, <c>science_fiction</c>, …).</param>
/// <param name="Text">The untagged text (see <see cref="BrownTagStripper"/>).</param>
/// <param name="Words">The number of words (tokens holding a letter or digit) in the tagged original.</param>
public sealed record BrownDocument(string FileId, string Category, string Text, int Words);
