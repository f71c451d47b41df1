using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Federated.Core.Configuration;

/// <summary>
/// Validates an options class by its data annotations and names each bad field with its configuration
/// section (e.g. "Client:PollWaitSeconds: …"), so a broken config file fails at start with a clear message.
/// </summary>
public sealed class AnnotatedOptionsValidator<TOptions>(string section) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var errors = Errors(options, section);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static IReadOnlyList<string> Errors(TOptions options, string section)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results.Select(r => $"{section}:{string.Join(",", r.MemberNames)}: {r.ErrorMessage}").ToList();
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every bad field.</summary>
    public static void ThrowIfInvalid(TOptions options, string section)
    {
        var errors = Errors(options, section);
        if (errors.Count > 0)
            throw new OptionsValidationException(section, typeof(TOptions), errors);
    }
}
