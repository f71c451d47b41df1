using System.Text.RegularExpressions;
using Federated.Contracts.Errors;

namespace Federated.Contracts;

/// <summary>Client and job ids: 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'.</summary>
public static partial class Identifiers
{
    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);

    /// <summary>Throws INVALID_ARGUMENT naming <paramref name="what"/> when the id is not valid.</summary>
    public static string Require(string? id, string what)
    {
        if (string.IsNullOrEmpty(id))
            throw FederatedException.Invalid($"{what} is required");
        if (!IsValid(id))
            throw FederatedException.Invalid($"{what} '{Excerpt.Of(id)}' is not valid: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'");
        return id;
    }

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex Pattern();
}
