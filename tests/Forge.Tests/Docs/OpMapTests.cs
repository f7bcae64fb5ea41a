using System.Collections.Concurrent;
using System.Reflection;
using System.Text.RegularExpressions;
using Forge.Autograd;
using Forge.Experiments.Framework;
using Forge.Kernels;
using Forge.Models.Transformers;
using Forge.Tests.Peers;

namespace Forge.Tests.Docs;

/// <summary>
/// docs/architecture.md cannot go stale. Its op map (the table between the op-map markers) has one row
/// per kernel method of <see cref="Backend{T}"/> and no other; every file it links exists and holds
/// the name the link shows; every type it names exists in Forge's assemblies (and every Type.Member its
/// member); its "called by" column lists exactly the source files that call the method through a
/// backend. Every relative link in the page points at a file or folder of the repository.
/// </summary>
public class OpMapTests
{
    const string Page = "docs/architecture.md";
    static readonly string DocsFolder = Path.Combine(PythonPeer.RepositoryRoot, "docs");
    static readonly string PageText = File.ReadAllText(Path.Combine(DocsFolder, "architecture.md")).ReplaceLineEndings("\n");

    static readonly string[] Columns = ["op", "called by", "CPU kernel", "scalar reference", "ILGPU kernel", "tests"];
    const int CalledBy = 1;

    static readonly Regex Link = new(@"\[(?<text>[^\]]*)\]\((?<target>[^)\s]+)\)");
    static readonly Regex CodeSpan = new("`(?<code>[^`]+)`");
    /// <summary><c>Type</c>, <c>Type&lt;T&gt;</c>, <c>Type.Member</c> or <c>Type&lt;T&gt;.Member</c>.</summary>
    static readonly Regex TypeReference = new(@"^(?<type>[A-Z]\w*)(?:<(?<arguments>[^>]+)>)?(?:\.(?<member>[A-Z]\w*))?$");
    /// <summary>A call through a backend: <c>Backend.X(</c>, <c>backend.X(</c> or <c>Backends.For&lt;T&gt;(…).X(</c>.</summary>
    static readonly Regex BackendCall = new(@"(?:\b[Bb]ackend|\bBackends\.For<\w+>\([^()]*\))\.(?<method>\w+)\(");

    sealed record Row(int Line, string Method, string[] Cells);

    /// <summary>The public abstract or virtual methods of Backend&lt;T&gt; (property accessors aside): the kernel set.</summary>
    static readonly HashSet<string> KernelMethods = typeof(Backend<>)
        .GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        .Where(m => (m.IsAbstract || m.IsVirtual) && !m.IsSpecialName)
        .Select(m => m.Name)
        .ToHashSet();

    /// <summary>Every type of Forge's projects and of these tests, by simple name (without the generic arity suffix).</summary>
    static readonly ILookup<string, Type> TypesByName = new[]
        {
            typeof(Tensor<>).Assembly, typeof(Backend<>).Assembly, typeof(Var<>).Assembly,
            typeof(Transformer<>).Assembly, typeof(ExperimentRun).Assembly, typeof(OpMapTests).Assembly,
        }
        .SelectMany(a => a.GetTypes())
        .ToLookup(t => SimpleName(t.Name));

    static string SimpleName(string clrName) => clrName.Split('`')[0];
    static int Arity(Type type) => type.Name.Split('`') is [_, var n] ? int.Parse(n) : 0;

    static readonly Lazy<List<Row>> s_rows = new(ParseTable);

    /// <summary>The data rows of the table between the markers (header and separator checked and skipped).</summary>
    static List<Row> ParseTable()
    {
        var lines = PageText.Split('\n');
        int begin = Array.IndexOf(lines, "<!-- op-map:begin -->"), end = Array.IndexOf(lines, "<!-- op-map:end -->");
        Assert.That(begin, Is.GreaterThanOrEqualTo(0).And.LessThan(end), $"{Page}: the op map sits between <!-- op-map:begin --> and <!-- op-map:end --> lines");
        var table = Enumerable.Range(begin + 1, end - begin - 1).Where(i => lines[i].StartsWith('|')).ToList();
        Assert.That(table, Has.Count.GreaterThan(2), $"{Page}: the op map has a header, a separator and rows");
        var header = Cells(lines[table[0]]).Select(c => c.Trim()).ToArray();
        Assert.That(header, Is.EqualTo(Columns), $"{Page} line {table[0] + 1}: the op map's columns");
        var rows = new List<Row>();
        foreach (int i in table.Skip(2))
        {
            var cells = Cells(lines[i]);
            Assert.That(cells, Has.Length.EqualTo(Columns.Length), $"{Page} line {i + 1}: a row has {Columns.Length} cells: {lines[i]}");
            var method = CodeSpan.Match(cells[0]);
            Assert.That(method.Success, Is.True, $"{Page} line {i + 1}: the op cell is the Backend method's name in backticks: {cells[0]}");
            rows.Add(new Row(i + 1, method.Groups["code"].Value, cells));
        }
        return rows;
    }

