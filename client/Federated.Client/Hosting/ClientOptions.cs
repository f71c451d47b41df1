using System.ComponentModel.DataAnnotations;
using Federated.Core.Runtime;

namespace Federated.Client.Hosting;

/// <summary>The daemon's settings (section "Client" of client.appsettings.json, environment FEDERATED_CLIENT__*).</summary>
public sealed class ClientOptions : IValidatableObject
{
    public const string Section = "Client";

    /// <summary>
    /// The coordinator's gRPC address, e.g. http://coordinator:50051; or, for a coordinator running as several
    /// silos, their addresses separated by commas (http://a:50051,http://b:50051): the daemon uses the first that
    /// answers and moves to the next when its silo goes away.
    /// </summary>
    [Required]
    [CoordinatorAddressList]
    public string ServerAddress { get; set; } = "http://localhost:50051";

    /// <summary>
    /// For an https ServerAddress: the SHA-256 fingerprint of the coordinator's CA, as it logs it at start ("TLS CA
    /// fingerprint (SHA-256): …"); colons optional. A coordinator presenting another CA is refused.
    /// </summary>
    public string? ServerCaFingerprint { get; set; }

    /// <summary>For an https ServerAddress: a PEM file with the CA to trust (the coordinator's data/tls/ca.pem, or the operator's CA).</summary>
    public string? ServerCaFile { get; set; }

    /// <summary>The CA to trust from the two settings above; null: the system's trust store.</summary>
    public Protos.ServerTrust? ServerTrust => Protos.ServerTrust.From(ServerCaFingerprint, ServerCaFile);

    /// <summary>
    /// The coordinator's shared client token (its Server:ClientToken), when it still requires one; a client that
    /// holds its own credential sends that instead.
    /// </summary>
    public string? Token { get; set; }

    /// <summary>
    /// An operator's join token (fjt1.…), presented on the first enrolment only, while the work directory holds no
    /// credential yet; `Federated.Client enrol --join-token` is the other way to present one.
    /// </summary>
    public string? JoinToken { get; set; }

    /// <summary>Stable id of this client; when empty one is made up once and kept in the work directory.</summary>
    public string? ClientId { get; set; }

    /// <summary>
    /// The private training data: a JSONL file, or a folder of them, in any supported format (prompt/completion,
    /// Alpaca, Dolly, chat messages, plain text). It is tokenized with each job's base model tokenizer.
    /// </summary>
    [Required]
    public string DataPath { get; set; } = "data";

    /// <summary>Where downloaded adapters and the client id are kept.</summary>
    [Required]
    public string WorkDirectory { get; set; } = "client-work";

    /// <summary>auto (CUDA when present, else CPU), cpu or cuda.</summary>
    public ComputeDevice Device { get; set; } = ComputeDevice.Auto;

    /// <summary>How long a task poll may wait at the server.</summary>
    [Range(1, 60)]
    public int PollWaitSeconds { get; set; } = 20;

    /// <summary>First and longest wait between reconnection attempts (doubling, with jitter).</summary>
    [Range(0.01, 3600)]
    public double ReconnectMinSeconds { get; set; } = 1;

    [Range(0.01, 3600)]
    public double ReconnectMaxSeconds { get; set; } = 30;

    /// <summary>Largest upload chunk; the server's limit wins when smaller.</summary>
    [Range(4096, 4 * 1024 * 1024 - 65536)]
    public int UploadChunkBytes { get; set; } = 1024 * 1024;

    /// <summary>CPU threads for training; 0 leaves libtorch's default.</summary>
    [Range(0, 1024)]
    public int Threads { get; set; }

    /// <summary>
    /// A client this many or more global updates behind asks for one compacted update in their place
    /// (exact, and of bounded rank); 0 always merges them one by one.
    /// </summary>
    [Range(0, 1_000_000)]
    public int CatchUpMinUpdates { get; set; } = 2;

    /// <summary>Free-form labels reported at enrolment (site, owner, …).</summary>
    public Dictionary<string, string> Labels { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Protos.ServerTrust.FingerprintProblem(ServerCaFingerprint) is { } fingerprint)
            yield return new ValidationResult(fingerprint, [nameof(ServerCaFingerprint)]);
        if (Protos.ServerTrust.FileProblem(ServerCaFile) is { } file)
            yield return new ValidationResult(file, [nameof(ServerCaFile)]);
        if (!string.IsNullOrWhiteSpace(ServerCaFingerprint) && !string.IsNullOrWhiteSpace(ServerCaFile))
            yield return new ValidationResult("both ServerCaFingerprint and ServerCaFile are set: give one", [nameof(ServerCaFingerprint), nameof(ServerCaFile)]);
    }
}
