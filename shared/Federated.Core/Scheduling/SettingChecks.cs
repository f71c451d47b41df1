namespace Federated.Core.Scheduling;

/// <summary>
/// One scheduler setting that breaks its rule, kept in parts so that a caller with its own vocabulary (a job's
/// validator, whose fields are snake_case under <c>scheduler.</c>) can say the same rule in its own words: the
/// rule lives once, here, and is only renamed there.
/// </summary>
/// <param name="Where">What the message names first: "FedCompassOptions." or "rank rule: tier 0: ".</param>
/// <param name="Name">The setting's own name: "MaxSteps".</param>
/// <param name="Path">The setting as a property path from the options: "MaxSteps", "Ranks.Tiers[1].MinMemoryGiB".</param>
/// <param name="Rule">"must be at least 1"; "{0}" stands for the setting at <paramref name="BoundPath"/>, which the rule compares with.</param>
public sealed record SettingViolation(string Where, string Name, string Path, string Rule, object Value, string? BoundPath = null, object? BoundValue = null)
{
    /// <summary>Core's wording: "FedCompassOptions.MaxSteps must be at least MinSteps = 50, got 40".</summary>
    public string Message => $"{Where}{Name} {RuleWith(path => $"{path[(path.LastIndexOf('.') + 1)..]} = {BoundValue}")}, got {Value}";

    /// <summary>The rule with its bound written by <paramref name="bound"/>, which is given the bound's path.</summary>
    public string RuleWith(Func<string, string> bound) => BoundPath is null ? Rule : Rule.Replace("{0}", bound(BoundPath), StringComparison.Ordinal);
}

/// <summary>Collects the <see cref="SettingViolation"/>s a <c>Validate</c> finds, in the order it checks.</summary>
public sealed class SettingChecks
{
    private readonly List<SettingViolation> _found;
    private readonly string _where;
    private readonly string _path;

    public SettingChecks(string where) : this(where, "", []) { }

    private SettingChecks(string where, string path, List<SettingViolation> found) => (_where, _path, _found) = (where, path, found);

    public IReadOnlyList<SettingViolation> Found => _found;

    /// <summary>Records a violation unless <paramref name="ok"/>; <paramref name="bound"/> names the setting "{0}" in the rule stands for.</summary>
    public void Require(bool ok, string name, string rule, object value, string? bound = null, object? boundValue = null)
    {
        if (!ok)
            _found.Add(new SettingViolation(_where, name, _path + name, rule, value, bound is null ? null : _path + bound, boundValue));
    }

    /// <summary>Checks of a nested part (the rank rule, one of its tiers) into the same list.</summary>
    public SettingChecks Within(string where, string path) => new(where, _path + path, _found);

    /// <summary>Throws <see cref="ArgumentException"/> with the first violation's message, if any.</summary>
    public void ThrowIfAny()
    {
        if (_found.Count > 0)
            throw new ArgumentException(_found[0].Message);
    }
}