    /// <summary>A method declared in a source file: modifiers, a return type, the name, optional type parameters, "(".</summary>
    static Regex MemberDeclaration(string name) => new(
        $@"^[ \t]*(?:(?:public|internal|private|protected|static|unsafe|override|abstract|virtual|sealed|new|readonly|async)\s+)+[^;=(\n]*\b{name}\s*(?:<[^>\n]*>)?\s*\(",
        RegexOptions.Multiline);

    static Regex TypeDeclaration(string name) => new($@"\b(?:class|struct|record|interface|enum)\s+{name}\b");

    static readonly ConcurrentDictionary<string, string> s_sources = new();
    static string Source(string file) => s_sources.GetOrAdd(file, File.ReadAllText);

    static string[] Cells(string line) => line.Trim().Trim('|').Split('|');

    /// <summary>A link target relative to docs/, as a full path (anchor dropped).</summary>
    static string Resolve(string target) => Path.GetFullPath(Path.Combine(DocsFolder, target.Split('#')[0]));

    static bool IsRelative(string target) => !target.Contains("://") && !target.StartsWith("mailto:") && !target.StartsWith('#');

    [Test]
    public void EveryKernelMethodOfBackend_HasExactlyOneRow()
    {
        var rows = s_rows.Value;
        var problems = new List<string>();
        foreach (var method in KernelMethods.Where(m => rows.All(r => r.Method != m)).Order())
            problems.Add($"Backend<T>.{method} has no row: add one to the op map");
        foreach (var row in rows.Where(r => !KernelMethods.Contains(r.Method)))
            problems.Add($"line {row.Line}: '{row.Method}' is not a kernel method of Backend<T> (renamed or removed?): fix or delete the row");
        foreach (var twice in rows.GroupBy(r => r.Method).Where(g => g.Count() > 1))
            problems.Add($"'{twice.Key}' has {twice.Count()} rows (lines {string.Join(", ", twice.Select(r => r.Line))})");
        Assert.That(problems, Is.Empty, $"{Page}'s op map against Backend<T>:\n" + string.Join("\n", problems));
    }

    [Test]
    public void EveryFileInTheMap_Exists_AndHoldsTheNameItsLinkShows()
    {
        var problems = new List<string>();
        foreach (var row in s_rows.Value)
            foreach (Match link in row.Cells.SelectMany(c => Link.Matches(c)))
            {
                string target = link.Groups["target"].Value, file = Resolve(target);
                if (!File.Exists(file))
                {
                    problems.Add($"line {row.Line} ({row.Method}): {target} does not exist");
                    continue;
                }
                // [`Type.Member`](file) must link the file that declares Member, [`Type<T>`](file) the one that declares Type.
                if (CodeSpan.Match(link.Groups["text"].Value) is { Success: true } code && TypeReference.Match(code.Groups["code"].Value) is { Success: true } name)
                {
                    bool isMember = name.Groups["member"].Success;
                    string shown = isMember ? name.Groups["member"].Value : name.Groups["type"].Value;
                    var declaration = isMember ? MemberDeclaration(shown) : TypeDeclaration(shown);
                    if (!declaration.IsMatch(Source(file)))
                        problems.Add($"line {row.Line} ({row.Method}): {target} does not declare {shown} (moved? link the file that declares it)");
                }
            }
        Assert.That(problems, Is.Empty, $"{Page}'s op map, files:\n" + string.Join("\n", problems));
    }

