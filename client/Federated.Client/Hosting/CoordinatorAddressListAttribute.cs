using System.ComponentModel.DataAnnotations;
using Federated.Protos;

namespace Federated.Client.Hosting;

/// <summary>A coordinator address or comma-separated list of them, checked at start with the parser's own error.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class CoordinatorAddressListAttribute : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
        => CoordinatorAddresses.TryParse(value as string, out _, out var error)
            ? ValidationResult.Success
            : new ValidationResult(error, validationContext.MemberName is { } member ? [member] : null);
}
