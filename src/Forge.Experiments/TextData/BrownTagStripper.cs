using System.Text;

namespace Forge.Experiments.TextData;

/// <summary>
/// Turns one file of the tagged Brown corpus ("form C") back into plain English text, as a language
/// model should see it.
/// <para>
/// The form: a paragraph is a block of lines between blank lines; each line is one sentence (the first
/// of a paragraph starts with a tab); each token is <c>word/tag</c>, split at the LAST slash because words
/// may hold slashes (<c>1/2/cd</c>, <c>and/or/cc</c>). Quotation marks are tokens of their own: <c>``</c>
/// opens, <c>''</c> closes, and a single <c>'</c> can do either. Tags with the suffix <c>-hl</c> mark
/// headline words (<c>Merger/nn-hl proposed/vbn-hl</c>); a headline has no line of its own, it sits at
/// the start of the next sentence's line.
/// </para>
/// <para>
/// The rendering (each choice keeps the text close to the printed original):
/// <list type="bullet">
/// <item>tags are dropped; words keep their spelling and case;</item>
/// <item><c>``</c> and <c>''</c> become <c>"</c>;</item>
/// <item>no space before <c>, . ; : ? ! ) ]</c> or a closing quote, none after <c>( [</c> or an opening quote;
/// every other pair of tokens (including the dash <c>--</c>) is separated by one space;</item>
/// <item>a single <c>'</c> opens and closes alternately within a paragraph (the tags cannot tell which);</item>
/// <item>sentences of a paragraph are joined by one space; paragraphs, and a headline split off the front
/// of its line, are separated by a blank line (<c>"\n\n"</c>); the text has no leading or trailing blank.</item>
/// </list>
/// </para>
/// </summary>
public static class BrownTagStripper
{
    /// <summary>
    /// The plain text of a tagged file, and its number of words: tokens holding a letter or a digit,
    /// so punctuation is not counted (the way the corpus's own "1,014,312 words" are counted).
    /// </summary>
    public static (string Text, int Words) Strip(string tagged)
    {
        ArgumentNullException.ThrowIfNull(tagged);
        var paragraphs = new List<string>();
        int words = 0;
        foreach (var block in Paragraphs(tagged))
        {
            var sentences = new List<Token>();
            foreach (var line in block)
            {
                var tokens = Tokens(line);
                words += tokens.Count(t => t.IsWord);
                int headline = HeadlineLength(tokens);
                if (headline > 0)
                {
                    // A headline, alone or glued to the sentence that follows it: give it its own paragraph.
                    Flush(paragraphs, sentences);
                    paragraphs.Add(Join(tokens[..headline]));
                    tokens = tokens[headline..];
                }
                sentences.AddRange(tokens);
            }
            Flush(paragraphs, sentences);
        }
        return (string.Join("\n\n", paragraphs), words);
    }

    /// <summary>One tagged token: the word as printed and its part-of-speech tag (empty when the token has no slash).</summary>
    public readonly record struct Token(string Word, string Tag)
    {
        /// <summary>Splits <c>word/tag</c> at the last slash.</summary>
        public static Token Parse(string text)
        {
            int slash = text.LastIndexOf('/');
            return slash <= 0 ? new Token(text, "") : new Token(text[..slash], text[(slash + 1)..]);
        }

        /// <summary>Whether the token is a word rather than punctuation: it holds a letter or a digit.</summary>
        public bool IsWord => Word.Any(char.IsLetterOrDigit);

        /// <summary>Whether the tag marks a headline word (<c>nn-hl</c>, <c>.-hl</c>, <c>nn-tl-hl</c>).</summary>
        public bool IsHeadline => Tag.EndsWith("-hl", StringComparison.Ordinal);
    }

    /// <summary>
    /// Joins tokens into text with the spacing rules above. The parity of single quotes starts at "closed"
    /// for each call, so callers pass one paragraph at a time.
    /// </summary>
    public static string Join(IReadOnlyList<Token> tokens)
    {
        var text = new StringBuilder();
        bool noSpaceAfterPrevious = true;   // nothing before the first token
        bool singleQuoteOpen = false;
        foreach (var token in tokens)
        {
            string word = token.Word;
            bool opens, closes;
            switch (word)
            {
                case "``": word = "\""; opens = true; closes = false; break;
                case "''": word = "\""; opens = false; closes = true; break;
                case "'":
                    opens = !singleQuoteOpen; closes = singleQuoteOpen; singleQuoteOpen = !singleQuoteOpen; break;
                default:
                    opens = word is "(" or "[";
                    closes = word is "," or "." or ";" or ":" or "?" or "!" or ")" or "]";
                    break;
            }
            if (!noSpaceAfterPrevious && !closes) text.Append(' ');
            text.Append(word);
            noSpaceAfterPrevious = opens;
        }
        return text.ToString();
    }

    /// <summary>The blocks of non-blank lines, each line trimmed.</summary>
    static IEnumerable<List<string>> Paragraphs(string tagged)
    {
        var block = new List<string>();
        foreach (var rawLine in tagged.Split('\n'))
        {
            string line = rawLine.Trim();
            if (line.Length > 0) { block.Add(line); continue; }
            if (block.Count > 0) { yield return block; block = []; }
        }
        if (block.Count > 0) yield return block;
    }

    static List<Token> Tokens(string line) =>
        line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(Token.Parse).ToList();

    /// <summary>
    /// How many tokens at the start of a line form a headline: the first word is headline-tagged, and the
    /// headline runs on over headline words and punctuation (quotes inside headlines are often untagged),
    /// minus any trailing opening mark, which belongs to the sentence after it. <c>-hl</c> tags elsewhere in
    /// a line (list markers such as <c>1/cd-hl ./.-hl</c> after a colon) stay where they are.
    /// </summary>
    static int HeadlineLength(List<Token> tokens)
    {
        int end = 0;
        while (end < tokens.Count && !tokens[end].IsWord) end++;
        if (end == tokens.Count || !tokens[end].IsHeadline) return 0;
        while (end < tokens.Count && (tokens[end].IsHeadline || !tokens[end].IsWord)) end++;
        while (end > 0 && tokens[end - 1].Word is "``" or "(" or "[") end--;
        return end;
    }

    static void Flush(List<string> paragraphs, List<Token> sentences)
    {
        if (sentences.Count > 0) paragraphs.Add(Join(sentences));
        sentences.Clear();
    }
}