    [Test]
    public void EveryTypeInTheMap_Exists_WithTheMemberItNames()
    {
        var problems = new List<string>();
        foreach (var row in s_rows.Value)
            foreach (Match span in row.Cells.Skip(1).SelectMany(c => CodeSpan.Matches(c)))
            {
                string code = span.Groups["code"].Value;
                var reference = TypeReference.Match(code);
                if (!reference.Success)
                {
                    problems.Add($"line {row.Line} ({row.Method}): `{code}` is not a Type, Type<T> or Type.Member");
                    continue;
                }
                string typeName = reference.Groups["type"].Value;
                var candidates = TypesByName[typeName].ToList();
                if (reference.Groups["arguments"].Success)
                {
                    int arity = reference.Groups["arguments"].Value.Split(',').Length;
                    candidates = candidates.Where(t => Arity(t) == arity).ToList();
                }
                if (candidates.Count == 0)
                {
                    problems.Add($"line {row.Line} ({row.Method}): no type {typeName}{(reference.Groups["arguments"].Success ? $"<{reference.Groups["arguments"].Value}>" : "")} in Forge's assemblies");
                    continue;
                }
                const BindingFlags any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance;
                string member = reference.Groups["member"].Value;
                if (member.Length > 0 && !candidates.Any(t => t.GetMember(member, any).Length > 0))
                    problems.Add($"line {row.Line} ({row.Method}): {typeName} has no member {member}");
            }
        Assert.That(problems, Is.Empty, $"{Page}'s op map, types:\n" + string.Join("\n", problems));
    }

    [Test]
    public void CalledBy_ListsExactlyTheFilesThatCallTheMethod()
    {
        // Callers live above the kernels; Forge.Kernels itself only implements the methods.
        var calls = Directory.EnumerateFiles(Path.Combine(PythonPeer.RepositoryRoot, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !new[] { "Forge.Kernels", "obj", "bin" }.Any(folder => f.Contains($"{Path.DirectorySeparatorChar}{folder}{Path.DirectorySeparatorChar}")))
            .SelectMany(f => BackendCall.Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFullPath(f), Method: m.Groups["method"].Value)))
            .Where(c => KernelMethods.Contains(c.Method))
            .Distinct()
            .ToList();
        string Relative(string file) => Path.GetRelativePath(PythonPeer.RepositoryRoot, file).Replace('\\', '/');

        var problems = new List<string>();
        foreach (var row in s_rows.Value)
        {
            var listed = Link.Matches(row.Cells[CalledBy]).Select(l => Resolve(l.Groups["target"].Value)).ToHashSet();
            var calling = calls.Where(c => c.Method == row.Method).Select(c => c.File).ToHashSet();
            foreach (var file in calling.Except(listed).Order())
                problems.Add($"line {row.Line}: {Relative(file)} calls {row.Method} but is not in its 'called by' cell");
            foreach (var file in listed.Except(calling).Where(File.Exists).Order())
                problems.Add($"line {row.Line}: {Relative(file)} is in {row.Method}'s 'called by' cell but does not call it through a backend");
        }
        Assert.That(problems, Is.Empty, $"{Page}'s op map, callers:\n" + string.Join("\n", problems));
    }

    [Test]
    public void EveryRelativeLinkOfThePage_PointsAtAFileOfTheRepository()
    {
        var problems = new List<string>();
        var lines = PageText.Split('\n');
        for (int i = 0; i < lines.Length; i++)
            foreach (Match link in Link.Matches(lines[i]))
            {
                string target = link.Groups["target"].Value;
                if (!IsRelative(target)) continue;
                string path = Resolve(target);
                if (target.StartsWith('/') || !path.StartsWith(PythonPeer.RepositoryRoot + Path.DirectorySeparatorChar))
                    problems.Add($"line {i + 1}: {target} leaves the repository (links are relative to docs/)");
                else if (!File.Exists(path) && !Directory.Exists(path))
                    problems.Add($"line {i + 1}: {target} does not exist");
            }
        Assert.That(problems, Is.Empty, $"{Page}, links:\n" + string.Join("\n", problems));
    }

    [Test]
    public void NamesNoMachinePaths()
    {
        Assert.That(PageText, Does.Not.Match(@"(^|[\s(`'""])/(work|tmp|root|home)/"), "no absolute machine paths");
        Assert.That(PageText, Does.Not.Contain("../shared"), "a clone has no ../shared");
    }
}
