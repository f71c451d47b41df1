namespace Federated.Contracts.Access;

/// <summary>What an operator account may do; each role may do everything the ones before it may.</summary>
public enum OperatorRole
{
    /// <summary>Reads jobs, clients and adapters.</summary>
    Viewer = 1,

    /// <summary>Also creates, pauses, resumes and stops jobs, and pauses, drains, resumes and removes clients.</summary>
    Operator = 2,

    /// <summary>Also manages join tokens, operator accounts and reads the audit trail.</summary>
    Admin = 3,
}

public static class OperatorRoles
{
    public static readonly IReadOnlyList<OperatorRole> All = [OperatorRole.Viewer, OperatorRole.Operator, OperatorRole.Admin];

    /// <summary>The lower-case name used in settings, the CLI and the wire.</summary>
    public static string Name(this OperatorRole role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out OperatorRole role)
    {
        role = default;
        foreach (var candidate in All)
        {
            if (string.Equals(text?.Trim(), candidate.Name(), StringComparison.OrdinalIgnoreCase))
            {
                role = candidate;
                return true;
            }
        }
        return false;
    }

    /// <summary>INVALID_ARGUMENT naming <paramref name="what"/> for anything but viewer, operator or admin.</summary>
    public static OperatorRole Require(string? text, string what)
        => TryParse(text, out var role) ? role : throw Errors.FederatedException.Invalid($"{what}: '{Excerpt.Of(text ?? "")}' is not a role: use viewer, operator or admin");

    public static bool Allows(this OperatorRole held, OperatorRole needed) => held >= needed;
}
