using System.ComponentModel.DataAnnotations;

namespace Federated.Server.Observability;

/// <summary>The Prometheus metrics endpoint (appsettings.json section "Server:Metrics").</summary>
public sealed class MetricsOptions
{
    public const string Section = "Server:Metrics";

    /// <summary>Serve the coordinator's and Orleans' metrics in Prometheus text on the HTTP/1.1 port.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Where on the HTTP/1.1 port they are served.</summary>
    [Required]
    [RegularExpression("^/[A-Za-z0-9_./-]*$", ErrorMessage = "must be a URL path starting with '/' (letters, digits, '_', '.', '-', '/')")]
    public string Path { get; set; } = "/metrics";
}
