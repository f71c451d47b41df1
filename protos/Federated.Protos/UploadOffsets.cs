namespace Federated.Protos.V1;

public sealed partial class UploadOffsetRequest
{
    /// <summary>The question where an upload with this header resumes (its header names the payload's sha256 and size).</summary>
    public static UploadOffsetRequest For(UpdateHeader header) => new()
    {
        ClientId = header.ClientId,
        JobId = header.JobId,
        TaskId = header.TaskId,
        Round = header.Round,
        Sha256 = header.Sha256,
        SizeBytes = header.SizeBytes,
    };
}
